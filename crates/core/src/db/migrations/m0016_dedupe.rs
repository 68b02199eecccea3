//! The duplicate check (查重, `dedupe`): the keys of live records that the contact points do not
//! already hold (tax ids, company name keys and their pinyin, person name keys), and the
//! administrators' choice of what each rule does.
//!
//! `dedupe_keys (entity, rule, key, record_id)`: its primary key starts with (entity, rule, key),
//! the one look-up the check makes per rule; an index on `record_id` serves the writes that
//! replace or remove a record's keys. `dedupe_rules (entity, rule, action)`: a rule without a row
//! does its default.
//!
//! Every live account and contact gets its keys here, on both backends: a check that trusted
//! the table while old records lacked keys would miss them. The rules are the declarations of
//! this version; a rule declared later on a table with rows needs a migration of its own that
//! fills its keys (`dedupe::keys::fill`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, TransactionTrait};

use super::schema::*;
use crate::areas::customers::{ACCOUNTS, CONTACTS};
use crate::dedupe::keys;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0016_dedupe"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite runs migrations outside a transaction; this one fills a table and must not stop
        // half-way. (On PostgreSQL this is a savepoint in the migrator's transaction.)
        let txn = m.get_connection().begin().await?;
        let backend = txn.get_database_backend();
        txn.execute(
            backend.build(
                Table::create()
                    .table(name(keys::TABLE))
                    .col(text("entity"))
                    .col(text("rule"))
                    .col(text("key"))
                    .col(uuid("record_id"))
                    .primary_key(
                        Index::create()
                            .col(name("entity"))
                            .col(name("rule"))
                            .col(name("key"))
                            .col(name("record_id")),
                    ),
            ),
        )
        .await?;
        txn.execute(backend.build(&index(keys::TABLE, &["record_id"])))
            .await?;
        txn.execute(
            backend.build(
                Table::create()
                    .table(name(crate::dedupe::rules::TABLE))
                    .col(text("entity"))
                    .col(text("rule"))
                    .col(text("action"))
                    .col(ts("updated_at"))
                    .col(uuid_null("updated_by"))
                    .primary_key(Index::create().col(name("entity")).col(name("rule"))),
            ),
        )
        .await?;
        for def in [&ACCOUNTS, &CONTACTS] {
            keys::fill(&txn, def)
                .await
                .map_err(|e| DbErr::Migration(e.to_string()))?;
        }
        txn.commit().await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(name(keys::TABLE)).to_owned())
            .await?;
        m.drop_table(
            Table::drop()
                .table(name(crate::dedupe::rules::TABLE))
                .to_owned(),
        )
        .await
    }
}
