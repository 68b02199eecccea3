//! Accounts (客户): the companies and people a business sells to, buys with or competes against.

use serde_json::Value;

use crate::areas::str_field;
use crate::dedupe::Rule;
use crate::error::FieldErrors;
use crate::normalize;
use crate::records::Behaviour;
use crate::records::JsonMap;
use crate::records::def::{
    Access, DedupeDef, EntityDef, FieldDef, FieldGroup, FieldKind, OptionSet,
};

pub static KINDS: OptionSet = OptionSet {
    name: "account_kinds",
    codes: &["company", "person"],
};
pub static TYPES: OptionSet = OptionSet {
    name: "account_types",
    codes: &[
        "prospect",
        "customer",
        "partner",
        "reseller",
        "competitor",
        "other",
    ],
};
pub static RATINGS: OptionSet = OptionSet {
    name: "ratings",
    codes: &["hot", "warm", "cold"],
};
const FIELDS: &[FieldDef] = &[
    FieldDef::new("kind", FieldKind::choice(&KINDS))
        .required()
        .sortable()
        .initial("company"),
    FieldDef::new("name", FieldKind::Text { max: 200 })
        .grams()
        .required()
        .sortable()
        .synonyms(&[
            "公司",
            "公司名称",
            "客户",
            "客户名称",
            "企业名称",
            "单位名称",
            "机构名称",
            "Company",
            "Company name",
            "Account",
            "Account name",
            "Organization",
            "Organisation",
        ]),
    FieldDef::new(
        "former_names",
        FieldKind::StringList {
            max_items: 20,
            max_len: 200,
        },
    )
    .synonyms(&["曾用名", "原名称", "Former name"]),
    FieldDef::new("tax_id", FieldKind::TaxId).synonyms(&[
        "统一社会信用代码",
        "信用代码",
        "社会信用代码",
        "税号",
        "纳税人识别号",
        "Tax ID",
        "Tax number",
        "VAT number",
        "USCC",
    ]),
    // Not sortable, like every reference: an order of ids means nothing to people.
    FieldDef::new(
        "industry_id",
        FieldKind::Ref {
            table: "industries",
            entity: "industry",
        },
    )
    .synonyms(&["行业", "所属行业", "行业类别", "Industry", "Sector"]),
    FieldDef::new("type", FieldKind::choice(&TYPES))
        .column("account_type")
        .sortable()
        .synonyms(&["客户类型", "客户类别", "Account type", "Customer type"]),
    FieldDef::new("rating", FieldKind::choice(&RATINGS))
        .sortable()
        .synonyms(&["客户级别", "客户等级", "等级", "评级", "Rating"]),
    FieldDef::new(
        "source_id",
        FieldKind::Ref {
            table: "sources",
            entity: "source",
        },
    )
    .synonyms(&["客户来源", "来源", "Source", "Lead source"]),
    FieldDef::new("website", FieldKind::Url).synonyms(&[
        "网站",
        "网址",
        "官网",
        "公司网站",
        "公司网址",
        "Website",
        "Web site",
        "URL",
    ]),
    FieldDef::new("domain", FieldKind::Text { max: 253 }).computed(),
    FieldDef::new("phones", FieldKind::Phones).synonyms(&[
        "电话",
        "公司电话",
        "联系电话",
        "办公电话",
        "总机",
        "座机",
        "手机",
        "Phone",
        "Telephone",
        "Tel",
        "Main phone",
    ]),
    FieldDef::new("emails", FieldKind::Emails).synonyms(&[
        "邮箱",
        "电子邮箱",
        "公司邮箱",
        "电子邮件",
        "Email",
        "E-mail",
    ]),
    FieldDef::new("billing_address", FieldKind::Address)
        .column("billing")
        .synonyms(&[
            "地址",
            "公司地址",
            "办公地址",
            "注册地址",
            "开票地址",
            "Address",
            "Company address",
        ]),
    FieldDef::new("shipping_address", FieldKind::Address)
        .column("shipping")
        .synonyms(&["收货地址", "送货地址", "Delivery address"]),
    FieldDef::new(
        "employees",
        FieldKind::Int {
            min: 0,
            max: 10_000_000,
        },
    )
    .sortable()
    .synonyms(&[
        "员工数",
        "员工人数",
        "人员规模",
        "Headcount",
        "Number of employees",
    ]),
    FieldDef::new("annual_revenue", FieldKind::Money)
        .sortable()
        .synonyms(&["年营业额", "年收入", "营业收入", "年销售额", "Revenue"]),
    // Not sortable: an order of ids means nothing to people (the engine could sort by it).
    FieldDef::new(
        "parent_id",
        FieldKind::Ref {
            table: "accounts",
            entity: "account",
        },
    )
    .synonyms(&["上级客户", "上级公司", "母公司", "总公司", "Parent company"]),
    FieldDef::new("description", FieldKind::LongText { max: 10_000 }).synonyms(&[
        "备注",
        "描述",
        "简介",
        "公司简介",
        "说明",
        "Notes",
        "Remarks",
    ]),
    // The record's id in another system (an ERP, the CRM a team moves from): an import with a
    // match policy finds the record by it before any other key.
    FieldDef::new("external_id", FieldKind::Text { max: 100 }).synonyms(&[
        "外部编号",
        "外部ID",
        "外部系统编号",
        "External ID",
        "External id",
        "ERP ID",
    ]),
];

fn title(rec: &JsonMap, _locale: &str) -> String {
    str_field(rec, "name").to_string()
}

fn search_names(rec: &JsonMap) -> Vec<String> {
    let mut names = vec![str_field(rec, "name").to_string()];
    if let Some(Value::Array(former)) = rec.get("former_names") {
        names.extend(former.iter().filter_map(|v| v.as_str().map(str::to_string)));
    }
    names
}

struct Rules;

impl Behaviour for Rules {
    fn derive(&self, rec: &mut JsonMap, _errors: &mut FieldErrors) {
        derive_domain(rec);
    }
}

/// The domain comes from the website, or else from the first company e-mail address.
fn derive_domain(rec: &mut JsonMap) {
    let from_site = normalize::domain_of_website(str_field(rec, "website")).ok();
    let from_mail = || {
        rec.get("emails")?
            .as_array()?
            .iter()
            .find_map(|e| normalize::company_domain_of_email(e.get("address")?.as_str()?))
    };
    let domain = from_site.or_else(from_mail);
    rec.insert(
        "domain".into(),
        domain.map(Value::String).unwrap_or(Value::Null),
    );
}

pub static ACCOUNTS: EntityDef = EntityDef {
    name: "account",
    plural: "accounts",
    area: "customers",
    table: "accounts",
    fields: FIELDS,
    default_sort: "-created_at",
    default_columns: &[
        "name",
        "type",
        "industry_id",
        "billing_address.province",
        "phones",
        "owner_id",
        "updated_at",
    ],
    related_columns: &["name", "type", "industry_id", "phones"],
    title_sort: "name",
    title,
    title_fields: &["name"],
    search_names,
    children: &[],
    states: None,
    actions: &[],
    access: Access::Records,
    example: None,
    behaviour: &Rules,
    error_codes: &[],
    charts: &[],
    key_facts: &["type", "phones", "billing_address.city", "owner_id"],
    // The domain is the website's (or the first company e-mail's, see `derive_domain`).
    dedupe: &[
        DedupeDef {
            rule: Rule::TaxId,
            fields: &["tax_id"],
        },
        DedupeDef {
            rule: Rule::Domain,
            fields: &["domain", "website"],
        },
        DedupeDef {
            rule: Rule::Phone,
            fields: &["phones"],
        },
        DedupeDef {
            rule: Rule::Email,
            fields: &["emails"],
        },
        DedupeDef {
            rule: Rule::Name,
            fields: &["name"],
        },
        DedupeDef {
            rule: Rule::NamePinyin,
            fields: &["name"],
        },
        DedupeDef {
            rule: Rule::ExternalId,
            fields: &["external_id"],
        },
    ],
    rollups: &[],
    read_through: None,
    shared_with: None,
    timeline: None,
    board: None,
    calendar: None,
    // Other information (其他信息): the number the record has in another system, apart from
    // what people work with every day.
    field_groups: &[FieldGroup::section("other", &["external_id"])],
};
