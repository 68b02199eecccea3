//! Embedded schema migrations. A landed migration is never edited: add a new one.

mod m0001_foundation;
mod m0002_sales;
mod m0003_sort_indexes;
mod m0004_custom_field_kinds;
mod m0005_lists;
mod m0006_name_grams;
mod m0007_live_owner_indexes;
mod m0008_search_settles_at_commit;
mod m0009_search_in_creation_order;
mod m0010_search_keys;
mod m0011_list_order_knows_owners;
mod m0012_jobs;
mod m0013_notifications;
mod m0014_mail;
mod m0015_rollups;
mod m0016_dedupe;
mod m0017_pinyin_sort;
mod m0018_structured_views;
mod m0019_money_format;
mod m0020_search_keys_entity;
mod m0021_search_prefixes;
mod m0022_search_prefix_lexemes;
mod m0023_search_index_per_entity;
mod m0024_user_time_zone;
mod m0025_activities;
mod m0026_calendar_feeds;
mod m0027_recent_views;
mod m0028_activity_reminders;
mod m0029_board_columns;
mod m0032_calendar_ranges;
mod m0033_rollup_stage_month;
mod m0034_board_owner_columns;
mod m0036_import_runs;
mod m0037_import_uploads;
mod m0038_import_undo;
mod m0039_attendee_times;
mod m0040_import_stop;
mod m0041_sort_nulls_first;
mod m0042_calendar_spans;
mod m0043_calendar_long;
mod m0044_users_stamp;
mod m0045_ledgers;
mod m0046_insights;
mod m0047_churn;
mod m0048_fact_insights;
mod m0049_write_off_dates;
mod m0050_insight_settings;
mod m0051_insight_pending;
mod schema;

use sea_orm_migration::prelude::*;

// The settle as m0008 wrote it, for the migration after it; writes use `search::SETTLE`.
use m0008_search_settles_at_commit::SETTLE as SETTLE_SEARCH_INDEX;
pub use m0041_sort_nulls_first::{SortIndex, sort_indexes_with_nulls_last};

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_foundation::Migration),
            Box::new(m0002_sales::Migration),
            Box::new(m0003_sort_indexes::Migration),
            Box::new(m0004_custom_field_kinds::Migration),
            Box::new(m0005_lists::Migration),
            Box::new(m0006_name_grams::Migration),
            Box::new(m0007_live_owner_indexes::Migration),
            Box::new(m0008_search_settles_at_commit::Migration),
            Box::new(m0009_search_in_creation_order::Migration),
            Box::new(m0010_search_keys::Migration),
            Box::new(m0011_list_order_knows_owners::Migration),
            Box::new(m0012_jobs::Migration),
            Box::new(m0013_notifications::Migration),
            Box::new(m0014_mail::Migration),
            Box::new(m0015_rollups::Migration),
            Box::new(m0016_dedupe::Migration),
            Box::new(m0017_pinyin_sort::Migration),
            Box::new(m0018_structured_views::Migration),
            Box::new(m0019_money_format::Migration),
            Box::new(m0020_search_keys_entity::Migration),
            Box::new(m0021_search_prefixes::Migration),
            Box::new(m0022_search_prefix_lexemes::Migration),
            Box::new(m0023_search_index_per_entity::Migration),
            Box::new(m0024_user_time_zone::Migration),
            Box::new(m0025_activities::Migration),
            Box::new(m0026_calendar_feeds::Migration),
            Box::new(m0027_recent_views::Migration),
            Box::new(m0028_activity_reminders::Migration),
            Box::new(m0029_board_columns::Migration),
            Box::new(m0032_calendar_ranges::Migration),
            Box::new(m0033_rollup_stage_month::Migration),
            Box::new(m0034_board_owner_columns::Migration),
            Box::new(m0036_import_runs::Migration),
            Box::new(m0037_import_uploads::Migration),
            Box::new(m0038_import_undo::Migration),
            Box::new(m0039_attendee_times::Migration),
            Box::new(m0040_import_stop::Migration),
            Box::new(m0041_sort_nulls_first::Migration),
            Box::new(m0042_calendar_spans::Migration),
            Box::new(m0043_calendar_long::Migration),
            Box::new(m0044_users_stamp::Migration),
            Box::new(m0045_ledgers::Migration),
            Box::new(m0046_insights::Migration),
            Box::new(m0047_churn::Migration),
            Box::new(m0048_fact_insights::Migration),
            Box::new(m0049_write_off_dates::Migration),
            Box::new(m0050_insight_settings::Migration),
            Box::new(m0051_insight_pending::Migration),
        ]
    }
}
