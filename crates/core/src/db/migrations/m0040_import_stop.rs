//! Stopping an import that runs: a person asks for it on the run's page (or with
//! `guanxi import stop`), which sets `stop_requested_at`/`_by` on the run's record; the running
//! job reads the flag before each batch, on whichever instance it runs, and ends the run as
//! `stopped` after the batch it was writing.

use sea_orm_migration::prelude::*;

use super::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0040_import_stop"
    }
}

fn run_columns() -> Vec<ColumnDef> {
    vec![ts_null("stop_requested_at"), uuid_null("stop_requested_by")]
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
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
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
