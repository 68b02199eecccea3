//! A board's column reads its deals in the order it shows them: by stage, then by close date.
//! With the stage alone indexed, each open column fetched and sorted every deal of its stage to
//! show the first 50, and each closed column walked the quarter's deals of every stage. The new
//! index leads with the stage, so it also serves whatever the stage's own index served.

use sea_orm_migration::prelude::*;

use super::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0029_board_columns"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(index("opportunities", &["stage_id", "close_date", "id"]))
            .await?;
        m.drop_index(
            Index::drop()
                .name("ix_opportunities_stage_id")
                .table(name("opportunities"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(index("opportunities", &["stage_id"]))
            .await?;
        m.drop_index(
            Index::drop()
                .name("ix_opportunities_stage_id_close_date_id")
                .table(name("opportunities"))
                .to_owned(),
        )
        .await
    }
}
