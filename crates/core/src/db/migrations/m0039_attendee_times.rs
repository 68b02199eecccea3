//! A team's calendar reads the meetings its people attend in a week. Through the attendees'
//! index by person, that read every meeting each of them ever attended and fetched it to test
//! its start: 6 of a team week's 7.5 ms of SQL at a tenth of the target scale, growing with the
//! years of history. The lines now carry their meeting's start and due time
//! (`ChildDef::carries`), kept by the engine, and an index by person and each time answers the
//! week as one range per person.

use sea_orm_migration::prelude::*;

use super::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0039_attendee_times"
    }
}

const TABLE: &str = "activity_attendee_users";
const CARRIED: [&str; 2] = ["starts_at", "due_at"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for c in CARRIED {
            m.alter_table(
                Table::alter()
                    .table(name(TABLE))
                    .add_column(ts_null(c))
                    .to_owned(),
            )
            .await?;
        }
        m.get_connection()
            .execute_unprepared(
                "UPDATE activity_attendee_users SET \
                 starts_at = (SELECT a.starts_at FROM activities a \
                              WHERE a.id = activity_attendee_users.activity_id), \
                 due_at = (SELECT a.due_at FROM activities a \
                           WHERE a.id = activity_attendee_users.activity_id)",
            )
            .await?;
        // The index by person alone is the prefix of both new ones.
        m.drop_index(
            Index::drop()
                .name(format!("ix_{TABLE}_user_id"))
                .table(name(TABLE))
                .to_owned(),
        )
        .await?;
        for c in CARRIED {
            m.create_index(index(TABLE, &["user_id", c])).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for c in CARRIED {
            m.drop_index(
                Index::drop()
                    .name(format!("ix_{TABLE}_user_id_{c}"))
                    .table(name(TABLE))
                    .to_owned(),
            )
            .await?;
        }
        m.create_index(index(TABLE, &["user_id"])).await?;
        for c in CARRIED {
            m.alter_table(
                Table::alter()
                    .table(name(TABLE))
                    .drop_column(name(c))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
