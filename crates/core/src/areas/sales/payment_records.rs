//! Payments (回款记录): each invoice with its due date and the day it was paid, or written off
//! as a bad debt. The tiers read how fast and how surely an account pays (its payment score);
//! the churn model reads how late.

use async_trait::async_trait;
use serde_json::json;

use crate::CoreResult;
use crate::areas::ledger::{self, RATE_MISSING};
use crate::error::{FieldError, FieldErrors};
use crate::records::def::{Access, EntityDef, FieldDef, FieldKind};
use crate::records::{Behaviour, Event, JsonMap, Work};

/// A due date or write-off date before the invoice's own date.
pub const BEFORE_INVOICE: &str = "before_invoice_date";

const FIELDS: &[FieldDef] = &[
    ledger::account_field(),
    FieldDef::new("invoice_ref", FieldKind::Text { max: 100 })
        .sortable()
        .synonyms(&[
            "发票号",
            "发票号码",
            "应收单号",
            "单据编号",
            "单据号",
            "Invoice",
            "Invoice number",
            "Invoice no",
        ]),
    FieldDef::new("invoice_date", FieldKind::Date)
        .required()
        .sortable()
        .synonyms(&[
            "开票日期",
            "发票日期",
            "单据日期",
            "应收日期",
            "Invoice date",
            "Billing date",
        ]),
    FieldDef::new("due_date", FieldKind::Date)
        .sortable()
        .synonyms(&[
            "到期日",
            "到期日期",
            "应收到期日",
            "收款期限",
            "账期到期日",
            "Due date",
            "Due",
        ]),
    FieldDef::new("paid_date", FieldKind::Date)
        .sortable()
        .synonyms(&[
            "回款日期",
            "收款日期",
            "到账日期",
            "实收日期",
            "Paid date",
            "Payment date",
            "Date paid",
        ]),
    FieldDef::new("amount", FieldKind::Money)
        .required()
        .sortable()
        .synonyms(&[
            "金额",
            "应收金额",
            "发票金额",
            "价税合计",
            "回款金额",
            "Amount",
            "Invoice amount",
        ]),
    ledger::rate_field(),
    FieldDef::new("written_off", FieldKind::Bool).synonyms(&[
        "坏账",
        "是否坏账",
        "坏账核销",
        "已核销坏账",
        "Written off",
        "Bad debt",
    ]),
    // The day of the write-off: a back-test or a churn model's training as of an earlier day
    // sees the invoice still open, as it was then.
    FieldDef::new("written_off_on", FieldKind::Date)
        .sortable()
        .synonyms(&[
            "核销日期",
            "坏账核销日期",
            "坏账日期",
            "Written off on",
            "Write-off date",
        ]),
    FieldDef::new("base_amount", FieldKind::Money)
        .computed()
        .sortable(),
];

fn title(rec: &JsonMap, _locale: &str) -> String {
    ledger::joined_title(rec, &["invoice_date", "invoice_ref"])
}

/// Invoiced before any due date a generated record may hold.
fn example(_seed: u32) -> JsonMap {
    let mut out = JsonMap::new();
    out.insert("invoice_date".into(), json!("1970-01-01"));
    out
}

struct Rules;

#[async_trait]
impl Behaviour for Rules {
    /// The account's insights are scored again within seconds.
    async fn after(&self, work: &mut Work<'_>, event: &Event<'_>, rec: &JsonMap) -> CoreResult<()> {
        ledger::changed(work, event, rec).await
    }

    async fn validate(
        &self,
        work: &mut Work<'_>,
        _event: &Event<'_>,
        rec: &mut JsonMap,
        errors: &mut FieldErrors,
    ) -> CoreResult<()> {
        ledger::no_future_dates(
            work,
            rec,
            &["invoice_date", "paid_date", "written_off_on"],
            errors,
        );
        if let Some(invoiced) = ledger::date_of(rec, "invoice_date") {
            for field in ["due_date", "written_off_on"] {
                if ledger::date_of(rec, field).is_some_and(|d| d < invoiced) {
                    errors.insert(
                        field.into(),
                        FieldError::new(BEFORE_INVOICE).with(
                            "invoice_date",
                            json!(invoiced.format("%Y-%m-%d").to_string()),
                        ),
                    );
                }
            }
        }
        // A write-off date says it was written off.
        if ledger::date_of(rec, "written_off_on").is_some() {
            rec.insert("written_off".into(), json!(true));
        }
        ledger::convert(work, rec, "amount", "base_amount", false, errors);
        Ok(())
    }
}

pub static PAYMENT_RECORDS: EntityDef = EntityDef {
    name: "payment_record",
    plural: "payment_records",
    area: "sales",
    table: "payment_records",
    fields: FIELDS,
    default_sort: "-invoice_date",
    default_columns: &[
        "invoice_date",
        "account_id",
        "invoice_ref",
        "amount",
        "due_date",
        "paid_date",
        "written_off",
    ],
    related_columns: &[
        "invoice_date",
        "invoice_ref",
        "amount",
        "due_date",
        "paid_date",
    ],
    title_sort: "invoice_date",
    title,
    title_fields: &["invoice_date", "invoice_ref"],
    search_names: ledger::no_search_names,
    children: &[],
    states: None,
    actions: &[],
    access: Access::Records,
    example: Some(example),
    behaviour: &Rules,
    error_codes: &[ledger::DATE_IN_FUTURE, RATE_MISSING, BEFORE_INVOICE],
    charts: &[],
    key_facts: &["account_id", "amount"],
    dedupe: &[],
    rollups: &[],
    // Whoever may read the account may read its invoices, whoever keyed them in.
    read_through: Some("account_id"),
    shared_with: None,
    timeline: None,
    board: None,
    calendar: None,
    field_groups: &[],
};
