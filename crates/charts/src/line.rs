//! Lines across ordered buckets. A lone series gets a faint area under it, which makes the
//! trend readable at a glance; with several series areas would hide one another, so only the
//! lines are drawn.

use crate::figures::{self, tip};
use crate::svg::{self, N, PAD};
use crate::{Chart, axis, legend};

pub(crate) fn lines(chart: &Chart<'_>, out: &mut String) -> f64 {
    let table = figures::table(chart);
    let multi = table.len() > 1;
    let lo = table.iter().flatten().copied().fold(0.0, f64::min);
    let hi = table.iter().flatten().copied().fold(0.0, f64::max);

    let mut top = PAD;
    if multi {
        let names: Vec<&str> = chart.series.iter().map(|s| s.name.as_str()).collect();
        top += legend::series(out, &names, top) + 10.0;
    }
    let f = axis::frame(out, chart, lo, hi, top + 6.0, 180.0);
    let zero = f.y.map(0.0);

    for (k, values) in table.iter().enumerate() {
        let colour = svg::colour(k);
        let mut path = String::new();
        for (i, v) in values.iter().enumerate() {
            let cmd = if i == 0 { 'M' } else { 'L' };
            put!(path, "{cmd}{} {}", N(f.x(i)), N(f.y.map(*v)));
        }
        if !multi && values.len() > 1 {
            put!(
                out,
                "<path d=\"{path}L{} {}L{} {}Z\" class=\"{colour} gx-area\"/>",
                N(f.x(values.len() - 1)),
                N(zero),
                N(f.x(0)),
                N(zero)
            );
        }
        put!(out, "<path d=\"{path}\" class=\"{colour} gx-line\"/>");
    }
    f.zero(out);
    // Points last, so no line crosses over a point another series' tooltip hangs on.
    let radius = if f.band < 12.0 { 2.0 } else { 3.5 };
    for (k, values) in table.iter().enumerate() {
        let name = multi.then_some(chart.series[k].name.as_str());
        for (i, (category, v)) in chart.categories.iter().zip(values).enumerate() {
            put!(
                out,
                "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" class=\"{} gx-dot\"><title>{}</title></circle>",
                N(f.x(i)),
                N(f.y.map(*v)),
                N(radius),
                svg::colour(k),
                svg::Esc(&tip(category, name, &(chart.format)(*v), None))
            );
        }
    }
    f.end() + PAD / 2.0
}
