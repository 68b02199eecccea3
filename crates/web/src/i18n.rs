//! Translations (Fluent files under `locales/`), chosen per user; the login page follows the
//! browser's Accept-Language.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{LazyLock, RwLock};

use chrono::{DateTime, Utc};
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader};
use guanxi_core::time_zone::{self, Tz};
use guanxi_core::{FieldError, Params, codes};
use serde_json::Value;

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// The language a visitor picked before logging in; a logged-in user's own setting wins.
pub const VISITOR_LANG_COOKIE: &str = "guanxi_lang";

/// How a reader reads: their language, how they chose amounts to be written, and the time zone
/// they read times in.
#[derive(Clone)]
pub struct I18n {
    lang: LanguageIdentifier,
    pub code: &'static str,
    /// Amounts in 万 (`874万元`) rather than grouped digits (`¥8,740,000`).
    pub money_in_wan: bool,
    /// A signed-in user's zone; none for what is read outside anyone's session (an export file
    /// that travels, a visitor), where times are UTC and say so.
    pub zone: Option<Tz>,
}

/// One language's messages as looked up by key (`None`: no such message).
type Words = HashMap<String, Option<String>>;

/// A message worded with a mark where its one argument goes ([`I18n::t1_each`]).
pub struct Worded(String);

impl Worded {
    /// A character of Unicode's private use area, which no message and no value holds.
    const MARK: &'static str = "\u{E000}";

    /// The message with `value` as its argument.
    pub fn with(&self, value: &str) -> String {
        self.0.replace(Self::MARK, value)
    }

    /// The message with the mark where its argument goes (U+E000), for a script that words it
    /// in the browser.
    pub fn pattern(&self) -> &str {
        &self.0
    }
}

impl I18n {
    pub fn new(locale: &str) -> I18n {
        let code = if locale.starts_with("zh") {
            "zh-CN"
        } else {
            "en"
        };
        let lang = code.parse().unwrap_or_default();
        I18n {
            lang,
            code,
            money_in_wan: false,
            zone: None,
        }
    }

    /// A logged-in user's: their language, their money format and their time zone.
    pub fn for_actor(actor: &guanxi_core::authz::Actor) -> I18n {
        I18n {
            money_in_wan: actor.money_format == "wan",
            zone: Some(actor.time_zone),
            ..I18n::new(&actor.locale)
        }
    }

    /// An instant as this reader reads it: the wall-clock time in their zone
    /// (`2026-12-05 16:30`), or in UTC saying so (`2026-12-05 08:30 UTC`) for a reader without one.
    pub fn instant(&self, t: DateTime<Utc>) -> String {
        match self.zone {
            Some(zone) => time_zone::to_local(t, zone)
                .format(time_zone::SHOWN)
                .to_string(),
            None => format!("{} UTC", t.format(time_zone::SHOWN)),
        }
    }

    /// Picks the best supported language from an Accept-Language header.
    pub fn from_accept_language(header: Option<&str>) -> I18n {
        let mut best: Option<(f32, &str)> = None;
        for part in header.unwrap_or("").split(',') {
            let mut bits = part.trim().split(';');
            let tag = bits.next().unwrap_or("").trim().to_lowercase();
            let q = bits
                .find_map(|b| {
                    b.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            let code = if tag.starts_with("zh") {
                "zh-CN"
            } else if tag.starts_with("en") {
                "en"
            } else {
                continue;
            };
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, code));
            }
        }
        I18n::new(best.map(|b| b.1).unwrap_or("en"))
    }

    /// The language of someone not logged in: the one they chose on the login page (the
    /// [`VISITOR_LANG_COOKIE`]), else the browser's Accept-Language.
    pub fn for_visitor(headers: &axum::http::HeaderMap) -> I18n {
        let jar = axum_extra::extract::cookie::CookieJar::from_headers(headers);
        if let Some(c) = jar.get(VISITOR_LANG_COOKIE) {
            return I18n::new(c.value());
        }
        I18n::from_accept_language(
            headers
                .get(axum::http::header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
        )
    }

    pub fn is_zh(&self) -> bool {
        self.code == "zh-CN"
    }

    pub fn t(&self, key: &str) -> String {
        self.maybe(key).unwrap_or_else(|| key.to_string())
    }

    /// A message with one argument.
    pub fn t1(&self, key: &str, name: &'static str, value: impl ToString) -> String {
        self.t_with(key, &[(name, value.to_string())])
    }

    /// A message with one argument, worded once for the many values a page gives it (a label
    /// on each of a board's cards): looking a message up and resolving it cost more than the
    /// rest of what a page does for each card.
    pub fn t1_each(&self, key: &str, name: &'static str) -> Worded {
        Worded(self.t1(key, name, Worded::MARK))
    }

    /// A message with named arguments.
    pub fn t_with(&self, key: &str, named: &[(&'static str, String)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue> = named
            .iter()
            .map(|(name, value)| (Cow::Borrowed(*name), FluentValue::from(value.clone())))
            .collect();
        LOCALES
            .try_lookup_with_args(&self.lang, key, &args)
            .unwrap_or_else(|| key.to_string())
    }

    /// A message about a number of things, so plural rules can pick the wording.
    pub fn count(&self, key: &str, n: u64) -> String {
        let mut args: HashMap<Cow<'static, str>, FluentValue> = HashMap::new();
        args.insert(Cow::Borrowed("count"), FluentValue::from(n));
        LOCALES
            .try_lookup_with_args(&self.lang, key, &args)
            .unwrap_or_else(|| key.to_string())
    }

    /// Words a notice: its `notification-<kind>` message with its text and number params as
    /// Fluent arguments, or a plain "notification" for a kind without a wording.
    pub fn notice(&self, kind: &str, params: &Value) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue> = params
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| {
                let value = match v {
                    Value::String(s) => FluentValue::from(s.clone()),
                    Value::Number(n) => FluentValue::from(n.as_f64()?),
                    _ => return None,
                };
                Some((Cow::Owned(k.clone()), value))
            })
            .collect();
        LOCALES
            .try_lookup_with_args(&self.lang, &format!("notification-{kind}"), &args)
            .unwrap_or_else(|| self.t("notification-other"))
    }

    /// A translation if there is one, else `None` (for labels with fallbacks).
    pub fn maybe(&self, key: &str) -> Option<String> {
        // Messages without arguments are kept as first worded: an export words the same few (a
        // choice's label, yes and no, a phone's label) in each of its rows, and Fluent resolved
        // each afresh (5 % of an export). Keys come from code and declared choices, and from
        // free labels (a phone's "老家"), so the kept ones are capped.
        static KEPT: LazyLock<RwLock<HashMap<&'static str, Words>>> =
            LazyLock::new(Default::default);
        const KEPT_AT_MOST: usize = 10_000;
        if let Ok(kept) = KEPT.read()
            && let Some(found) = kept.get(self.code).and_then(|m| m.get(key))
        {
            return found.clone();
        }
        let found = LOCALES.try_lookup(&self.lang, key);
        if let Ok(mut kept) = KEPT.write() {
            let words = kept.entry(self.code).or_default();
            if words.len() < KEPT_AT_MOST {
                words.insert(key.to_string(), found.clone());
            }
        }
        found
    }

    /// Words a coded message: a field error's, a refusal's reason or an error code's, from its
    /// `error-<code>` translation with the params as Fluent arguments. Lists are joined as the
    /// language joins them; an `entity` param is worded as that entity's name. An error about a
    /// list item (`entry`) or a part of a value (`part`) names it first.
    pub fn error(&self, code: &str, params: &Params) -> String {
        self.try_error(code, params)
            .unwrap_or_else(|| code.to_string())
    }

    /// [`Self::error`], or `None` for a code without a wording (or params it lacks).
    pub fn try_error(&self, code: &str, params: &Params) -> Option<String> {
        let args: HashMap<Cow<'static, str>, FluentValue> = params
            .iter()
            .map(|(name, v)| (Cow::Borrowed(*name), self.argument(name, v)))
            .collect();
        let mut message =
            LOCALES.try_lookup_with_args(&self.lang, &format!("error-{code}"), &args)?;
        if let Some(part) = params.get(codes::PART).and_then(Value::as_str) {
            message = self.context("error-in-part", "part", self.part_label(part), message);
        }
        if let Some(n) = params.get(codes::ENTRY).map(value_text) {
            message = self.context("error-in-entry", "entry", n, message);
        }
        Some(message)
    }

    /// Words a field error.
    pub fn field_error(&self, e: &FieldError) -> String {
        self.error(e.code, &e.params)
    }

    /// A field error after the field's label, for places that do not show it beside the field.
    pub fn named_field_error(&self, label: &str, e: &FieldError) -> String {
        self.context(
            "error-field",
            "field",
            label.to_string(),
            self.field_error(e),
        )
    }

    fn context(&self, key: &str, name: &'static str, what: String, message: String) -> String {
        let mut args: HashMap<Cow<'static, str>, FluentValue> = HashMap::new();
        args.insert(Cow::Borrowed(name), FluentValue::from(what));
        args.insert(Cow::Borrowed("message"), FluentValue::from(message.clone()));
        LOCALES
            .try_lookup_with_args(&self.lang, key, &args)
            .unwrap_or(message)
    }

    /// A part of a compound value as the form labels it: an address part, or an entry's label.
    fn part_label(&self, part: &str) -> String {
        self.maybe(&format!("addr-{part}"))
            .or_else(|| self.maybe(&format!("part-{part}")))
            .unwrap_or_else(|| part.to_string())
    }

    fn argument(&self, name: &str, v: &Value) -> FluentValue<'static> {
        match v {
            Value::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => FluentValue::from(i),
                (None, Some(f)) => FluentValue::from(f),
                _ => FluentValue::from(n.to_string()),
            },
            Value::String(s) if name == "entity" => {
                FluentValue::from(self.t(&format!("entity-{s}")))
            }
            // A choice or state as the key of its label (`option-<set>-<code>`), worded as it.
            Value::String(s) if matches!(name, "choice" | "from_state" | "to_state") => {
                FluentValue::from(
                    self.maybe(s)
                        .unwrap_or_else(|| s.rsplit('-').next().unwrap_or_default().to_string()),
                )
            }
            // Actions as `<entity>-<action>`, worded as the buttons name them.
            Value::Array(items) if name == "actions" => {
                let sep = self.t("list-separator");
                FluentValue::from(
                    items
                        .iter()
                        .map(|a| {
                            let a = value_text(a);
                            self.maybe(&format!("action-{a}")).unwrap_or(a)
                        })
                        .collect::<Vec<_>>()
                        .join(&sep),
                )
            }
            // A name kept per language (a stage's), in the reader's.
            Value::Object(_) => {
                FluentValue::from(guanxi_core::records::values::label_in(v, self.code))
            }
            Value::Array(items) => {
                let sep = self.t("list-separator");
                FluentValue::from(items.iter().map(value_text).collect::<Vec<_>>().join(&sep))
            }
            other => FluentValue::from(value_text(other)),
        }
    }
}

/// A param value as plain text.
fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The labels of fields and address parts in every language the UI speaks, which an import's
/// column suggestions compare headers with (`guanxi_core::import::mapping::suggest`): a file's
/// header may be in either language whatever the importing user reads.
pub struct EveryLanguage(Vec<I18n>);

impl Default for EveryLanguage {
    fn default() -> Self {
        EveryLanguage(vec![I18n::new("en"), I18n::new("zh-CN")])
    }
}

impl guanxi_core::import::mapping::Labels for EveryLanguage {
    fn texts(&self, key: &str) -> Vec<String> {
        self.0.iter().filter_map(|i| i.maybe(key)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_language_from_header() {
        assert_eq!(
            I18n::from_accept_language(Some("zh-CN,zh;q=0.9,en;q=0.8")).code,
            "zh-CN"
        );
        assert_eq!(
            I18n::from_accept_language(Some("en-US,en;q=0.9")).code,
            "en"
        );
        assert_eq!(
            I18n::from_accept_language(Some("fr-FR, en;q=0.5, zh;q=0.7")).code,
            "zh-CN"
        );
        assert_eq!(I18n::from_accept_language(None).code, "en");
    }

    fn params(pairs: &[(&'static str, Value)]) -> Params {
        pairs.iter().cloned().collect()
    }

    #[test]
    fn errors_are_worded_with_their_params() {
        let (zh, en) = (I18n::new("zh-CN"), I18n::new("en"));
        let too_long = FieldError::new(codes::TOO_LONG).with("max", 200);
        assert_eq!(zh.field_error(&too_long), "最多 200 个字符");
        assert_eq!(en.field_error(&too_long), "At most 200 characters");
        let limits = params(&[
            ("limit", 100.into()),
            ("has", 1000.into()),
            ("unit", "conditions".into()),
        ]);
        assert_eq!(
            zh.error(codes::FILTER_TOO_COMPLEX, &limits),
            "筛选条件最多 100 个，当前有 1000 个"
        );
        let options = FieldError::not_one_of("alien", &["company", "person"]);
        assert_eq!(
            zh.field_error(&options),
            "“alien”不是可选值，可选：company、person"
        );
        assert_eq!(
            en.field_error(&options),
            "“alien” is not one of: company, person"
        );
        // An entity is worded as its name; an entry and a part are named first.
        let entity = guanxi_core::areas::registry()
            .home()
            .map(|d| d.name)
            .unwrap_or_default();
        let missing = FieldError::new(codes::NO_SUCH_RECORD).with("entity", entity);
        assert_eq!(
            zh.field_error(&missing),
            format!("{}不存在", zh.t(&format!("entity-{entity}")))
        );
        let phone = FieldError::new(codes::INVALID_PHONE)
            .with("value", "12")
            .in_entry(2);
        assert_eq!(zh.field_error(&phone), "第 2 项：电话号码“12”无效");
        assert_eq!(
            en.field_error(&phone),
            "Entry 2: “12” is not a phone number"
        );
        let street = FieldError::new(codes::TOO_LONG)
            .with("max", 200)
            .in_part("street");
        assert_eq!(zh.field_error(&street), "街道地址：最多 200 个字符");
        // A code without a wording is shown as itself rather than dropped.
        assert_eq!(zh.error("no_such_code", &Params::new()), "no_such_code");
        assert_eq!(zh.try_error("no_such_code", &Params::new()), None);
    }

    /// Every translation file of a locale (one per area, plus `main.ftl`), by file name.
    fn files(locale: &str) -> Vec<(String, String)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("locales")
            .join(locale);
        let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
            .expect("locale dir")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "ftl"))
            .map(|p| {
                let name = p.file_name().map(|n| n.to_string_lossy().to_string());
                (
                    name.unwrap_or_default(),
                    std::fs::read_to_string(&p).expect("ftl"),
                )
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn both_languages_have_the_same_files_and_keys() {
        let keys = |s: &str| -> Vec<String> {
            let mut k: Vec<String> = s
                .lines()
                .filter(|l| !l.starts_with('#') && !l.starts_with(' ') && l.contains(" ="))
                .filter_map(|l| l.split(" =").next().map(|k| k.trim().to_string()))
                .collect();
            k.sort();
            k
        };
        let (en, zh) = (files("en"), files("zh-CN"));
        assert!(en.len() > 1, "main.ftl and the areas' files");
        assert_eq!(
            en.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            zh.iter().map(|(n, _)| n).collect::<Vec<_>>()
        );
        for ((name, e), (_, z)) in en.iter().zip(&zh) {
            assert_eq!(keys(e), keys(z), "{name}");
        }
        // Keys are unique across the files of a locale.
        let mut all: Vec<String> = en.iter().flat_map(|(_, t)| keys(t)).collect();
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n, "a key defined in two files");
        assert_eq!(I18n::new("zh-CN").t("nav-settings"), "个人设置");
        assert_eq!(I18n::new("en").t("nav-settings"), "Settings");
        // The areas' files are loaded beside main.ftl.
        assert_eq!(I18n::new("zh-CN").t("option-ratings-hot"), "热");
    }
}
