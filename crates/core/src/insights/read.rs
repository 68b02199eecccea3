//! Reading the ledgers into the analytics crate's inputs: the sales history of every live
//! account as [`Transactions`] (keyed by the account's id, in the base currency, a return on its
//! order's date), the invoices as [`Invoice`]s and each account's latest customer facts. Only
//! rows dated on or before the as-of date are read, so a refresh as of a past date sees what was
//! known then.

use std::collections::HashMap;

use chrono::NaiveDate;
use futures::TryStreamExt;
use guanxi_analytics::churn::BookedReturn;
use guanxi_analytics::customer_insights::facts::CustomerFacts;
use guanxi_analytics::tiers::Invoice;
use guanxi_analytics::transactions::{Transactions, TransactionsBuilder};
use sea_orm::{ConnectionTrait, Statement, StreamTrait};
use uuid::Uuid;

use crate::areas::ledger::insight_sources;
use crate::db::{Backend, get_at};
use crate::error::{CoreError, CoreResult};
use crate::records::money;

/// One sales row as read, before returns are moved to their order's date.
struct SaleRow {
    account: Uuid,
    date: NaiveDate,
    is_return: bool,
    order: String,
    amount: i64,
    cost: Option<i64>,
    product: String,
    name: String,
}

/// What the ledgers hold up to a date.
pub struct Ledger {
    pub transactions: Transactions,
    pub invoices: Vec<Invoice>,
    /// The returns netted on an earlier order's date, with the days they were booked (for
    /// training at cutoffs before then).
    pub returns: Vec<BookedReturn>,
    /// Each account's latest customer facts.
    pub facts: Vec<CustomerFacts>,
    /// The name of each product the ledger keys by its code (the latest name given).
    pub product_names: HashMap<String, String>,
    /// Sales rows read (returns included).
    pub rows: u64,
}

fn internal(e: impl std::fmt::Display) -> CoreError {
    CoreError::Internal(format!("reading the ledger: {e}"))
}

/// The condition that keeps a ledger's rows (alias `alias`) dated (`date`) on or before `as_of`
/// and, for one account's ledger, of that account; with the values it binds.
fn bounds(
    backend: Backend,
    alias: &str,
    date: &str,
    as_of: NaiveDate,
    account: Option<Uuid>,
) -> (String, Vec<sea_orm::Value>) {
    let (first, second) = match backend {
        Backend::Sqlite => ("?", "?"),
        Backend::Postgres => ("$1", "$2"),
    };
    let mut sql = format!("{alias}.{date} <= {first}");
    let mut values = vec![as_of.into()];
    if let Some(account) = account {
        sql.push_str(&format!(" AND {alias}.account_id = {second}"));
        values.push(account.into());
    }
    (sql, values)
}

/// Reads the sales history and invoices of live accounts (of `account` alone when given) dated
/// on or before `as_of`, amounts in `base` (the base currency) as major units.
pub async fn ledger<C: ConnectionTrait + StreamTrait>(
    conn: &C,
    backend: Backend,
    as_of: NaiveDate,
    base: &str,
    account: Option<Uuid>,
) -> CoreResult<Ledger> {
    let unit = 10f64.powi(money::minor_digits(base) as i32);
    let (bound, values) = bounds(backend, "s", "date", as_of, account);
    let src = insight_sources();
    let (sales, subject) = (src.sales.table, src.subject.table);
    let db_backend = conn.get_database_backend();
    // Rows of accounts in the recycle bin are left out: their insights would show nowhere.
    let sql = format!(
        "SELECT s.account_id, s.date, s.kind, s.order_ref, s.base_amount_amount, \
         s.base_cost_amount, CASE WHEN s.product_code <> '' THEN s.product_code ELSE s.product_name END, \
         s.product_name \
         FROM {sales} s JOIN {subject} a ON a.id = s.account_id \
         WHERE s.deleted_at IS NULL AND a.deleted_at IS NULL AND {bound} \
         ORDER BY s.account_id, s.date"
    );
    let mut rows = Vec::new();
    {
        let stream = conn
            .stream(Statement::from_sql_and_values(db_backend, &sql, values))
            .await
            .map_err(internal)?;
        let mut stream = std::pin::pin!(stream);
        while let Some(r) = stream.try_next().await.map_err(internal)? {
            let Some(amount) = get_at::<Option<i64>>(&r, 4, "base_amount_amount")? else {
                continue;
            };
            let Some(date) = get_at::<Option<NaiveDate>>(&r, 1, "date")? else {
                continue;
            };
            rows.push(SaleRow {
                account: get_at(&r, 0, "account_id")?,
                date,
                is_return: get_at::<String>(&r, 2, "kind")? == "return",
                order: get_at(&r, 3, "order_ref")?,
                amount,
                cost: get_at(&r, 5, "base_cost_amount")?,
                product: get_at(&r, 6, "product")?,
                name: get_at(&r, 7, "product_name")?,
            });
        }
    }
    // A return counts on the day of the order it returns (its first sale), so a customer who
    // sends back in March what they bought in January bought less in January.
    let mut sold_on: HashMap<(Uuid, &str), NaiveDate> = HashMap::new();
    for r in rows.iter().filter(|r| !r.is_return && !r.order.is_empty()) {
        sold_on
            .entry((r.account, r.order.as_str()))
            .and_modify(|d| *d = (*d).min(r.date))
            .or_insert(r.date);
    }
    let any_cost = rows.iter().any(|r| r.cost.is_some());
    let mut product_names = HashMap::new();
    for r in rows
        .iter()
        .filter(|r| !r.name.is_empty() && r.name != r.product)
    {
        product_names.insert(r.product.clone(), r.name.clone());
    }
    let mut b = TransactionsBuilder::new();
    let mut ids: HashMap<Uuid, String> = HashMap::new();
    let mut returns = Vec::new();
    for r in &rows {
        let date = if r.is_return {
            sold_on
                .get(&(r.account, r.order.as_str()))
                .copied()
                .unwrap_or(r.date)
        } else {
            r.date
        };
        let id = ids
            .entry(r.account)
            .or_insert_with(|| r.account.to_string());
        if date < r.date {
            returns.push(BookedReturn {
                customer_id: id.clone(),
                order_date: date,
                booked_on: r.date,
                amount: r.amount as f64 / unit,
            });
        }
        let cost = any_cost.then(|| r.cost.unwrap_or(0) as f64 / unit);
        let order = (!r.order.is_empty()).then_some(r.order.as_str());
        let product = (!r.product.is_empty()).then_some(r.product.as_str());
        b.push(id, date, r.amount as f64 / unit, cost, order, product)
            .map_err(internal)?;
    }
    let invoices = invoices(conn, backend, as_of, unit, account).await?;
    let facts = facts(conn, backend, as_of, account).await?;
    Ok(Ledger {
        transactions: b.build(),
        invoices,
        returns,
        facts,
        product_names,
        rows: rows.len() as u64,
    })
}

async fn invoices<C: ConnectionTrait + StreamTrait>(
    conn: &C,
    backend: Backend,
    as_of: NaiveDate,
    unit: f64,
    account: Option<Uuid>,
) -> CoreResult<Vec<Invoice>> {
    let (bound, values) = bounds(backend, "i", "invoice_date", as_of, account);
    let src = insight_sources();
    let (payments, subject) = (src.payments.table, src.subject.table);
    let sql = format!(
        "SELECT i.account_id, i.invoice_date, i.paid_date, i.base_amount_amount, i.written_off, \
         i.written_off_on \
         FROM {payments} i JOIN {subject} a ON a.id = i.account_id \
         WHERE i.deleted_at IS NULL AND a.deleted_at IS NULL AND {bound}"
    );
    let mut out = Vec::new();
    let stream = conn
        .stream(Statement::from_sql_and_values(
            conn.get_database_backend(),
            &sql,
            values,
        ))
        .await
        .map_err(internal)?;
    let mut stream = std::pin::pin!(stream);
    while let Some(r) = stream.try_next().await.map_err(internal)? {
        let Some(invoice_date) = get_at::<Option<NaiveDate>>(&r, 1, "invoice_date")? else {
            continue;
        };
        let account: Uuid = get_at(&r, 0, "account_id")?;
        // A payment after the as-of date was not known then: the invoice was still open.
        let paid_date = get_at::<Option<NaiveDate>>(&r, 2, "paid_date")?.filter(|d| *d <= as_of);
        out.push(Invoice {
            customer_id: account.to_string(),
            invoice_date,
            paid_date,
            amount: get_at::<Option<i64>>(&r, 3, "base_amount_amount")?.unwrap_or(0) as f64 / unit,
            written_off: get_at(&r, 4, "written_off")?,
            written_off_on: get_at(&r, 5, "written_off_on")?,
        });
    }
    Ok(out)
}

/// The latest customer facts of each live account recorded on or before `as_of` (the latest
/// created wins between two of one day).
async fn facts<C: ConnectionTrait + StreamTrait>(
    conn: &C,
    backend: Backend,
    as_of: NaiveDate,
    account: Option<Uuid>,
) -> CoreResult<Vec<CustomerFacts>> {
    use crate::areas::customers::customer_facts::INTEGRATION_LEVELS;
    let (bound, values) = bounds(backend, "f", "recorded_on", as_of, account);
    let src = insight_sources();
    let (facts, subject) = (src.facts.table, src.subject.table);
    let sql = format!(
        "SELECT f.account_id, f.satisfaction, f.recommendation, f.share_of_wallet, \
         f.contract_end, f.integration_level, f.loyalty_balance, f.rating_product, \
         f.rating_service, f.rating_price, f.rating_relationship \
         FROM {facts} f JOIN {subject} a ON a.id = f.account_id \
         WHERE f.deleted_at IS NULL AND a.deleted_at IS NULL AND {bound} \
         ORDER BY f.account_id, f.recorded_on DESC, f.created_at DESC, f.id DESC"
    );
    let stream = conn
        .stream(Statement::from_sql_and_values(
            conn.get_database_backend(),
            &sql,
            values,
        ))
        .await
        .map_err(internal)?;
    let mut stream = std::pin::pin!(stream);
    let mut out: Vec<CustomerFacts> = Vec::new();
    let mut last: Option<Uuid> = None;
    while let Some(r) = stream.try_next().await.map_err(internal)? {
        let account: Uuid = get_at(&r, 0, "account_id")?;
        if last == Some(account) {
            continue;
        }
        last = Some(account);
        // Decimals of two places and percentages in hundredths of a percent, as stored.
        let hundredths = |i: usize, n: &str| -> CoreResult<Option<f64>> {
            Ok(get_at::<Option<i64>>(&r, i, n)?.map(|v| v as f64 / 100.0))
        };
        let whole = |i: usize, n: &str| -> CoreResult<Option<f64>> {
            Ok(get_at::<Option<i64>>(&r, i, n)?.map(|v| v as f64))
        };
        let level: String = get_at(&r, 5, "integration_level")?;
        out.push(CustomerFacts {
            customer_id: account.to_string(),
            satisfaction: hundredths(1, "satisfaction")?,
            recommendation: whole(2, "recommendation")?,
            share_of_wallet: hundredths(3, "share_of_wallet")?.map(|p| p / 100.0),
            contract_end: get_at(&r, 4, "contract_end")?,
            integration_level: INTEGRATION_LEVELS
                .codes
                .iter()
                .position(|c| *c == level)
                .and_then(|i| u32::try_from(i).ok()),
            loyalty_balance: hundredths(6, "loyalty_balance")?,
            ratings: [
                whole(7, "rating_product")?,
                whole(8, "rating_service")?,
                whole(9, "rating_price")?,
                whole(10, "rating_relationship")?,
            ],
        });
    }
    Ok(out)
}

/// Writes `ledger` in the CSV formats `guanxi analytics` reads: `transactions.csv`
/// (`customer_id,date,amount,cost,order_id,product`, rows in the order the refresh reads them,
/// returns on their order's date and negative), `returns.csv` (those returns with the days they
/// were booked, for `churn train --booked-returns`) and `payments.csv`
/// (`customer_id,invoice_date,paid_date,amount,written_off,written_off_on`), so the CLI's models
/// can be run on exactly what a refresh saw, and the customer facts beside them ([`write_facts_csv`]).
/// Customers are named by their account's id.
pub fn write_csv(ledger: &Ledger, dir: &std::path::Path) -> CoreResult<(u64, u64)> {
    use guanxi_analytics::transactions::{NONE_KEY, date_from_day_number};
    let io = |e: &dyn std::fmt::Display| CoreError::Internal(format!("writing the ledger: {e}"));
    let tx = &ledger.transactions;
    let mut w = csv::Writer::from_path(dir.join("transactions.csv")).map_err(|e| io(&e))?;
    w.write_record([
        "customer_id",
        "date",
        "amount",
        "cost",
        "order_id",
        "product",
    ])
    .map_err(|e| io(&e))?;
    let costs = tx.costs();
    let (orders, products) = (tx.order_keys(), tx.product_keys());
    let name = |keys: Option<&[u32]>, i: usize, of: &dyn Fn(u32) -> Option<String>| {
        keys.and_then(|k| k.get(i).copied())
            .filter(|k| *k != NONE_KEY)
            .and_then(of)
            .unwrap_or_default()
    };
    for (i, r) in tx.rows().iter().enumerate() {
        let date = date_from_day_number(r.day)
            .map(|d| d.to_string())
            .unwrap_or_default();
        let cost = costs
            .and_then(|c| c.get(i))
            .map(|c| c.to_string())
            .unwrap_or_default();
        let order = name(orders, i, &|k| tx.order_id(k).map(str::to_string));
        let product = name(products, i, &|k| tx.product(k).map(str::to_string));
        w.write_record([
            tx.customer_id(r.customer),
            &date,
            &r.amount.to_string(),
            &cost,
            &order,
            &product,
        ])
        .map_err(|e| io(&e))?;
    }
    w.flush().map_err(|e| io(&e))?;
    let mut p = csv::Writer::from_path(dir.join("payments.csv")).map_err(|e| io(&e))?;
    p.write_record([
        "customer_id",
        "invoice_date",
        "paid_date",
        "amount",
        "written_off",
        "written_off_on",
    ])
    .map_err(|e| io(&e))?;
    let day = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    for inv in &ledger.invoices {
        p.write_record([
            inv.customer_id.as_str(),
            &inv.invoice_date.to_string(),
            &day(inv.paid_date),
            &inv.amount.to_string(),
            if inv.written_off { "yes" } else { "no" },
            &day(inv.written_off_on),
        ])
        .map_err(|e| io(&e))?;
    }
    p.flush().map_err(|e| io(&e))?;
    let mut r = csv::Writer::from_path(dir.join("returns.csv")).map_err(|e| io(&e))?;
    r.write_record(["customer_id", "order_date", "booked_on", "amount"])
        .map_err(|e| io(&e))?;
    for b in &ledger.returns {
        r.write_record([
            b.customer_id.as_str(),
            &b.order_date.to_string(),
            &b.booked_on.to_string(),
            &b.amount.to_string(),
        ])
        .map_err(|e| io(&e))?;
    }
    r.flush().map_err(|e| io(&e))?;
    write_facts_csv(ledger, dir)?;
    Ok((tx.rows().len() as u64, ledger.invoices.len() as u64))
}

/// The customer facts of the accounts in the sales history, as the CLI's side files:
/// `attitudes.csv` for `loyalty --attitudes`, `switching.csv` for `switching-cost --customers`
/// (integration as its level 0–3) and `survey.csv` for `value-focus --dimensions pspr` (the
/// accounts that rated every dimension, satisfaction as `overall`).
fn write_facts_csv(ledger: &Ledger, dir: &std::path::Path) -> CoreResult<()> {
    use guanxi_analytics::customer_insights::facts::dimensions;
    let io = |e: &dyn std::fmt::Display| CoreError::Internal(format!("writing the facts: {e}"));
    let num = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    let tx = &ledger.transactions;
    let buyers: Vec<&CustomerFacts> = ledger
        .facts
        .iter()
        .filter(|f| tx.customer_key(&f.customer_id).is_some())
        .collect();
    let mut a = csv::Writer::from_path(dir.join("attitudes.csv")).map_err(|e| io(&e))?;
    a.write_record([
        "customer_id",
        "satisfaction",
        "recommendation",
        "share_of_wallet",
    ])
    .map_err(|e| io(&e))?;
    let mut w = csv::Writer::from_path(dir.join("switching.csv")).map_err(|e| io(&e))?;
    w.write_record([
        "customer_id",
        "contract_end",
        "integration_level",
        "loyalty_balance",
    ])
    .map_err(|e| io(&e))?;
    let mut v = csv::Writer::from_path(dir.join("survey.csv")).map_err(|e| io(&e))?;
    let mut header = vec!["customer_id".to_string(), "overall".to_string()];
    header.extend(dimensions().into_iter().map(|d| d.key));
    v.write_record(&header).map_err(|e| io(&e))?;
    for f in buyers {
        a.write_record([
            f.customer_id.clone(),
            num(f.satisfaction),
            num(f.recommendation),
            num(f.share_of_wallet),
        ])
        .map_err(|e| io(&e))?;
        w.write_record([
            f.customer_id.clone(),
            f.contract_end.map(|d| d.to_string()).unwrap_or_default(),
            f.integration_level
                .map(|l| l.to_string())
                .unwrap_or_default(),
            num(f.loyalty_balance),
        ])
        .map_err(|e| io(&e))?;
        if let (Some(overall), Some(ratings)) = (
            f.satisfaction,
            f.ratings.iter().copied().collect::<Option<Vec<f64>>>(),
        ) {
            let mut row = vec![f.customer_id.clone(), overall.to_string()];
            row.extend(ratings.iter().map(f64::to_string));
            v.write_record(&row).map_err(|e| io(&e))?;
        }
    }
    for mut file in [a, w, v] {
        file.flush().map_err(|e| io(&e))?;
    }
    Ok(())
}
