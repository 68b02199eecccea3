//! Normalized forms of phones, e-mails and domains: the natural keys that matching, dedupe and
//! search use (DESIGN.md section 3).

use std::str::FromStr;
use std::sync::LazyLock;

use crate::error::{FieldError, codes, shown};

/// The longest phone number as typed, with spaces and punctuation.
const MAX_PHONE_CHARS: usize = 40;

/// The longest e-mail address (RFC 5321's path limit).
const MAX_EMAIL_CHARS: usize = 254;

/// Parses a phone number as a person would type it (`138 1234 5678`, `+1 (415) 555-0100`,
/// `010-12345678`) into E.164, reading numbers without a country code in `default_region`.
pub fn phone_e164(input: &str, default_region: &str) -> Result<String, FieldError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new(codes::REQUIRED));
    }
    if trimmed.chars().count() > MAX_PHONE_CHARS {
        return Err(FieldError::new(codes::TOO_LONG).with("max", MAX_PHONE_CHARS));
    }
    let invalid = || FieldError::new(codes::INVALID_PHONE).with("value", trimmed);
    let region = phonenumber::country::Id::from_str(default_region).ok();
    let parsed = phonenumber::parse(region, trimmed).map_err(|_| invalid())?;
    if !parsed.is_valid() {
        return Err(invalid());
    }
    Ok(parsed.format().mode(phonenumber::Mode::E164).to_string())
}

/// The national significant number of an E.164 string (`+8613812345678` → `13812345678`), so a
/// search for the number as dialled at home finds it.
pub fn phone_national(e164: &str) -> Option<String> {
    let parsed = phonenumber::parse(None, e164).ok()?;
    Some(parsed.national().value().to_string())
}

/// Numbers [`phone_pretty`] keeps formatted: about 10 MB at most.
const PRETTY_KEPT: usize = 100_000;

/// An E.164 number as people read it: nationally formatted (`0571 8888 6666`) when it belongs
/// to `home_region`, internationally (`+1 415-555-2671`) otherwise.
///
/// Formatting through the phone metadata costs about 9 µs a number (its patterns are regexes
/// found by their whole text, hashed, in one cache of 100 behind one lock, too small for
/// China's), and a list page or a search's key facts format a hundred: so the answers are kept,
/// the most used first.
pub fn phone_pretty(e164: &str, home_region: &str) -> String {
    static KEPT: LazyLock<quick_cache::sync::Cache<(String, String), String>> =
        LazyLock::new(|| quick_cache::sync::Cache::new(PRETTY_KEPT));
    let key = (home_region.to_string(), e164.to_string());
    if let Some(kept) = KEPT.get(&key) {
        return kept;
    }
    let Ok(parsed) = phonenumber::parse(None, e164) else {
        return e164.to_string();
    };
    let home = phonenumber::country::Id::from_str(home_region).ok();
    let mode = if parsed.country().id() == home {
        phonenumber::Mode::National
    } else {
        phonenumber::Mode::International
    };
    let pretty = parsed.format().mode(mode).to_string();
    KEPT.insert(key, pretty.clone());
    pretty
}

/// Lower-cases and checks an e-mail address. Deliberately simple: one `@`, a plausible local
/// part, a dotted domain of letters, digits and hyphens.
pub fn email(input: &str) -> Result<String, FieldError> {
    let e = input.trim().to_lowercase();
    let bad = || FieldError::new(codes::INVALID_EMAIL).with("value", shown(input));
    if e.len() > MAX_EMAIL_CHARS {
        return Err(FieldError::new(codes::TOO_LONG).with("max", MAX_EMAIL_CHARS));
    }
    let (local, domain) = e.split_once('@').ok_or_else(bad)?;
    if local.is_empty()
        || local.len() > 64
        || local.starts_with('.')
        || local.ends_with('.')
        || local.contains("..")
        || !local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c))
    {
        return Err(bad());
    }
    if !is_domain(domain) {
        return Err(bad());
    }
    Ok(e)
}

fn is_domain(d: &str) -> bool {
    let labels: Vec<&str> = d.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

/// The company domain of a website (`https://www.Example.com.cn/about` → `example.com.cn`).
pub fn domain_of_website(input: &str) -> Result<String, FieldError> {
    let s = input.trim().to_lowercase();
    let rest = s.split_once("://").map(|(_, r)| r).unwrap_or(&s);
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit_once('@').map(|(_, h)| h).unwrap_or(host);
    let host = host.split(':').next().unwrap_or("");
    let host = host.strip_prefix("www.").unwrap_or(host);
    if is_domain(host) {
        Ok(host.to_string())
    } else {
        Err(FieldError::new(codes::INVALID_WEBSITE).with("value", shown(input)))
    }
}

/// Mailbox providers whose domain says nothing about the company a person works for.
const PUBLIC_MAIL_DOMAINS: &[&str] = &[
    "qq.com",
    "163.com",
    "126.com",
    "yeah.net",
    "sina.com",
    "sina.cn",
    "sohu.com",
    "foxmail.com",
    "aliyun.com",
    "139.com",
    "189.cn",
    "gmail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "yahoo.com",
    "icloud.com",
    "me.com",
    "proton.me",
    "protonmail.com",
    "gmx.com",
    "mail.com",
];

/// The company domain of a normalized e-mail address, unless it is a public mailbox provider.
pub fn company_domain_of_email(email: &str) -> Option<String> {
    let domain = email.rsplit_once('@')?.1;
    if PUBLIC_MAIL_DOMAINS.contains(&domain) {
        None
    } else {
        Some(domain.to_string())
    }
}

/// Checks a unified social credit code (统一社会信用代码, GB 32100-2015) including its check
/// character, or accepts another tax id of letters, digits and hyphens.
pub fn tax_id(input: &str) -> Result<String, FieldError> {
    let s: String = input.trim().to_uppercase();
    let invalid = || FieldError::new(codes::INVALID_TAX_ID).with("value", shown(input));
    if s.len() > 32 || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(invalid());
    }
    if s.len() == 18
        && s.chars().all(|c| c.is_ascii_alphanumeric())
        && looks_like_uscc(&s)
        && !uscc_checksum_ok(&s)
    {
        return Err(invalid());
    }
    Ok(s)
}

const USCC_ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

fn looks_like_uscc(s: &str) -> bool {
    s.chars().all(|c| USCC_ALPHABET.contains(c))
}

fn uscc_checksum_ok(s: &str) -> bool {
    const WEIGHTS: [usize; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let values: Vec<usize> = s.chars().filter_map(|c| USCC_ALPHABET.find(c)).collect();
    if values.len() != 18 {
        return false;
    }
    let sum: usize = values[..17].iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
    let check = (31 - sum % 31) % 31;
    values[17] == check
}

/// Invisible characters that make a name display as something other than what it holds: bidi
/// embeddings, overrides and isolates reorder the text around them ("gnp.exe" shown for
/// "exe.png"), and zero-width spaces and the BOM make look-alikes that duplicate checks miss.
/// Joiners (U+200C, U+200D) stay allowed: emoji sequences and several scripts need them.
pub fn is_deceptive_format_char(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200B}' | '\u{2060}' | '\u{FEFF}')
}

/// Checks a one-line name typed by a person: no control characters and no deceptive formatting.
pub fn check_name_chars(s: &str) -> Result<(), FieldError> {
    check_chars(s, false)
}

/// Checks text typed by a person: no control characters (but line breaks and tabs where
/// `multiline`) and no deceptive formatting.
pub fn check_chars(s: &str, multiline: bool) -> Result<(), FieldError> {
    let allowed = |c: char| multiline && matches!(c, '\n' | '\r' | '\t');
    if s.chars().any(|c| c.is_control() && !allowed(c)) {
        Err(FieldError::new(codes::CONTROL_CHARACTERS))
    } else if s.chars().any(is_deceptive_format_char) {
        Err(FieldError::new(codes::DECEPTIVE_CHARACTERS))
    } else {
        Ok(())
    }
}

/// Full-width ASCII (U+FF01–U+FF5E, as Chinese input methods type digits and punctuation) to
/// ASCII, and the ideographic space to a space: one character at a time, for the folds that
/// matching (`dedupe`) and address splitting share.
pub fn fold_width(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// Full-width ASCII (Ｕ+FF01–FF5E, as Chinese input methods type digits and punctuation) to
/// ASCII, every kind of space to a plain one, runs of spaces to one, trimmed.
pub fn fold_width_and_spaces(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        let c = match fold_width(c) {
            c if c.is_whitespace() => ' ',
            c => c,
        };
        if c == ' ' {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_normalize_to_e164() {
        assert_eq!(phone_e164("138 1234 5678", "CN").unwrap(), "+8613812345678");
        assert_eq!(phone_e164("010-6552 9988", "CN").unwrap(), "+861065529988");
        assert_eq!(
            phone_e164("+1 (415) 555-2671", "CN").unwrap(),
            "+14155552671"
        );
        assert_eq!(
            phone_e164("12", "CN"),
            Err(FieldError::new(codes::INVALID_PHONE).with("value", "12"))
        );
        assert!(phone_e164("not a phone", "CN").is_err());
        assert_eq!(phone_national("+8613812345678").unwrap(), "13812345678");
        assert_eq!(phone_pretty("+8657188886666", "CN"), "0571 8888 6666");
        assert!(phone_pretty("+14155552671", "CN").starts_with("+1 "));
    }

    #[test]
    fn emails_and_domains() {
        assert_eq!(
            email(" Zhang.San@Example.COM ").unwrap(),
            "zhang.san@example.com"
        );
        assert!(email("zhang@").is_err());
        assert!(email("a b@example.com").is_err());
        assert!(email("x@localhost").is_err());
        assert_eq!(
            domain_of_website("https://www.ZhongTai.com.cn/about?x=1").unwrap(),
            "zhongtai.com.cn"
        );
        assert_eq!(domain_of_website("zhongtai.cn").unwrap(), "zhongtai.cn");
        assert!(domain_of_website("not a site").is_err());
        assert_eq!(
            company_domain_of_email("a@acme.cn").as_deref(),
            Some("acme.cn")
        );
        assert_eq!(company_domain_of_email("a@qq.com"), None);
    }

    #[test]
    fn unified_social_credit_code_check_character() {
        assert!(tax_id("91350100M000100Y43").is_ok());
        assert_eq!(
            tax_id("91350100M000100Y44").map_err(|e| e.code),
            Err(codes::INVALID_TAX_ID)
        );
        assert_eq!(tax_id("de-123456789").unwrap(), "DE-123456789");
    }

    #[test]
    fn width_and_spaces_fold() {
        assert_eq!(fold_width_and_spaces("　Ａ１，\t b  "), "A1, b");
        assert_eq!(fold_width_and_spaces(""), "");
    }
}
