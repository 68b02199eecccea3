//! A list page is written straight from its rows (`records::layout`), on SQLite copying text
//! and JSON lists out of the row as stored; it must be, byte for byte, the page its records
//! serialize to, with values filled, empty, cleared and missing.

use guanxi_core::areas::customers::{ACCOUNTS, CONTACTS};
use guanxi_core::records::ListQuery;
use serde_json::json;

use crate::support::{Fresh, admin, backends};

#[tokio::test]
async fn a_page_from_its_rows_is_the_page_of_its_records() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let actor = admin(&core, "boss@example.com").await;
        let contacts = core.records(&CONTACTS);
        // Only a name; then everything text and list-like, and then some of it cleared.
        contacts
            .create(&actor, &json!({"family_name": "王"}))
            .await
            .unwrap();
        let full = contacts
            .create(
                &actor,
                &json!({
                    "family_name": "O'Neil \"Q\"",
                    "given_name": "Mary\n\t\\ é 😀",
                    "title": "",
                    "department": "销售部",
                    "birthday": "1988-02-29",
                    "phones": [{"number": "+86 138 0000 0001", "label": "mobile"}],
                    "emails": [{"address": "Mary@Example.com"}],
                    "address": {"province": "北京市", "city": "北京市", "street": "中关村大街 1 号"},
                }),
            )
            .await
            .unwrap();
        contacts
            .update(
                &actor,
                uuid::Uuid::parse_str(full["id"].as_str().unwrap()).unwrap(),
                None,
                &json!({"department": "", "emails": [], "address": {"city": "上海市"}}),
            )
            .await
            .unwrap();
        core.records(&ACCOUNTS)
            .create(
                &actor,
                &json!({
                    "name": "北京中太数据",
                    "kind": "company",
                    "billing_address": {"country": "CN", "postal_code": "100080"},
                }),
            )
            .await
            .unwrap();
        // A date reads as it was written, whether taken as stored (SQLite) or decoded.
        let got = contacts
            .get(
                &actor,
                uuid::Uuid::parse_str(full["id"].as_str().unwrap()).unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(got["birthday"], json!("1988-02-29"), "{backend:?}");
        for svc in [contacts, core.records(&ACCOUNTS)] {
            let q = ListQuery {
                limit: 50,
                ..Default::default()
            };
            let records = svc.list(&actor, &q).await.unwrap();
            let rows = svc.list_rows(&actor, &q).await.unwrap();
            assert!(!records.items.is_empty());
            assert_eq!(
                serde_json::to_string(&rows.items()).unwrap(),
                serde_json::to_string(&records.items).unwrap(),
                "{backend:?}"
            );
        }
        fresh.cleanup(core).await;
    }
}
