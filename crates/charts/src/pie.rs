//! Pies and donuts. Slices start at twelve o'clock and run clockwise in the caller's order,
//! the way people read a clock; the legend underneath carries names, values and shares, so
//! nothing is printed on the slices where it would clash with light colours or thin wedges.

use std::f64::consts::{PI, TAU};

use crate::Chart;
use crate::figures::{self, percent, tip};
use crate::legend::{self, Row};
use crate::svg::{self, Anchor, Esc, N, PAD, WIDTH};

const RADIUS: f64 = 84.0;
/// Hole of a donut, as a share of the radius: thick enough a ring to hover, thin enough to
/// hold the total.
const HOLE: f64 = 0.6;

/// Point on a circle, angle measured clockwise from twelve o'clock.
fn at(cx: f64, cy: f64, r: f64, angle: f64) -> (N, N) {
    (N(cx + r * angle.sin()), N(cy - r * angle.cos()))
}

fn wedge(cx: f64, cy: f64, r: f64, hole: f64, a0: f64, a1: f64) -> String {
    let mut d = String::new();
    if a1 - a0 >= TAU - 1e-9 {
        // A full turn cannot be one arc (start and end coincide): two half circles.
        put!(
            d,
            "M{} {}A{r} {r} 0 1 1 {} {}A{r} {r} 0 1 1 {} {}Z",
            N(cx),
            N(cy - r),
            N(cx),
            N(cy + r),
            N(cx),
            N(cy - r),
            r = N(r)
        );
        if hole > 0.0 {
            put!(
                d,
                "M{} {}A{h} {h} 0 1 0 {} {}A{h} {h} 0 1 0 {} {}Z",
                N(cx),
                N(cy - hole),
                N(cx),
                N(cy + hole),
                N(cx),
                N(cy - hole),
                h = N(hole)
            );
        }
        return d;
    }
    let large = u8::from(a1 - a0 > PI);
    let (x0, y0) = at(cx, cy, r, a0);
    let (x1, y1) = at(cx, cy, r, a1);
    put!(d, "M{x0} {y0}A{r} {r} 0 {large} 1 {x1} {y1}", r = N(r));
    if hole > 0.0 {
        let (x2, y2) = at(cx, cy, hole, a1);
        let (x3, y3) = at(cx, cy, hole, a0);
        put!(d, "L{x2} {y2}A{h} {h} 0 {large} 0 {x3} {y3}Z", h = N(hole));
    } else {
        put!(d, "L{} {}Z", N(cx), N(cy));
    }
    d
}

pub(crate) fn pie(chart: &Chart<'_>, out: &mut String, donut: bool) -> f64 {
    let values = figures::first(chart);
    // Shares of a whole only make sense for positive parts; the rest are left out.
    let slices: Vec<(usize, f64)> = values
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, v)| *v > 0.0)
        .collect();
    let total: f64 = slices.iter().map(|s| s.1).sum();
    let (cx, cy) = (WIDTH / 2.0, PAD + 4.0 + RADIUS);
    let hole = if donut { RADIUS * HOLE } else { 0.0 };

    let mut rows = Vec::with_capacity(slices.len());
    let mut angle = 0.0;
    for (i, v) in &slices {
        let sweep = if total > 0.0 { v / total * TAU } else { 0.0 };
        let category = &chart.categories[*i];
        let value = (chart.format)(*v);
        let share = percent(v / total);
        let tip = tip(category, None, &value, Some(&share));
        let rule = if donut || sweep >= TAU - 1e-9 {
            " fill-rule=\"evenodd\""
        } else {
            ""
        };
        put!(
            out,
            "<path d=\"{}\"{rule} class=\"{} gx-slice\"><title>{}</title></path>",
            wedge(cx, cy, RADIUS, hole, angle, angle + sweep),
            svg::colour(*i),
            Esc(&tip)
        );
        angle += sweep;
        rows.push(Row {
            colour: *i,
            label: category,
            value,
            share,
            tip,
        });
    }
    if donut {
        let shown = crate::text::truncate(&(chart.format)(total), hole * 1.7, 20.0);
        svg::text(out, cx, cy + 7.0, Anchor::Middle, "gx-total", &shown, None);
    }
    let legend_top = cy + RADIUS + 16.0;
    legend_top + legend::table(out, &rows, legend_top) + PAD / 2.0
}
