//! The ledgers customer insights read (sales history, payments, customer facts), on both
//! backends: amounts converted to the base currency at the row's rate, returns netted against
//! their orders, nothing dated after today, and rows read through their account.

use std::collections::BTreeMap;

use guanxi_core::areas::customers::{ACCOUNTS, CUSTOMER_FACTS};
use guanxi_core::areas::sales::{PAYMENT_RECORDS, SALES_RECORDS};
use guanxi_core::records::{ListQuery, Record};
use guanxi_core::{Actor, Core, CoreError};
use serde_json::{Value, json};

use crate::support::{Fresh, actor, admin, backends, two_teams};

async fn create(
    core: &Core,
    who: &Actor,
    def: &'static guanxi_core::EntityDef,
    v: Value,
) -> Record {
    core.records(def)
        .create(who, &v)
        .await
        .unwrap_or_else(|e| panic!("{}: {e:?}", def.name))
}

/// The codes of a refused save, by field.
fn refused(r: Result<Record, CoreError>) -> BTreeMap<String, String> {
    match r {
        Err(CoreError::Validation(fields)) => fields
            .into_iter()
            .map(|(k, e)| (k, e.code.to_string()))
            .collect(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn amounts_convert_at_the_rows_rate_and_returns_net_negative() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        let acme = create(
            &core,
            &boss,
            &ACCOUNTS,
            json!({"kind": "company", "name": "上海远景贸易有限公司"}),
        )
        .await;
        let account = acme["id"].clone();
        let sale = create(
            &core,
            &boss,
            &SALES_RECORDS,
            json!({"account_id": account, "date": "2026-03-02", "order_ref": "XS-001",
                   "amount": {"amount": "100.00", "currency": "USD"}, "exchange_rate": "7.123456",
                   "cost": {"amount": "60", "currency": "USD"}, "quantity": 3}),
        )
        .await;
        assert_eq!(sale["kind"], "sale", "{backend:?}");
        assert_eq!(
            sale["base_amount"],
            json!({"amount": "712.35", "currency": "CNY"})
        );
        assert_eq!(
            sale["base_cost"],
            json!({"amount": "427.41", "currency": "CNY"})
        );

        // An ERP's red-ink row: a negative amount is a return of its order, negative in the base.
        let back = create(
            &core,
            &boss,
            &SALES_RECORDS,
            json!({"account_id": account, "date": "2026-03-20", "order_ref": "XS-001",
                   "amount": "-200.00"}),
        )
        .await;
        assert_eq!(back["kind"], "return");
        assert_eq!(
            back["base_amount"],
            json!({"amount": "-200.00", "currency": "CNY"})
        );

        // A return of an order the account never bought on, or of none.
        let r = core
            .records(&SALES_RECORDS)
            .create(
                &boss,
                &json!({"account_id": account, "date": "2026-03-20", "kind": "return",
                        "order_ref": "XS-404", "amount": "10"}),
            )
            .await;
        assert_eq!(refused(r)["order_ref"], "return_without_order");
        let r = core
            .records(&SALES_RECORDS)
            .create(
                &boss,
                &json!({"account_id": account, "date": "2026-03-20", "kind": "return",
                        "amount": "10"}),
            )
            .await;
        assert_eq!(refused(r)["order_ref"], "return_needs_order");

        // A foreign amount without its rate, and a date after today: nothing written.
        let r = core
            .records(&SALES_RECORDS)
            .create(
                &boss,
                &json!({"account_id": account, "date": "2099-01-01",
                        "amount": {"amount": "5", "currency": "EUR"}}),
            )
            .await;
        let codes = refused(r);
        assert_eq!(codes["exchange_rate"], "rate_missing");
        assert_eq!(codes["date"], "date_in_future");
        let r = core
            .records(&PAYMENT_RECORDS)
            .create(
                &boss,
                &json!({"account_id": account, "invoice_date": "2026-03-02",
                        "due_date": "2026-02-01", "amount": "712.35"}),
            )
            .await;
        assert_eq!(refused(r)["due_date"], "before_invoice_date");
        let r = core
            .records(&CUSTOMER_FACTS)
            .create(
                &boss,
                &json!({"account_id": account, "recorded_on": "2026-03-02", "recommendation": 11}),
            )
            .await;
        assert_eq!(refused(r)["recommendation"], "out_of_range");
        let r = core
            .records(&SALES_RECORDS)
            .create(&boss, &json!({"date": "2026-03-02", "amount": "1"}))
            .await;
        assert_eq!(refused(r)["account_id"], "required");
        let page = core
            .records(&SALES_RECORDS)
            .list(
                &boss,
                &ListQuery {
                    limit: 10,
                    ..ListQuery::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(page.items.len(), 2, "{backend:?}: only the two good rows");
        fresh.cleanup(core).await;
    }
}

#[tokio::test]
async fn a_rep_reads_the_ledger_of_the_accounts_they_may_read_whoever_keyed_it_in() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        let [rep, _mate, _other] = two_teams(&core, &boss).await;
        let rep_actor = actor(&core, "rep@example.com").await;
        let other = actor(&core, "other@example.com").await;
        let mine = create(
            &core,
            &boss,
            &ACCOUNTS,
            json!({"kind": "company", "name": "杭州青禾茶业有限公司", "owner_id": rep}),
        )
        .await;
        let theirs = create(
            &core,
            &boss,
            &ACCOUNTS,
            json!({"kind": "company", "name": "成都锦江物流有限公司"}),
        )
        .await;
        // Keyed in by the admin, as an import is.
        for account in [&mine, &theirs] {
            create(
                &core,
                &boss,
                &PAYMENT_RECORDS,
                json!({"account_id": account["id"], "invoice_date": "2026-01-05",
                       "due_date": "2026-02-04", "paid_date": "2026-02-20", "amount": "5000"}),
            )
            .await;
        }
        let q = ListQuery {
            limit: 10,
            ..ListQuery::default()
        };
        let seen = core
            .records(&PAYMENT_RECORDS)
            .list(&rep_actor, &q)
            .await
            .unwrap();
        let accounts: Vec<&Value> = seen.items.iter().map(|r| &r["account_id"]).collect();
        assert_eq!(accounts, vec![&mine["id"]], "{backend:?}");
        let id = seen.items[0]["id"].as_str().unwrap().parse().unwrap();
        core.records(&PAYMENT_RECORDS)
            .get(&rep_actor, id)
            .await
            .unwrap();
        let r = core.records(&PAYMENT_RECORDS).get(&other, id).await;
        assert!(matches!(r, Err(CoreError::NotFound)), "{backend:?}: {r:?}");
        fresh.cleanup(core).await;
    }
}

/// An ERP export may name the customer by its unified social credit code: the row finds the
/// account with that code whatever it is called, a code no account has is refused by name (never
/// made into a company called by a code, even when missing customers may be created), and a
/// name still finds its account by name.
#[tokio::test]
async fn ledger_rows_find_their_customer_by_its_social_credit_code() {
    use crate::import_run::import;
    use guanxi_core::import::run::Policy;
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        let coded = create(
            &core,
            &boss,
            &ACCOUNTS,
            json!({"kind": "company", "name": "上海浦江机电设备有限公司", "tax_id": "91310000MA1FL0QX10"}),
        )
        .await;
        let named = create(
            &core,
            &boss,
            &ACCOUNTS,
            json!({"kind": "company", "name": "杭州西溪贸易有限公司"}),
        )
        .await;
        // The export's 币种 column (a code, or a name such as 美元) is the currency of the row's
        // amount and cost alike; one that is neither is refused naming it.
        let csv = "单据日期,客户,单据编号,价税合计,成本,币种,汇率\n\
                   2026-01-05,91310000MA1FL0QX10,SO-1,1200,700,,\n\
                   2026-01-06,杭州西溪贸易有限公司,SO-2,100,60,美元,7.1\n\
                   2026-01-07,91110108MA01AB2C3T,SO-3,500,300,,\n\
                   2026-01-08,杭州西溪贸易有限公司,SO-4,100,60,US$,7.1\n";
        let (report, errors) = import(&core, &boss, &SALES_RECORDS, csv, Policy::Create).await;
        assert_eq!(report.counts.created, 2, "{backend:?}: {errors:?}");
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert_eq!(errors[0].line, 4);
        let refused: Vec<(u64, &str, &str)> = errors[1..]
            .iter()
            .map(|e| (e.line, e.code, e.column.as_str()))
            .collect();
        assert_eq!(
            refused,
            [
                (5, "not_a_currency", "价税合计"),
                (5, "not_a_currency", "成本")
            ]
        );
        let rows = core
            .records(&SALES_RECORDS)
            .list(
                &boss,
                &ListQuery {
                    limit: 10,
                    ..ListQuery::default()
                },
            )
            .await
            .unwrap()
            .items;
        let account_of = |order: &str| {
            rows.iter()
                .find(|r| r["order_ref"] == order)
                .map(|r| r["account_id"].clone())
        };
        assert_eq!(account_of("SO-1"), Some(coded["id"].clone()));
        assert_eq!(account_of("SO-2"), Some(named["id"].clone()));
        let usd = rows.iter().find(|r| r["order_ref"] == "SO-2").unwrap();
        assert_eq!(
            usd["amount"],
            json!({"amount": "100.00", "currency": "USD"})
        );
        assert_eq!(
            usd["base_amount"],
            json!({"amount": "710.00", "currency": "CNY"})
        );
        assert_eq!(
            usd["base_cost"],
            json!({"amount": "426.00", "currency": "CNY"})
        );
        assert_eq!(account_of("SO-3"), None);
        fresh.cleanup(core).await;
    }
}
