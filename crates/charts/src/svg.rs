//! Writing SVG by hand: a handful of elements is all the charts need, and owning the writer
//! keeps every byte escaped and every number short and stable.

use std::fmt;

use crate::text;

/// Width of every chart's viewBox: 12-unit text stays ~12 px on a 390 px phone.
pub(crate) const WIDTH: f64 = 360.0;
/// Outer margin, enough for a stroke or a descender never to touch the edge.
pub(crate) const PAD: f64 = 8.0;

/// A coordinate written with at most two decimals and no trailing zeros: hundredths of a
/// unit are invisible, and shorter output is smaller pages and stable test snapshots.
#[derive(Clone, Copy)]
pub(crate) struct N(pub f64);

impl fmt::Display for N {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = if self.0.is_finite() { self.0 } else { 0.0 };
        // Integer arithmetic from here on, so the digits never depend on float printing.
        let hundredths = (v * 100.0).round().clamp(-9.0e15, 9.0e15) as i64;
        if hundredths == 0 {
            return f.write_str("0");
        }
        let sign = if hundredths < 0 { "-" } else { "" };
        let abs = hundredths.unsigned_abs();
        let (whole, frac) = (abs / 100, abs % 100);
        if frac == 0 {
            write!(f, "{sign}{whole}")
        } else if frac % 10 == 0 {
            write!(f, "{sign}{whole}.{}", frac / 10)
        } else {
            write!(f, "{sign}{whole}.{frac:02}")
        }
    }
}

/// Text escaped for both element content and quoted attributes. Control characters XML
/// forbids are dropped: one stray byte in a customer name must not make the page unparsable.
pub(crate) struct Esc<'a>(pub &'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(pos) =
            rest.find(|c: char| matches!(c, '&' | '<' | '>' | '"' | '\'') || forbidden(c))
        {
            f.write_str(&rest[..pos])?;
            let mut chars = rest[pos..].chars();
            let c = chars.next().unwrap_or(' ');
            match c {
                '&' => f.write_str("&amp;")?,
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '"' => f.write_str("&quot;")?,
                '\'' => f.write_str("&#39;")?,
                _ => {}
            }
            rest = chars.as_str();
        }
        f.write_str(rest)
    }
}

fn forbidden(c: char) -> bool {
    (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}')
}

#[cfg(test)]
pub(crate) fn escape(s: &str) -> String {
    Esc(s).to_string()
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    fn attr(self) -> &'static str {
        match self {
            Anchor::Start => "",
            Anchor::Middle => " text-anchor=\"middle\"",
            Anchor::End => " text-anchor=\"end\"",
        }
    }
}

/// The root element. No `height` attribute: with `width="100%"` and a viewBox the browser
/// derives the height from the aspect ratio, which is what keeps the chart fluid.
pub(crate) fn open(out: &mut String, kind_class: &str, height: f64, title: &str) {
    put!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"gx-chart {kind_class}\" viewBox=\"0 0 {} {}\" width=\"100%\" role=\"img\" aria-label=\"{}\"><title>{}</title>",
        N(WIDTH),
        N(height),
        Esc(title),
        Esc(title),
    );
}

/// A text element; `full` becomes a tooltip when the shown text was shortened.
pub(crate) fn text(
    out: &mut String,
    x: f64,
    y: f64,
    anchor: Anchor,
    class: &str,
    shown: &str,
    full: Option<&str>,
) {
    put!(
        out,
        "<text x=\"{}\" y=\"{}\"{} class=\"{class}\">{}",
        N(x),
        N(y),
        anchor.attr(),
        Esc(shown)
    );
    if let Some(full) = full {
        put!(out, "<title>{}</title>", Esc(full));
    }
    out.push_str("</text>");
}

/// A label cut to `max_width` with "…", its full text kept as a tooltip, and nudged back
/// inside the viewBox if centring or right-aligning would push it over an edge.
pub(crate) fn label(
    out: &mut String,
    x: f64,
    y: f64,
    anchor: Anchor,
    class: &str,
    full: &str,
    max_width: f64,
) {
    let shown = text::truncate(full, max_width, text::FONT);
    let w = text::width(&shown, text::FONT);
    let (lo, hi) = match anchor {
        Anchor::Start => (1.0, WIDTH - 1.0 - w),
        Anchor::Middle => (1.0 + w / 2.0, WIDTH - 1.0 - w / 2.0),
        Anchor::End => (1.0 + w, WIDTH - 1.0),
    };
    let x = if lo <= hi { x.clamp(lo, hi) } else { x };
    text(
        out,
        x,
        y,
        anchor,
        class,
        &shown,
        (shown != full).then_some(full),
    );
}

/// A rectangle with a tooltip; all marks carry one so a hover (or a long press) tells the
/// exact figure that the geometry only suggests.
#[allow(clippy::too_many_arguments)]
pub(crate) fn rect(
    out: &mut String,
    x: f64,
    y: f64,
    w: f64,
    h: f64,
    radius: f64,
    class: &str,
    tip: &str,
) {
    put!(
        out,
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"",
        N(x),
        N(y),
        N(w.max(0.0)),
        N(h.max(0.0))
    );
    let radius = radius.min(w / 2.0).min(h / 2.0);
    if radius > 0.0 {
        put!(out, " rx=\"{}\"", N(radius));
    }
    put!(out, " class=\"{class}\"><title>{}</title></rect>", Esc(tip));
}

pub(crate) fn line(out: &mut String, x1: f64, y1: f64, x2: f64, y2: f64, class: &str) {
    put!(
        out,
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"{class}\"/>",
        N(x1),
        N(y1),
        N(x2),
        N(y2)
    );
}

/// Class of the n-th series colour; the palette has eight, then repeats.
pub(crate) fn colour(i: usize) -> String {
    format!("gx-s{}", i % 8)
}
