//! Column shorthands shared by migrations, so every table spells system columns the same way.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

pub fn name(s: &str) -> Alias {
    Alias::new(s)
}

pub fn uuid_pk() -> ColumnDef {
    ColumnDef::new(name("id"))
        .uuid()
        .not_null()
        .primary_key()
        .to_owned()
}

pub fn uuid(col: &str) -> ColumnDef {
    ColumnDef::new(name(col)).uuid().not_null().to_owned()
}

pub fn uuid_null(col: &str) -> ColumnDef {
    ColumnDef::new(name(col)).uuid().null().to_owned()
}

/// Optional text is stored as '' rather than NULL so it sorts and compares without NULL rules.
pub fn text(col: &str) -> ColumnDef {
    ColumnDef::new(name(col))
        .string()
        .not_null()
        .default("")
        .to_owned()
}

pub fn long_text(col: &str) -> ColumnDef {
    ColumnDef::new(name(col))
        .text()
        .not_null()
        .default("")
        .to_owned()
}

pub fn ts(col: &str) -> ColumnDef {
    ColumnDef::new(name(col))
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

pub fn ts_null(col: &str) -> ColumnDef {
    ColumnDef::new(name(col))
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

pub fn big(col: &str) -> ColumnDef {
    ColumnDef::new(name(col))
        .big_integer()
        .not_null()
        .to_owned()
}

pub fn big_null(col: &str) -> ColumnDef {
    ColumnDef::new(name(col)).big_integer().null().to_owned()
}

pub fn boolean(col: &str) -> ColumnDef {
    ColumnDef::new(name(col))
        .boolean()
        .not_null()
        .default(false)
        .to_owned()
}

pub fn json(col: &str, default: &str) -> ColumnDef {
    ColumnDef::new(name(col))
        .json_binary()
        .not_null()
        .default(default)
        .to_owned()
}

/// The columns every business record carries (DESIGN.md section 3).
pub fn record_columns(t: &mut TableCreateStatement) {
    t.col(uuid("owner_id"))
        .col(json("custom", "{}"))
        .col(ts("created_at"))
        .col(uuid_null("created_by"))
        .col(ts("updated_at"))
        .col(uuid_null("updated_by"))
        .col(
            ColumnDef::new(name("version"))
                .big_integer()
                .not_null()
                .default(1),
        )
        .col(ts_null("deleted_at"))
        .col(uuid_null("deleted_by"));
}

pub fn address_columns(t: &mut TableCreateStatement, prefix: &str) {
    for part in [
        "country",
        "province",
        "city",
        "district",
        "street",
        "postal_code",
    ] {
        t.col(text(&format!("{prefix}_{part}")));
    }
}

pub fn fk(
    table: &str,
    col: &str,
    to: &str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{col}"))
        .from(name(table), name(col))
        .to(name(to), name("id"))
        .on_delete(on_delete)
        .to_owned()
}

pub fn index(table: &str, cols: &[&str]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(format!("ix_{table}_{}", cols.join("_")))
        .table(name(table));
    for c in cols {
        i.col(name(c));
    }
    i.to_owned()
}

/// The collation key of sortable text (`records::values::has_sort_key`): `<col>_sort`, shaped as
/// [`text`] makes optional text, and on PostgreSQL declared `COLLATE "C"`, so that it orders by
/// its bytes as SQLite's default collation does, whatever the database's locale. Every table
/// with a sortable text field needs one per such field (`records::sort_key`).
pub fn sort_key(backend: DbBackend, col: &str) -> ColumnDef {
    let mut c = text(&format!("{col}_sort"));
    if backend == DbBackend::Postgres {
        c.extra("COLLATE \"C\"");
    }
    c
}
