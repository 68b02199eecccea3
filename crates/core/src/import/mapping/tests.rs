//! The mapping's generic parts: header normalization and the saved format. Suggestions for the
//! declared entities are tested in `tests/it/import.rs`.

use super::*;

#[test]
fn headers_are_compared_without_case_width_marks_or_notes() {
    assert_eq!(normalize_header("电子邮箱（选填）"), "电子邮箱");
    assert_eq!(normalize_header("*姓名"), "姓名");
    assert_eq!(normalize_header("姓名*"), "姓名");
    assert_eq!(normalize_header("手机号码【必填】"), "手机号码");
    assert_eq!(normalize_header(" E-mail "), "email");
    assert_eq!(
        normalize_header("Ｅｍａｉｌ　Ａｄｄｒｅｓｓ"),
        "emailaddress"
    );
    assert_eq!(normalize_header("State/Province"), "stateprovince");
    assert_eq!(normalize_header("公司名称(required)"), "公司名称");
    assert_eq!(normalize_header("联系人：姓名"), "联系人姓名");
    assert_eq!(normalize_header("Phone #2"), "phone2");
    assert_eq!(normalize_header("（）"), "");
}

#[test]
fn a_mapping_reads_and_writes_toml() {
    let text = r#"
entity = "x"

[[column]]
header = "姓名"
field = "name"

[[column]]
header = "生日"
field = "birthday"
date_format = "%Y/%m/%d"

[[column]]
header = "手机"
field = "phones"
label = "mobile"

[[column]]
header = "备注2"
ignore = true
"#;
    let m = Mapping::from_toml(text).expect("reads");
    assert_eq!(m.entity.as_deref(), Some("x"));
    assert_eq!(m.columns.len(), 4);
    assert_eq!(m.columns[1].date_format.as_deref(), Some("%Y/%m/%d"));
    assert_eq!(m.columns[2].label.as_deref(), Some("mobile"));
    assert!(m.columns[3].ignore && m.columns[3].field.is_none());
    let again = Mapping::from_toml(&m.to_toml()).expect("reads back");
    assert_eq!(again, m);
    assert!(!m.to_toml().contains("ignore = false"));
}

#[test]
fn a_bad_mapping_file_names_its_line() {
    let text = "entity = \"x\"\n\n[[column]]\nheader = \"姓名\"\nfeild = \"name\"\n";
    assert_eq!(
        Mapping::from_toml(text),
        Err(ReadError::MappingUnreadable { line: 5 })
    );
    assert_eq!(
        Mapping::from_toml("[[column]\nheader = 1"),
        Err(ReadError::MappingUnreadable { line: 1 })
    );
}

#[test]
fn date_formats_are_checked() {
    assert!(valid_date_format("%Y/%m/%d"));
    assert!(valid_date_format("%d.%m.%Y %H:%M"));
    assert!(!valid_date_format("%Y-%m-%"));
    assert!(!valid_date_format(""));
}
