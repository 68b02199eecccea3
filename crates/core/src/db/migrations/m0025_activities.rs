//! Activities: tasks, calls, meetings, visits and notes, each regarding any business record,
//! and a meeting's attendees.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use super::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0025_activities"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let backend = m.get_database_backend();
        let mut t = Table::create();
        t.table(name("activities"))
            .col(uuid_pk())
            .col(text("subject"))
            .col(sort_key(backend, "subject"))
            .col(text("kind"))
            .col(text("regarding_entity"))
            .col(uuid_null("regarding_id"))
            .col(ts_null("due_at"))
            .col(ts_null("starts_at"))
            .col(ts_null("ends_at"))
            .col(text("priority"))
            .col(boolean("done"))
            .col(ts_null("done_at"))
            .col(text("direction"))
            .col(text("phone"))
            .col(big_null("call_duration"))
            .col(text("call_outcome"))
            .col(big_null("answer_wait"))
            .col(text("location"))
            .col(ts_null("checked_in_at"))
            .col(text("repeat"))
            .col(big_null("repeat_interval"))
            .col(ColumnDef::new(name("repeat_until")).date().null())
            .col(big_null("repeat_count"))
            .col(long_text("description"));
        record_columns(&mut t);
        t.foreign_key(&mut fk(
            "activities",
            "owner_id",
            "users",
            ForeignKeyAction::Restrict,
        ));
        m.create_table(t.to_owned()).await?;

        let mut users = Table::create();
        users
            .table(name("activity_attendee_users"))
            .col(uuid_pk())
            .col(uuid("activity_id"))
            .col(big("position"))
            .col(uuid_null("user_id"))
            .col(text("response"))
            .foreign_key(&mut fk(
                "activity_attendee_users",
                "activity_id",
                "activities",
                ForeignKeyAction::Cascade,
            ));
        m.create_table(users.to_owned()).await?;
        let mut contacts = Table::create();
        contacts
            .table(name("activity_attendee_contacts"))
            .col(uuid_pk())
            .col(uuid("activity_id"))
            .col(big("position"))
            .col(uuid_null("contact_id"))
            .col(text("response"))
            .foreign_key(&mut fk(
                "activity_attendee_contacts",
                "activity_id",
                "activities",
                ForeignKeyAction::Cascade,
            ))
            .foreign_key(&mut fk(
                "activity_attendee_contacts",
                "contact_id",
                "contacts",
                ForeignKeyAction::Cascade,
            ));
        m.create_table(contacts.to_owned()).await?;

        // A record's timeline reads what regards it, newest first; a calendar reads an owner's
        // week by start and by due date.
        for (table, cols) in [
            ("activities", &["regarding_id", "created_at", "id"][..]),
            ("activities", &["owner_id", "created_at", "id"]),
            ("activities", &["owner_id", "starts_at"]),
            ("activities", &["owner_id", "due_at"]),
            ("activities", &["updated_at", "id"]),
            ("activities", &["subject_sort", "id"]),
            ("activities", &["kind", "created_at", "id"]),
            ("activities", &["due_at", "id"]),
            ("activities", &["starts_at", "id"]),
            ("activity_attendee_users", &["activity_id", "position"]),
            ("activity_attendee_users", &["user_id"]),
            ("activity_attendee_contacts", &["activity_id", "position"]),
            ("activity_attendee_contacts", &["contact_id"]),
        ] {
            m.create_index(index(table, cols)).await?;
        }
        // What the other business tables have: the list order knowing owners (m0011, SQLite),
        // live owners (m0007), the recycle bin, and the entity's own text index (m0023).
        let conn = m.get_connection();
        if backend == DbBackend::Sqlite {
            m.create_index(index(
                "activities",
                &["created_at", "id", "owner_id", "deleted_at"],
            ))
            .await?;
        } else {
            m.create_index(index("activities", &["created_at", "id"]))
                .await?;
            conn.execute_unprepared(&crate::search::pg_entity_index_statement("activity"))
                .await?;
        }
        conn.execute_unprepared(
            "CREATE INDEX ix_activities_live_owner ON activities (owner_id) WHERE deleted_at IS NULL;
             CREATE INDEX ix_activities_deleted ON activities (deleted_at) WHERE deleted_at IS NOT NULL;",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "the activities migration cannot be reverted".into(),
        ))
    }
}
