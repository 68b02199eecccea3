//! Global search over accounts and contacts (and later entities): the index kept in step with
//! every write, and the query that respects each entity's read scope.
//!
//! Backend-specific SQL lives only here: SQLite uses an FTS5 table over `search_entries`,
//! PostgreSQL a `tsvector` column with a GIN index per entity (`db::migrations::m0023`), read
//! through connections that never scan the table and may sample a common term
//! (`db::TextRead`). Documents are tokenized in Rust by [`text::tokens`] for both, so the two
//! backends find the same records.

pub mod grams;
pub mod order;
pub mod points;
pub mod text;
pub mod upkeep;

use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{ConnectionTrait, Statement, Value};
use serde::Serialize;
use uuid::Uuid;

use crate::authz::{Actor, Scope};
use crate::db::{self, Backend, Db, TextRead, get_string, get_uuid};
use crate::error::CoreResult;
use crate::records::pinyin_match;
use crate::records::row::TableRow;
use crate::records::{EntityDef, JsonMap};
use text::Term;

/// The tables that hold the index, all made again from the records (`search::index`): the
/// entries, and on SQLite the narrow copy of their keys kept by triggers and the notes of rows
/// the full-text index has yet to take (`db::migrations::m0008`). A whole-database export leaves
/// them out and the import builds them again (`moveall`).
pub const DERIVED_TABLES: &[&str] = &["search_entries", "search_keys", "search_fts_pending"];

/// Brings SQLite's `search_fts` up to date with the rows noted since the last commit
/// (`db::migrations::m0008`); run in the transaction, just before it commits. The notes are
/// read first and each entry looked up by its key (`CROSS JOIN` fixes that order): the notes
/// table is almost always empty and has no statistics, and SQLite, taking it for a million
/// rows like the entries beside it, walked every entry instead. A write's commit took 150 to
/// 290 ms in a database of 1,100,000 entries, a few in one of 20,000.
pub(crate) const SETTLE: &str = "
    INSERT INTO search_fts(search_fts, rowid, doc)
        SELECT 'delete', rowid, indexed_doc FROM search_fts_pending WHERE indexed_doc IS NOT NULL;
    INSERT INTO search_fts(rowid, doc)
        SELECT e.rowid, e.doc FROM search_fts_pending p CROSS JOIN search_entries e ON e.rowid = p.rowid;
    DELETE FROM search_fts_pending;";

/// What the index holds for one record.
pub struct Document {
    pub title: String,
    pub tokens: Vec<String>,
}

/// Builds a record's document from its names, contact details and identifiers.
pub fn document(def: &EntityDef, rec: &JsonMap) -> Document {
    let mut toks = Vec::new();
    let names = (def.search_names)(rec);
    for name in &names {
        toks.extend(text::tokens(name));
        toks.extend(text::pinyin_tokens(name));
    }
    // Name filters narrow their pinyin matches to the holders of the syllables
    // (`records::pinyin_match`), so each such field's syllables are here even if an entity left
    // the field out of its search names.
    for f in def.fields.iter().filter(|f| pinyin_match::applies(f)) {
        if let Some(v) = rec.get(f.name).and_then(|v| v.as_str())
            && !names.iter().any(|n| n == v)
        {
            toks.extend(text::pinyin_tokens(v));
        }
    }
    if let Some(serde_json::Value::Array(emails)) = rec.get("emails") {
        for e in emails {
            if let Some(a) = e.get("address").and_then(|a| a.as_str()) {
                toks.extend(text::tokens(a));
            }
        }
    }
    if let Some(serde_json::Value::Array(phones)) = rec.get("phones") {
        for p in phones {
            if let Some(n) = p.get("number").and_then(|n| n.as_str()) {
                let digits = n.trim_start_matches('+');
                toks.push(digits.to_string());
                toks.push(text::reversed_phone_token(digits));
                if let Some(national) = crate::normalize::phone_national(n) {
                    toks.push(national);
                }
            }
        }
    }
    for key in ["domain", "tax_id", "wechat_id"] {
        if let Some(v) = rec.get(key).and_then(|v| v.as_str()) {
            toks.extend(text::tokens(v));
        }
    }
    toks.truncate(2000);
    // After the cut: a `contains` filter relies on every piece being there, and a field's
    // length bounds its pieces.
    for f in def.fields.iter().filter(|f| f.grams) {
        if let Some(v) = rec.get(f.name).and_then(|v| v.as_str()) {
            toks.extend(grams::of_value(def.name, f.name, v));
        }
    }
    Document {
        title: (def.title)(rec, "zh-CN"),
        tokens: toks,
    }
}

/// A document's tokens as a PostgreSQL `tsvector` literal, for loaders that write documents
/// in bulk as SQL text. Each token also gets its prefix lexemes ([`prefix_lexeme`]) at its
/// position.
pub fn tsvector_literal(tokens: &[String]) -> String {
    let lexeme = |t: &str, at: usize| format!("'{}':{at}", t.replace('\'', "''").replace('\\', ""));
    let mut out = Vec::with_capacity(tokens.len() * 3);
    for (i, t) in tokens.iter().enumerate() {
        let at = (i + 1).min(16383);
        out.push(lexeme(t, at));
        for p in prefix_lexemes(t) {
            out.push(lexeme(&p, at));
        }
    }
    out.join(" ")
}

/// The shortest and longest prefixes PostgreSQL documents keep as lexemes of their own.
const PREFIX_CHARS: std::ops::RangeInclusive<usize> = 2..=5;

/// Marks a prefix lexeme. No token starts so: a piece token starts with one mark and then its
/// entity's name ([`grams`]).
const PREFIX_MARK: &str = "ǂǂ";

/// The lexeme standing for the tokens that start with `prefix`.
fn prefix_lexeme(prefix: &str) -> String {
    format!("{PREFIX_MARK}{prefix}")
}

/// What PostgreSQL documents keep besides each token: its first 2, 3, 4 and 5 characters as
/// lexemes of their own (`ǂǂzh`, `ǂǂzho`, …), so that a prefix typed into the search box is one
/// exact look-up in the text index, not a scan of every token it starts (`zhon:*` read the
/// posting list of every name whose pinyin starts so). SQLite's index keeps the same prefixes
/// itself (`db::migrations::m0021`). Piece tokens ([`grams`]) are looked up whole and get none.
fn prefix_lexemes(token: &str) -> Vec<String> {
    if token.starts_with(grams::MARK) {
        return Vec::new();
    }
    let chars: Vec<char> = token.chars().collect();
    PREFIX_CHARS
        .filter(|n| *n <= chars.len())
        .map(|n| prefix_lexeme(&chars[..n].iter().collect::<String>()))
        .collect()
}

/// The `search_entries` row of a record created at `created` (when known), its document's
/// text in the form `backend` stores. On SQLite its first column, `rowid`, holds the first key of
/// the creation millisecond ([`order::slot`]); [`write_entry`] turns it into a free key.
pub fn entry(
    def: &EntityDef,
    id: Uuid,
    owner: Uuid,
    created: Option<i64>,
    rec: &JsonMap,
    backend: Backend,
) -> TableRow {
    let doc = document(def, rec);
    let mut cols: Vec<(String, Value)> = Vec::with_capacity(6);
    let text = match backend {
        Backend::Sqlite => {
            cols.push(("rowid".into(), created.into()));
            doc.tokens.join(" ")
        }
        Backend::Postgres => tsvector_literal(&doc.tokens),
    };
    cols.extend([
        ("record_id".into(), id.into()),
        ("entity".into(), def.name.into()),
        ("owner_id".into(), owner.into()),
        ("title".into(), doc.title.into()),
        ("doc".into(), text.into()),
    ]);
    TableRow::new("search_entries", cols)
}

/// Writes or replaces the entry of a stored record (its `created_at` orders a new entry).
pub async fn index<C: ConnectionTrait>(
    conn: &C,
    def: &EntityDef,
    id: Uuid,
    owner: Uuid,
    rec: &JsonMap,
) -> CoreResult<()> {
    let created = order::slot_of(rec);
    write_entry(
        conn,
        entry(def, id, owner, created, rec, db::backend_of(conn)),
    )
    .await
}

/// Writes or replaces an entry built by [`entry`] for this connection's backend.
pub async fn write_entry<C: ConnectionTrait>(conn: &C, row: TableRow) -> CoreResult<()> {
    conn.execute(entry_statement(conn, row)).await?;
    Ok(())
}

/// The statement that writes or replaces an entry built by [`entry`], for a [`db::Batch`].
pub fn entry_statement<C: ConnectionTrait>(conn: &C, row: TableRow) -> Statement {
    let backend = db::backend_of(conn);
    let names: Vec<String> = row.names().map(|c| format!("\"{c}\"")).collect();
    let params: Vec<String> = row
        .names()
        .enumerate()
        .map(|(i, c)| match backend {
            // A replaced entry keeps its key; only a new one takes the allocated key.
            Backend::Sqlite if c == "rowid" => order::ALLOCATE.to_string(),
            Backend::Sqlite => "?".to_string(),
            // The document is tsvector text, which a text parameter does not become unasked.
            Backend::Postgres if c == "doc" => format!("CAST(${} AS tsvector)", i + 1),
            Backend::Postgres => format!("${}", i + 1),
        })
        .collect();
    let sql = format!(
        "INSERT INTO search_entries ({}) VALUES ({})
         ON CONFLICT (record_id) DO UPDATE SET owner_id = excluded.owner_id, title = excluded.title, doc = excluded.doc",
        names.join(", "),
        params.join(", ")
    );
    Statement::from_sql_and_values(
        conn.get_database_backend(),
        sql,
        row.columns.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
    )
}

pub async fn remove<C: ConnectionTrait>(conn: &C, id: Uuid) -> CoreResult<()> {
    let sql = match db::backend_of(conn) {
        Backend::Sqlite => "DELETE FROM search_entries WHERE record_id = ?",
        Backend::Postgres => "DELETE FROM search_entries WHERE record_id = $1",
    };
    db::raw_execute(conn, sql, vec![id.into()]).await?;
    Ok(())
}

/// The records of `def` whose documents hold every one of `tokens` (pieces of [`grams`]):
/// `"<table>"."id" IN (…)`, for a list's filter.
pub fn holding(backend: Backend, def: &EntityDef, tokens: &[String]) -> SimpleExpr {
    let table = def.table;
    match backend {
        // Rows changed in the current transaction are not in the index until it commits
        // (`db::migrations::m0008`); they are few, and the caller's own check of the text
        // decides about them. Record ids come from the narrow copy of the entries
        // (`db::migrations::m0010`).
        Backend::Sqlite => Expr::cust_with_values(
            format!(
                "\"{table}\".\"id\" IN (\
                 SELECT s.record_id FROM search_fts JOIN search_keys s ON s.rowid = search_fts.rowid \
                 WHERE search_fts MATCH ? \
                 UNION ALL SELECT s.record_id FROM search_fts_pending p JOIN search_keys s ON s.rowid = p.rowid)"
            ),
            [fts5_all(tokens)],
        ),
        // The entity is named so that its own text index is read (`db::migrations::m0023`).
        Backend::Postgres => {
            let all = tokens
                .iter()
                .map(|t| format!("'{t}'"))
                .collect::<Vec<_>>()
                .join(" & ");
            Expr::cust(format!(
                "\"{table}\".\"id\" IN (SELECT s.record_id FROM search_entries s WHERE {})",
                pg_entity_match(def.name, &all)
            ))
        }
    }
}

/// PostgreSQL: entries of `entity` whose documents match `query` (`tsquery` text), as the
/// condition on `s` that its own text index answers: each entity's entries have an index of
/// their own (`db::migrations::m0023`), which the planner takes only for a condition naming the
/// entity as a constant.
fn pg_entity_match(entity: &str, query: &str) -> String {
    format!(
        "s.entity = {} AND s.doc @@ {}",
        entity_literal(entity),
        tsquery_literal(query)
    )
}

/// PostgreSQL: the name of the text index of `entity`'s entries.
pub fn pg_entity_index(entity: &str) -> String {
    format!("ix_search_entries_doc_{entity}")
}

/// PostgreSQL: the statement that gives `entity`'s entries their own text index if they have
/// none. A migration that declares an entity runs it; a condition naming the entity
/// ([`pg_entity_match`]) reads only that index, whose statistics and posting lists are the
/// entity's own, so a term common among contacts but rare among accounts costs an accounts-only
/// search what it finds among accounts.
pub fn pg_entity_index_statement(entity: &str) -> String {
    format!(
        "CREATE INDEX IF NOT EXISTS {} ON search_entries USING gin (doc) WHERE entity = {}",
        pg_entity_index(entity),
        entity_literal(entity)
    )
}

/// An entity's name as an SQL literal. Names are declared in code (lower-case letters and
/// `_`); anything else is dropped all the same.
fn entity_literal(entity: &str) -> String {
    let name: String = entity
        .chars()
        .filter(|c| c.is_ascii_lowercase() || *c == '_')
        .collect();
    format!("'{name}'")
}

/// A `tsquery` written into the statement rather than bound to it. A statement the driver keeps
/// prepared gets a generic plan after a few runs, one plan for every query text, and a plan
/// that cannot see which terms are common reads their whole posting lists: `张` among 4,000,000
/// entries took 52 ms with the generic plan and 0.5 ms with its own (bench §18), since
/// PostgreSQL's statistics know which lexemes are common and stop a scan early for them. Tokens
/// hold only letters, digits and CJK characters ([`text::tokens`]); quotes are doubled and
/// backslashes dropped all the same, so the text stays one literal whatever it holds.
fn tsquery_literal(query: &str) -> String {
    format!(
        "CAST('{}' AS tsquery)",
        query.replace('\\', "").replace('\'', "''")
    )
}

pub(crate) fn fts5_all(tokens: &[String]) -> String {
    tokens
        .iter()
        .map(|t| format!("\"{t}\""))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// How many documents hold every one of `tokens`, counted up to `cap`: what reading them
/// first would cost. `None` on PostgreSQL, whose planner knows how common each token is
/// (`tsvector` statistics) and chooses between the pieces and a scan itself; SQLite's does
/// not, and FTS5 stops reading a posting list at the cap.
pub async fn count_holding(db: &Db, tokens: &[String], cap: u64) -> CoreResult<Option<u64>> {
    if db.backend() == Backend::Postgres {
        return Ok(None);
    }
    let sql = format!(
        "SELECT COUNT(*) AS n FROM (SELECT 1 FROM search_fts WHERE search_fts MATCH ? LIMIT {cap})"
    );
    let rows = db::raw_query(db.reader(), &sql, vec![fts5_all(tokens).into()]).await?;
    let n = match rows.first() {
        Some(r) => db::get_i64(r, "n")?,
        None => 0,
    };
    Ok(Some(n.max(0) as u64))
}

fn fts5_match(terms: &[Term]) -> String {
    fn render(t: &Term) -> String {
        match t {
            Term::Phrase { tokens, prefix } => {
                format!("\"{}\"{}", tokens.join(" "), if *prefix { "*" } else { "" })
            }
            Term::Any(alts) => format!(
                "({})",
                alts.iter().map(render).collect::<Vec<_>>().join(" OR ")
            ),
            Term::Either {
                preferred,
                fallback,
            } => format!("({} OR {})", render(preferred), render(fallback)),
        }
    }
    terms.iter().map(render).collect::<Vec<_>>().join(" AND ")
}

fn tsquery(terms: &[Term]) -> String {
    fn render(t: &Term) -> String {
        match t {
            Term::Phrase { tokens, prefix } => {
                let n = tokens.len();
                let parts: Vec<String> = tokens
                    .iter()
                    .enumerate()
                    .map(|(i, tok)| {
                        if !(*prefix && i + 1 == n) {
                            format!("'{tok}'")
                        } else if PREFIX_CHARS.contains(&tok.chars().count()) {
                            // A prefix the documents keep as a lexeme: looked up exactly.
                            format!("'{}'", prefix_lexeme(tok))
                        } else {
                            format!("'{tok}':*")
                        }
                    })
                    .collect();
                format!("({})", parts.join(" <-> "))
            }
            Term::Any(alts) => format!(
                "({})",
                alts.iter().map(render).collect::<Vec<_>>().join(" | ")
            ),
            Term::Either {
                preferred,
                fallback,
            } => format!("({} | {})", render(preferred), render(fallback)),
        }
    }
    terms.iter().map(render).collect::<Vec<_>>().join(" & ")
}

/// The ways of reading `terms` as `tsquery` texts of which a document must match one: a query
/// of one term that reads two ways (`Term::Any`, `Term::Either`) is two texts.
fn tsquery_alternatives(terms: &[Term]) -> Vec<String> {
    match terms {
        [Term::Any(alts)] => alts
            .iter()
            .map(|t| tsquery(std::slice::from_ref(t)))
            .collect(),
        [
            Term::Either {
                preferred,
                fallback,
            },
        ] => vec![
            tsquery(std::slice::from_ref(preferred)),
            tsquery(std::slice::from_ref(fallback)),
        ],
        _ => vec![tsquery(terms)],
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub entity: String,
    pub id: Uuid,
    pub title: String,
}

/// A statement's text and its values, numbered as `backend` numbers them.
struct Bound {
    backend: Backend,
    values: Vec<Value>,
}

impl Bound {
    fn new(backend: Backend) -> Bound {
        Bound {
            backend,
            values: Vec::new(),
        }
    }

    /// The placeholder of a new value.
    fn push(&mut self, v: impl Into<Value>) -> String {
        self.values.push(v.into());
        match self.backend {
            Backend::Sqlite => "?".to_string(),
            Backend::Postgres => format!("${}", self.values.len()),
        }
    }
}

/// Which of the entries (as `k`) the actor may read: for each of `entities` the actor may read
/// at all, its name and the condition on the entry's owner.
fn readable(
    actor: &Actor,
    entities: &[&EntityDef],
    k: &str,
    b: &mut Bound,
) -> Vec<(&'static str, String)> {
    let mut arms = Vec::new();
    for def in entities {
        let cond = match actor.grant(def.name).read {
            Scope::None => continue,
            Scope::All => "TRUE".to_string(),
            Scope::Own => format!("{k}.owner_id = {}", b.push(actor.user_id)),
            Scope::Team => match actor.team_id {
                Some(team) => format!(
                    "({k}.owner_id = {} OR {k}.owner_id IN (SELECT id FROM users WHERE team_id = {}))",
                    b.push(actor.user_id),
                    b.push(team)
                ),
                None => format!("{k}.owner_id = {}", b.push(actor.user_id)),
            },
        };
        arms.push((def.name, cond));
    }
    arms
}

/// [`readable`]'s entries as one condition.
fn any_readable(arms: &[(&str, String)], k: &str) -> String {
    arms.iter()
        .map(|(entity, cond)| format!("({k}.entity = {} AND {cond})", entity_literal(entity)))
        .collect::<Vec<_>>()
        .join(" OR ")
}

/// Finds records matching `q` that the actor may read, best matches first.
pub async fn search(
    db: &Db,
    actor: &Actor,
    q: &str,
    entities: &[&EntityDef],
    limit: usize,
) -> CoreResult<Vec<Hit>> {
    let terms = text::parse_query(q);
    if terms.is_empty() || entities.is_empty() {
        return Ok(vec![]);
    }
    let backend = db.backend();
    // Text matches are checked against the reader's scope in `search_keys` on SQLite, the narrow
    // copy of the entries (m0020): a sales rep's search reads many matches that are not theirs.
    let k = match backend {
        Backend::Sqlite => "k",
        Backend::Postgres => "s",
    };
    // Records named exactly what was typed come first, from the title index: among millions of
    // contacts a common name (王芳) has more text matches than the candidates taken below, and
    // the exact one must not be cut before ranking.
    // The entries themselves hold the entity and owner the scope reads (as `k`, like the copy).
    // Titles never hold control characters (validation refuses them), and PostgreSQL rejects
    // NUL in text parameters, so they are dropped from the exact-match value.
    let mut exact = Bound::new(backend);
    let title = exact.push(
        q.trim()
            .chars()
            .filter(|c| !c.is_control())
            .collect::<String>(),
    );
    let arms = readable(actor, entities, k, &mut exact);
    if arms.is_empty() {
        return Ok(vec![]);
    }
    let scope = any_readable(&arms, k);
    let exact_sql = format!(
        "SELECT {k}.record_id, {k}.entity, {k}.title FROM search_entries {k} WHERE {k}.title = {title} AND ({scope}) LIMIT {limit}"
    );
    // Text matches read to rank from: four times the answers wanted (at least 40, at most
    // 200). Each costs a look-up, and a sales rep reads many that are not theirs before one
    // that is: with 200 for twelve answers, a rep's search of accounts alone read thousands.
    let candidates = (limit * 4).clamp(40, 200);
    let matching = |terms: &[Term]| -> TextQuery {
        let mut b = Bound::new(backend);
        let sql = match backend {
            Backend::Sqlite => {
                let m = b.push(fts5_match(terms));
                let scope = any_readable(&readable(actor, entities, k, &mut b), k);
                format!(
                    "SELECT s.record_id, s.entity, s.title FROM search_entries s WHERE s.rowid IN (
                         SELECT k.rowid FROM search_fts JOIN search_keys k ON k.rowid = search_fts.rowid
                         WHERE search_fts MATCH {m} AND ({scope}) LIMIT {candidates})"
                )
            }
            // One arm per entity and way of reading the query, each its own look-up in its
            // entity's text index, so that each reads a sample of its own ([`TextRead`]):
            // PostgreSQL samples a look-up only when every term in it is common, and `138`
            // (numbers starting so, or ending in 831 read backwards) is one common and one
            // rarer term.
            Backend::Postgres => {
                let alternatives = tsquery_alternatives(terms);
                let arms: Vec<String> = readable(actor, entities, k, &mut b)
                    .iter()
                    .flat_map(|(entity, cond)| {
                        alternatives
                            .iter()
                            .map(move |q| format!("({} AND {cond})", pg_entity_match(entity, q)))
                    })
                    .collect();
                format!(
                    "SELECT s.record_id, s.entity, s.title FROM search_entries s WHERE {} LIMIT {candidates}",
                    arms.join(" OR ")
                )
            }
        };
        TextQuery {
            sql,
            values: b.values,
            sampled: backend == Backend::Postgres && one_term_each(terms),
        }
    };
    let rows = found(
        db,
        &terms,
        limit,
        candidates,
        (exact_sql, exact.values),
        &matching,
    )
    .await?;
    let mut seen = std::collections::HashSet::new();
    let mut hits = Vec::with_capacity(rows.len());
    for r in &rows {
        let id = get_uuid(r, "record_id")?;
        if seen.insert(id) {
            hits.push(Hit {
                id,
                entity: get_string(r, "entity")?,
                title: get_string(r, "title")?,
            });
        }
    }
    // Exact title first, then titles that start with the query, then the shortest.
    let ql = q.trim().to_lowercase();
    hits.sort_by_key(|h| {
        let t = h.title.to_lowercase();
        (
            t != ql,
            !t.starts_with(&ql),
            !t.contains(&ql),
            t.chars().count(),
        )
    });
    hits.truncate(limit);
    Ok(hits)
}

/// A text match's statement. A `sampled` one may read a sample of a common term's postings
/// ([`TextRead::Sampled`]); queries of several terms in a row (a phrase such as 中太) are not
/// sampled: PostgreSQL would sample each term on its own, and few of the samples' documents
/// would hold both.
struct TextQuery {
    sql: String,
    values: Vec<Value>,
    sampled: bool,
}

/// Whether each way of reading `terms` is one term, which PostgreSQL may sample.
fn one_term_each(terms: &[Term]) -> bool {
    fn single(t: &Term) -> bool {
        matches!(t, Term::Phrase { tokens, .. } if tokens.len() == 1)
    }
    match terms {
        [Term::Any(alts)] => alts.iter().all(single),
        [
            Term::Either {
                preferred,
                fallback,
            },
        ] => single(preferred) && single(fallback),
        [t] => single(t),
        _ => false,
    }
}

/// The records named exactly `q` (the `exact` statement), then the text matches of `terms`
/// (`matching` builds their statement), as rows of `record_id`, `entity` and `title`.
async fn found(
    db: &Db,
    terms: &[Term],
    limit: usize,
    candidates: usize,
    (exact_sql, exact_values): (String, Vec<Value>),
    matching: &(dyn Fn(&[Term]) -> TextQuery + Sync),
) -> CoreResult<Vec<sea_orm::QueryResult>> {
    let mut rows = db::raw_query(db.reader(), &exact_sql, exact_values).await?;
    // A pinyin query is matched both as the run-together pinyin of a name (`zhangwei*`, one
    // posting list) and as a phrase of syllables (`zhang wei`, which finds it inside longer
    // names but intersects two of the largest posting lists). Try the cheap form first and
    // fall back to both only when it finds too few.
    // Exact titles rank first, so when there are `limit` of them the text search cannot change
    // the answer (a common name such as 王芳 among millions of contacts).
    let enough = distinct_ids(&rows)? >= limit;
    let narrow = text::narrow(terms).filter(|_| !enough);
    if let Some(narrow) = &narrow {
        rows.extend(text_matches(db, matching(narrow), candidates).await?);
    }
    if !enough && (narrow.is_none() || distinct_ids(&rows)? < limit) {
        rows.extend(text_matches(db, matching(terms), candidates).await?);
    }
    Ok(rows)
}

/// Runs a text match. A sample that held fewer than `candidates` the reader may see is read
/// again whole: the matches may be rare among what the reader may see (a sales rep's own
/// records) though common overall, and then every one counts.
async fn text_matches(
    db: &Db,
    query: TextQuery,
    candidates: usize,
) -> CoreResult<Vec<sea_orm::QueryResult>> {
    let read = if query.sampled {
        TextRead::Sampled
    } else {
        TextRead::Whole
    };
    let rows = db::raw_query(db.text_reader(read), &query.sql, query.values.clone()).await?;
    if read == TextRead::Whole || rows.len() >= candidates {
        return Ok(rows);
    }
    db::raw_query(db.text_reader(TextRead::Whole), &query.sql, query.values).await
}

fn distinct_ids(rows: &[sea_orm::QueryResult]) -> CoreResult<usize> {
    let mut ids = std::collections::HashSet::new();
    for r in rows {
        ids.insert(get_uuid(r, "record_id")?);
    }
    Ok(ids.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plan of the settle's read of the notes, with the statistics a database of a million
    /// entries keeps and none for the notes (empty whenever statistics are taken). With its
    /// samples besides (`sqlite_stat4`), such a database's plan of a plain `JOIN` walked the
    /// entries; these statistics alone do not bring SQLite to it, so this holds the plan of the
    /// settle as written, and the import's figures at that scale (bench/README §31) the rest.
    async fn settle_plan(settle: &str) -> Vec<String> {
        let db = crate::db::Db::open("sqlite::memory:").await.unwrap();
        // An in-memory database is its connection's: read through the one migrated.
        let txn = db.begin().await.unwrap();
        for sql in [
            "ANALYZE",
            "DELETE FROM sqlite_stat1",
            "INSERT INTO sqlite_stat1 VALUES
                ('search_entries', 'sqlite_autoindex_search_entries_1', '1102035 1'),
                ('search_entries', 'ix_search_entries_owner', '1102035 22041'),
                ('search_entries', 'ix_search_entries_title', '1102035 6'),
                ('search_fts_idx', 'search_fts_idx', '122548 7209 1'),
                ('search_fts_config', 'search_fts_config', '1 1')",
            "ANALYZE sqlite_schema",
        ] {
            crate::db::raw_execute(&txn, sql, vec![]).await.unwrap();
        }
        let read = settle
            .split(';')
            .find(|s| s.contains("search_entries e"))
            .unwrap();
        let plan = crate::db::raw_query(&txn, &format!("EXPLAIN QUERY PLAN {read}"), vec![])
            .await
            .unwrap();
        plan.iter()
            .map(|r| crate::db::get_string(r, "detail").unwrap())
            .collect()
    }

    #[tokio::test]
    async fn settling_reads_the_notes_then_their_entries_by_key() {
        let plan = settle_plan(SETTLE).await;
        assert_eq!(plan.len(), 2, "{plan:?}");
        assert!(plan[0].starts_with("SCAN p"), "{plan:?}");
        assert!(plan[1].contains("INTEGER PRIMARY KEY"), "{plan:?}");
    }

    #[test]
    fn renders_queries_for_both_backends() {
        let terms = text::parse_query("中太 zhangsan");
        assert_eq!(
            fts5_match(&terms),
            "\"中 太\" AND (\"zhangsan\"* OR \"zhang san\")"
        );
        assert_eq!(
            tsquery(&terms),
            "('中' <-> '太') & (('zhangsan':*) | ('zhang' <-> 'san'))"
        );
        assert_eq!(
            tsvector_literal(&["张".into(), "zs".into(), "13800".into()]),
            "'张':1 'zs':2 'ǂǂzs':2 '13800':3 'ǂǂ13':3 'ǂǂ138':3 'ǂǂ1380':3 'ǂǂ13800':3"
        );
        // A typed prefix of 2 to 5 characters is its prefix lexeme; shorter or longer, a prefix.
        assert_eq!(tsquery(&text::parse_query("zhon")), "('ǂǂzhon')");
        assert_eq!(tsquery(&text::parse_query("z")), "('z':*)");
        assert!(tsquery(&text::parse_query("zhangwei")).contains("'zhangwei':*"));
        // A phone prefix is two look-ups, each of one term, which PostgreSQL may sample; a
        // phrase is one look-up of several terms, which it may not.
        let phone = text::parse_query("138");
        assert_eq!(tsquery_alternatives(&phone), ["('ǂǂ138')", "('ǂǂr831')"]);
        assert!(one_term_each(&phone));
        assert!(one_term_each(&text::parse_query("张")));
        assert!(!one_term_each(&text::parse_query("中太")));
        assert!(!one_term_each(&text::parse_query("张 zhon")));
        // Written into the statement as one literal, whatever it holds.
        assert_eq!(
            tsquery_literal(r"'it''s' & '\x'"),
            "CAST('''it''''s'' & ''x''' AS tsquery)"
        );
        // Piece tokens are looked up whole and get no prefixes.
        let piece = grams::of_value("e", "f", "中太")[0].clone();
        assert_eq!(
            tsvector_literal(std::slice::from_ref(&piece)),
            format!("'{piece}':1")
        );
    }
}
