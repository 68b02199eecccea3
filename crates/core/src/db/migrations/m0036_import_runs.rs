//! Imports as records: each run of an import (who, when, which file, the mapping, the match
//! policy, the counts) and what became of each row of its file (the record it created or
//! updated, with the values an update replaced), so that the same file imported again changes
//! nothing, a run stopped half-way picks up where it stopped, and an undo knows what to remove
//! and what to restore.
//!
//! A row is known by the file's fingerprint (SHA-256 of its bytes), the entity and its line: one
//! outcome per row, whatever run gave it. A row that failed is kept with its error's code and
//! tried again by the next run of the same file (its mapping or the data it refers to may have
//! been fixed since); a row imported is never imported again.

use sea_orm_migration::prelude::*;

use super::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0036_import_runs"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(name("import_runs"))
                .col(uuid_pk())
                .col(text("entity"))
                .col(text("file_name"))
                .col(text("fingerprint"))
                .col(long_text("mapping"))
                .col(text("policy"))
                .col(uuid("created_by"))
                .col(ts("started_at"))
                .col(ts_null("finished_at"))
                // running, finished, stopped (a limit, or a batch that failed as a whole)
                .col(text("status"))
                .col(big("rows_read").default(0))
                .col(big("created").default(0))
                .col(big("updated").default(0))
                .col(big("skipped").default(0))
                .col(big("failed").default(0))
                .col(big("already").default(0))
                .foreign_key(&mut fk(
                    "import_runs",
                    "created_by",
                    "users",
                    ForeignKeyAction::Restrict,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index("import_runs", &["entity", "fingerprint"]))
            .await?;
        m.create_table(
            Table::create()
                .table(name("import_rows"))
                .col(text("entity"))
                .col(text("fingerprint"))
                .col(big("line"))
                .col(uuid("run_id"))
                // created, updated, skipped, unchanged, failed
                .col(text("outcome"))
                .col(uuid_null("record_id"))
                // An update's replaced values ({field: value before}), for an undo.
                .col(long_text("before"))
                // A failed row's error code.
                .col(text("code"))
                .primary_key(
                    Index::create()
                        .col(name("entity"))
                        .col(name("fingerprint"))
                        .col(name("line")),
                )
                .foreign_key(&mut fk(
                    "import_rows",
                    "run_id",
                    "import_runs",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index("import_rows", &["run_id", "line"]))
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(name("import_rows")).to_owned())
            .await?;
        m.drop_table(Table::drop().table(name("import_runs")).to_owned())
            .await
    }
}
