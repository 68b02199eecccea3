//! Churn risk on the account's insights row (the probability, its decile among customers, the
//! facts that drive it, the model that made it, or why there is none) and the recommended
//! relationship level, and the churn models a
//! refresh trains: each with its out-of-time evaluation and whether it was accepted, so an admin
//! sees why a model is in use or was refused, and the last accepted one keeps scoring; and the
//! insight alerts raised, so each is notified once.

use sea_orm_migration::prelude::*;

use super::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0047_churn"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(name("insight_models"))
                .col(uuid_pk())
                .col(text("kind"))
                .col(ts("trained_at"))
                .col(ColumnDef::new(name("as_of")).date().not_null())
                .col(text("state"))
                .col(text("refusal"))
                .col(json("evaluation", "{}"))
                .col(json("model", "{}"))
                .col(json("settings", "{}"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("insight_models", &["kind", "trained_at"]))
            .await?;
        // SQLite adds one column per statement.
        for c in [
            ColumnDef::new(name("churn_risk"))
                .double()
                .null()
                .to_owned(),
            big_null("churn_decile"),
            json("churn_drivers", "[]"),
            text("churn_missing"),
            uuid_null("churn_model"),
            text("relationship_level"),
        ] {
            m.alter_table(
                Table::alter()
                    .table(name("account_insights"))
                    .add_column(c)
                    .to_owned(),
            )
            .await?;
        }
        m.create_index(index("account_insights", &["churn_risk", "account_id"]))
            .await?;
        // An alert raised once per account and rule (see insights::alerts).
        m.create_table(
            Table::create()
                .table(name("insight_alerts"))
                .col(uuid("account_id"))
                .col(text("rule"))
                .col(ColumnDef::new(name("raised_on")).date().not_null())
                .primary_key(Index::create().col(name("account_id")).col(name("rule")))
                .foreign_key(&mut fk(
                    "insight_alerts",
                    "account_id",
                    "accounts",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "the churn migration cannot be reverted".into(),
        ))
    }
}
