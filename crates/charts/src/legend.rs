//! Legends. A colour alone tells nothing; the legend names it, and for slices it also
//! carries the value and share so a pie can be read without hovering, as on a phone.

use crate::svg::{self, Anchor, PAD, WIDTH};
use crate::text::{self, FONT};

const SWATCH: f64 = 10.0;
const LINE: f64 = 18.0;

/// Series names flowing left to right and wrapping onto new lines; returns the height used.
pub(crate) fn series(out: &mut String, names: &[&str], top: f64) -> f64 {
    let right = WIDTH - PAD;
    let mut x = PAD;
    let mut y = top;
    for (i, name) in names.iter().enumerate() {
        let shown = text::truncate(name, 150.0, FONT);
        let w = SWATCH + 5.0 + text::width(&shown, FONT);
        if x > PAD && x + w > right {
            x = PAD;
            y += LINE;
        }
        svg::rect(out, x, y + 3.0, SWATCH, SWATCH, 2.0, &svg::colour(i), name);
        svg::text(
            out,
            x + SWATCH + 5.0,
            y + 12.5,
            Anchor::Start,
            "gx-legend",
            &shown,
            (shown != *name).then_some(*name),
        );
        x += w + 12.0;
    }
    y + LINE - top
}

/// One legend row per slice.
pub(crate) struct Row<'a> {
    pub colour: usize,
    pub label: &'a str,
    pub value: String,
    pub share: String,
    pub tip: String,
}

/// A table of slices: swatch and name on the left, value and share right-aligned in their
/// own columns so figures line up for comparison. Returns the height used.
pub(crate) fn table(out: &mut String, rows: &[Row<'_>], top: f64) -> f64 {
    const ROW: f64 = 24.0;
    let right = WIDTH - PAD;
    let share_w = rows
        .iter()
        .map(|r| text::width(&r.share, FONT))
        .fold(0.0, f64::max);
    let value_x = right - share_w - 14.0;
    let value_w = rows
        .iter()
        .map(|r| text::width(&r.value, FONT))
        .fold(0.0, f64::max);
    let label_x = PAD + SWATCH + 8.0;
    let label_room = (value_x - value_w - 12.0 - label_x).max(FONT * 2.0);
    for (i, row) in rows.iter().enumerate() {
        let y = top + i as f64 * ROW;
        if i > 0 {
            svg::line(out, PAD, y, right, y, "gx-rule");
        }
        svg::rect(
            out,
            PAD,
            y + 7.0,
            SWATCH,
            SWATCH,
            2.0,
            &svg::colour(row.colour),
            &row.tip,
        );
        svg::label(
            out,
            label_x,
            y + 16.5,
            Anchor::Start,
            "gx-legend",
            row.label,
            label_room,
        );
        svg::text(
            out,
            value_x,
            y + 16.5,
            Anchor::End,
            "gx-value",
            &row.value,
            None,
        );
        svg::text(
            out,
            right,
            y + 16.5,
            Anchor::End,
            "gx-muted",
            &row.share,
            None,
        );
    }
    rows.len() as f64 * ROW
}
