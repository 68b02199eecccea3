//! The charts above a list: each chart an entity declares (`EntityDef::charts`), computed by
//! the aggregation service over the records the list shows (the reader's scope and the list's
//! filter), drawn as SVG in the reader's language.

use guanxi_charts::{Chart, Kind, Series};
use guanxi_core::records::aggregate::{self, AggregateQuery, Group, Grouping, Measure};
use guanxi_core::records::{ChartDef, ChartKind, EntityDef, Filter};
use serde_json::{Map, Value};

use super::cells::{Reading, kind_at, lookups, value_cell};
use super::display;
use crate::State;
use crate::auth::UiUser;
use crate::i18n::I18n;

/// The most bars a chart draws; the rest are folded into one.
const MOST_BARS: usize = 10;

/// A chart as the list page embeds it.
pub struct ListChart {
    pub name: &'static str,
    pub title: String,
    pub svg: String,
}

/// The charts `def` declares, over what `filter` matches of what `user` may read. A chart whose
/// figures cannot be had (a filter the list reports anyway) is left out rather than failing the
/// page.
/// With `only_from_totals`, only the charts the running totals answer are drawn: the list
/// matches too many records to read for the others.
pub(super) async fn charts(
    st: &State,
    user: &UiUser,
    def: &'static EntityDef,
    filter: &Filter,
    only_from_totals: bool,
    i18n: &I18n,
) -> Vec<ListChart> {
    let mut out = Vec::new();
    for chart in def.charts {
        if only_from_totals && !from_totals(def, chart, filter) {
            continue;
        }
        match one(st, user, def, chart, filter, i18n).await {
            Ok(c) => out.push(c),
            Err(e) => {
                tracing::warn!(entity = def.name, chart = chart.name, error = ?e, "chart left out")
            }
        }
    }
    out
}

/// The aggregation a chart draws, over what `filter` matches.
fn query(chart: &ChartDef, filter: &Filter) -> Result<AggregateQuery, guanxi_core::CoreError> {
    let measure = Measure::parse(chart.measure).ok_or_else(|| {
        guanxi_core::CoreError::Internal(format!(
            "chart {} measures '{}'",
            chart.name, chart.measure
        ))
    })?;
    Ok(AggregateQuery {
        group: vec![Grouping::parse(chart.group)?],
        measures: vec![measure],
        filter: Some(filter.clone()),
    })
}

fn from_totals(def: &EntityDef, chart: &ChartDef, filter: &Filter) -> bool {
    query(chart, filter).is_ok_and(|q| aggregate::reads_totals(def, &q))
}

async fn one(
    st: &State,
    user: &UiUser,
    def: &'static EntityDef,
    chart: &ChartDef,
    filter: &Filter,
    i18n: &I18n,
) -> Result<ListChart, crate::error::ApiError> {
    let q = query(chart, filter)?;
    let grouping = q.group[0].clone();
    let result = st.core.records(def).aggregate(&user.actor, &q).await?;
    let mut title = i18n.t(&format!("chart-{}-{}", def.name, chart.name));
    // Amounts are never added across currencies: the chart shows the currency with the most,
    // and says which it is when there are others.
    let currency = main_currency(&result.groups);
    let groups: Vec<&Group> = result
        .groups
        .iter()
        .filter(|g| currency.is_none() || currency_of(g) == currency.as_deref())
        .collect();
    if let Some(c) = &currency
        && result
            .groups
            .iter()
            .any(|g| currency_of(g).is_some_and(|other| other != c))
    {
        title = format!("{title} ({c})");
    }
    // Keys are named as the list's cells name them: a stage or an account by its title, a
    // user by name.
    let fakes: Vec<Map<String, Value>> = groups
        .iter()
        .map(|g| {
            let mut m = Map::new();
            m.insert(grouping.field.clone(), g.keys[0].clone());
            m
        })
        .collect();
    let lk = lookups(
        st,
        &user.actor,
        def,
        &fakes,
        Reading::Everything,
        |_| vec![],
    )
    .await?;
    let kind = kind_at(def, &lk.custom, &grouping.field);
    let mut categories = Vec::with_capacity(groups.len());
    let mut values = Vec::with_capacity(groups.len());
    for g in &groups {
        let key = &g.keys[0];
        let label = match (key, kind, grouping.bucket) {
            (Value::Null, _, _) => String::new(),
            (Value::String(s), _, Some(_)) => s.clone(),
            (_, Some(k), None) => value_cell(k, key, &lk, i18n).text,
            (other, _, _) => other.as_str().unwrap_or("").to_string(),
        };
        categories.push(if label.is_empty() {
            i18n.t("chart-none")
        } else {
            label
        });
        values.push(figure(&g.values[0]));
    }
    let drawn = match chart.kind {
        ChartKind::Bar => Kind::Bar,
        ChartKind::Column => Kind::Column,
        ChartKind::Line => Kind::Line,
        ChartKind::Donut => Kind::Donut,
        ChartKind::Funnel => Kind::Funnel,
    };
    // Names are ranked by size and the tail folded; dates keep their order.
    if grouping.bucket.is_none() && matches!(drawn, Kind::Bar | Kind::Donut) {
        let (c, v) = guanxi_charts::top(&categories, &values, MOST_BARS, &i18n.t("chart-other"));
        categories = c;
        values = v;
    }
    let format = |x: f64| match &currency {
        Some(c) => compact_money(x, c, i18n),
        None => display::group(&format!("{}", x.round() as i64)),
    };
    let svg = guanxi_charts::render(&Chart {
        kind: drawn,
        title: title.clone(),
        categories,
        series: vec![Series::new(title.clone(), values)],
        format: &format,
        empty: i18n.t("chart-empty"),
    });
    Ok(ListChart {
        name: chart.name,
        title,
        svg,
    })
}

fn currency_of(g: &Group) -> Option<&str> {
    g.values.first()?.get("currency")?.as_str()
}

/// The currency whose groups add up to the most, when the measure is an amount.
fn main_currency(groups: &[Group]) -> Option<String> {
    let mut totals: Vec<(String, f64)> = Vec::new();
    for g in groups {
        if let Some(c) = currency_of(g) {
            let x = figure(&g.values[0]);
            match totals.iter_mut().find(|(k, _)| k == c) {
                Some((_, t)) => *t += x,
                None => totals.push((c.to_string(), x)),
            }
        }
    }
    totals
        .into_iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(c, _)| c)
}

/// A measured value as a number: a count, or an amount's figure.
fn figure(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap_or(0.0),
        Value::Object(m) => m
            .get("amount")
            .and_then(Value::as_str)
            .and_then(|a| a.parse().ok())
            .unwrap_or(0.0),
        _ => 0.0,
    }
}

/// An amount as a chart labels it: short, in the reader's units (¥120万 and ¥3.5亿 in Chinese,
/// ¥1.2M in English).
pub fn compact_money(x: f64, currency: &str, i18n: &I18n) -> String {
    let symbol = match currency {
        "CNY" => "¥",
        "USD" => "$",
        "EUR" => "€",
        "GBP" => "£",
        "JPY" => "JP¥",
        _ => "",
    };
    let prefix = if symbol.is_empty() {
        format!("{currency} ")
    } else {
        symbol.to_string()
    };
    let sign = if x < 0.0 { "-" } else { "" };
    let a = x.abs();
    let short = |v: f64, unit: &str| {
        let t = format!("{v:.1}");
        format!("{}{unit}", t.strip_suffix(".0").unwrap_or(&t))
    };
    let body = if i18n.is_zh() {
        if a >= 1e8 {
            short(a / 1e8, "亿")
        } else if a >= 1e4 {
            short(a / 1e4, "万")
        } else {
            display::group(&format!("{}", a.round() as i64))
        }
    } else if a >= 1e9 {
        short(a / 1e9, "B")
    } else if a >= 1e6 {
        short(a / 1e6, "M")
    } else if a >= 1e3 {
        short(a / 1e3, "K")
    } else {
        format!("{}", a.round() as i64)
    };
    format!("{sign}{prefix}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_short_in_each_language() {
        let zh = I18n::new("zh-CN");
        let en = I18n::new("en");
        assert_eq!(compact_money(1_200_000.0, "CNY", &zh), "¥120万");
        assert_eq!(compact_money(350_000_000.0, "CNY", &zh), "¥3.5亿");
        assert_eq!(compact_money(9_800.0, "CNY", &zh), "¥9,800");
        assert_eq!(compact_money(1_200_000.0, "USD", &en), "$1.2M");
        assert_eq!(compact_money(-2_500.0, "EUR", &en), "-€2.5K");
        assert_eq!(compact_money(12.0, "CHF", &en), "CHF 12");
    }
}
