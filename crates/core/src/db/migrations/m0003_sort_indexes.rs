//! Indexes for the number, money and date sorts lists offer on accounts and contacts.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0003_sort_indexes"
    }
}

/// (table, sort column): the columns people sort large lists by, and which hold NULLs.
const SORTS: [(&str, &str); 3] = [
    ("accounts", "employees"),
    ("accounts", "annual_revenue_amount"),
    ("contacts", "birthday"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        for (table, column) in SORTS {
            // (sort column, id), the shape of the keyset seek and of the other sort indexes,
            // named as they are. Lists put blanks first ascending and last descending. SQLite
            // orders NULLs first in any index; PostgreSQL puts them last unless told, and an
            // index in the other NULL order cannot serve the list's ORDER BY in either direction.
            let nulls = match conn.get_database_backend() {
                DbBackend::Postgres => " NULLS FIRST",
                _ => "",
            };
            conn.execute_unprepared(&format!(
                "CREATE INDEX ix_{table}_{column}_id ON {table} ({column}{nulls}, id)"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        for (table, column) in SORTS {
            conn.execute_unprepared(&format!("DROP INDEX ix_{table}_{column}_id"))
                .await?;
        }
        Ok(())
    }
}
