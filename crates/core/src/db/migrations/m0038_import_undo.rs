//! What an import's undo needs and what it leaves: the version each record had when the import
//! last wrote it (a record at another version now was changed by someone after the import, and
//! an undo leaves it alone), the records made for a row's reference by name (the account a
//! contact's company name created), a heartbeat a run touches with every batch (a run whose
//! heartbeat stopped was interrupted), and the undo itself (who, when, and its counts).
//!
//! Accounts and contacts get `external_id`: their id in another system (an ERP, the CRM a team
//! moves from), which an import matches on first. One record per id is the duplicate check's
//! rule (`external_id`, blocking), kept in its keys table like a tax id, so a record in the
//! recycle bin does not hold its id; the column's index serves filters and lists.

use sea_orm_migration::prelude::*;

use super::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0038_import_undo"
    }
}

/// Columns added to `import_runs`, one statement each (SQLite adds one at a time).
fn run_columns() -> Vec<ColumnDef> {
    vec![
        // Touched with each batch; a `running` run whose heartbeat is old was interrupted.
        ts_null("heartbeat_at"),
        ts_null("undone_at"),
        uuid_null("undone_by"),
        // The undo's counts: records removed, records restored, records left as they were
        // (changed by someone after the import, or still referred to).
        big("removed").default(0).to_owned(),
        big("restored").default(0).to_owned(),
        big("undo_skipped").default(0).to_owned(),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for mut c in run_columns() {
            m.alter_table(
                Table::alter()
                    .table(name("import_runs"))
                    .add_column(&mut c)
                    .to_owned(),
            )
            .await?;
        }
        // The record's version after the import's write of the row; NULL for rows imported
        // before this migration.
        m.alter_table(
            Table::alter()
                .table(name("import_rows"))
                .add_column(big_null("version"))
                .to_owned(),
        )
        .await?;
        for table in ["accounts", "contacts"] {
            m.alter_table(
                Table::alter()
                    .table(name(table))
                    .add_column(text("external_id"))
                    .to_owned(),
            )
            .await?;
            m.create_index(index(table, &["external_id"])).await?;
        }
        m.create_table(
            Table::create()
                .table(name("import_linked"))
                .col(uuid("run_id"))
                .col(text("entity"))
                .col(uuid("record_id"))
                // The line of the row it was made for.
                .col(big("line"))
                .col(big("version"))
                .primary_key(Index::create().col(name("run_id")).col(name("record_id")))
                .foreign_key(&mut fk(
                    "import_linked",
                    "run_id",
                    "import_runs",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(name("import_linked")).to_owned())
            .await?;
        for table in ["accounts", "contacts"] {
            m.drop_index(
                Index::drop()
                    .name(format!("ix_{table}_external_id"))
                    .table(name(table))
                    .to_owned(),
            )
            .await?;
            m.alter_table(
                Table::alter()
                    .table(name(table))
                    .drop_column(name("external_id"))
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table(name("import_rows"))
                .drop_column(name("version"))
                .to_owned(),
        )
        .await?;
        for c in run_columns() {
            m.alter_table(
                Table::alter()
                    .table(name("import_runs"))
                    .drop_column(name(&c.get_column_name()))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
