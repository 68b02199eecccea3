//! Sales history (销售记录): one row per order or invoice line, as an ERP (用友, 金蝶, SAP) or a
//! spreadsheet exports it, and as Guanxi's own orders will write it. The customer analytics read
//! it: what each account bought, when, for how much and at what cost.
//!
//! A return (退货) is a row of kind `return` naming the order it returns, which must be on the
//! ledger: the analytics net it against that order's date, so a customer who returns in March
//! what they bought in January did not buy less in March. Amounts are kept as typed, in their
//! currency; `base_amount` and `base_cost` hold them in the base currency at the row's own rate,
//! negative for a return.

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::CoreResult;
use crate::areas::ledger::{self, RATE_MISSING};
use crate::areas::str_field;
use crate::error::{FieldError, FieldErrors};
use crate::records::def::{Access, EntityDef, FieldDef, FieldKind, OptionSet};
use crate::records::{Behaviour, Event, Filter, FilterOp, JsonMap, Work};

pub static KINDS: OptionSet = OptionSet {
    name: "sales_record_kinds",
    codes: &["sale", "return"],
};

/// A return naming an order the account has no sale on.
pub const RETURN_WITHOUT_ORDER: &str = "return_without_order";
/// A return that names no order.
pub const RETURN_NEEDS_ORDER: &str = "return_needs_order";

const FIELDS: &[FieldDef] = &[
    ledger::account_field(),
    FieldDef::new("date", FieldKind::Date)
        .required()
        .sortable()
        .synonyms(&[
            "日期",
            "单据日期",
            "销售日期",
            "业务日期",
            "开票日期",
            "发货日期",
            "出库日期",
            "订单日期",
            "Date",
            "Invoice date",
            "Order date",
            "Posting date",
        ]),
    FieldDef::new("kind", FieldKind::choice(&KINDS))
        .sortable()
        .synonyms(&["单据类型", "业务类型", "类型", "Type", "Document type"]),
    FieldDef::new("order_ref", FieldKind::Text { max: 100 })
        .sortable()
        .synonyms(&[
            "单据编号",
            "单据号",
            "订单号",
            "订单编号",
            "销售订单号",
            "发票号",
            "发票号码",
            "Order",
            "Order number",
            "Order no",
            "Invoice number",
            "Document number",
        ]),
    FieldDef::new("product_code", FieldKind::Text { max: 100 }).synonyms(&[
        "存货编码",
        "商品编码",
        "物料编码",
        "产品编码",
        "货品编码",
        "SKU",
        "Product code",
        "Item code",
    ]),
    FieldDef::new("product_name", FieldKind::Text { max: 200 }).synonyms(&[
        "存货名称",
        "商品名称",
        "物料名称",
        "产品名称",
        "货品名称",
        "Product",
        "Product name",
        "Item",
        "Item name",
    ]),
    FieldDef::new("category", FieldKind::Text { max: 100 }).synonyms(&[
        "存货分类",
        "存货类别",
        "商品分类",
        "物料分类",
        "产品分类",
        "产品类别",
        "Category",
        "Product category",
    ]),
    FieldDef::new("quantity", FieldKind::Decimal { scale: 4 }).synonyms(&[
        "数量",
        "销售数量",
        "主数量",
        "Quantity",
        "Qty",
    ]),
    FieldDef::new("amount", FieldKind::Money)
        .required()
        .sortable()
        .synonyms(&[
            "价税合计",
            "含税金额",
            "金额",
            "销售金额",
            "本币价税合计",
            "Amount",
            "Total",
            "Line total",
            "Gross amount",
        ]),
    ledger::rate_field(),
    FieldDef::new("cost", FieldKind::Money).synonyms(&[
        "成本",
        "成本金额",
        "销售成本",
        "总成本",
        "Cost",
        "COGS",
        "Cost of sales",
    ]),
    FieldDef::new("base_amount", FieldKind::Money)
        .computed()
        .sortable(),
    FieldDef::new("base_cost", FieldKind::Money).computed(),
];

fn title(rec: &JsonMap, _locale: &str) -> String {
    ledger::joined_title(rec, &["date", "order_ref", "product_name"])
}

/// A sale in the base currency: a return needs its order on the ledger first.
fn example(_seed: u32) -> JsonMap {
    let mut out = JsonMap::new();
    out.insert("kind".into(), json!("sale"));
    out
}

struct Rules;

fn is_return(rec: &JsonMap) -> bool {
    str_field(rec, "kind") == "return"
}

#[async_trait]
impl Behaviour for Rules {
    /// The account's insights are scored again within seconds.
    async fn after(&self, work: &mut Work<'_>, event: &Event<'_>, rec: &JsonMap) -> CoreResult<()> {
        ledger::changed(work, event, rec).await
    }

    fn derive(&self, rec: &mut JsonMap, _errors: &mut FieldErrors) {
        // An ERP's red-ink row (红字) is a negative amount: a return unless it says otherwise.
        if str_field(rec, "kind").is_empty() {
            let negative = rec
                .get("amount")
                .and_then(|a| a.get("amount"))
                .and_then(Value::as_str)
                .is_some_and(|a| a.starts_with('-'));
            rec.insert(
                "kind".into(),
                json!(if negative { "return" } else { "sale" }),
            );
        }
    }

    async fn validate(
        &self,
        work: &mut Work<'_>,
        _event: &Event<'_>,
        rec: &mut JsonMap,
        errors: &mut FieldErrors,
    ) -> CoreResult<()> {
        ledger::no_future_dates(work, rec, &["date"], errors);
        let negate = is_return(rec);
        ledger::convert(work, rec, "amount", "base_amount", negate, errors);
        ledger::convert(work, rec, "cost", "base_cost", negate, errors);
        if negate {
            check_returned_order(work, rec, errors).await?;
        }
        Ok(())
    }
}

/// A return must name an order of the same account that the ledger holds a sale of.
async fn check_returned_order(
    work: &mut Work<'_>,
    rec: &JsonMap,
    errors: &mut FieldErrors,
) -> CoreResult<()> {
    let order = str_field(rec, "order_ref").to_string();
    let account = rec.get("account_id").cloned().unwrap_or(Value::Null);
    if order.is_empty() {
        errors.insert("order_ref".into(), FieldError::new(RETURN_NEEDS_ORDER));
        return Ok(());
    }
    if account.is_null() {
        return Ok(());
    }
    let cond = |field: &str, value: Value| Filter::Cond {
        field: field.into(),
        op: FilterOp::Eq,
        value,
    };
    let sold = Filter::And(vec![
        cond("account_id", account),
        cond("order_ref", json!(order)),
        cond("kind", json!("sale")),
    ]);
    if work.count_all(&SALES_RECORDS, &sold).await? == 0 {
        errors.insert(
            "order_ref".into(),
            FieldError::new(RETURN_WITHOUT_ORDER).with("order", order),
        );
    }
    Ok(())
}

pub static SALES_RECORDS: EntityDef = EntityDef {
    name: "sales_record",
    plural: "sales_records",
    area: "sales",
    table: "sales_records",
    fields: FIELDS,
    default_sort: "-date",
    default_columns: &[
        "date",
        "account_id",
        "kind",
        "order_ref",
        "product_name",
        "quantity",
        "amount",
        "base_amount",
    ],
    related_columns: &["date", "kind", "order_ref", "product_name", "amount"],
    title_sort: "date",
    title,
    title_fields: &["date", "order_ref", "product_name"],
    search_names: ledger::no_search_names,
    children: &[],
    states: None,
    actions: &[],
    access: Access::Records,
    example: Some(example),
    behaviour: &Rules,
    error_codes: &[
        ledger::DATE_IN_FUTURE,
        RATE_MISSING,
        RETURN_WITHOUT_ORDER,
        RETURN_NEEDS_ORDER,
    ],
    charts: &[],
    key_facts: &["account_id", "amount"],
    dedupe: &[],
    rollups: &[],
    // Whoever may read the account may read what it bought, whoever keyed the row in.
    read_through: Some("account_id"),
    shared_with: None,
    timeline: None,
    board: None,
    calendar: None,
    field_groups: &[],
};
