//! The records each user opened lately, newest first: what the home page's "recently viewed"
//! lists. One row per user and record, its time moved on each visit; a user keeps the latest
//! few dozen.

use sea_orm_migration::prelude::*;

use super::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0027_recent_views"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(name("recent_views"))
                .col(uuid("user_id"))
                .col(text("entity"))
                .col(uuid("record_id"))
                .col(ts("viewed_at"))
                .primary_key(Index::create().col(name("user_id")).col(name("record_id")))
                .foreign_key(&mut fk(
                    "recent_views",
                    "user_id",
                    "users",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index("recent_views", &["user_id", "viewed_at"]))
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(name("recent_views")).to_owned())
            .await
    }
}
