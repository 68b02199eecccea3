//! A batch checks each record a reference names once (`Work`'s kept reference facts), and what
//! it kept never lets a reference through that a fresh check would refuse: after the batch
//! moves the record to the recycle bin, the next reference to it is refused as it would be in a
//! transaction of its own. (A writer cannot give a record to someone beyond their own reach, so
//! an owner change within the batch cannot make a record unreadable to it.)

use guanxi_core::areas::customers::{ACCOUNTS, CONTACTS};
use guanxi_core::codes;
use guanxi_core::error::CoreError;
use guanxi_core::records::bulk::BulkWrite;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{Fresh, actor, admin, backends, two_teams};

fn id_of(rec: &guanxi_core::records::Record) -> Uuid {
    Uuid::parse_str(rec["id"].as_str().unwrap()).unwrap()
}

/// The code the create's `account_id` was refused with.
fn account_refusal(result: Result<guanxi_core::records::Record, CoreError>) -> String {
    match result {
        Err(CoreError::Validation(fields)) => fields["account_id"].code.to_string(),
        other => panic!("expected the account refused, got {other:?}"),
    }
}

fn contact_at(account: Uuid, given: &str) -> Value {
    json!({"family_name": "周", "given_name": given, "account_id": account.to_string()})
}

#[tokio::test]
async fn a_batch_sees_its_own_changes_to_what_its_records_refer_to() {
    for backend in backends() {
        let fresh = Fresh::new(backend).await;
        let core = fresh.core().await;
        let boss = admin(&core, "boss@example.com").await;
        two_teams(&core, &boss).await;
        let rep = actor(&core, "rep@example.com").await;

        let mut bulk = BulkWrite::begin(&core, &rep).await.unwrap();
        let binned = id_of(
            &bulk
                .create(&ACCOUNTS, &json!({"kind": "company", "name": "回收站公司"}))
                .await
                .unwrap(),
        );
        // Checked once: what the batch keeps.
        bulk.create(&CONTACTS, &contact_at(binned, "一"))
            .await
            .unwrap();
        // In the same batch: the account to the recycle bin.
        let version = |rec: &guanxi_core::records::Record| rec["version"].as_i64().unwrap();
        let stored = bulk.get(&ACCOUNTS, binned).await.unwrap();
        bulk.delete(&ACCOUNTS, binned, version(&stored))
            .await
            .unwrap();
        assert_eq!(
            account_refusal(bulk.create(&CONTACTS, &contact_at(binned, "三")).await),
            codes::IN_RECYCLE_BIN,
            "{backend:?}"
        );
        bulk.commit().await.unwrap();

        // A batch that starts after knows nothing kept: a fresh check refuses the same.
        let mut bulk = BulkWrite::begin(&core, &rep).await.unwrap();
        assert_eq!(
            account_refusal(bulk.create(&CONTACTS, &contact_at(binned, "五")).await),
            codes::IN_RECYCLE_BIN
        );
        bulk.rollback().await.unwrap();
        fresh.cleanup(core).await;
    }
}
