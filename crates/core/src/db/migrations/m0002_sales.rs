//! Sales: pipelines and their stages, lost reasons, opportunities with their contact roles and
//! stage history.

use sea_orm_migration::prelude::*;

use sea_orm_migration::sea_orm::ConnectionTrait;

use super::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0002_sales"
    }
}

/// A table of lines belonging to `parent`, removed with it.
fn child_table(table: &str, parent_column: &str, parent: &str) -> TableCreateStatement {
    Table::create()
        .table(name(table))
        .col(uuid_pk())
        .col(uuid(parent_column))
        .col(big("position"))
        .foreign_key(&mut fk(
            table,
            parent_column,
            parent,
            ForeignKeyAction::Cascade,
        ))
        .to_owned()
}

fn owned(t: &mut TableCreateStatement, table: &str) {
    record_columns(t);
    t.foreign_key(&mut fk(
        table,
        "owner_id",
        "users",
        ForeignKeyAction::Restrict,
    ));
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut pipelines = Table::create();
        pipelines
            .table(name("pipelines"))
            .col(uuid_pk())
            .col(json("name", "{}"))
            .col(big_null("position"))
            .col(long_text("description"));
        owned(&mut pipelines, "pipelines");
        m.create_table(pipelines.to_owned()).await?;

        let mut stages = child_table("pipeline_stages", "pipeline_id", "pipelines");
        stages
            .col(json("name", "{}"))
            .col(text("kind"))
            .col(big_null("probability"))
            .col(json("required_fields", "[]"));
        m.create_table(stages.to_owned()).await?;

        let mut reasons = Table::create();
        reasons
            .table(name("lost_reasons"))
            .col(uuid_pk())
            .col(json("name", "{}"))
            .col(big_null("position"))
            .col(long_text("description"));
        owned(&mut reasons, "lost_reasons");
        m.create_table(reasons.to_owned()).await?;

        let mut opps = Table::create();
        opps.table(name("opportunities"))
            .col(uuid_pk())
            .col(text("name"))
            .col(uuid_null("account_id"))
            .col(uuid_null("pipeline_id"))
            // A line of the pipeline; kept whole by the pipeline's rule that a stage in use
            // cannot be removed (a foreign key would stop the pipeline rewriting its lines).
            .col(uuid_null("stage_id"))
            .col(text("status"))
            .col(big_null("amount_amount"))
            .col(text("amount_currency"))
            .col(big_null("probability"))
            .col(big_null("weighted_amount_amount"))
            .col(text("weighted_amount_currency"))
            .col(ColumnDef::new(name("close_date")).date().null())
            .col(text("next_step"))
            .col(text("source"))
            .col(uuid_null("lost_reason_id"))
            .col(long_text("description"));
        owned(&mut opps, "opportunities");
        opps.foreign_key(&mut fk(
            "opportunities",
            "account_id",
            "accounts",
            ForeignKeyAction::SetNull,
        ))
        .foreign_key(&mut fk(
            "opportunities",
            "pipeline_id",
            "pipelines",
            ForeignKeyAction::Restrict,
        ))
        .foreign_key(&mut fk(
            "opportunities",
            "lost_reason_id",
            "lost_reasons",
            ForeignKeyAction::SetNull,
        ));
        m.create_table(opps.to_owned()).await?;

        let mut roles = child_table(
            "opportunity_contact_roles",
            "opportunity_id",
            "opportunities",
        );
        roles
            .col(uuid_null("contact_id"))
            .col(text("role"))
            .col(boolean("primary"))
            .foreign_key(&mut fk(
                "opportunity_contact_roles",
                "contact_id",
                "contacts",
                ForeignKeyAction::Cascade,
            ));
        m.create_table(roles.to_owned()).await?;

        let mut history = child_table(
            "opportunity_stage_history",
            "opportunity_id",
            "opportunities",
        );
        history
            .col(uuid_null("stage_id"))
            .col(ts_null("entered_at"))
            .col(ts_null("left_at"))
            .col(big_null("time_in_stage"));
        m.create_table(history.to_owned()).await?;

        for (table, cols) in [
            ("pipelines", &["position", "id"][..]),
            ("pipelines", &["created_at", "id"]),
            ("pipelines", &["updated_at", "id"]),
            ("pipeline_stages", &["pipeline_id", "position"]),
            ("lost_reasons", &["position", "id"]),
            ("lost_reasons", &["created_at", "id"]),
            ("lost_reasons", &["updated_at", "id"]),
            ("opportunities", &["created_at", "id"]),
            ("opportunities", &["updated_at", "id"]),
            ("opportunities", &["name", "id"]),
            ("opportunities", &["owner_id", "created_at", "id"]),
            ("opportunities", &["status", "created_at", "id"]),
            ("opportunities", &["close_date", "id"]),
            ("opportunities", &["amount_amount", "id"]),
            ("opportunities", &["account_id"]),
            ("opportunities", &["pipeline_id", "stage_id"]),
            ("opportunities", &["stage_id"]),
            ("opportunities", &["lost_reason_id"]),
            ("opportunity_contact_roles", &["opportunity_id", "position"]),
            ("opportunity_contact_roles", &["contact_id"]),
            ("opportunity_stage_history", &["opportunity_id", "position"]),
        ] {
            m.create_index(index(table, cols)).await?;
        }
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX ix_opportunities_deleted ON opportunities (deleted_at) WHERE deleted_at IS NOT NULL;
                 CREATE INDEX ix_pipelines_deleted ON pipelines (deleted_at) WHERE deleted_at IS NOT NULL;
                 CREATE INDEX ix_lost_reasons_deleted ON lost_reasons (deleted_at) WHERE deleted_at IS NOT NULL;",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "the sales migration cannot be reverted".into(),
        ))
    }
}
