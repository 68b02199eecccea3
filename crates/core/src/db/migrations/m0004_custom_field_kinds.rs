//! Custom fields take the kinds standard fields have: a reference names the entity it points
//! at, and the kind codes become the standard kinds' codes.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

use super::schema::{name, text};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0004_custom_field_kinds"
    }
}

/// (earlier code, the standard kind's code).
const RENAMED: [(&str, &str); 4] = [
    ("number", "decimal"),
    ("single_select", "choice"),
    ("multi_select", "multi_choice"),
    ("checkbox", "bool"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(name("custom_fields"))
                .add_column(text("refers_to"))
                .to_owned(),
        )
        .await?;
        let conn = m.get_connection();
        for (old, new) in RENAMED {
            let q = Query::update()
                .table(name("custom_fields"))
                .value(name("kind"), new)
                .and_where(Expr::col(name("kind")).eq(old))
                .to_owned();
            conn.execute(conn.get_database_backend().build(&q)).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        // Kinds the earlier version did not have cannot be carried back.
        let newer = Query::delete()
            .from_table(name("custom_fields"))
            .and_where(
                Expr::col(name("kind")).is_not_in(
                    ["text", "long_text", "money", "date"]
                        .into_iter()
                        .chain(RENAMED.iter().map(|(_, new)| *new)),
                ),
            )
            .to_owned();
        conn.execute(conn.get_database_backend().build(&newer))
            .await?;
        for (old, new) in RENAMED {
            let q = Query::update()
                .table(name("custom_fields"))
                .value(name("kind"), old)
                .and_where(Expr::col(name("kind")).eq(new))
                .to_owned();
            conn.execute(conn.get_database_backend().build(&q)).await?;
        }
        m.alter_table(
            Table::alter()
                .table(name("custom_fields"))
                .drop_column(name("refers_to"))
                .to_owned(),
        )
        .await
    }
}
