//! A declared section (其他信息, `FieldGroup::section`) on both backends: an account's and a
//! contact's external id shown apart, under the section's heading, after the other fields, on
//! the record's page and its form, in both languages.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn the_external_id_sits_in_other_information() {
    for b in backends() {
        let app = spawn(b).await;
        for (lang, heading, label) in [
            ("zh-CN", "其他信息", "外部编号"),
            ("en", "Other information", "External ID"),
        ] {
            let rep = app.user_in("sales", None, lang).await;
            let (cookie, _) = login_cookie(&app, &rep.email, PASSWORD).await;
            let account = rep
                .create(
                    "accounts",
                    json!({"name": format!("杭州云栖科技有限公司{lang}"), "kind": "company", "external_id": format!("ERP-00042-{lang}")}),
                )
                .await;
            let contact = rep
                .create(
                    "contacts",
                    json!({"family_name": "欧阳", "given_name": if lang == "en" { "修" } else { "询" },
                           "external_id": format!("K3-7788-{lang}")}),
                )
                .await;
            for (plural, id, value) in [
                ("accounts", account["id"].as_str().unwrap(), "ERP-00042"),
                ("contacts", contact["id"].as_str().unwrap(), "K3-7788"),
            ] {
                let (s, page) =
                    page_as(&app, Some(&cookie), lang, &format!("/{plural}/{id}")).await;
                assert_eq!(s, StatusCode::OK, "{b:?} {lang}: {page}");
                let head = format!("<h2 class=\"field-section\">{heading}</h2>");
                let at = page
                    .find(&head)
                    .unwrap_or_else(|| panic!("{b:?} {lang} {plural}: {head} in {page}"));
                let after = &page[at..];
                let label_at = after.find(&format!("<dt>{label}</dt>")).expect("the label");
                assert!(after[label_at..].contains(value), "{b:?} {lang}: {after}");
                // Only in the section, not among the everyday fields above it.
                assert!(
                    !page[..at].contains(&format!("<dt>{label}</dt>")),
                    "{b:?} {lang}"
                );

                let (s, form) =
                    page_as(&app, Some(&cookie), lang, &format!("/{plural}/{id}/edit")).await;
                assert_eq!(s, StatusCode::OK, "{b:?} {lang}: {form}");
                let open = "<fieldset class=\"field-group\" id=\"group-other\">";
                let at = form
                    .find(open)
                    .unwrap_or_else(|| panic!("{b:?} {lang} {plural}: the section in {form}"));
                let inner = &form[at..at + form[at..].find("</fieldset>").unwrap()];
                assert!(
                    inner.contains(&format!("<legend>{heading}</legend>")),
                    "{inner}"
                );
                assert!(inner.contains("data-field=\"f.external_id\""), "{inner}");
                assert!(inner.contains(value), "{inner}");
                assert!(!inner.contains("group-for"), "{inner}");
                assert!(
                    !form[..at].contains("data-field=\"f.external_id\""),
                    "{b:?} {lang}"
                );
            }
        }
    }
}
