//! Reading an export "for people" back: the values people read, turned into what the record
//! engine takes.
//!
//! An export for people words a record in one language: choices by their labels, yes and no,
//! amounts and numbers grouped (`1,234,567.89`), percentages with `%`, times with ` UTC`,
//! phones and e-mails with their label in brackets (`0571 8888 6666 (工作)`), references by
//! the referenced record's title and users by their names, and cells that would start a formula
//! behind an apostrophe. A [`Readback`] built from the translations of both languages
//! ([`Labels`]) undoes the wording of the values of one entity's columns, whichever language the
//! file is in; references and users go on to be found by title and name as every import finds
//! them (an ambiguous name is a row error naming the candidates).
//!
//! Core has no translations: the web layer passes its own through [`Labels`] (as for the
//! column suggestions), and the import's [`super::mapping::Plan`] carries the readback
//! ([`super::mapping::Plan::reading_labels`]).

use std::collections::HashMap;

use crate::custom_fields::CustomFieldDef;
use crate::records::def::{EntityDef, FieldDef, FieldKind, Options};

use super::mapping::Labels;

/// The labels a phone or an e-mail address may carry (`label-<code>` in the translations).
pub const POINT_LABELS: &[&str] = &["mobile", "work", "fax", "home", "personal"];

/// How the values of one entity's columns read back (see the module's documentation).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Readback {
    /// Per field (`name`, or `custom.<key>`): a choice's label, folded, → its code.
    choices: HashMap<String, HashMap<String, String>>,
    /// A phone's or an address's label, folded → its code.
    point_labels: HashMap<String, String>,
    /// How an unreadable reference reads ("no access"), folded: read as nothing.
    unreadable: Vec<String>,
}

/// Text compared without case and surrounding space.
fn fold(s: &str) -> String {
    s.trim().to_lowercase()
}

impl Readback {
    /// The readback of `def`'s fields (and its administrators' fields `custom`) in every
    /// language `labels` knows.
    pub fn of(def: &EntityDef, custom: &[CustomFieldDef], labels: &dyn Labels) -> Readback {
        let mut out = Readback::default();
        let mut add = |name: String, options: &Options| {
            let Options::Set(set) = options else {
                // An administrator's own options are their own labels.
                return;
            };
            let map = out.choices.entry(name).or_default();
            for code in set.codes {
                for text in labels.texts(&set.label_key(code)) {
                    map.entry(fold(&text)).or_insert_with(|| code.to_string());
                }
                map.entry(fold(code)).or_insert_with(|| code.to_string());
            }
        };
        for f in def.fields {
            if let FieldKind::Choice(o) | FieldKind::MultiChoice(o) = &f.kind {
                add(f.name.to_string(), o);
            }
        }
        for d in custom {
            if let FieldKind::Choice(o) | FieldKind::MultiChoice(o) = &d.kind {
                add(format!("custom.{}", d.key), o);
            }
        }
        for code in POINT_LABELS {
            for text in labels.texts(&format!("label-{code}")) {
                out.point_labels.insert(fold(&text), code.to_string());
            }
        }
        out.unreadable = labels
            .texts("record-unreadable")
            .iter()
            .map(|t| fold(t))
            .collect();
        out
    }

    /// The code of the choice a cell of field `field` names by its label, or the cell as it is.
    pub fn choice(&self, field: &str, text: &str) -> String {
        self.choices
            .get(field)
            .and_then(|m| m.get(&fold(text)))
            .cloned()
            .unwrap_or_else(|| text.trim().to_string())
    }

    /// The codes of a multiple choice's labels, as the import takes them (comma-separated).
    pub fn choices(&self, field: &str, text: &str) -> String {
        text.split(['、', ',', '，', ';', '；'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| self.choice(field, s))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// A phone or an address as people read it, `0571 8888 6666 (工作)`: the number and its
    /// label's code (or the label's text, for a label of someone's own).
    pub fn point<'a>(&self, text: &'a str) -> (&'a str, Option<String>) {
        let t = text.trim();
        let Some(start) = t.rfind('(').filter(|_| t.ends_with(')')) else {
            return (t, None);
        };
        let label = &t[start + 1..t.len() - 1];
        let value = t[..start].trim();
        if value.is_empty() {
            return (t, None);
        }
        let code = self
            .point_labels
            .get(&fold(label))
            .cloned()
            .unwrap_or_else(|| label.trim().to_string());
        (value, Some(code))
    }

    /// Whether the cell reads "a record you may not see": no value to import.
    pub fn is_unreadable(&self, text: &str) -> bool {
        let t = fold(text);
        self.unreadable.contains(&t)
    }

    /// A number as people read it (`1,234,567.89`, `12.5%`), as the engine takes it.
    pub fn number(text: &str) -> String {
        text.trim()
            .trim_end_matches(['%', '％'])
            .replace([',', '，', ' '], "")
    }
}

/// A cell of field `f` as the engine takes it; empty for a cell that holds nothing to import
/// (a reference the exporting user could not see).
pub fn read_back(rb: &Readback, f: &FieldDef, v: &str) -> String {
    if rb.is_unreadable(v) {
        return String::new();
    }
    match &f.kind {
        FieldKind::Choice(_) => rb.choice(f.name, v),
        FieldKind::MultiChoice(_) => rb.choices(f.name, v),
        FieldKind::Int { .. } | FieldKind::Decimal { .. } | FieldKind::Money => Readback::number(v),
        FieldKind::Percent => Readback::number(v),
        _ => v.to_string(),
    }
}

/// A cell the export kept from reading as a formula (`'=1+1`) as it was.
pub fn unneutralized(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => cell,
    }
}

/// An instant written for people as `2024-05-04 13:00 UTC`: the time without the zone.
pub fn utc_text(text: &str) -> Option<&str> {
    text.trim().strip_suffix("UTC").map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_points_and_formulas_read_back() {
        assert_eq!(Readback::number("1,234,567.89"), "1234567.89");
        assert_eq!(Readback::number("12.5%"), "12.5");
        let mut labels: HashMap<String, Vec<String>> = HashMap::new();
        labels.insert("label-work".into(), vec!["work".into(), "工作".into()]);
        let def = crate::areas::registry().all()[0];
        let r = Readback::of(def, &[], &labels);
        assert_eq!(
            r.point("0571 8888 6666 (工作)"),
            ("0571 8888 6666", Some("work".to_string()))
        );
        assert_eq!(r.point("0571 8888 6666"), ("0571 8888 6666", None));
        assert_eq!(
            r.point("a@b.cn (私人)"),
            ("a@b.cn", Some("私人".to_string()))
        );
        assert_eq!(unneutralized("'=1+1"), "=1+1");
        assert_eq!(unneutralized("'abc"), "'abc");
        assert_eq!(utc_text("2024-05-04 13:00 UTC"), Some("2024-05-04 13:00"));
    }
}
