//! The filter bar above a list: each condition as a chip in words ("客户类型 等于 成交客户") that
//! one click removes, and "add a filter" in two steps — pick the field, then its operator and a
//! value from a picker that suits it: a choice's labels, users by name, setup lists by title,
//! a calendar for dates, numbers that take 万 and 亿. It works without JavaScript (the first
//! step submits; the script only submits it on change).
//!
//! People may also type a choice's label where its code is expected (`成交客户` for `customer`,
//! in either language): [`to_codes`] turns labels into codes before the list reads the filter.

use guanxi_core::custom_fields::CustomFieldDef;
use guanxi_core::records::def::FieldKind;
use guanxi_core::records::{EntityDef, FilterOp};

use super::cells::kind_at;
use super::choices::Choices;
use super::display;
use crate::i18n::I18n;

/// One condition of the list's filter, in words, with the link that removes it.
pub struct Chip {
    pub text: String,
    pub remove_href: String,
}

use super::options::Opt;

/// The second step of adding a filter: the chosen field's operators and value picker.
pub struct Picker {
    pub field: String,
    pub field_label: String,
    pub ops: Vec<Opt>,
    /// `select`, `date`, `datetime`, `number`, `text` or `bool`.
    pub input: &'static str,
    pub options: Vec<Opt>,
    /// The options are people, or too many to scan: the picker searches them as you type.
    pub searchable: bool,
}

/// How a field is filtered: which operators apply and which picker chooses its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Text,
    Choice,
    Person,
    Listed,
    Number,
    Date,
    Instant,
    Bool,
    Many,
}

impl Class {
    fn of(kind: Option<&FieldKind>, key: &str, choices: &Choices) -> Class {
        if key == "created_at" || key == "updated_at" {
            return Class::Instant;
        }
        let base = key.split('.').next().unwrap_or(key);
        if choices.of(base).is_some() {
            return Class::Listed;
        }
        match kind {
            None => Class::Text,
            Some(k) => match k {
                FieldKind::Choice(_) => Class::Choice,
                FieldKind::User => Class::Person,
                FieldKind::Int { .. }
                | FieldKind::Decimal { .. }
                | FieldKind::Money
                | FieldKind::Percent
                | FieldKind::Duration => Class::Number,
                FieldKind::Date => Class::Date,
                FieldKind::DateTime => Class::Instant,
                FieldKind::Bool => Class::Bool,
                FieldKind::Phones
                | FieldKind::Emails
                | FieldKind::StringList { .. }
                | FieldKind::MultiChoice(_) => Class::Many,
                _ => Class::Text,
            },
        }
    }

    fn ops(self) -> &'static [FilterOp] {
        use FilterOp::*;
        match self {
            Class::Text => &[Contains, Eq, StartsWith, Empty, NotEmpty],
            Class::Choice | Class::Person | Class::Listed => &[Eq, Ne, Empty, NotEmpty],
            Class::Number | Class::Date | Class::Instant => {
                &[Eq, Gte, Lte, Gt, Lt, Empty, NotEmpty]
            }
            Class::Bool => &[Eq],
            Class::Many => &[Contains, Empty, NotEmpty],
        }
    }

    fn input(self) -> &'static str {
        match self {
            Class::Choice | Class::Person | Class::Listed => "select",
            Class::Number => "number",
            Class::Date => "date",
            Class::Instant => "datetime",
            Class::Bool => "bool",
            Class::Text | Class::Many => "text",
        }
    }
}

/// What the bar needs to word and pick values: the entity, its custom fields, the users, the
/// setup lists' options, and the reader's language.
pub struct Context<'a> {
    pub def: &'static EntityDef,
    pub custom: &'a [CustomFieldDef],
    /// (id, name) of every user, enabled or not (a filter may name a former colleague).
    pub users: &'a [(String, String)],
    pub choices: &'a Choices,
    pub i18n: &'a I18n,
}

impl Context<'_> {
    fn class(&self, key: &str) -> Class {
        Class::of(kind_at(self.def, self.custom, key), key, self.choices)
    }

    /// The value a select offers for a field: (code, label) pairs.
    fn options(&self, key: &str) -> Vec<(String, String)> {
        let base = key.split('.').next().unwrap_or(key);
        match self.class(key) {
            Class::Listed => self.choices.of(base).map(<[_]>::to_vec).unwrap_or_default(),
            Class::Person => {
                let mut v = vec![("me".to_string(), self.i18n.t("filter-me"))];
                v.extend(self.users.iter().cloned());
                v
            }
            Class::Choice => match kind_at(self.def, self.custom, key) {
                Some(FieldKind::Choice(options)) => options
                    .codes()
                    .into_iter()
                    .map(|c| (c.to_string(), display::choice_label(options, c, self.i18n)))
                    .collect(),
                _ => Vec::new(),
            },
            Class::Bool => vec![
                ("true".into(), self.i18n.t("yes")),
                ("false".into(), self.i18n.t("no")),
            ],
            _ => Vec::new(),
        }
    }

    /// A condition's value as people read it: a choice's or list's label, a user's name.
    fn value_words(&self, key: &str, value: &str) -> String {
        let options = self.options(key);
        if options.is_empty() {
            // An insight's code (`insight.tier` = `gold`) reads as the panel words it.
            if let Some(name) = key.strip_prefix("insight.") {
                return value
                    .split(',')
                    .map(|part| {
                        let part = part.trim();
                        self.i18n
                            .maybe(&format!("insight-{name}-{part}"))
                            .unwrap_or_else(|| part.to_string())
                    })
                    .collect::<Vec<_>>()
                    .join(self.i18n.t("list-separator").as_str());
            }
            return value.to_string();
        }
        value
            .split(',')
            .map(|part| {
                let part = part.trim();
                options
                    .iter()
                    .find(|(code, _)| code == part)
                    .map(|(_, label)| label.clone())
                    .unwrap_or_else(|| part.to_string())
            })
            .collect::<Vec<_>>()
            .join(self.i18n.t("list-separator").as_str())
    }
}

/// The chips of the list's conditions; `href_without(i)` is the list without condition `i`.
pub fn chips(
    cx: &Context,
    filters: &[(String, String, String)],
    labels: &[(String, String)],
    href_without: impl Fn(usize) -> String,
) -> Vec<Chip> {
    filters
        .iter()
        .enumerate()
        .map(|(i, (field, op, value))| {
            let label = labels
                .iter()
                .find(|(k, _)| k == field)
                .map(|(_, l)| l.clone())
                .unwrap_or_else(|| field.clone());
            let op_words = cx.i18n.t(&format!("op-{op}"));
            let text = if op == "empty" || op == "not_empty" {
                format!("{label} {op_words}")
            } else {
                format!("{label} {op_words} {}", cx.value_words(field, value))
            };
            Chip {
                text,
                remove_href: href_without(i),
            }
        })
        .collect()
}

/// The second step of adding a filter on `field`, or `None` for a field the list cannot filter.
pub fn picker(cx: &Context, field: &str, labels: &[(String, String)]) -> Option<Picker> {
    let field_label = labels.iter().find(|(k, _)| k == field)?.1.clone();
    let class = cx.class(field);
    let options: Vec<Opt> = cx
        .options(field)
        .into_iter()
        .map(|(value, label)| Opt {
            value,
            label,
            selected: false,
        })
        .collect();
    Some(Picker {
        searchable: matches!(class, Class::Person) || options.len() > super::options::MANY,
        field: field.to_string(),
        field_label,
        ops: class
            .ops()
            .iter()
            .enumerate()
            .map(|(i, o)| Opt {
                value: o.as_str().to_string(),
                label: cx.i18n.t(&format!("op-{}", o.as_str())),
                selected: i == 0,
            })
            .collect(),
        input: class.input(),
        options,
    })
}

/// The value of a condition with choice labels turned into their codes, so that `成交客户` (or
/// `Customer`) filters like `customer`; a value that is already a code, or matches no label,
/// stays as typed (and a wrong one is refused by the list with its message).
pub fn to_codes(cx: &Context, field: &str, value: &str) -> String {
    let Some(FieldKind::Choice(options) | FieldKind::MultiChoice(options)) =
        kind_at(cx.def, cx.custom, field)
    else {
        return value.to_string();
    };
    let languages = [I18n::new("zh-CN"), I18n::new("en")];
    value
        .split(',')
        .map(|part| {
            let part = part.trim();
            if options.contains(part) {
                return part.to_string();
            }
            let codes = options.codes();
            codes
                .iter()
                .find(|code| {
                    languages
                        .iter()
                        .any(|l| display::choice_label(options, code, l).eq_ignore_ascii_case(part))
                })
                .map(|c| c.to_string())
                .unwrap_or_else(|| part.to_string())
        })
        .collect::<Vec<_>>()
        .join(",")
}
