//! Charts drawn on the server as SVG.
//!
//! Pages embed the markup inline, so a chart costs no script, no extra request and no
//! client-side library; it reads the same with JavaScript off, prints, and is cached with the
//! page. The crate knows nothing of the CRM: labels arrive already translated and every figure
//! leaves through the caller's formatter, so one drawing path serves every language and
//! currency.
//!
//! The markup carries classes (`gx-chart`, `gx-s0`…`gx-s7`, `gx-axis`, `gx-grid`, `gx-label`,
//! `gx-legend`, …); [`STYLESHEET`], which the page serves, colours them through CSS custom
//! properties with defaults, so the application themes charts (dark mode, brand colours) from
//! its own stylesheet without touching this crate. The default rules have zero specificity and lose
//! to any rule the application writes.
//!
//! Every kind is laid out in a viewBox 360 units wide: shown at a phone's ~358 CSS px, the
//! 12-unit text is ~12 px. The page is expected to cap the width on desktop (`max-width` on
//! the chart's container) so the text does not grow without bound.

/// Appends formatted text to a `String`; writing to a `String` cannot fail, so the
/// `fmt::Result` carries nothing worth handling.
macro_rules! put {
    ($out:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = write!($out, $($arg)*);
    }};
}

mod axis;
mod bar;
mod figures;
mod fold;
mod funnel;
mod legend;
mod line;
mod pie;
mod scale;
mod svg;
mod text;
mod theme;

#[cfg(test)]
mod tests;

pub use fold::top;

/// The charts' default look: the page serves it with its own stylesheet.
pub const STYLESHEET: &str = theme::CSS;

/// How the figures are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Horizontal bars, categories down the left: long names (Chinese company or owner names)
    /// stay readable on a phone because they get a row each instead of a sliver of x axis.
    Bar,
    /// Vertical bars, for ordered buckets such as months where left-to-right reads as time.
    Column,
    /// Horizontal bars with one segment per series (e.g. pipeline per owner, split by stage).
    StackedBar,
    /// One line per series across ordered buckets; the shape of a trend matters more than
    /// each value.
    Line,
    /// Shares of a whole; keep to a few slices (see [`top`]).
    Pie,
    /// A pie with the total written in the hole.
    Donut,
    /// Ordered stages, each with its value and its share of the first stage.
    Funnel,
}

impl Kind {
    fn class(self) -> &'static str {
        match self {
            Kind::Bar => "gx-bar",
            Kind::Column => "gx-column",
            Kind::StackedBar => "gx-stacked",
            Kind::Line => "gx-line-chart",
            Kind::Pie => "gx-pie",
            Kind::Donut => "gx-donut",
            Kind::Funnel => "gx-funnel",
        }
    }
}

/// One named row of figures, one value per category. Missing values count as 0 and values
/// beyond the categories are ignored, so a short or long vector never breaks a page.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
}

impl Series {
    pub fn new(name: impl Into<String>, values: Vec<f64>) -> Self {
        Series {
            name: name.into(),
            values,
        }
    }
}

/// What to draw. Bar, column, pie, donut and funnel read only the first series; stacked bars
/// and lines read them all.
pub struct Chart<'a> {
    pub kind: Kind,
    /// The accessible name (`aria-label` and `<title>`); the page shows its own heading.
    pub title: String,
    /// Bars, x-axis buckets, slices or funnel stages, already translated.
    pub categories: Vec<String>,
    pub series: Vec<Series>,
    /// Turns a value into text in the reader's language and currency ("¥1.2万", "1,200,000");
    /// used for axis ticks, value labels, legends and tooltips alike.
    pub format: &'a dyn Fn(f64) -> String,
    /// Shown instead of a chart when there is nothing to draw, so the reader is told so rather
    /// than given an empty frame.
    pub empty: String,
}

/// The chart as `<svg>…</svg>` markup, ready to embed inline in HTML or serve as an image.
///
/// Never panics on odd input (no categories, mismatched lengths, NaN, negatives) and returns
/// the same bytes for the same input, so pages can be cached and compared in tests.
pub fn render(chart: &Chart<'_>) -> String {
    let mut body = String::with_capacity(4096);
    let height = if figures::is_empty(chart) {
        empty(&mut body, &chart.empty)
    } else {
        match chart.kind {
            Kind::Bar => bar::bars(chart, &mut body),
            Kind::StackedBar => bar::stacked(chart, &mut body),
            Kind::Column => bar::columns(chart, &mut body),
            Kind::Line => line::lines(chart, &mut body),
            Kind::Pie => pie::pie(chart, &mut body, false),
            Kind::Donut => pie::pie(chart, &mut body, true),
            Kind::Funnel => funnel::funnel(chart, &mut body),
        }
    };
    let mut out = String::with_capacity(body.len() + 2048);
    svg::open(&mut out, chart.kind.class(), height, &chart.title);
    out.push_str(&body);
    out.push_str("</svg>");
    out
}

/// A frame of ordinary height with the caller's message, so a card with no data keeps its
/// place in the page layout instead of collapsing.
fn empty(out: &mut String, message: &str) -> f64 {
    let height = 120.0;
    let shown = text::truncate(message, svg::WIDTH - 2.0 * svg::PAD, text::FONT);
    svg::text(
        out,
        svg::WIDTH / 2.0,
        height / 2.0 + 4.0,
        svg::Anchor::Middle,
        "gx-empty",
        &shown,
        (shown != message).then_some(message),
    );
    height
}
