//! Field kinds that no shipped entity stores in columns yet (multi choice, decimal, user,
//! regarding), stored, read, validated, filtered and sorted through the engine on both backends.
//! The entity and its table are declared here; the first area to use a kind gets it working
//! already.

use guanxi_core::Core;
use guanxi_core::db::Backend;
use guanxi_core::records::def::{FieldDef, FieldKind, OptionSet, Options};
use guanxi_core::records::{Access, EntityDef, Filter, JsonMap, ListQuery, Plain};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, ColumnDef, Table};
use serde_json::{Value, json};

use crate::support::{Fresh, admin, backends};

static TAGS: OptionSet = OptionSet {
    name: "specimen_tags",
    codes: &["red", "green", "blue"],
};

static SPECIMENS: EntityDef = EntityDef {
    name: "specimen",
    plural: "specimens",
    area: "tests",
    table: "specimens",
    fields: &[
        FieldDef::new("name", FieldKind::Text { max: 100 }).required(),
        FieldDef::new("tags", FieldKind::MultiChoice(Options::Set(&TAGS))),
        FieldDef::new("ratio", FieldKind::Decimal { scale: 3 }).sortable(),
        FieldDef::new("assignee", FieldKind::User).sortable(),
        FieldDef::new("about", FieldKind::Regarding),
    ],
    default_sort: "-created_at",
    default_columns: &["name"],
    related_columns: &["name"],
    title_sort: "name",
    title,
    title_fields: &["name"],
    search_names: no_names,
    children: &[],
    states: None,
    actions: &[],
    access: Access::Records,
    example: None,
    behaviour: &Plain,
    error_codes: &[],
    charts: &[],
    key_facts: &[],
    dedupe: &[],
    rollups: &[],
    read_through: None,
    shared_with: None,
    timeline: None,
    board: None,
    calendar: None,
    field_groups: &[],
};

fn title(rec: &JsonMap, _locale: &str) -> String {
    rec.get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

fn no_names(_rec: &JsonMap) -> Vec<String> {
    vec![]
}

/// The table the declaration above needs, shaped as the migrations shape entity tables.
async fn create_table(core: &Core) {
    let c = |n: &str| ColumnDef::new(Alias::new(n));
    let mut t = Table::create();
    t.table(Alias::new("specimens"))
        .col(c("id").uuid().not_null().primary_key())
        .col(c("owner_id").uuid().not_null())
        .col(c("created_at").timestamp_with_time_zone().not_null())
        .col(c("created_by").uuid().not_null())
        .col(c("updated_at").timestamp_with_time_zone().not_null())
        .col(c("updated_by").uuid().not_null())
        .col(c("version").big_integer().not_null())
        .col(c("deleted_at").timestamp_with_time_zone().null())
        .col(c("deleted_by").uuid().null())
        .col(c("custom").json_binary().not_null().default("{}"))
        .col(c("name").string().not_null().default(""))
        .col(c("tags").json_binary().not_null().default("[]"))
        .col(c("ratio").big_integer().null())
        .col(c("assignee").uuid().null())
        .col(c("about_entity").string().not_null().default(""))
        .col(c("about_id").uuid().null());
    let sql = match core.db.backend() {
        Backend::Postgres => t.to_string(sea_orm::sea_query::PostgresQueryBuilder),
        Backend::Sqlite => t.to_string(sea_orm::sea_query::SqliteQueryBuilder),
    };
    let txn = core.db.begin().await.unwrap();
    txn.execute_unprepared(&sql).await.unwrap();
    txn.commit().await.unwrap();
}

#[tokio::test]
async fn new_kinds_round_trip_filter_and_sort_in_columns() {
    for b in backends() {
        let fresh = Fresh::new(b).await;
        let core = fresh.core().await;
        core.db.migrate().await.unwrap();
        create_table(&core).await;
        let actor = admin(&core, "kinds@example.com").await;
        let accounts = core.records(core.registry.by_name("account").unwrap());
        let acme = accounts
            .create(&actor, &json!({"kind": "company", "name": "Acme"}))
            .await
            .unwrap();
        let acme_id = acme["id"].as_str().unwrap().to_string();
        let svc = core.records(&SPECIMENS);
        let me = actor.user_id.to_string();
        let a = svc
            .create(
                &actor,
                &json!({"name": "a", "tags": "red, blue,red", "ratio": "1.250",
                        "assignee": me, "about": {"entity": "account", "id": acme_id}}),
            )
            .await
            .unwrap();
        assert_eq!(a["tags"], json!(["red", "blue"]), "{b:?}");
        assert_eq!(a["ratio"], json!(1.25));
        assert_eq!(a["assignee"], json!(me));
        assert_eq!(a["about"], json!({"entity": "account", "id": acme_id}));
        let got = svc
            .get(&actor, a["id"].as_str().unwrap().parse().unwrap())
            .await
            .unwrap();
        assert_eq!(got["tags"], a["tags"], "{b:?}: read back from its columns");
        assert_eq!(got["ratio"], a["ratio"]);
        assert_eq!(got["about"], a["about"]);
        let z = svc
            .create(&actor, &json!({"name": "z", "ratio": -3}))
            .await
            .unwrap();
        assert_eq!(z["tags"], json!([]));
        assert_eq!(z["about"], Value::Null);
        assert_eq!(z["assignee"], Value::Null);

        for (input, field, code) in [
            (json!({"tags": ["red", "pink"]}), "tags", "not_one_of"),
            (
                json!({"ratio": "1.2345"}),
                "ratio",
                "too_many_decimal_places",
            ),
            (json!({"ratio": "lots"}), "ratio", "not_a_number"),
            (
                json!({"assignee": uuid::Uuid::now_v7().to_string()}),
                "assignee",
                "no_such_user",
            ),
            (
                json!({"about": {"entity": "account", "id": uuid::Uuid::now_v7().to_string()}}),
                "about",
                "no_such_record",
            ),
            (
                json!({"about": {"entity": "pipeline", "id": acme_id}}),
                "about.entity",
                "not_one_of",
            ),
        ] {
            let mut body = json!({"name": "bad"});
            body.as_object_mut()
                .unwrap()
                .extend(input.as_object().unwrap().clone());
            match svc.create(&actor, &body).await {
                Err(guanxi_core::CoreError::Validation(errors)) => {
                    let e = errors
                        .get(field)
                        .unwrap_or_else(|| panic!("{b:?} {input}: {errors:?}"));
                    assert_eq!(e.code, code, "{b:?} {input}");
                }
                other => panic!("{b:?} {input}: {other:?}"),
            }
        }

        let names = |filter: Value| {
            let svc = core.records(&SPECIMENS);
            let actor = actor.clone();
            async move {
                let page = svc
                    .list(
                        &actor,
                        &ListQuery {
                            filter: Some(Filter::from_json(&filter).unwrap()),
                            sort: Some("ratio".into()),
                            limit: 50,
                            ..Default::default()
                        },
                    )
                    .await
                    .unwrap();
                page.items
                    .iter()
                    .map(|r| r["name"].as_str().unwrap().to_string())
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            names(json!({"and": []})).await,
            ["z", "a"],
            "{b:?}: by ratio"
        );
        assert_eq!(
            names(json!({"field": "tags", "value": "blue"})).await,
            ["a"]
        );
        assert_eq!(names(json!({"field": "tags", "op": "empty"})).await, ["z"]);
        assert_eq!(
            names(json!({"field": "ratio", "op": "gt", "value": "0.5"})).await,
            ["a"]
        );
        assert_eq!(
            names(json!({"field": "assignee", "value": "me"})).await,
            ["a"]
        );
        assert_eq!(
            names(json!({"field": "about", "value": acme_id})).await,
            ["a"]
        );
        assert_eq!(
            names(json!({"field": "about.entity", "value": "account"})).await,
            ["a"]
        );
        fresh.cleanup(core).await;
    }
}
