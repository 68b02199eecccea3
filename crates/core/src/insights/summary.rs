//! The customer analytics dashboards' figures: the insights of the accounts a reader may read
//! (and a filter matches), grouped by one insight — accounts, revenue, gross margin, lifetime
//! value and average churn risk per tier, segment, decile, stage or type — and lifetime value
//! in bands. Computed in the database over the current values, so a dashboard of a million
//! accounts reads groups, not accounts.

use sea_orm::sea_query::{Alias, Expr, Query, SelectStatement};
use serde::Serialize;

use super::{FILTERABLE, KEY, TABLE, ValueKind, subject};
use crate::authz::{Actor, Scope};
use crate::db::{self, col};
use crate::error::{CoreError, CoreResult};
use crate::records::{Filter, ListQuery};
use crate::{Core, codes};

/// The figures of one group.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Figures {
    /// The insight's value (a code, or a whole number as text); empty for accounts without one.
    pub key: String,
    pub accounts: i64,
    /// Revenue to the as-of date, in the base currency.
    pub revenue: f64,
    /// Gross margin (revenue × margin rate, where costs are known).
    pub margin: f64,
    /// Lifetime value over the next year.
    pub clv: f64,
    /// Average churn risk of the accounts that have one.
    pub churn_risk: Option<f64>,
}

/// How many accounts moved from one value of an insight to another.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Flow {
    pub from: String,
    pub to: String,
    pub accounts: i64,
    /// Their revenue to the as-of date.
    pub revenue: f64,
}

/// The refresh before the newest one (the newest as-of date before the latest): what "since the
/// last refresh" compares with. `None` before a second refresh.
pub async fn previous_as_of<C: sea_orm::ConnectionTrait>(
    conn: &C,
) -> CoreResult<Option<chrono::NaiveDate>> {
    let mut q = Query::select();
    q.expr_as(Expr::col(col("as_of")).max(), Alias::new("d"))
        .from(col("insight_runs"))
        .and_where(Expr::col(col("state")).eq("done"))
        .and_where(Expr::cust(
            "as_of < (SELECT MAX(r.as_of) FROM insight_runs r WHERE r.state = 'done')",
        ));
    match db::fetch_one(conn, &q).await? {
        Some(r) => db::get_at::<Option<chrono::NaiveDate>>(&r, 0, "d"),
        None => Ok(None),
    }
}

/// The accounts `actor` may read whose code insight `name` (one whose history is kept) showed
/// another value at the refresh of `since` than it shows now, per pair of values, most accounts
/// first: the lifecycle's flows since the last refresh. The value then is the one the
/// `insight.<name>@<date>` filter reads, so each pair's list finds the same accounts.
pub async fn flows(
    core: &Core,
    actor: &Actor,
    name: &str,
    since: chrono::NaiveDate,
) -> CoreResult<Vec<Flow>> {
    let column = groupable(name)?;
    if !super::TRACKED.contains(&column)
        || !matches!(super::filterable(column), Some(ValueKind::Code))
    {
        return Err(CoreError::bad_request(
            codes::NOT_GROUPABLE,
            format!("insights do not flow by {name}"),
        )
        .with_param("field", serde_json::json!(name)));
    }
    if actor.grant(subject().name).read == Scope::None {
        return Ok(Vec::new());
    }
    let ids = readable(core, actor, None).await?;
    // The name is one of the declared insights and the date a parsed date: safe to write in.
    let at = format!(
        "(SELECT MIN(r.as_of) FROM insight_runs r WHERE r.state = 'done' AND r.as_of >= '{since}')"
    );
    let then = format!(
        "(SELECT h.code FROM insight_history h WHERE h.account_id = {TABLE}.{KEY} \
         AND h.name = '{column}' AND h.valid_from = (SELECT MAX(h2.valid_from) \
         FROM insight_history h2 WHERE h2.account_id = {TABLE}.{KEY} AND h2.name = '{column}' \
         AND h2.valid_from <= {at}))"
    );
    let mut inner = Query::select();
    inner
        .expr_as(Expr::cust(then), Alias::new("was"))
        .expr_as(Expr::cust(format!("\"{column}\"")), Alias::new("now"))
        .column(col("revenue"))
        .from(col(TABLE))
        .and_where(Expr::col(col(KEY)).in_subquery(ids));
    let mut q = Query::select();
    q.column(Alias::new("was"))
        .column(Alias::new("now"))
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .expr_as(Expr::cust(sum("revenue")), Alias::new("revenue"))
        .from_subquery(inner, Alias::new("f"))
        .and_where(Expr::cust(
            "was IS NOT NULL AND was <> '' AND now <> '' AND was <> now",
        ))
        .group_by_col(Alias::new("was"))
        .group_by_col(Alias::new("now"));
    let mut out = Vec::new();
    for r in db::fetch_all(core.db.reader(), &q).await? {
        out.push(Flow {
            from: db::get_opt_string(&r, "was")?.unwrap_or_default(),
            to: db::get_opt_string(&r, "now")?.unwrap_or_default(),
            accounts: db::get_i64(&r, "n")?,
            revenue: db::get_opt_f64(&r, "revenue")?.unwrap_or(0.0),
        });
    }
    out.sort_by(|a, b| {
        b.accounts
            .cmp(&a.accounts)
            .then(a.from.cmp(&b.from))
            .then(a.to.cmp(&b.to))
    });
    Ok(out)
}

/// One band of lifetime value: `[from, to)` (`to` open at the top band).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Band {
    pub from: f64,
    pub to: Option<f64>,
    pub accounts: i64,
    pub clv: f64,
}

/// The accounts `actor` may read that `filter` matches, as a subquery of their ids.
async fn readable(
    core: &Core,
    actor: &Actor,
    filter: Option<Filter>,
) -> CoreResult<SelectStatement> {
    let def = subject();
    let svc = core.records(def);
    let cond = svc
        .matching(
            actor,
            &ListQuery {
                filter,
                ..ListQuery::default()
            },
        )
        .await?;
    let mut ids = Query::select();
    ids.column((col(def.table), col("id")))
        .from(col(def.table))
        .cond_where(cond);
    Ok(ids)
}

fn groupable(name: &str) -> CoreResult<&'static str> {
    FILTERABLE
        .iter()
        .find(|(n, k)| *n == name && matches!(k, ValueKind::Code | ValueKind::Whole))
        .map(|(n, _)| *n)
        .ok_or_else(|| {
            CoreError::bad_request(
                codes::NOT_GROUPABLE,
                format!("insights do not group by {name}"),
            )
            .with_param("field", serde_json::json!(name))
        })
}

/// The figures per value of the insight `name` (a code or a whole number) over the accounts
/// `actor` may read that `filter` matches, largest revenue first for codes, in order for
/// numbers. Nothing when the reader may read no account.
pub async fn by(
    core: &Core,
    actor: &Actor,
    name: &str,
    filter: Option<Filter>,
) -> CoreResult<Vec<Figures>> {
    let column = groupable(name)?;
    if actor.grant(subject().name).read == Scope::None {
        return Ok(Vec::new());
    }
    let ids = readable(core, actor, filter).await?;
    let key = match FILTERABLE.iter().find(|(n, _)| *n == column) {
        Some((_, ValueKind::Whole)) => format!("CAST(\"{column}\" AS TEXT)"),
        _ => format!("\"{column}\""),
    };
    let mut q = Query::select();
    q.expr_as(Expr::cust(key.clone()), Alias::new("k"))
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .expr_as(Expr::cust(sum("revenue")), Alias::new("revenue"))
        .expr_as(
            Expr::cust(sum("revenue * COALESCE(margin_rate, 0)")),
            Alias::new("margin"),
        )
        .expr_as(Expr::cust(sum("clv")), Alias::new("clv"))
        .expr_as(
            Expr::cust("CAST(AVG(churn_risk) AS DOUBLE PRECISION)"),
            Alias::new("risk"),
        )
        .from(col(TABLE))
        .and_where(Expr::col(col(KEY)).in_subquery(ids))
        .add_group_by([Expr::cust(key)]);
    let mut out = Vec::new();
    for r in db::fetch_all(core.db.reader(), &q).await? {
        out.push(Figures {
            key: db::get_opt_string(&r, "k")?.unwrap_or_default(),
            accounts: db::get_i64(&r, "n")?,
            revenue: db::get_opt_f64(&r, "revenue")?.unwrap_or(0.0),
            margin: db::get_opt_f64(&r, "margin")?.unwrap_or(0.0),
            clv: db::get_opt_f64(&r, "clv")?.unwrap_or(0.0),
            churn_risk: db::get_opt_f64(&r, "risk")?,
        });
    }
    out.sort_by(|a, b| match FILTERABLE.iter().find(|(n, _)| *n == column) {
        Some((_, ValueKind::Whole)) => {
            let n = |f: &Figures| f.key.parse::<i64>().unwrap_or(i64::MAX);
            n(a).cmp(&n(b))
        }
        _ => b.revenue.total_cmp(&a.revenue).then(a.key.cmp(&b.key)),
    });
    Ok(out)
}

/// `SUM(expr)` as a double on both databases (PostgreSQL sums doubles as doubles already; the
/// cast keeps SQLite's integer sums of whole values from reading as integers).
fn sum(expr: &str) -> String {
    format!("CAST(SUM({expr}) AS DOUBLE PRECISION)")
}

/// Lifetime value in bands of round numbers (1, 2, 5 × 10ⁿ) from 0 to the largest value, at
/// most `most` bands, over the accounts `actor` may read that `filter` matches and that have a
/// lifetime value.
pub async fn clv_bands(
    core: &Core,
    actor: &Actor,
    filter: Option<Filter>,
    most: usize,
) -> CoreResult<Vec<Band>> {
    if actor.grant(subject().name).read == Scope::None {
        return Ok(Vec::new());
    }
    let ids = readable(core, actor, filter.clone()).await?;
    let mut top = Query::select();
    top.expr_as(
        Expr::cust("CAST(MAX(clv) AS DOUBLE PRECISION)"),
        Alias::new("top"),
    )
    .from(col(TABLE))
    .and_where(Expr::col(col(KEY)).in_subquery(ids.clone()));
    let max = match db::fetch_one(core.db.reader(), &top).await? {
        Some(r) => db::get_opt_f64(&r, "top")?,
        None => None,
    };
    let Some(max) = max.filter(|m| m.is_finite() && *m > 0.0) else {
        return Ok(Vec::new());
    };
    let edges = round_edges(max, most.max(2));
    let mut q = Query::select();
    for (i, lo) in edges.iter().enumerate() {
        let cond = match edges.get(i + 1) {
            Some(hi) => format!("clv >= {lo} AND clv < {hi}"),
            None => format!("clv >= {lo}"),
        };
        q.expr_as(
            Expr::cust(format!("SUM(CASE WHEN {cond} THEN 1 ELSE 0 END)")),
            Alias::new(format!("n{i}")),
        )
        .expr_as(
            Expr::cust(sum(&format!("CASE WHEN {cond} THEN clv ELSE 0 END"))),
            Alias::new(format!("v{i}")),
        );
    }
    q.from(col(TABLE))
        .and_where(Expr::col(col(KEY)).in_subquery(ids))
        .and_where(Expr::col(col("clv")).is_not_null());
    let Some(r) = db::fetch_one(core.db.reader(), &q).await? else {
        return Ok(Vec::new());
    };
    let mut out: Vec<Band> = Vec::with_capacity(edges.len());
    for (i, lo) in edges.iter().enumerate() {
        let band = Band {
            from: *lo,
            to: edges.get(i + 1).copied(),
            accounts: db::get_opt_i64(&r, &format!("n{i}"))?.unwrap_or(0),
            clv: db::get_opt_f64(&r, &format!("v{i}"))?.unwrap_or(0.0),
        };
        // Empty bands at the bottom join the first that holds someone: "0 to 5,000", not two
        // rows of nobody before it.
        if out.len() == 1 && out[0].accounts == 0 {
            out[0] = Band { from: 0.0, ..band };
        } else {
            out.push(band);
        }
    }
    Ok(out)
}

/// Band edges from 0: round numbers (1, 2, 5 × 10ⁿ) up to `max`, every other one dropped until
/// at most `most` bands remain. The last band is open above.
fn round_edges(max: f64, most: usize) -> Vec<f64> {
    let mut steps = Vec::new();
    let mut p = 10f64.powf((max / 1000.0).max(1.0).log10().floor());
    while p <= max {
        for m in [1.0, 2.0, 5.0] {
            let e = m * p;
            if e <= max {
                steps.push(e);
            }
        }
        p *= 10.0;
    }
    while steps.len() + 1 > most && steps.len() > 1 {
        steps = steps.into_iter().skip(1).step_by(2).collect();
    }
    let mut edges = vec![0.0];
    edges.extend(steps);
    edges
}

#[cfg(test)]
mod tests {
    use super::round_edges;

    #[test]
    fn bands_are_round_and_few() {
        let e = round_edges(180_000.0, 8);
        assert_eq!(e[0], 0.0);
        assert!(e.len() <= 8, "{e:?}");
        assert!(e.windows(2).all(|w| w[0] < w[1]), "{e:?}");
        assert!(*e.last().unwrap_or(&0.0) <= 180_000.0);
        for x in &e[1..] {
            let lead = x / 10f64.powf(x.log10().floor());
            assert!(
                [1.0, 2.0, 5.0].iter().any(|m| (lead - m).abs() < 1e-9),
                "{x}"
            );
        }
        assert_eq!(round_edges(3.0, 8), vec![0.0, 1.0, 2.0]);
    }
}
