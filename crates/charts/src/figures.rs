//! Reading the caller's figures defensively: aggregation results come from real data, so a
//! series may be short, long, NaN or negative, and a chart must still draw.

use crate::{Chart, Kind, Series};

/// Beyond this magnitude values are clamped: no CRM figure is that large, and it keeps the
/// geometry and the tick arithmetic finite.
const LIMIT: f64 = 1e15;

pub(crate) fn clean(v: f64) -> f64 {
    if v.is_finite() {
        v.clamp(-LIMIT, LIMIT)
    } else {
        0.0
    }
}

/// Exactly `n` drawable values: missing ones are 0, extra ones dropped, NaN and infinities 0.
pub(crate) fn values(series: &Series, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| series.values.get(i).copied().map_or(0.0, clean))
        .collect()
}

/// Values of every series, each `n` long.
pub(crate) fn table(chart: &Chart<'_>) -> Vec<Vec<f64>> {
    let n = chart.categories.len();
    chart.series.iter().map(|s| values(s, n)).collect()
}

/// The first series, which single-series kinds draw.
pub(crate) fn first(chart: &Chart<'_>) -> Vec<f64> {
    let n = chart.categories.len();
    chart
        .series
        .first()
        .map_or_else(|| vec![0.0; n], |s| values(s, n))
}

/// Nothing to draw: no categories, or every value the kind would draw is zero (for shares,
/// nothing positive).
pub(crate) fn is_empty(chart: &Chart<'_>) -> bool {
    if chart.categories.is_empty() || chart.series.is_empty() {
        return true;
    }
    match chart.kind {
        Kind::Pie | Kind::Donut | Kind::Funnel => !first(chart).iter().any(|v| *v > 0.0),
        Kind::Bar | Kind::Column => first(chart).iter().all(|v| *v == 0.0),
        Kind::StackedBar | Kind::Line => table(chart).iter().flatten().all(|v| *v == 0.0),
    }
}

/// Tooltip text: "category · series: value (share)". The series name is left out when there
/// is only one, where it would repeat the chart's own title.
pub(crate) fn tip(
    category: &str,
    series: Option<&str>,
    value: &str,
    share: Option<&str>,
) -> String {
    let mut s = String::from(category);
    if let Some(name) = series {
        s.push_str(" · ");
        s.push_str(name);
    }
    s.push_str(": ");
    s.push_str(value);
    if let Some(share) = share {
        s.push_str(" (");
        s.push_str(share);
        s.push(')');
    }
    s
}

/// A share as a whole percentage: decimals would need the reader's decimal separator, which
/// only the caller knows, and a pie or funnel is read to the percent anyway. Tiny non-zero
/// shares read "<1%" rather than a misleading "0%".
pub(crate) fn percent(share: f64) -> String {
    let p = clean(share) * 100.0;
    if p > 0.0 && p < 0.5 {
        "<1%".to_string()
    } else {
        format!("{}%", p.round() as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_series_are_padded_and_cut() {
        let s = Series::new("x", vec![1.0, f64::NAN, f64::INFINITY, -2.0, 9.0]);
        assert_eq!(values(&s, 4), vec![1.0, 0.0, 0.0, -2.0]);
        assert_eq!(values(&s, 7), vec![1.0, 0.0, 0.0, -2.0, 9.0, 0.0, 0.0]);
        assert_eq!(values(&s, 0), Vec::<f64>::new());
    }

    #[test]
    fn percentages_are_whole_with_a_floor_marker() {
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.456), "46%");
        assert_eq!(percent(0.001), "<1%");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(f64::NAN), "0%");
    }

    #[test]
    fn tooltips_name_the_series_only_when_asked() {
        assert_eq!(tip("张伟", None, "¥120万", None), "张伟: ¥120万");
        assert_eq!(
            tip("2026-01", Some("赢单"), "12", None),
            "2026-01 · 赢单: 12"
        );
        assert_eq!(tip("赢单", None, "¥30万", Some("25%")), "赢单: ¥30万 (25%)");
    }
}
