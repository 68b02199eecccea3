//! E-mail: which notices each user also wants by e-mail, and password resets by e-mail.

use sea_orm_migration::prelude::*;

use super::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0014_mail"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Only the choices a user made: a kind without a row follows its default.
        m.create_table(
            Table::create()
                .table(name("notification_prefs"))
                .col(uuid("user_id"))
                .col(text("kind"))
                .col(boolean("by_email"))
                .primary_key(Index::create().col(name("user_id")).col(name("kind")))
                .foreign_key(&mut fk(
                    "notification_prefs",
                    "user_id",
                    "users",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        // A reset keeps only the hash of its secret: the link in the e-mail is the one copy.
        m.create_table(
            Table::create()
                .table(name("password_resets"))
                .col(uuid_pk())
                .col(uuid("user_id"))
                .col(text("secret_hash"))
                .col(ts("created_at"))
                .col(ts("expires_at"))
                .col(ts_null("used_at"))
                .foreign_key(&mut fk(
                    "password_resets",
                    "user_id",
                    "users",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("password_resets", &["secret_hash"])
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(index("password_resets", &["user_id", "created_at"]))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["password_resets", "notification_prefs"] {
            m.drop_table(Table::drop().table(name(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}
