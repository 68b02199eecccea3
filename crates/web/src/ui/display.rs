//! How values read to people: choice labels in their language, money with its currency,
//! addresses in the order the locale writes them.

use std::borrow::Cow;

use guanxi_core::records::def::{ADDRESS_PARTS, FieldKind, Options};
use serde_json::Value;

use crate::i18n::I18n;

fn s(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A value as plain text, language-neutral (CSV, history).
pub fn plain(kind: &FieldKind, v: &Value) -> String {
    match kind {
        FieldKind::Money => match v {
            Value::Object(o) => format!(
                "{} {}",
                s(o.get("amount").unwrap_or(&Value::Null)),
                s(o.get("currency").unwrap_or(&Value::Null))
            ),
            _ => String::new(),
        },
        FieldKind::Phones => join_items(v, "number"),
        FieldKind::Emails => join_items(v, "address"),
        FieldKind::StringList { .. } | FieldKind::MultiChoice(_) => match v {
            Value::Array(a) => a.iter().map(s).collect::<Vec<_>>().join("; "),
            _ => String::new(),
        },
        FieldKind::Regarding => match (v.get("entity"), v.get("id")) {
            (Some(e), Some(id)) => format!("{} {}", s(e), s(id)),
            _ => String::new(),
        },
        FieldKind::Address => ADDRESS_PARTS
            .iter()
            .map(|p| s(v.get(*p).unwrap_or(&Value::Null)))
            .filter(|x| !x.is_empty())
            .collect::<Vec<_>>()
            .join(", "),
        FieldKind::Bool => {
            if v.as_bool().unwrap_or(false) {
                "true".into()
            } else {
                "false".into()
            }
        }
        FieldKind::Labels { .. } => match v {
            Value::Object(o) => o.values().map(s).collect::<Vec<_>>().join(" / "),
            other => s(other),
        },
        _ => s(v),
    }
}

fn join_items(v: &Value, key: &str) -> String {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|i| {
                let main = s(i.get(key).unwrap_or(&Value::Null));
                let label = s(i.get("label").unwrap_or(&Value::Null));
                if label.is_empty() {
                    main
                } else {
                    format!("{main} ({label})")
                }
            })
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::new(),
    }
}

/// Groups digits in threes: 12000000.00 → 12,000,000.00.
pub fn group(amount: &str) -> String {
    let mut out = String::with_capacity(amount.len() + amount.len() / 3);
    group_into(&mut out, amount);
    out
}

/// [`group`], written onto the end of `out`: a board writes hundreds of amounts, and each
/// took three strings.
fn group_into(out: &mut String, amount: &str) {
    let (sign, rest) = amount
        .strip_prefix('-')
        .map(|r| ("-", r))
        .unwrap_or(("", amount));
    let (int, frac) = rest
        .split_once('.')
        .map(|(i, f)| (i, Some(f)))
        .unwrap_or((rest, None));
    out.push_str(sign);
    for (i, c) in int.char_indices() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
}

/// A money value as its reader chose: `¥8,740,000.00` or `874万元` ([`I18n::money_in_wan`]),
/// the currency written once either way.
pub fn money(v: &Value, i18n: &I18n) -> String {
    let text = |k: &str| match v.get(k) {
        Some(Value::String(t)) => Cow::Borrowed(t.as_str()),
        Some(other) => Cow::Owned(s(other)),
        None => Cow::Borrowed(""),
    };
    let (amount, currency) = (text("amount"), text("currency"));
    if i18n.money_in_wan {
        return in_wan(&amount, &currency);
    }
    // The currency once: by a symbol no other currency uses here, else by its code.
    let symbol = match &*currency {
        "CNY" => "¥",
        "USD" => "US$",
        "EUR" => "€",
        "GBP" => "£",
        "JPY" => "JP¥",
        "HKD" => "HK$",
        _ => "",
    };
    let mut out = String::with_capacity(amount.len() * 2 + 8);
    out.push_str(symbol);
    group_into(&mut out, &amount);
    if symbol.is_empty() {
        out.push(' ');
        out.push_str(&currency);
    }
    out
}

/// An amount in 万 with the currency's Chinese name: `874万元`, `1,200.00005万元`, `120万美元`;
/// under 10,000 in units (`9,800元`). Exact: the digits move, nothing is rounded.
fn in_wan(amount: &str, currency: &str) -> String {
    let unit = match currency {
        "CNY" => "元",
        "USD" => "美元",
        "EUR" => "欧元",
        "GBP" => "英镑",
        "JPY" => "日元",
        "HKD" => "港元",
        _ => "",
    };
    let (sign, rest) = amount
        .strip_prefix('-')
        .map(|r| ("-", r))
        .unwrap_or(("", amount));
    let (int, frac) = rest.split_once('.').unwrap_or((rest, ""));
    let int = int.trim_start_matches('0');
    let (whole, frac, wan) = if int.len() > 4 {
        let (w, f) = int.split_at(int.len() - 4);
        (w.to_string(), format!("{f}{frac}"), "万")
    } else {
        (
            if int.is_empty() {
                "0".into()
            } else {
                int.to_string()
            },
            frac.to_string(),
            "",
        )
    };
    let frac = frac.trim_end_matches('0');
    let number = if frac.is_empty() {
        group(&whole)
    } else {
        format!("{}.{frac}", group(&whole))
    };
    if unit.is_empty() {
        format!("{sign}{number}{wan} {currency}")
    } else {
        format!("{sign}{number}{wan}{unit}")
    }
}

/// An address as the locale writes it: from country down in Chinese, from street up in English.
pub fn address(v: &Value, i18n: &I18n) -> String {
    let part = |p: &str| s(v.get(p).unwrap_or(&Value::Null));
    if i18n.is_zh() {
        let mut out = String::new();
        for p in ["country", "province", "city", "district", "street"] {
            let x = part(p);
            // Municipalities repeat the province as the city (北京市北京市), and a Chinese
            // address at home leaves out the country.
            let redundant = (p == "city" && x == part("province"))
                || (p == "country" && (x == "CN" || x == "中国"));
            if !x.is_empty() && !redundant {
                out.push_str(&x);
            }
        }
        let pc = part("postal_code");
        if !pc.is_empty() {
            out.push_str(&format!(" {pc}"));
        }
        out
    } else {
        [
            "street",
            "district",
            "city",
            "province",
            "postal_code",
            "country",
        ]
        .iter()
        .map(|p| part(p))
        .filter(|x| !x.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// Common labels ("work", "mobile") are stored as codes and read in the user's language.
fn label_text(label: &str, i18n: &I18n) -> String {
    i18n.maybe(&format!("label-{label}"))
        .unwrap_or_else(|| label.to_string())
}

fn pretty_phones(v: &Value, region: &str, i18n: &I18n) -> String {
    contact_points(&FieldKind::Phones, v, region, i18n)
        .into_iter()
        .map(|(text, _)| text)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The phones or e-mail addresses of a value as people read them ("0571 8888 6666 (工作)"),
/// each with the link that calls or writes to it (`tel:+86…`, `mailto:…`).
pub fn contact_points(
    kind: &FieldKind,
    v: &Value,
    region: &str,
    i18n: &I18n,
) -> Vec<(String, String)> {
    let Value::Array(items) = v else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|i| {
            let label = label_text(&s(i.get("label").unwrap_or(&Value::Null)), i18n);
            let (shown, href) = match kind {
                FieldKind::Phones => {
                    let number = s(i.get("number").unwrap_or(&Value::Null));
                    (
                        guanxi_core::normalize::phone_pretty(&number, region),
                        format!("tel:{number}"),
                    )
                }
                FieldKind::Emails => {
                    let address = s(i.get("address").unwrap_or(&Value::Null));
                    (address.clone(), format!("mailto:{address}"))
                }
                _ => return None,
            };
            if shown.is_empty() {
                return None;
            }
            let text = if label.is_empty() {
                shown
            } else {
                format!("{shown} ({label})")
            };
            Some((text, href))
        })
        .collect()
}

/// A value for a person reading the UI; `region` is where phone numbers are local.
pub fn human(kind: &FieldKind, v: &Value, i18n: &I18n, region: &str) -> String {
    match kind {
        FieldKind::Phones => pretty_phones(v, region, i18n),
        FieldKind::Emails => contact_points(kind, v, region, i18n)
            .into_iter()
            .map(|(text, _)| text)
            .collect::<Vec<_>>()
            .join(", "),
        FieldKind::Choice(options) => match v.as_str() {
            Some(code) => choice_label(options, code, i18n),
            None => String::new(),
        },
        FieldKind::MultiChoice(options) => match v {
            Value::Array(a) => a
                .iter()
                .filter_map(Value::as_str)
                .map(|code| choice_label(options, code, i18n))
                .collect::<Vec<_>>()
                .join(if i18n.is_zh() { "、" } else { ", " }),
            _ => String::new(),
        },
        FieldKind::Decimal { .. } => match v {
            Value::Number(n) => group(&n.to_string()),
            _ => String::new(),
        },
        FieldKind::Money if !v.is_null() => money(v, i18n),
        FieldKind::Address => address(v, i18n),
        FieldKind::Labels { .. } => guanxi_core::records::values::label_in(v, i18n.code),
        FieldKind::Percent if !v.is_null() => format!("{}%", plain(kind, v)),
        FieldKind::Duration => v.as_i64().map(|s| duration(s, i18n)).unwrap_or_default(),
        FieldKind::DateTime => match v
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        {
            Some(t) => i18n.instant(t.to_utc()),
            None => String::new(),
        },
        FieldKind::Bool => {
            if v.as_bool().unwrap_or(false) {
                i18n.t("yes")
            } else {
                i18n.t("no")
            }
        }
        _ => plain(kind, v),
    }
}

/// A declared option reads in the reader's language; an administrator's own option reads as
/// they wrote it.
pub fn choice_label(options: &Options, code: &str, i18n: &I18n) -> String {
    match options {
        Options::Set(set) => i18n
            .maybe(&set.label_key(code))
            .unwrap_or_else(|| code.to_string()),
        Options::Listed(_) => code.to_string(),
    }
}

pub fn field_label(entity: &str, field: &str, i18n: &I18n) -> String {
    if let Some(part) = field.split_once('.').map(|(_, p)| p) {
        let base = field.split('.').next().unwrap_or(field);
        return format!(
            "{} · {}",
            field_label(entity, base, i18n),
            i18n.t(&format!("addr-{part}"))
        );
    }
    i18n.maybe(&format!("field-{entity}-{field}"))
        .or_else(|| i18n.maybe(&format!("field-{field}")))
        .unwrap_or_else(|| field.to_string())
}

/// A length of time as people say it: the two largest units ("2 d 3 h", "2天3小时").
pub fn duration(seconds: i64, i18n: &I18n) -> String {
    let parts = [
        ("duration-days", seconds / 86_400),
        ("duration-hours", seconds % 86_400 / 3_600),
        ("duration-minutes", seconds % 3_600 / 60),
    ];
    let shown: Vec<String> = parts
        .iter()
        .skip_while(|(_, n)| *n == 0)
        .take(2)
        .filter(|(_, n)| *n > 0)
        .map(|(key, n)| i18n.t1(key, "n", n))
        .collect();
    if shown.is_empty() {
        i18n.t1("duration-minutes", "n", 0)
    } else {
        shown.join(if i18n.is_zh() { "" } else { " " })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn money_and_addresses_read_naturally() {
        let zh = I18n::new("zh-CN");
        let m = |amount: &str, currency: &str, i18n: &I18n| {
            money(&json!({"amount": amount, "currency": currency}), i18n)
        };
        assert_eq!(m("12000000.50", "CNY", &zh), "¥12,000,000.50");
        // The currency once: a symbol, or the code where no symbol is its own.
        assert_eq!(m("1200", "USD", &zh), "US$1,200");
        assert_eq!(m("80", "CHF", &zh), "80 CHF");
        // In 万 for those who chose it: exact, the currency once.
        let mut wan = I18n::new("zh-CN");
        wan.money_in_wan = true;
        assert_eq!(m("8740000.00", "CNY", &wan), "874万元");
        assert_eq!(m("12000000.50", "CNY", &wan), "1,200.00005万元");
        assert_eq!(m("1200000", "USD", &wan), "120万美元");
        assert_eq!(m("9800.50", "CNY", &wan), "9,800.5元");
        assert_eq!(m("-35000", "CNY", &wan), "-3.5万元");
        assert_eq!(m("0.00", "CNY", &wan), "0元");
        assert_eq!(m("50000", "CHF", &wan), "5万 CHF");
        assert_eq!(group("-1234"), "-1,234");
        let a = json!({"country": "CN", "province": "北京市", "city": "北京市", "district": "海淀区", "street": "中关村大街1号", "postal_code": "100080"});
        assert_eq!(
            address(&a, &I18n::new("zh-CN")),
            "北京市海淀区中关村大街1号 100080"
        );
        assert_eq!(
            address(&a, &I18n::new("en")),
            "中关村大街1号, 海淀区, 北京市, 北京市, 100080, CN"
        );
    }
}
