//! Translations (Fluent files under `locales/`), chosen per user; the login page follows the
//! browser's Accept-Language.

use std::borrow::Cow;
use std::collections::HashMap;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader};

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

#[derive(Clone)]
pub struct I18n {
    lang: LanguageIdentifier,
    pub code: &'static str,
}

impl I18n {
    pub fn new(locale: &str) -> I18n {
        let code = if locale.starts_with("zh") {
            "zh-CN"
        } else {
            "en"
        };
        let lang = code.parse().unwrap_or_default();
        I18n { lang, code }
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

    pub fn is_zh(&self) -> bool {
        self.code == "zh-CN"
    }

    pub fn t(&self, key: &str) -> String {
        LOCALES
            .try_lookup(&self.lang, key)
            .unwrap_or_else(|| key.to_string())
    }

    /// A message with one argument.
    pub fn t1(&self, key: &str, name: &'static str, value: impl ToString) -> String {
        let mut args: HashMap<Cow<'static, str>, FluentValue> = HashMap::new();
        args.insert(Cow::Borrowed(name), FluentValue::from(value.to_string()));
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

    /// A translation if there is one, else `None` (for labels with fallbacks).
    pub fn maybe(&self, key: &str) -> Option<String> {
        LOCALES.try_lookup(&self.lang, key)
    }

    /// Translates a validation message from the core. The core speaks English in a small set of
    /// fixed phrasings; those are rendered in the user's language, anything else stays as is.
    pub fn message(&self, msg: &str) -> String {
        if !self.is_zh() {
            return msg.to_string();
        }
        const PHRASES: &[(&str, &str)] = &[
            ("is required", "必填"),
            ("unknown field", "未知字段"),
            ("unknown custom field", "未知的自定义字段"),
            ("is read-only", "只读，不能修改"),
            ("is computed and cannot be set", "由系统计算，不能修改"),
            ("must be a string", "必须是文本"),
            ("must be a whole number", "必须是整数"),
            ("must be a number", "必须是数字"),
            ("must be true or false", "必须是“是”或“否”"),
            ("no such user", "用户不存在"),
            ("no such account", "客户不存在"),
            ("the user is disabled", "该用户已停用"),
            ("the account is in the recycle bin", "该客户在回收站中"),
            (
                "you may not assign records to this user",
                "无权把记录分配给该用户",
            ),
            ("give a family name or a given name", "请填写姓或名"),
            (
                "a password needs at least 8 characters",
                "密码至少 8 个字符",
            ),
            (
                "a password has at most 256 characters",
                "密码最多 256 个字符",
            ),
            ("must not be your e-mail address", "不能与电子邮箱相同"),
            (
                "is too common or too easy to guess",
                "太常见或太容易被猜到，请换一个更长、更独特的密码",
            ),
            ("is not your current password", "不是当前密码"),
            (
                "must not contain invisible direction or zero-width characters",
                "不能包含不可见的文字方向控制符或零宽字符",
            ),
            ("must not contain control characters", "不能包含控制字符"),
            ("a account cannot refer to itself", "客户不能以自己为上级"),
            (
                "this would make the account its own ancestor",
                "这样会让客户成为自己的上级",
            ),
        ];
        if let Some((_, zh)) = PHRASES.iter().find(|(en, _)| *en == msg) {
            return (*zh).to_string();
        }
        if let Some(n) = msg
            .strip_prefix("must be at most ")
            .and_then(|r| r.strip_suffix(" characters"))
        {
            return format!("最多 {n} 个字符");
        }
        if let Some((limit, has)) = msg
            .strip_prefix("a filter may have at most ")
            .and_then(|r| r.split_once(" conditions; this one has "))
        {
            return format!("筛选条件最多 {limit} 个，当前有 {has} 个");
        }
        if let Some(n) = msg
            .strip_prefix("a filter may nest and/or/not at most ")
            .and_then(|r| r.strip_suffix(" levels deep"))
        {
            return format!("筛选条件最多嵌套 {n} 层");
        }
        if let Some((limit, has)) = msg
            .strip_prefix("a filter may compare at most ")
            .and_then(|r| r.split_once(" values in all; this one has "))
        {
            return format!("筛选条件最多比较 {limit} 个值，当前有 {has} 个");
        }
        if let Some(opts) = msg.strip_prefix("must be one of: ") {
            return format!("必须是以下之一：{opts}");
        }
        // "entry 2: '12' is not a valid phone number" → "第 2 项：电话号码无效（12）"
        let (prefix, rest) = match msg.strip_prefix("entry ").and_then(|r| r.split_once(": ")) {
            Some((n, rest)) => (format!("第 {n} 项："), rest),
            None => (String::new(), msg),
        };
        let quoted = rest.split('\'').nth(1).unwrap_or("");
        if rest.contains("is not a valid phone number") || rest.contains("is not a phone number") {
            return format!("{prefix}电话号码无效（{quoted}）");
        }
        if rest.contains("is not a valid e-mail address") {
            return format!("{prefix}电子邮箱无效（{quoted}）");
        }
        if msg.contains("is not a website address") {
            return format!("网址无效（{msg}）");
        }
        if msg.contains("is not a date") {
            return format!("日期无效，格式为 YYYY-MM-DD（{msg}）");
        }
        if msg.contains("tax id") || msg.contains("unified social credit code") {
            return format!("税号/统一社会信用代码无效（{msg}）");
        }
        msg.to_string()
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

    #[test]
    fn filter_limits_read_in_chinese() {
        let zh = I18n::new("zh-CN");
        assert_eq!(
            zh.message("a filter may have at most 100 conditions; this one has 1000"),
            "筛选条件最多 100 个，当前有 1000 个"
        );
        assert_eq!(
            zh.message("a filter may nest and/or/not at most 10 levels deep"),
            "筛选条件最多嵌套 10 层"
        );
        assert_eq!(
            zh.message("is too common or too easy to guess"),
            "太常见或太容易被猜到，请换一个更长、更独特的密码"
        );
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
        assert_eq!(I18n::new("zh-CN").t("choice-rating-hot"), "热");
    }
}
