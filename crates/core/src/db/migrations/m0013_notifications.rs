//! Notifications (the bell): one row per recipient and event, written in the transaction of the
//! event that causes it, shown from `visible_at` (a reminder is written when it is set and shows
//! when it falls due), read when `read_at` is set. The wording is not stored: `kind` and
//! `params` are worded in the reader's language when shown.

use sea_orm_migration::prelude::*;

use super::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0013_notifications"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(name("notifications"))
                .col(uuid_pk())
                .col(uuid("user_id"))
                .col(text("kind"))
                .col(json("params", "{}"))
                .col(text("entity"))
                .col(uuid_null("record_id"))
                .col(ts("created_at"))
                .col(ts("visible_at"))
                .col(ts_null("read_at"))
                .foreign_key(&mut fk(
                    "notifications",
                    "user_id",
                    "users",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        // A user's bell: their notices newest first, and the unread ones.
        m.create_index(index("notifications", &["user_id", "visible_at", "id"]))
            .await?;
        m.create_index(index("notifications", &["user_id", "read_at"]))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(name("notifications")).to_owned())
            .await
    }
}
