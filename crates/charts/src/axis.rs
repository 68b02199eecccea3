//! Gridlines, tick labels and category labels, shared by the kinds that have axes.

use crate::Chart;
use crate::scale::{self, Linear};
use crate::svg::{self, Anchor, PAD, WIDTH};
use crate::text::{self, FONT};

/// Longest a category label under a column may get before it is cut, so one long bucket name
/// cannot force every other label off the axis.
const MAX_BUCKET_LABEL: f64 = 110.0;

/// Vertical gridlines over `top..bottom` and their labels underneath.
pub(crate) fn grid_across(
    out: &mut String,
    ticks: &[f64],
    x: &Linear,
    top: f64,
    bottom: f64,
    format: &dyn Fn(f64) -> String,
) {
    for t in ticks {
        let px = x.map(*t);
        if *t != 0.0 {
            svg::line(out, px, top, px, bottom, "gx-grid");
        }
        svg::label(
            out,
            px,
            bottom + 16.0,
            Anchor::Middle,
            "gx-axis",
            &format(*t),
            WIDTH,
        );
    }
}

/// The plot area of a chart with a vertical value axis and one band per category.
pub(crate) struct Frame {
    pub left: f64,
    pub right: f64,
    pub bottom: f64,
    pub band: f64,
    pub y: Linear,
}

impl Frame {
    /// Centre of the band of category `i`.
    pub(crate) fn x(&self, i: usize) -> f64 {
        self.left + self.band * (i as f64 + 0.5)
    }

    /// The zero line, drawn after the marks so it stays visible where they meet it.
    pub(crate) fn zero(&self, out: &mut String) {
        let y = self.y.map(0.0);
        svg::line(out, self.left, y, self.right, y, "gx-zero");
    }

    /// Where the category labels end, i.e. the chart's height before the bottom margin.
    pub(crate) fn end(&self) -> f64 {
        self.bottom + 22.0
    }
}

/// Draws horizontal gridlines with value labels on the left and category labels below,
/// thinned to every second, third… bucket when they would collide (twelve "2026-01" labels
/// do not fit side by side on a phone; every third one does and still reads as a timeline).
pub(crate) fn frame(
    out: &mut String,
    chart: &Chart<'_>,
    lo: f64,
    hi: f64,
    top: f64,
    height: f64,
) -> Frame {
    let format = chart.format;
    let target = ((height / 36.0) as usize).clamp(2, 6);
    let ticks = scale::ticks(lo, hi, target);
    let labels: Vec<String> = ticks.iter().map(|t| format(*t)).collect();
    let widest = labels
        .iter()
        .map(|l| text::width(l, FONT))
        .fold(0.0, f64::max);
    let left = PAD + widest.min(WIDTH * 0.4) + 6.0;
    let right = WIDTH - PAD;
    let bottom = top + height;
    let y = Linear::over(&ticks, bottom, top);
    for (t, label) in ticks.iter().zip(&labels) {
        let py = y.map(*t);
        if *t != 0.0 {
            svg::line(out, left, py, right, py, "gx-grid");
        }
        svg::label(
            out,
            left - 6.0,
            py + 4.0,
            Anchor::End,
            "gx-axis",
            label,
            WIDTH * 0.4,
        );
    }

    let n = chart.categories.len().max(1);
    let band = (right - left) / n as f64;
    let widest = chart
        .categories
        .iter()
        .map(|c| text::width(c, FONT))
        .fold(0.0, f64::max)
        .min(MAX_BUCKET_LABEL);
    let step = (((widest + 8.0) / band).ceil() as usize).clamp(1, n);
    let room = band * step as f64 - 8.0;
    let frame = Frame {
        left,
        right,
        bottom,
        band,
        y,
    };
    for (i, category) in chart.categories.iter().enumerate().step_by(step) {
        svg::label(
            out,
            frame.x(i),
            bottom + 17.0,
            Anchor::Middle,
            "gx-label",
            category,
            room,
        );
    }
    frame
}
