//! What the lists administrators keep have in common, whichever area they belong to (pipelines
//! and lost reasons in sales, sources and industries in customers): a name per language, an
//! order and a description, titled in the reader's language, and defaults filled once.

use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, Query};
use serde_json::{Value, json};

use crate::db::{self, Backend};
use crate::error::CoreResult;
use crate::records::def::{Access, EntityDef, FieldDef, FieldKind};
use crate::records::values::{LABEL_LOCALES, label_in};
use crate::records::{JsonMap, Plain, Work};

/// The fields of a list administrators keep: a name per language, an order, a description.
pub const LIST_FIELDS: &[FieldDef] = &[
    FieldDef::new("name", FieldKind::Labels { max: 100 }).required(),
    FieldDef::new(
        "position",
        FieldKind::Int {
            min: 0,
            max: 10_000,
        },
    )
    .sortable(),
    FieldDef::new("description", FieldKind::LongText { max: 2_000 }),
];

/// The declaration of a list administrators keep, stored in the table named `plural`: only
/// its names and its area differ from one such list to the next.
pub const fn admin_list(name: &'static str, plural: &'static str, area: &'static str) -> EntityDef {
    EntityDef {
        name,
        plural,
        area,
        table: plural,
        fields: LIST_FIELDS,
        default_sort: "position",
        default_columns: &["name", "position", "description"],
        related_columns: &["name"],
        title_sort: "position",
        title: list_title,
        title_fields: &["name"],
        search_names: list_names,
        children: &[],
        states: None,
        actions: &[],
        access: Access::Setup,
        example: None,
        behaviour: &Plain,
        error_codes: &[],
        charts: &[],
        key_facts: &[],
        dedupe: &[],
        rollups: &[],
        read_through: None,
        shared_with: None,
        timeline: None,
        board: None,
        calendar: None,
        field_groups: &[],
    }
}

/// A listed item's name in the reader's language.
pub fn list_title(rec: &JsonMap, locale: &str) -> String {
    label_in(rec.get("name").unwrap_or(&Value::Null), locale)
}

/// A listed item's names in every language, for search.
pub fn list_names(rec: &JsonMap) -> Vec<String> {
    let name = rec.get("name").unwrap_or(&Value::Null);
    LABEL_LOCALES.iter().map(|l| label_in(name, l)).collect()
}

/// Any number that no other advisory lock of Guanxi uses: "guanxi-setup".
const SETUP_LOCK: i64 = 0x6775_616e_7869_5354;

/// Makes the work's transaction the only one filling default lists until it ends. Two
/// PostgreSQL instances starting together would otherwise both find a list empty and both fill
/// it; the second now waits, then finds it filled. SQLite needs nothing: one writer connection
/// per process runs the whole work, and a second process's write to a list it read as empty
/// fails rather than duplicating it.
pub(crate) async fn lock_defaults(work: &Work<'_>) -> CoreResult<()> {
    if db::backend_of(work.conn()) == Backend::Postgres {
        work.conn()
            .execute_unprepared(&format!("SELECT pg_advisory_xact_lock({SETUP_LOCK})"))
            .await?;
    }
    Ok(())
}

/// Whether the list's table holds no row at all, live or in the recycle bin, as the work's
/// transaction sees it: defaults go only where nobody ever kept the list.
pub(crate) async fn never_used(work: &Work<'_>, def: &EntityDef) -> CoreResult<bool> {
    let mut q = Query::select();
    q.expr(Expr::val(1)).from(db::col(def.table)).limit(1);
    Ok(db::fetch_one(work.conn(), &q).await?.is_none())
}

/// Fills a list nobody ever kept with `(English, Chinese)` names, in this order.
pub(crate) async fn install(
    work: &mut Work<'_>,
    def: &'static EntityDef,
    names: &[(&str, &str)],
) -> CoreResult<()> {
    if !never_used(work, def).await? {
        return Ok(());
    }
    for (i, (en, zh)) in names.iter().enumerate() {
        work.create(
            def,
            &json!({"name": {"en": en, "zh-CN": zh}, "position": i + 1}),
        )
        .await?;
    }
    Ok(())
}
