//! Name filters that match pinyin: `name contains zhongtai` finds 北京中太数据科技有限公司, and
//! `name starts_with changsha` finds 长沙银行, as the search box does. People type a name in
//! pinyin when they have no Chinese input method at hand, or do not know the characters.
//!
//! The match reads the field's collation key ([`super::sort_key`]), whose primary level is the
//! name's pinyin with a `-` between words (`bei-jing-zhong-tai-…`), read as place and trade names
//! read (长沙 as `chang-sha`). The typed syllables joined the same way must start a word of it:
//! at the start of the key for `starts_with`, at the start or after a `-` for `contains`.
//!
//! It applies to fields declared `grams` that keep a collation key (names): their values are
//! among the record's search names, whose pinyin syllables the search document holds, so the
//! records to read can be narrowed to those holding the typed whole syllables. Narrowing skips
//! the last syllable (it may be unfinished, or the start of a longer one: `xi` of `xian`) and
//! any syllable the collation key may read otherwise than the document
//! ([`super::sort_key::is_overridden_reading`]).

use sea_orm::sea_query::{Alias, Expr, SimpleExpr};

use super::def::{EntityDef, FieldDef};
use super::values::{has_sort_key, sort_key_column};
use crate::db::Backend;

/// What typed text matches as pinyin in one field: any of its readings.
#[derive(Debug, PartialEq)]
pub struct PinyinMatch {
    readings: Vec<Reading>,
}

/// One way the typed text splits into syllables.
#[derive(Debug, PartialEq)]
struct Reading {
    /// The syllables as the collation key writes them: `zhong-tai`.
    joined: String,
    /// Whole syllables every record matching this reading holds in its search document.
    tokens: Vec<String>,
}

/// Whether `field` matches pinyin ([`PinyinMatch`]).
pub fn applies(field: &FieldDef) -> bool {
    field.grams && has_sort_key(field)
}

/// The pinyin match of `typed` in `field`; `None` where the field does not match pinyin or the
/// text is not pinyin (`smith`, `中太`).
pub fn of_typed(field: &FieldDef, typed: &str) -> Option<PinyinMatch> {
    if !applies(field) {
        return None;
    }
    let readings: Vec<Reading> = crate::search::text::typed_pinyin(typed)
        .into_iter()
        .map(|syllables| {
            let whole = syllables.len().saturating_sub(1);
            let tokens = syllables[..whole]
                .iter()
                .filter(|s| !super::sort_key::is_overridden_reading(s))
                .cloned()
                .collect();
            Reading {
                joined: syllables.join("-"),
                tokens,
            }
        })
        .collect();
    (!readings.is_empty()).then_some(PinyinMatch { readings })
}

impl PinyinMatch {
    /// The condition on a row of `entity`'s table: for some reading, its key has the syllables where they
    /// start a word, and, where there are whole syllables to look up, its search document holds
    /// them.
    pub fn condition(
        &self,
        backend: Backend,
        entity: &EntityDef,
        field: &FieldDef,
        prefix_only: bool,
    ) -> SimpleExpr {
        let table = entity.table;
        let key = || Expr::col((Alias::new(table), Alias::new(sort_key_column(field.column))));
        let mut any: Option<SimpleExpr> = None;
        for r in &self.readings {
            // Only lower-case letters and `-`: nothing for LIKE to escape.
            let mut cond = key().like(format!("{}%", r.joined));
            if !prefix_only {
                cond = cond.or(key().like(format!("%-{}%", r.joined)));
            }
            if !r.tokens.is_empty() {
                cond = crate::search::holding(backend, entity, &r.tokens).and(cond);
            }
            any = Some(match any {
                Some(a) => a.or(cond),
                None => cond,
            });
        }
        any.unwrap_or_else(|| Expr::value(false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::def::FieldKind;

    const NAME: FieldDef = FieldDef::new("name", FieldKind::Text { max: 200 })
        .grams()
        .sortable();

    #[test]
    fn whole_syllables_but_the_last_narrow() {
        let first = |t: &str| {
            let m = of_typed(&NAME, t).unwrap();
            let r = &m.readings[0];
            (r.joined.clone(), r.tokens.clone())
        };
        assert_eq!(
            first("Zhong Tai"),
            ("zhong-tai".into(), vec!["zhong".into()])
        );
        // 重 is chóng in 重庆's key and zhòng in the document: `chong` is not looked up.
        assert_eq!(
            first("chongqingyin"),
            ("chong-qing-yin".into(), vec!["qing".into()])
        );
        assert_eq!(first("zhangsan").1, vec!["zhang".to_string()]);
    }

    #[test]
    fn only_names_and_only_pinyin() {
        assert!(of_typed(&NAME, "smith").is_none());
        assert!(of_typed(&NAME, "中太").is_none());
        let plain = FieldDef::new("title", FieldKind::Text { max: 100 }).sortable();
        assert!(of_typed(&plain, "zhongtai").is_none());
    }
}
