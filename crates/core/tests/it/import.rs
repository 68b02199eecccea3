//! Reading import files for the declared entities: column mapping suggested from the header
//! sets that Chinese and Western CRMs and spreadsheets use, checked against the registry, and
//! whole files read through a plan.

use std::collections::HashMap;
use std::io::Cursor;

use guanxi_core::EntityDef;
use guanxi_core::custom_fields::CustomFieldDef;
use guanxi_core::import::mapping::{
    ColumnMapping, Labels, Mapping, Sureness, TargetKind, Targets, suggest,
};
use guanxi_core::import::{ReadError, ReadOptions, Source, names};
use guanxi_core::records::def::FieldKind;

/// The labels the web layer's translation files give, in both languages: what the import's
/// caller hands the suggestion.
fn labels() -> HashMap<String, Vec<String>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/locales");
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for locale in ["en", "zh-CN"] {
        for entry in std::fs::read_dir(root.join(locale)).expect("locales") {
            let text = std::fs::read_to_string(entry.expect("entry").path()).expect("ftl");
            for line in text.lines() {
                if line.starts_with([' ', '#']) {
                    continue;
                }
                if let Some((k, v)) = line.split_once(" = ") {
                    out.entry(k.trim().to_string())
                        .or_default()
                        .push(v.trim().to_string());
                }
            }
        }
    }
    out
}

fn entity(name: &str) -> &'static EntityDef {
    guanxi_core::areas::registry()
        .by_name(name)
        .expect("declared")
}

fn headers(hs: &[&str]) -> Vec<String> {
    hs.iter().map(|h| h.to_string()).collect()
}

/// The suggested field of each header, `-` for none.
fn suggested(entity_name: &str, hs: &[&str]) -> Vec<String> {
    let targets = Targets::of(entity(entity_name), &[]);
    suggest(&targets, &headers(hs), &labels())
        .columns
        .into_iter()
        .map(|c| c.field.unwrap_or_else(|| "-".into()))
        .collect()
}

#[test]
fn contacts_from_wukong_crm() {
    // 悟空CRM's contact import template.
    assert_eq!(
        suggested(
            "contact",
            &[
                "姓名*",
                "客户名称*",
                "手机",
                "电话",
                "电子邮箱",
                "职务",
                "是否关键决策人",
                "地址",
                "下次联系时间",
                "备注",
                "负责人",
            ]
        ),
        [
            "name",
            "account_id",
            "phones",
            "phones",
            "emails",
            "title",
            "-",
            "address",
            "-",
            "description",
            "owner_id"
        ]
    );
}

#[test]
fn contacts_from_fxiaoke() {
    // 纷享销客's export: numbered phones, required marks, separate address parts.
    assert_eq!(
        suggested(
            "contact",
            &[
                "姓名（必填）",
                "客户名称",
                "部门",
                "职务",
                "手机1",
                "手机2",
                "电话1",
                "邮箱",
                "生日",
                "省份",
                "城市",
                "区县",
                "详细地址",
                "微信",
                "备注",
                "负责人",
            ]
        ),
        [
            "name",
            "account_id",
            "department",
            "title",
            "phones",
            "phones",
            "phones",
            "emails",
            "birthday",
            "address.province",
            "address.city",
            "address.district",
            "address.street",
            "wechat_id",
            "description",
            "owner_id"
        ]
    );
}

#[test]
fn contacts_from_an_excel_list_of_ones_own() {
    assert_eq!(
        suggested(
            "contact",
            &[
                "序号",
                "联系人姓名",
                "所在公司",
                "职位",
                "手机号码",
                "办公电话",
                "E-mail",
                "省",
                "市",
                "客户手机号码",
            ]
        ),
        [
            "-",
            "name",
            "account_id",
            "title",
            "phones",
            "phones",
            "emails",
            "address.province",
            "address.city",
            "phones"
        ]
    );
    // Separate family and given name columns.
    assert_eq!(
        suggested("contact", &["姓", "名", "手机"]),
        ["family_name", "given_name", "phones"]
    );
}

#[test]
fn contacts_in_english() {
    // A spreadsheet, Salesforce's and Twenty's exports.
    assert_eq!(
        suggested(
            "contact",
            &[
                "First Name",
                "Last Name",
                "Email",
                "Mobile Phone",
                "Company",
                "Job Title",
                "City",
                "State/Province",
                "Notes"
            ]
        ),
        [
            "given_name",
            "family_name",
            "emails",
            "phones",
            "account_id",
            "title",
            "address.city",
            "address.province",
            "description"
        ]
    );
    assert_eq!(
        suggested(
            "contact",
            &[
                "Name / First Name",
                "Name / Last Name",
                "Emails / Primary Email",
                "Phones / Primary Phone Number",
                "Job Title",
                "Account Name",
                "Contact Owner",
                "Mailing Zip/Postal Code",
            ]
        ),
        [
            "given_name",
            "family_name",
            "emails",
            "phones",
            "title",
            "account_id",
            "owner_id",
            "address.postal_code"
        ]
    );
}

#[test]
fn accounts_in_both_languages() {
    assert_eq!(
        suggested(
            "account",
            &[
                "公司名称*",
                "统一社会信用代码",
                "所属行业",
                "客户级别",
                "客户来源",
                "公司电话",
                "公司网址",
                "省份",
                "城市",
                "区县",
                "详细地址",
                "收货地址",
                "负责人",
                "备注",
            ]
        ),
        [
            "name",
            "tax_id",
            "industry_id",
            "rating",
            "source_id",
            "phones",
            "website",
            "billing_address.province",
            "billing_address.city",
            "billing_address.district",
            "billing_address.street",
            "shipping_address",
            "owner_id",
            "description"
        ]
    );
    assert_eq!(
        suggested(
            "account",
            &[
                "Account Name",
                "Website",
                "Phone",
                "Industry",
                "Employees",
                "Annual Revenue",
                "Billing City",
                "Billing State/Province",
                "Shipping City",
                "Account Owner",
                "Description",
            ]
        ),
        [
            "name",
            "website",
            "phones",
            "industry_id",
            "employees",
            "annual_revenue",
            "billing_address.city",
            "billing_address.province",
            "shipping_address.city",
            "owner_id",
            "description"
        ]
    );
}

#[test]
fn sure_and_likely_suggestions_and_one_column_per_field() {
    let targets = Targets::of(entity("contact"), &[]);
    let s = suggest(
        &targets,
        &headers(&["姓名", "客户手机号码", "姓名", "Unknown"]),
        &labels(),
    );
    let sureness: Vec<Option<Sureness>> = s.columns.iter().map(|c| c.sureness).collect();
    assert_eq!(
        sureness,
        [Some(Sureness::Sure), Some(Sureness::Likely), None, None]
    );
    // The second 姓名 gets nothing: a name takes one column.
    let m = s.mapping();
    assert_eq!(m.entity.as_deref(), Some("contact"));
    assert!(m.columns[2].ignore && m.columns[2].field.is_none());
    assert!(m.columns[3].ignore);
    // Without labels, names and synonyms still match.
    let s = suggest(&targets, &headers(&["given_name", "手机"]), &());
    assert_eq!(
        s.columns
            .iter()
            .map(|c| c.field.as_deref())
            .collect::<Vec<_>>(),
        [Some("given_name"), Some("phones")]
    );
}

fn custom_budget() -> CustomFieldDef {
    CustomFieldDef {
        id: uuid::Uuid::nil(),
        entity: "account".into(),
        key: "budget".into(),
        label_en: "Yearly budget".into(),
        label_zh: "年度预算".into(),
        kind: FieldKind::Int {
            min: 0,
            max: 1_000_000,
        },
        required: false,
        position: 1,
        version: 1,
    }
}

#[test]
fn custom_fields_are_targets_by_their_labels() {
    let targets = Targets::of(entity("account"), &[custom_budget()]);
    let s = suggest(
        &targets,
        &headers(&["客户名称", "年度预算", "Yearly Budget (CNY)"]),
        &labels(),
    );
    assert_eq!(s.columns[1].field.as_deref(), Some("custom.budget"));
    // "(CNY)" is a note; the field is taken already.
    assert_eq!(s.columns[2].field, None);
}

fn column(header: &str, field: &str) -> ColumnMapping {
    ColumnMapping {
        header: header.into(),
        field: Some(field.into()),
        ..ColumnMapping::default()
    }
}

#[test]
fn a_mapping_is_checked_against_the_registry_and_the_file() {
    let targets = Targets::of(entity("account"), &[]);
    let file = headers(&[
        "公司名称",
        "传真",
        "域名",
        "编号",
        "名称2",
        "成立日期",
        "电话",
    ]);
    let mapping = Mapping {
        entity: Some("contact".into()),
        columns: vec![
            column("公司名称", "name"),
            column("传真", "fax"),
            column("域名", "domain"),
            column("编号", "id"),
            column("名称2", "name"),
            column("不存在的列", "website"),
            ColumnMapping {
                date_format: Some("%Y年%m月%d日".into()),
                ..column("电话", "phones")
            },
        ],
    };
    let errors = mapping.resolve(&targets, &file).err().unwrap_or_default();
    assert_eq!(
        errors,
        vec![
            ReadError::MappingForOtherEntity {
                entity: "contact".into()
            },
            ReadError::UnknownMappedField {
                column: "传真".into(),
                field: "fax".into()
            },
            ReadError::FieldNotImportable {
                column: "域名".into(),
                field: "domain".into()
            },
            ReadError::FieldNotImportable {
                column: "编号".into(),
                field: "id".into()
            },
            ReadError::ColumnNotInFile {
                column: "不存在的列".into()
            },
            ReadError::DateFormatForNonDate {
                column: "电话".into(),
                field: "phones".into()
            },
            ReadError::FieldMappedTwice {
                field: "name".into()
            },
        ]
    );
    assert_eq!(errors[1].code(), "unknown_mapped_field");
    assert_eq!(
        errors[1].params().get("field"),
        Some(&serde_json::json!("fax"))
    );
    assert!(guanxi_core::codes::ALL.contains(&errors[1].code()));
    // A bad date format on a date field.
    let targets = Targets::of(entity("contact"), &[]);
    let m = Mapping {
        entity: None,
        columns: vec![ColumnMapping {
            date_format: Some("%Y-%m-%".into()),
            ..column("生日", "birthday")
        }],
    };
    assert_eq!(
        m.resolve(&targets, &headers(&["生日"])),
        Err(vec![ReadError::InvalidDateFormat {
            column: "生日".into(),
            value: "%Y-%m-%".into()
        }])
    );
}

#[test]
fn a_gbk_file_read_through_a_suggested_plan() {
    let text = "\"姓名*\",手机号码,手机2,电子邮箱（选填）,公司名称,职位,省份,城市,备注\r\n\
                欧阳娜娜,13800138000,13900139000,nana@example.cn,星辰科技,经理,广东省,深圳市,\"老客户，\r\n重点跟进\"\r\n\
                John Smith,,,,,,,,\r\n";
    let bytes = encoding_rs::GBK.encode(text).0.into_owned();
    let src = Source::open(Cursor::new(bytes), &ReadOptions::default()).expect("opens");
    let targets = Targets::of(entity("contact"), &[]);
    let mapping = suggest(&targets, src.headers(), &labels()).mapping();
    // What the command line prints and reads back.
    let mapping = Mapping::from_toml(&mapping.to_toml()).expect("round trip");
    let plan = mapping.resolve(&targets, src.headers()).expect("valid");
    assert!(plan.unmapped().is_empty(), "{:?}", plan.unmapped());
    let rows: Vec<_> = src.map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 2);
    let values: Vec<(String, String)> = plan
        .values(&rows[0])
        .map(|(_, c, v)| (c.field.clone(), v.to_string()))
        .collect();
    let pairs: Vec<(&str, &str)> = values
        .iter()
        .map(|(f, v)| (f.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("name", "欧阳娜娜"),
            ("phones", "13800138000"),
            ("phones", "13900139000"),
            ("emails", "nana@example.cn"),
            ("account_id", "星辰科技"),
            ("title", "经理"),
            ("address.province", "广东省"),
            ("address.city", "深圳市"),
            ("description", "老客户，\r\n重点跟进"),
        ]
    );
    // The whole name splits, compound surname included.
    let (_, name_col, whole) = plan.values(&rows[0]).next().expect("name");
    assert_eq!(
        name_col.kind,
        TargetKind::WholeName {
            family: "family_name",
            given: "given_name"
        }
    );
    let n = names::split(whole);
    assert_eq!((n.family.as_str(), n.given.as_str()), ("欧阳", "娜娜"));
    assert_eq!(rows[1].line, 4);
    let n = names::split(&rows[1].fields[0]);
    assert_eq!((n.family.as_str(), n.given.as_str()), ("Smith", "John"));
}

/// Every code an import can give is worded, like the engine's (the web suite checks the
/// wording formats in both languages).
#[test]
fn import_codes_are_engine_codes() {
    let all = [
        ReadError::FileTooLarge { limit: 1 },
        ReadError::UnknownEncoding,
        ReadError::EmptyFile,
        ReadError::NotASpreadsheet,
        ReadError::NoSuchSheet { sheet: "s".into() },
        ReadError::TooManyColumns {
            line: 1,
            columns: 2,
            expected: 1,
        },
        ReadError::UnreadableCharacters { line: 1 },
        ReadError::Unreadable { line: 1 },
        ReadError::MappingUnreadable { line: 1 },
        ReadError::MappingForOtherEntity { entity: "e".into() },
        ReadError::UnknownMappedField {
            column: "c".into(),
            field: "f".into(),
        },
        ReadError::FieldNotImportable {
            column: "c".into(),
            field: "f".into(),
        },
        ReadError::FieldMappedTwice { field: "f".into() },
        ReadError::ColumnNotInFile { column: "c".into() },
        ReadError::InvalidDateFormat {
            column: "c".into(),
            value: "v".into(),
        },
        ReadError::DateFormatForNonDate {
            column: "c".into(),
            field: "f".into(),
        },
    ];
    for e in all {
        assert!(guanxi_core::codes::ALL.contains(&e.code()), "{}", e.code());
        let core: guanxi_core::CoreError = e.clone().into();
        assert!(
            matches!(core, guanxi_core::CoreError::BadRequest { code, .. } if code == e.code())
        );
    }
}

#[test]
fn labels_are_read_from_both_languages() {
    let l = labels();
    assert!(l.texts("field-contact-title").contains(&"职务".to_string()));
    assert!(
        l.texts("field-contact-title")
            .contains(&"Job title".to_string())
    );
}

#[test]
fn setup_lists_have_no_owner_to_map() {
    assert!(
        Targets::of(entity("industry"), &[])
            .get("owner_id")
            .is_none()
    );
    assert!(
        Targets::of(entity("account"), &[])
            .get("owner_id")
            .is_some()
    );
    // Computed fields are no targets; address parts are.
    let targets = Targets::of(entity("account"), &[]);
    assert!(targets.get("domain").is_none());
    assert!(targets.get("shipping_address.postal_code").is_some());
    assert!(targets.get("phones").is_some_and(|t| t.many));
    assert!(targets.get("name").is_some_and(|t| !t.many));
}

/// A synonym names one field of its entity: declared on two, a header would be a toss-up.
#[test]
fn no_synonym_is_declared_twice_in_an_entity() {
    use guanxi_core::import::mapping::normalize_header;
    for def in guanxi_core::areas::registry().all() {
        let mut seen: HashMap<String, &str> = HashMap::new();
        for f in def.fields {
            for s in f.synonyms {
                let n = normalize_header(s);
                assert!(!n.is_empty(), "{}.{}: “{s}” is all marks", def.name, f.name);
                if let Some(other) = seen.insert(n, f.name) {
                    assert_eq!(other, f.name, "{}: “{s}” names two fields", def.name);
                }
            }
        }
    }
}
