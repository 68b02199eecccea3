//! A sales rep's or a team's board reads each column as the deals of a few owners in one
//! stage, by close date. Through the stage's index (`m0029`) that walked every deal of the
//! stage and fetched each row to find the few the reader may read: with 400 people, 80 rows
//! for each one shown. Led by the owner, the index holds each owner's deals of a stage in
//! date order.

use sea_orm_migration::prelude::*;

use super::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0034_board_owner_columns"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(index(
            "opportunities",
            &["owner_id", "stage_id", "close_date", "id"],
        ))
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_opportunities_owner_id_stage_id_close_date_id")
                .table(name("opportunities"))
                .to_owned(),
        )
        .await
    }
}
