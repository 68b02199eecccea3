//! Funnels: stages in the caller's order, each a centred bar as wide as its value, with its
//! share of the first stage — the figure a sales manager reads a funnel for ("a quarter of
//! first contacts are won"). Light bands join consecutive bars so the narrowing reads as one
//! shape.

use crate::Chart;
use crate::figures::{self, percent, tip};
use crate::svg::{self, Anchor, N, PAD, WIDTH};
use crate::text::{self, FONT};

/// Caption line above the bar, then the bar, then the gap the joining band fills.
const CAPTION: f64 = 18.0;
const THICK: f64 = 26.0;
const GAP: f64 = 10.0;
const ROW: f64 = CAPTION + THICK + GAP;

pub(crate) fn funnel(chart: &Chart<'_>, out: &mut String) -> f64 {
    // A stage cannot hold less than nothing; non-positive stages draw as empty.
    let values: Vec<f64> = figures::first(chart)
        .into_iter()
        .map(|v| v.max(0.0))
        .collect();
    let widest = values.iter().copied().fold(0.0, f64::max);
    let base = values.first().copied().filter(|v| *v > 0.0);
    let span = WIDTH - 2.0 * PAD;
    let centre = WIDTH / 2.0;
    let top = PAD;
    let width = |v: f64| {
        if widest > 0.0 && v > 0.0 {
            (v / widest * span).max(2.0)
        } else {
            0.0
        }
    };

    // Bands first so the bars sit on top of them.
    for i in 1..values.len() {
        let (w0, w1) = (width(values[i - 1]), width(values[i]));
        if w0 == 0.0 || w1 == 0.0 {
            continue;
        }
        let y0 = top + (i - 1) as f64 * ROW + CAPTION + THICK;
        let y1 = top + i as f64 * ROW + CAPTION;
        put!(
            out,
            "<path d=\"M{} {}L{} {}L{} {}L{} {}Z\" class=\"gx-s0 gx-link\"/>",
            N(centre - w0 / 2.0),
            N(y0),
            N(centre + w0 / 2.0),
            N(y0),
            N(centre + w1 / 2.0),
            N(y1),
            N(centre - w1 / 2.0),
            N(y1)
        );
    }
    for (i, (stage, v)) in chart.categories.iter().zip(&values).enumerate() {
        let row = top + i as f64 * ROW;
        let value = (chart.format)(*v);
        let share = base.map(|b| percent(v / b));
        let figure = match &share {
            Some(s) => format!("{value} · {s}"),
            None => value.clone(),
        };
        let room = span - text::width(&figure, FONT) - 12.0;
        svg::label(out, PAD, row + 13.0, Anchor::Start, "gx-label", stage, room);
        svg::text(
            out,
            WIDTH - PAD,
            row + 13.0,
            Anchor::End,
            "gx-value",
            &figure,
            None,
        );
        let w = width(*v);
        let y = row + CAPTION;
        svg::rect(
            out,
            centre - w / 2.0,
            y,
            w,
            THICK,
            3.0,
            "gx-s0",
            &tip(stage, None, &value, share.as_deref()),
        );
    }
    top + values.len() as f64 * ROW - GAP + PAD
}
