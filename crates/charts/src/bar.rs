//! Bars: horizontal (one row per category, stacked or not) and vertical columns.
//!
//! Horizontal rows are the phone-friendly default: the chart grows downward with the number
//! of categories, and each name gets the full label column instead of a slot under a column.

use crate::Chart;
use crate::axis;
use crate::figures::{self, tip};
use crate::legend;
use crate::scale::{self, Linear};
use crate::svg::{self, Anchor, PAD, WIDTH};
use crate::text::{self, FONT};

const ROW: f64 = 30.0;
const THICK: f64 = 18.0;
const RADIUS: f64 = 2.0;
/// The label column never takes more than this share of the width, so bars keep room.
const LABEL_SHARE: f64 = 0.34;

/// The left column of category names, right-aligned against the bars.
fn label_column(chart: &Chart<'_>) -> f64 {
    chart
        .categories
        .iter()
        .map(|c| text::width(c, FONT))
        .fold(0.0, f64::max)
        .min(WIDTH * LABEL_SHARE)
}

/// Horizontal geometry shared by plain and stacked bars: where bars may go, leaving room at
/// either end for the value labels, so a label never lands on top of a category name or off
/// the chart.
struct Across {
    label_right: f64,
    ticks: Vec<f64>,
    x: Linear,
}

fn across(chart: &Chart<'_>, lo: f64, hi: f64, value_width: f64) -> Across {
    let label_right = PAD + label_column(chart);
    let start = label_right + 8.0;
    let end = WIDTH - PAD;
    let reserve = (value_width + 6.0).min((end - start) * 0.3);
    let widest_tick = |ticks: &[f64]| {
        ticks
            .iter()
            .map(|t| text::width(&(chart.format)(*t), FONT))
            .fold(0.0, f64::max)
    };
    // As many ticks as fit without their labels touching ("¥1,200,000" is wide).
    let mut target = (((end - start) / 40.0) as usize).clamp(2, 8);
    loop {
        let ticks = scale::ticks(lo, hi, target);
        let x = fit(
            &ticks,
            lo,
            hi,
            start,
            end,
            reserve,
            widest_tick(&ticks) / 2.0,
        );
        let gaps = ticks.len().saturating_sub(1).max(1) as f64;
        let spacing = (x.r1 - x.r0) / gaps;
        if target <= 1 || widest_tick(&ticks) + 14.0 <= spacing {
            return Across {
                label_right,
                ticks,
                x,
            };
        }
        target -= 1;
    }
}

/// The longest bars that leave room for value labels past their ends. Only the bars need
/// that room, not the axis: the last tick may reach into it, so bars are not shortened by
/// the round-up from the largest value to the next tick.
fn fit(
    ticks: &[f64],
    lo: f64,
    hi: f64,
    start: f64,
    end: f64,
    reserve: f64,
    half_tick: f64,
) -> Linear {
    let d0 = ticks.first().copied().unwrap_or(0.0);
    let d1 = ticks.last().copied().unwrap_or(1.0);
    let reserve_left = if lo < 0.0 { reserve + 6.0 } else { 0.0 };
    let reserve_right = if hi > 0.0 { reserve } else { 0.0 };
    let axis_end = end - half_tick.max(FONT);
    // Units per value with the axis starting at `a`, the tightest of the right-hand limits.
    let scale_from = |a: f64, from: f64| -> f64 {
        let by_axis = ratio(axis_end - a, d1 - from);
        let by_bars = ratio(end - reserve_right - a, hi - from);
        by_axis.min(by_bars)
    };
    let mut k = scale_from(start, d0);
    let mut a = start;
    if (lo - d0) * k < reserve_left {
        // The most negative bar needs its label room on the left: anchor `lo` there instead.
        k = scale_from(start + reserve_left, lo);
        a = start + reserve_left - (lo - d0) * k;
    }
    Linear {
        d0,
        d1,
        r0: a,
        r1: a + (d1 - d0) * k,
    }
}

/// `room / span`, or no limit when the span is empty.
fn ratio(room: f64, span: f64) -> f64 {
    if span > 0.0 {
        room.max(1.0) / span
    } else {
        f64::INFINITY
    }
}

/// A value label just past the end of a bar, or inside it when there is no room outside,
/// or nowhere when neither fits; a label overlapping its neighbour is worse than none.
fn end_label(out: &mut String, a: &Across, zero: f64, end: f64, y: f64, value: f64, label: &str) {
    let w = text::width(label, FONT);
    let length = (end - zero).abs();
    if value >= 0.0 {
        if end + 5.0 + w <= WIDTH - 2.0 {
            svg::text(out, end + 5.0, y, Anchor::Start, "gx-value", label, None);
        } else if length >= w + 10.0 {
            svg::text(out, end - 5.0, y, Anchor::End, "gx-value-in", label, None);
        }
    } else if end - 5.0 - w >= a.label_right + 14.0 {
        svg::text(out, end - 5.0, y, Anchor::End, "gx-value", label, None);
    } else if length >= w + 10.0 {
        svg::text(out, end + 5.0, y, Anchor::Start, "gx-value-in", label, None);
    }
}

fn category_labels(out: &mut String, chart: &Chart<'_>, a: &Across, top: f64) {
    for (i, category) in chart.categories.iter().enumerate() {
        let y = top + i as f64 * ROW + ROW / 2.0 + 4.0;
        svg::label(
            out,
            a.label_right,
            y,
            Anchor::End,
            "gx-label",
            category,
            WIDTH * LABEL_SHARE,
        );
    }
}

pub(crate) fn bars(chart: &Chart<'_>, out: &mut String) -> f64 {
    let values = figures::first(chart);
    let labels: Vec<String> = values.iter().map(|v| (chart.format)(*v)).collect();
    let lo = values.iter().copied().fold(0.0, f64::min);
    let hi = values.iter().copied().fold(0.0, f64::max);
    let widest = labels
        .iter()
        .map(|l| text::width(l, FONT))
        .fold(0.0, f64::max);
    let a = across(chart, lo, hi, widest);
    let top = PAD;
    let bottom = top + chart.categories.len() as f64 * ROW;

    axis::grid_across(out, &a.ticks, &a.x, top, bottom, chart.format);
    category_labels(out, chart, &a, top);
    let zero = a.x.map(0.0);
    for (i, (category, value)) in chart.categories.iter().zip(&values).enumerate() {
        let row = top + i as f64 * ROW;
        let end = a.x.map(*value);
        let (x, w) = (
            zero.min(end),
            (end - zero)
                .abs()
                .max(if *value != 0.0 { 1.0 } else { 0.0 }),
        );
        svg::rect(
            out,
            x,
            row + (ROW - THICK) / 2.0,
            w,
            THICK,
            RADIUS,
            "gx-s0",
            &tip(category, None, &labels[i], None),
        );
        end_label(
            out,
            &a,
            zero,
            end,
            row + ROW / 2.0 + 4.0,
            *value,
            &labels[i],
        );
    }
    svg::line(out, zero, top, zero, bottom, "gx-zero");
    bottom + 22.0 + PAD / 2.0
}

pub(crate) fn stacked(chart: &Chart<'_>, out: &mut String) -> f64 {
    let table = figures::table(chart);
    let n = chart.categories.len();
    let multi = chart.series.len() > 1;
    let sums = |positive: bool| -> Vec<f64> {
        (0..n)
            .map(|i| {
                table
                    .iter()
                    .map(|s| s[i])
                    .filter(|v| (*v > 0.0) == positive && *v != 0.0)
                    .sum()
            })
            .collect()
    };
    let (pos, neg) = (sums(true), sums(false));
    // Gains and losses (won and lost deals, say) read best as two totals, one at each end,
    // rather than as a net figure that matches neither bar.
    let pos_labels: Vec<String> = pos.iter().map(|v| (chart.format)(*v)).collect();
    let neg_labels: Vec<String> = neg.iter().map(|v| (chart.format)(*v)).collect();
    let lo = neg.iter().copied().fold(0.0, f64::min);
    let hi = pos.iter().copied().fold(0.0, f64::max);
    let widest = pos_labels
        .iter()
        .chain(&neg_labels)
        .map(|l| text::width(l, FONT))
        .fold(0.0, f64::max);

    let mut top = PAD;
    if multi {
        let names: Vec<&str> = chart.series.iter().map(|s| s.name.as_str()).collect();
        top += legend::series(out, &names, top) + 8.0;
    }
    let a = across(chart, lo, hi, widest);
    let bottom = top + n as f64 * ROW;
    axis::grid_across(out, &a.ticks, &a.x, top, bottom, chart.format);
    category_labels(out, chart, &a, top);
    let zero = a.x.map(0.0);
    for (i, category) in chart.categories.iter().enumerate() {
        let row = top + i as f64 * ROW;
        let (mut up, mut down) = (0.0, 0.0);
        for (k, series) in table.iter().enumerate() {
            let v = series[i];
            if v == 0.0 {
                continue;
            }
            let (from, to) = if v > 0.0 {
                up += v;
                (up - v, up)
            } else {
                down += v;
                (down - v, down)
            };
            let (x0, x1) = (a.x.map(from), a.x.map(to));
            let name = multi.then_some(chart.series[k].name.as_str());
            let value = (chart.format)(v);
            let class = format!("{} gx-seg", svg::colour(k));
            svg::rect(
                out,
                x0.min(x1),
                row + (ROW - THICK) / 2.0,
                (x1 - x0).abs(),
                THICK,
                0.0,
                &class,
                &tip(category, name, &value, None),
            );
        }
        let y = row + ROW / 2.0 + 4.0;
        if pos[i] > 0.0 {
            end_label(out, &a, zero, a.x.map(pos[i]), y, pos[i], &pos_labels[i]);
        }
        if neg[i] < 0.0 {
            end_label(out, &a, zero, a.x.map(neg[i]), y, neg[i], &neg_labels[i]);
        }
    }
    svg::line(out, zero, top, zero, bottom, "gx-zero");
    bottom + 22.0 + PAD / 2.0
}

pub(crate) fn columns(chart: &Chart<'_>, out: &mut String) -> f64 {
    let values = figures::first(chart);
    let labels: Vec<String> = values.iter().map(|v| (chart.format)(*v)).collect();
    let lo = values.iter().copied().fold(0.0, f64::min);
    let hi = values.iter().copied().fold(0.0, f64::max);
    let n = values.len().max(1);

    // Value labels only when every one fits over its column: some labelled and some not
    // would read as if the unlabelled ones were different.
    let plot_width_guess = WIDTH - 2.0 * PAD - 50.0;
    let widest = labels
        .iter()
        .map(|l| text::width(l, FONT))
        .fold(0.0, f64::max);
    let show_values = widest + 4.0 <= plot_width_guess / n as f64;
    let top = PAD + if show_values { 14.0 } else { 6.0 };
    // Labels of positive columns go into the top margin; those of negative ones need room
    // under the deepest column, above the category labels.
    let room_below = if show_values && lo < 0.0 {
        (hi - lo) * 0.1
    } else {
        0.0
    };
    let f = axis::frame(out, chart, lo - room_below, hi, top, 180.0);
    let zero = f.y.map(0.0);
    let thick = (f.band * 0.62).clamp(1.0, 40.0);
    for (i, (category, value)) in chart.categories.iter().zip(&values).enumerate() {
        let end = f.y.map(*value);
        let x = f.x(i) - thick / 2.0;
        let (y, h) = (
            zero.min(end),
            (end - zero)
                .abs()
                .max(if *value != 0.0 { 1.0 } else { 0.0 }),
        );
        svg::rect(
            out,
            x,
            y,
            thick,
            h,
            RADIUS,
            "gx-s0",
            &tip(category, None, &labels[i], None),
        );
        if show_values && *value != 0.0 {
            let w = text::width(&labels[i], FONT);
            if *value > 0.0 {
                svg::text(
                    out,
                    f.x(i),
                    end - 5.0,
                    Anchor::Middle,
                    "gx-value",
                    &labels[i],
                    None,
                );
            } else if end + 14.0 <= f.bottom - 2.0 {
                svg::text(
                    out,
                    f.x(i),
                    end + 14.0,
                    Anchor::Middle,
                    "gx-value",
                    &labels[i],
                    None,
                );
            } else if h >= FONT + 8.0 && w + 4.0 <= thick {
                // No room under a deep negative column: inside its far end instead.
                svg::text(
                    out,
                    f.x(i),
                    end - 6.0,
                    Anchor::Middle,
                    "gx-value-in",
                    &labels[i],
                    None,
                );
            }
        }
    }
    f.zero(out);
    f.end() + PAD / 2.0
}
