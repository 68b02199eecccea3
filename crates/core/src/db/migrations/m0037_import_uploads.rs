//! Imports started in the browser: the uploaded file, kept in the database (in chunks) so that
//! the job importing it may run on any instance sharing the database, until some days after its
//! run finished or until the user cancels; the rows a run could not import, with what their
//! error file needs (the column, the error's code and params, the row's values), so that the
//! file is written in the language of whoever downloads it; and the mappings people saved to
//! apply to later files, one name per entity.

use sea_orm_migration::prelude::*;

use super::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0037_import_uploads"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(name("import_files"))
                // The run that imports it takes the same id.
                .col(uuid_pk())
                .col(text("entity"))
                .col(text("file_name"))
                .col(big("size"))
                .col(text("fingerprint"))
                // How many rows it has, once the import job counted them (-1 before).
                .col(big("rows").default(-1))
                .col(uuid("created_by"))
                .col(ts("created_at"))
                // When it is removed: two days after upload, a week after its run finished.
                .col(ts("expires_at"))
                .foreign_key(&mut fk(
                    "import_files",
                    "created_by",
                    "users",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index("import_files", &["expires_at"]))
            .await?;
        m.create_table(
            Table::create()
                .table(name("import_file_chunks"))
                .col(uuid("file_id"))
                .col(big("seq"))
                .col(ColumnDef::new(name("data")).binary().not_null())
                .primary_key(Index::create().col(name("file_id")).col(name("seq")))
                .foreign_key(&mut fk(
                    "import_file_chunks",
                    "file_id",
                    "import_files",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(name("import_errors"))
                .col(uuid("run_id"))
                .col(big("line"))
                .col(big("seq"))
                .col(text("column_name"))
                .col(text("code"))
                // JSON: the params the error's wording needs; the row's values.
                .col(long_text("params"))
                .col(long_text("row_values"))
                .primary_key(
                    Index::create()
                        .col(name("run_id"))
                        .col(name("line"))
                        .col(name("seq")),
                )
                .foreign_key(&mut fk(
                    "import_errors",
                    "run_id",
                    "import_runs",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(name("import_mappings"))
                .col(uuid_pk())
                .col(text("entity"))
                .col(text("name"))
                .col(long_text("mapping"))
                .col(uuid("created_by"))
                .col(ts("created_at"))
                .foreign_key(&mut fk(
                    "import_mappings",
                    "created_by",
                    "users",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("import_mappings", &["entity", "name"])
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "import_mappings",
            "import_errors",
            "import_file_chunks",
            "import_files",
        ] {
            m.drop_table(Table::drop().table(name(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}
