//! Each user's calendar feed: a secret address their phone's calendar subscribes to. Only the
//! secret's hash is kept; one feed per user, replaced when regenerated, removed when revoked.

use sea_orm_migration::prelude::*;

use super::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0026_calendar_feeds"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(name("calendar_feeds"))
                .col(
                    ColumnDef::new(name("user_id"))
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(name("secret_hash"))
                        .string()
                        .not_null()
                        .unique_key(),
                )
                .col(ts("created_at"))
                .foreign_key(&mut fk(
                    "calendar_feeds",
                    "user_id",
                    "users",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(name("calendar_feeds")).to_owned())
            .await
    }
}
