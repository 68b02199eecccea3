//! SQLite keeps search entries in the order their records were created, so that a list in its
//! default order (newest first) filtered by a name `contains` reads its page from the first
//! records holding the text's pieces instead of from all of them.
//!
//! An entry's rowid, which is also its key in the full-text index, is its record's creation
//! millisecond shifted left by [`SLOT_BITS`], plus a number within that millisecond. FTS5 reads a
//! term's records in rowid order and can stop after a few, so "the 200 newest records holding
//! 王芳" costs 200 lookups rather than one per record holding it (4,400 at three million
//! contacts, 30 ms). The list still checks every condition on the records themselves; the keys
//! only bound which records could come next (see `records::service`): every record not yet read
//! was created in the millisecond of the last key read or earlier.
//!
//! An entry without a creation instant in range (before 1970, a record whose instant is not at
//! hand, or a millisecond holding more than 2^[`SLOT_BITS`] records) gets a negative key: such
//! entries are in no order, and every ordered read takes all of those holding its pieces.
//!
//! PostgreSQL's entries have no rowid; its planner reads its text index as it sees fit.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{
    Alias, Condition, Expr, JoinType, Order, Query, SelectStatement, UnionType,
};
use serde_json::Value;

use crate::records::JsonMap;

/// Bits of a key below the millisecond: how many records one millisecond can order.
pub const SLOT_BITS: u32 = 20;

/// The first key of the millisecond `created` falls in, or `None` out of range.
pub fn slot(created: DateTime<Utc>) -> Option<i64> {
    let ms = created.timestamp_millis();
    (0..(1i64 << (63 - SLOT_BITS)))
        .contains(&ms)
        .then_some(ms << SLOT_BITS)
}

/// The first key of a stored record's creation millisecond, from its `created_at`.
pub fn slot_of(rec: &JsonMap) -> Option<i64> {
    match rec.get("created_at") {
        Some(Value::String(s)) => DateTime::parse_from_rfc3339(s)
            .ok()
            .and_then(|t| slot(t.with_timezone(&Utc))),
        _ => None,
    }
}

/// The creation millisecond of an ordered key; `None` for an unordered (negative) one.
pub fn millisecond(key: i64) -> Option<i64> {
    (key >= 0).then_some(key >> SLOT_BITS)
}

/// The key a new entry gets, as an SQL expression with one parameter: the first key of its
/// millisecond ([`slot`]) or NULL. The next free key of the millisecond, or below every key if
/// it has none or is full. One index seek on the table's rowids for each.
pub const ALLOCATE: &str = "(SELECT CASE \
        WHEN b IS NULL OR (m IS NOT NULL AND m + 1 >= b + 1048576) \
            THEN (SELECT MIN(COALESCE(MIN(rowid), 0), 0) - 1 FROM search_entries) \
        WHEN m IS NULL THEN b \
        ELSE m + 1 END \
    FROM (SELECT b, (SELECT MAX(rowid) FROM search_entries WHERE rowid BETWEEN b AND b + 1048575) AS m \
        FROM (SELECT CAST(? AS INTEGER) AS b)))";

/// The keys and record ids (`k`, `record_id`) of the entries whose documents hold every one of
/// `tokens` and whose owner `owner` accepts (a condition on the unqualified column `owner_id`):
/// the first `limit` ordered ones within `from..before`, newest first when `desc`; then up to
/// `unordered` of `entity`'s entries in no order (negative keys), holding the tokens or not; in
/// one statement. Owners and records are read from `search_keys`, the narrow copy of the
/// entries (`db::migrations::m0010`): a holder's owner is checked before it counts, and a
/// common name has thousands of holders.
pub fn keys_query(
    entity: &str,
    tokens: &[String],
    owner: Condition,
    (from, before): (Option<i64>, Option<i64>),
    desc: bool,
    limit: u64,
    unordered: u64,
) -> SelectStatement {
    let key = || Expr::cust("search_fts.rowid");
    let mut ordered = Query::select();
    ordered
        .expr_as(key(), Alias::new("k"))
        .expr_as(Expr::cust("search_keys.record_id"), Alias::new("record_id"))
        .from(Alias::new("search_fts"))
        .join(
            JoinType::InnerJoin,
            Alias::new("search_keys"),
            Expr::cust("search_keys.rowid = search_fts.rowid"),
        )
        .and_where(Expr::cust_with_values(
            "search_fts MATCH ?",
            [super::fts5_all(tokens)],
        ))
        .cond_where(owner.clone());
    ordered.and_where(Expr::cust_with_values(
        "search_fts.rowid >= ?",
        [from.unwrap_or(0).max(0)],
    ));
    if let Some(before) = before {
        ordered.and_where(Expr::cust_with_values("search_fts.rowid < ?", [before]));
    }
    ordered
        .order_by_expr(key(), if desc { Order::Desc } else { Order::Asc })
        .limit(limit);
    // Entries in no order are few, if any: all of the entity's are taken, without the index,
    // and the caller's own check of the text decides about them.
    let mut rest = Query::select();
    rest.expr_as(Expr::cust("rowid"), Alias::new("k"))
        .column(Alias::new("record_id"))
        .from(Alias::new("search_entries"))
        .and_where(Expr::cust("rowid < 0"))
        .and_where(Expr::col(Alias::new("entity")).eq(entity))
        .cond_where(owner)
        .limit(unordered);
    // SQLite takes ORDER BY and LIMIT only at the end of a compound select: each part is a
    // subquery of its own.
    let mut first = Query::select();
    first
        .columns([Alias::new("k"), Alias::new("record_id")])
        .from_subquery(ordered, Alias::new("ordered"));
    let mut second = Query::select();
    second
        .columns([Alias::new("k"), Alias::new("record_id")])
        .from_subquery(rest, Alias::new("unordered"));
    first.union(UnionType::All, second);
    first
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_order_as_creation_milliseconds() {
        let a = DateTime::parse_from_rfc3339("2026-12-04T05:41:52.123999Z").unwrap();
        let b = DateTime::parse_from_rfc3339("2026-12-04T05:41:52.124000Z").unwrap();
        let (ka, kb) = (
            slot(a.with_timezone(&Utc)).unwrap(),
            slot(b.with_timezone(&Utc)).unwrap(),
        );
        assert!(ka < kb);
        assert_eq!(millisecond(ka + 5), Some(a.timestamp_millis()));
        assert_eq!(millisecond(kb), Some(ka / (1 << SLOT_BITS) + 1));
        assert_eq!(millisecond(-3), None);
        let old = DateTime::parse_from_rfc3339("1969-12-31T23:59:59Z").unwrap();
        assert_eq!(slot(old.with_timezone(&Utc)), None);
        assert_eq!(
            1i64 << SLOT_BITS,
            1_048_576,
            "ALLOCATE spells the slot size out"
        );
        let mut rec = JsonMap::new();
        rec.insert("created_at".into(), "2026-12-04T05:41:52.123999Z".into());
        assert_eq!(slot_of(&rec), Some(ka));
        assert_eq!(slot_of(&JsonMap::new()), None);
    }
}
