//! The job table (DESIGN.md §5): work that runs later or elsewhere — reminders, e-mail, imports,
//! index upkeep — kept in the database so that it survives restarts and runs once however many
//! processes share the database.
//!
//! `state` is `queued` (waiting for `due_at`), `running` (claimed until `claimed_until`; a job
//! whose claim ran out was left by a process that stopped, and is claimed again), `done`, or
//! `failed` (its last attempt failed; an administrator may queue it again or drop it). `key`,
//! when set, is unique: a job that must exist once (the next run of a recurring job) is queued
//! with one, and a second process queueing it finds it there.

use sea_orm_migration::prelude::*;

use super::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0012_jobs"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(name("jobs"))
                .col(uuid_pk())
                .col(text("kind"))
                .col(json("payload", "{}"))
                .col(ColumnDef::new(name("key")).string().null().unique_key())
                .col(text("state"))
                .col(ts("due_at"))
                .col(big("attempts"))
                .col(big("max_attempts"))
                .col(long_text("last_error"))
                .col(ColumnDef::new(name("result")).json_binary().null())
                .col(text("claimed_by"))
                .col(ts_null("claimed_until"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .col(ts_null("finished_at"))
                .to_owned(),
        )
        .await?;
        // What a claim reads: the due jobs of a state, soonest first.
        m.create_index(index("jobs", &["state", "due_at"])).await?;
        m.create_index(index("jobs", &["state", "claimed_until"]))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(name("jobs")).to_owned())
            .await
    }
}
