//! Contacts (联系人): the people at accounts, or on their own.

use crate::areas::str_field;
use crate::dedupe::Rule;
use crate::error::FieldError;
use crate::error::FieldErrors;
use crate::records::Behaviour;
use crate::records::JsonMap;
use crate::records::def::{
    Access, DedupeDef, EntityDef, FieldDef, FieldGroup, FieldKind, OptionSet,
};
use crate::search::text::is_cjk;

pub static SALUTATIONS: OptionSet = OptionSet {
    name: "salutations",
    codes: &["mr", "ms", "mrs", "dr", "prof"],
};
pub static CHANNELS: OptionSet = OptionSet {
    name: "channels",
    codes: &["phone", "email", "wechat", "sms", "visit", "mail"],
};

const FIELDS: &[FieldDef] = &[
    // The whole name as one text (张三, John Smith), kept from the two parts, so people can
    // filter and sort by the name they know rather than by its halves.
    // An imported 姓名 column is split into the two parts.
    FieldDef::new("name", FieldKind::Text { max: 201 })
        .computed()
        .sortable()
        .grams()
        .splits_into("family_name", "given_name")
        .synonyms(&[
            "姓名",
            "名字",
            "联系人",
            "联系人姓名",
            "客户姓名",
            "全名",
            "Full name",
            "Contact name",
            "Contact",
        ]),
    FieldDef::new("family_name", FieldKind::Text { max: 100 })
        .sortable()
        .synonyms(&["姓", "姓氏", "Last name", "Surname", "Family name"]),
    FieldDef::new("given_name", FieldKind::Text { max: 100 })
        .sortable()
        .synonyms(&["名", "First name", "Given name", "Forename"]),
    FieldDef::new("salutation", FieldKind::choice(&SALUTATIONS)).synonyms(&["称谓", "尊称"]),
    FieldDef::new("title", FieldKind::Text { max: 100 })
        .sortable()
        .synonyms(&[
            "职位",
            "职务",
            "岗位",
            "头衔",
            "Job title",
            "Position",
            "Role",
        ]),
    FieldDef::new("department", FieldKind::Text { max: 100 })
        .sortable()
        .synonyms(&["部门", "所在部门", "科室", "Dept"]),
    FieldDef::new(
        "account_id",
        FieldKind::Ref {
            table: "accounts",
            entity: "account",
        },
    )
    .synonyms(&[
        "公司",
        "公司名称",
        "客户",
        "客户名称",
        "所属公司",
        "单位",
        "单位名称",
        "工作单位",
        "企业名称",
        "Company",
        "Company name",
        "Account",
        "Account name",
        "Organization",
        "Organisation",
    ]),
    FieldDef::new("emails", FieldKind::Emails).synonyms(&[
        "邮箱",
        "电子邮箱",
        "电子邮件",
        "邮箱地址",
        "邮件",
        "Email",
        "E-mail",
        "Email address",
        "Mail",
    ]),
    FieldDef::new("phones", FieldKind::Phones).synonyms(&[
        "手机",
        "手机号",
        "手机号码",
        "移动电话",
        "电话",
        "联系电话",
        "联系方式",
        "办公电话",
        "工作电话",
        "座机",
        "固定电话",
        "Mobile",
        "Mobile phone",
        "Cell",
        "Cell phone",
        "Phone",
        "Phone number",
        "Telephone",
        "Tel",
        "Work phone",
    ]),
    FieldDef::new("wechat_id", FieldKind::Text { max: 64 }).synonyms(&[
        "微信",
        "微信号",
        "WeChat",
        "WeChat ID",
    ]),
    FieldDef::new("birthday", FieldKind::Date)
        .sortable()
        .synonyms(&["生日", "出生日期", "Date of birth", "Birth date", "DOB"]),
    FieldDef::new("preferred_channel", FieldKind::choice(&CHANNELS))
        .synonyms(&["首选联系方式", "偏好渠道"]),
    FieldDef::new("do_not_call", FieldKind::Bool).sortable(),
    FieldDef::new("do_not_email", FieldKind::Bool),
    FieldDef::new("address", FieldKind::Address).synonyms(&[
        "地址",
        "联系地址",
        "通讯地址",
        "家庭地址",
        "办公地址",
        "Address",
        "Mailing address",
    ]),
    FieldDef::new("description", FieldKind::LongText { max: 10_000 }).synonyms(&[
        "备注", "描述", "说明", "Notes", "Note", "Remarks", "Comments",
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

/// The stored whole name: the reading of a Chinese name, given name first for others (the
/// English convention, which is also how such names are typed).
pub fn whole_name(family: &str, given: &str) -> String {
    display_name(family.trim(), given.trim(), "en")
}

/// Chinese names read family name first with no space (张三); others follow the locale's
/// convention: given name first in English, family name first in Chinese (with a middle dot).
pub fn display_name(family: &str, given: &str, locale: &str) -> String {
    let cjk = family.chars().chain(given.chars()).any(is_cjk);
    match (family.is_empty(), given.is_empty()) {
        (true, _) => given.to_string(),
        (_, true) => family.to_string(),
        _ if cjk => format!("{family}{given}"),
        _ if locale.starts_with("zh") => format!("{given}·{family}"),
        _ => format!("{given} {family}"),
    }
}

fn title(rec: &JsonMap, locale: &str) -> String {
    display_name(
        str_field(rec, "family_name"),
        str_field(rec, "given_name"),
        locale,
    )
}

fn search_names(rec: &JsonMap) -> Vec<String> {
    let family = str_field(rec, "family_name");
    let given = str_field(rec, "given_name");
    vec![format!("{family}{given}"), format!("{given} {family}")]
}

/// A contact needs a family name or a given name (either may be all a person goes by).
pub const FAMILY_OR_GIVEN_NAME_REQUIRED: &str = "family_or_given_name_required";

struct Rules;

impl Behaviour for Rules {
    fn derive(&self, rec: &mut JsonMap, errors: &mut FieldErrors) {
        if str_field(rec, "family_name").is_empty() && str_field(rec, "given_name").is_empty() {
            errors.insert(
                "family_name".into(),
                FieldError::new(FAMILY_OR_GIVEN_NAME_REQUIRED),
            );
        }
        let name = whole_name(str_field(rec, "family_name"), str_field(rec, "given_name"));
        rec.insert("name".into(), serde_json::Value::String(name));
    }
}

pub static CONTACTS: EntityDef = EntityDef {
    name: "contact",
    plural: "contacts",
    area: "customers",
    table: "contacts",
    fields: FIELDS,
    default_sort: "-created_at",
    default_columns: &[
        "name",
        "title",
        "account_id",
        "phones",
        "emails",
        "owner_id",
        "updated_at",
    ],
    related_columns: &["name", "title", "phones", "emails"],
    title_sort: "family_name",
    title,
    title_fields: &["family_name", "given_name"],
    search_names,
    children: &[],
    states: None,
    actions: &[],
    access: Access::Records,
    example: None,
    behaviour: &Rules,
    error_codes: &[FAMILY_OR_GIVEN_NAME_REQUIRED],
    charts: &[],
    key_facts: &["account_id", "title", "phones", "owner_id"],
    dedupe: &[
        DedupeDef {
            rule: Rule::Email,
            fields: &["emails"],
        },
        DedupeDef {
            rule: Rule::Phone,
            fields: &["phones"],
        },
        DedupeDef {
            rule: Rule::PersonName,
            fields: &["family_name", "given_name"],
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

#[cfg(test)]
mod tests {
    use super::display_name;

    #[test]
    fn names_follow_script_and_locale() {
        assert_eq!(display_name("张", "三", "en"), "张三");
        assert_eq!(display_name("Smith", "Anna", "en"), "Anna Smith");
        assert_eq!(display_name("Smith", "Anna", "zh-CN"), "Anna·Smith");
        assert_eq!(display_name("", "Anna", "en"), "Anna");
    }
}
