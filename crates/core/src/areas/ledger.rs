//! What the ledgers the insights read have in common (sales history, payments, customer facts):
//! the account each row belongs to, as ERP and spreadsheet exports name it, and the rule that a
//! ledger records what happened, so no date of it lies after today.

use chrono::NaiveDate;
use serde_json::Value;

use crate::error::{CoreResult, FieldError, FieldErrors};
use crate::records::def::{EntityDef, FieldDef, FieldKind};
use crate::records::{Event, JsonMap, Work, money, values};

/// What customer insights are about and what they read (DESIGN.md section 8): the customer
/// entity they are written onto, and the ledgers (sales history, payments) each of whose rows
/// names one of its records in `account_id`.
pub struct InsightSources {
    pub subject: &'static EntityDef,
    pub sales: &'static EntityDef,
    pub payments: &'static EntityDef,
    /// What people record about a customer (satisfaction, contract, integration, ratings).
    pub facts: &'static EntityDef,
}

/// The entities of [`InsightSources`].
pub fn insight_sources() -> InsightSources {
    InsightSources {
        subject: &crate::areas::customers::ACCOUNTS,
        sales: &crate::areas::sales::SALES_RECORDS,
        payments: &crate::areas::sales::PAYMENT_RECORDS,
        facts: &crate::areas::customers::CUSTOMER_FACTS,
    }
}

/// The job that scores again the accounts whose ledger changed (the insights run it).
pub const CHANGED_JOB: &str = "insights_rescore";

/// The table of accounts waiting for that job.
pub const CHANGED_TABLE: &str = "insight_pending";

/// Notes, in the writer's transaction, that the ledger of the account a row belongs to changed
/// (and of the account it belonged to, when it moved): the account waits in [`CHANGED_TABLE`]
/// once however many of its rows a burst or an import writes, and a [`CHANGED_JOB`] is queued
/// when it starts waiting. Both exist exactly when the write does.
pub async fn changed(work: &Work<'_>, event: &Event<'_>, rec: &JsonMap) -> CoreResult<()> {
    use sea_orm::sea_query::{OnConflict, Query};
    let account_of = |r: &JsonMap| {
        r.get("account_id")
            .and_then(Value::as_str)
            .and_then(|s| uuid::Uuid::parse_str(s).ok())
    };
    let mut accounts = vec![account_of(rec)];
    if let Some(stored) = event.stored {
        accounts.push(account_of(stored));
    }
    accounts.dedup();
    for account in accounts.into_iter().flatten() {
        let mut q = Query::insert();
        q.into_table(crate::db::col(CHANGED_TABLE))
            .columns([crate::db::col("account_id"), crate::db::col("since")])
            .values_panic([account.into(), work.now().into()])
            .on_conflict(
                OnConflict::column(crate::db::col("account_id"))
                    .do_nothing()
                    .to_owned(),
            );
        if crate::db::insert(work.conn(), &q).await? > 0 {
            let job =
                crate::jobs::NewJob::new(CHANGED_JOB, serde_json::json!({"subject": account}))
                    .attempts(3);
            crate::jobs::enqueue(work.conn(), job).await?;
        }
    }
    Ok(())
}

/// A ledger date after today (in the writer's time zone).
pub const DATE_IN_FUTURE: &str = "date_in_future";
/// An amount in another currency than the base one, with no exchange rate to convert it.
pub const RATE_MISSING: &str = "rate_missing";

/// The account a ledger row belongs to, under the names 用友, 金蝶 and Excel exports give it. An
/// import refuses a row naming no known customer rather than make one of a typo, unless asked
/// to create missing records.
pub const fn account_field() -> FieldDef {
    FieldDef::new(
        "account_id",
        FieldKind::Ref {
            table: "accounts",
            entity: "account",
        },
    )
    .required()
    .existing_only()
    .synonyms(&[
        "客户",
        "客户名称",
        "客户全称",
        "往来单位",
        "往来单位名称",
        "购货单位",
        "购买方名称",
        "客户简称",
        "Customer",
        "Customer name",
        "Account",
        "Account name",
        "Sold to",
    ])
}

/// A ledger row's name: its `fields` that hold something, joined by " · " (a date, an order
/// number, a product), since no ledger row has a name of its own.
pub fn joined_title(rec: &JsonMap, fields: &[&str]) -> String {
    fields
        .iter()
        .map(|f| crate::areas::str_field(rec, f))
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" · ")
}

/// Ledger rows are found through their account, not by a name of their own in global search.
pub fn no_search_names(_rec: &JsonMap) -> Vec<String> {
    Vec::new()
}

/// A date of the row as stored (`YYYY-MM-DD`).
pub fn date_of(rec: &JsonMap, field: &str) -> Option<NaiveDate> {
    rec.get(field)
        .and_then(Value::as_str)
        .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
}

/// Refuses each of `fields` that holds a date after today for the writer.
pub fn no_future_dates(work: &Work<'_>, rec: &JsonMap, fields: &[&str], errors: &mut FieldErrors) {
    let today = crate::time_zone::day_of(work.now(), work.actor().time_zone);
    for f in fields {
        if date_of(rec, f).is_some_and(|d| d > today) {
            errors.insert(
                (*f).to_string(),
                FieldError::new(DATE_IN_FUTURE).with("today", today.format("%Y-%m-%d").to_string()),
            );
        }
    }
}

/// Fills `base` with `amount` in the base currency: as it is when in the base currency, else
/// times the row's `exchange_rate` (a decimal of `RATE_SCALE` places), rounded half away from
/// zero to the base currency's minor unit; negated when `negate` (a return). A foreign amount
/// without a rate is refused on the rate, so no unconverted number is ever summed.
pub fn convert(
    work: &Work<'_>,
    rec: &mut JsonMap,
    amount: &str,
    base: &str,
    negate: bool,
    errors: &mut FieldErrors,
) {
    let base_currency = work.settings().default_currency.clone();
    let value = match rec.get(amount) {
        Some(v @ Value::Object(_)) => {
            let currency = v.get("currency").and_then(Value::as_str).unwrap_or("");
            money::parse(v, currency).ok()
        }
        _ => None,
    };
    let Some((minor, currency)) = value else {
        rec.insert(base.into(), Value::Null);
        return;
    };
    let rate = rec
        .get("exchange_rate")
        .filter(|v| !v.is_null())
        .and_then(|v| values::parse_decimal(v, RATE_SCALE).ok());
    let converted = if currency == base_currency {
        Some(minor)
    } else {
        match rate {
            Some(units) if units > 0 => rescale(minor, &currency, units, &base_currency),
            _ => {
                errors.insert(
                    "exchange_rate".into(),
                    FieldError::new(RATE_MISSING)
                        .with("currency", currency.clone())
                        .with("base", base_currency.clone()),
                );
                None
            }
        }
    };
    let signed = converted.map(|m| if negate { -m.abs() } else { m });
    rec.insert(
        base.into(),
        signed.map_or(Value::Null, |m| money::to_json(m, &base_currency)),
    );
}

/// Decimal places of an exchange rate (units of the base currency per unit of the row's).
pub const RATE_SCALE: u32 = 6;

/// The exchange rate field.
pub const fn rate_field() -> FieldDef {
    FieldDef::new("exchange_rate", FieldKind::Decimal { scale: RATE_SCALE }).synonyms(&[
        "汇率",
        "记账汇率",
        "折算汇率",
        "Exchange rate",
        "FX rate",
    ])
}

/// `minor` units of `from` at `rate_units` (10^-RATE_SCALE) into minor units of `to`, exactly.
fn rescale(minor: i64, from: &str, rate_units: i64, to: &str) -> Option<i64> {
    use rust_decimal::Decimal;
    use rust_decimal::prelude::ToPrimitive;
    let amount = Decimal::new(minor, money::minor_digits(from));
    let rate = Decimal::new(rate_units, RATE_SCALE);
    let out = amount.checked_mul(rate)?;
    let scaled = out.checked_mul(Decimal::from(10_i64.pow(money::minor_digits(to))))?;
    scaled
        .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        .to_i64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_convert_exactly_to_the_base_minor_unit() {
        // 100.00 USD at 7.123456 = 712.3456 CNY → 712.35
        assert_eq!(rescale(10_000, "USD", 7_123_456, "CNY"), Some(71_235));
        // 1000 JPY at 0.048 = 48.00 CNY
        assert_eq!(rescale(1_000, "JPY", 48_000, "CNY"), Some(4_800));
        // half away from zero on a negative amount
        assert_eq!(rescale(-1, "USD", 500_000, "CNY"), Some(-1));
    }
}
