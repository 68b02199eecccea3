//! Normalized forms of phones, e-mails and domains: the natural keys that matching, dedupe and
//! search use (DESIGN.md section 3).

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, LazyLock, Mutex};

use regex_automata::dfa::{Automaton, dense};
use regex_automata::{Anchored, Input};

use crate::error::{FieldError, codes, shown};

/// The longest phone number as typed, with spaces and punctuation.
const MAX_PHONE_CHARS: usize = 40;

/// The longest e-mail address (RFC 5321's path limit).
const MAX_EMAIL_CHARS: usize = 254;

/// Phone numbers [`phone_e164`] and [`phone_national`] keep the answer for: a write parses
/// each of its numbers more than once (a bulk load matches a row's keys before it saves it, and
/// the save indexes the stored form too), and a parse costs several µs of regexes.
const PARSED_KEPT: usize = 16_384;

/// Parses a phone number as a person would type it (`138 1234 5678`, `+1 (415) 555-0100`,
/// `010-12345678`) into E.164, reading numbers without a country code in `default_region`.
pub fn phone_e164(input: &str, default_region: &str) -> Result<String, FieldError> {
    static KEPT: LazyLock<quick_cache::sync::Cache<(String, String), Result<String, FieldError>>> =
        LazyLock::new(|| quick_cache::sync::Cache::new(PARSED_KEPT));
    let key = (default_region.to_string(), input.to_string());
    if let Some(kept) = KEPT.get(&key) {
        return kept;
    }
    let parsed = parse_e164(input, default_region);
    KEPT.insert(key, parsed.clone());
    parsed
}

fn parse_e164(input: &str, default_region: &str) -> Result<String, FieldError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new(codes::REQUIRED));
    }
    if trimmed.chars().count() > MAX_PHONE_CHARS {
        return Err(FieldError::new(codes::TOO_LONG).with("max", MAX_PHONE_CHARS));
    }
    if let Some(e164) = home_mobile_e164(trimmed, default_region) {
        NATIONAL.insert(e164.clone(), Some(trimmed.to_string()));
        return Ok(e164);
    }
    let (e164, national) = whole_parse(trimmed, default_region)
        .ok_or_else(|| FieldError::new(codes::INVALID_PHONE).with("value", trimmed))?;
    // The number's national part, which its search entry asks for next, is known from this
    // parse: parsing the E.164 form again (a regex-heavy parse a number) gives the same.
    NATIONAL.insert(e164.clone(), national);
    Ok(e164)
}

/// The phone metadata's parse of a valid number: its E.164 form and national part.
fn whole_parse(trimmed: &str, default_region: &str) -> Option<(String, Option<String>)> {
    let region = phonenumber::country::Id::from_str(default_region).ok();
    let parsed = phonenumber::parse(region, trimmed).ok()?;
    if !parsed.is_valid() {
        return None;
    }
    let e164 = parsed.format().mode(phonenumber::Mode::E164).to_string();
    Some((e164, national_of(&parsed)))
}

/// The E.164 form of a mobile number written the way people at home in `region` write it, bare
/// digits without a trunk or international prefix (`13812345678` in China), when it is one; `None`
/// sends the number through the whole parse.
///
/// The whole parse tries the number against every kind of number the region has, a regex each,
/// and costs about 50 µs: the largest part of an import's own work on a file of Chinese mobiles.
/// For digits that no prefix rule of the region touches, it keeps them as the national number
/// unchanged, and they are valid when the region's general and mobile patterns hold them; this
/// asks exactly that (the same patterns, through the same crate) and nothing else. Regions
/// that share their country code (+1, +7, +44) are left to the parse, which picks the region by
/// the number. `home_mobiles_read_as_the_whole_parse_reads_them` holds the two to the same
/// answers over more than a hundred thousand numbers.
fn home_mobile_e164(digits: &str, region: &str) -> Option<String> {
    use phonenumber::metadata::DATABASE;
    if !(3..=17).contains(&digits.len())
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || digits.starts_with('0')
    {
        return None;
    }
    let meta = DATABASE.by_id(region)?;
    let code = meta.country_code();
    if DATABASE.region(&code).is_none_or(|r| r.len() != 1) {
        return None;
    }
    // The parse strips what these find at the very start (a leftmost match elsewhere is
    // ignored, as the parse ignores it).
    let idd = meta.international_prefix().and_then(|re| re.find(digits));
    let trunk = meta
        .national_prefix_for_parsing()
        .and_then(|re| re.find(digits));
    if digits.starts_with(&code.to_string())
        || idd.is_some_and(|m| m.start() == 0)
        || trunk.is_some_and(|m| m.start() == 0)
        || meta
            .national_prefix()
            .is_some_and(|p| digits.starts_with(p))
    {
        return None;
    }
    let d = meta.descriptors();
    (d.general().is_match(digits) && d.mobile().is_some_and(|m| m.is_match(digits)))
        .then(|| format!("+{code}{digits}"))
}

/// What [`phone_national`] answers, by E.164 string.
static NATIONAL: LazyLock<quick_cache::sync::Cache<String, Option<String>>> =
    LazyLock::new(|| quick_cache::sync::Cache::new(PARSED_KEPT));

fn national_of(parsed: &phonenumber::PhoneNumber) -> Option<String> {
    Some(parsed.national().value().to_string())
}

/// The national significant number of an E.164 string (`+8613812345678` → `13812345678`), so a
/// search for the number as dialled at home finds it.
pub fn phone_national(e164: &str) -> Option<String> {
    if let Some(kept) = NATIONAL.get(e164) {
        return kept;
    }
    let national = phonenumber::parse(None, e164)
        .ok()
        .and_then(|parsed| national_of(&parsed));
    NATIONAL.insert(e164.to_string(), national.clone());
    national
}

/// Number shapes (and numbers) [`phone_pretty`] keeps: a few MB at most.
const PRETTY_KEPT: usize = 100_000;

/// How many of a number's last digits a kept shape leaves open at least: where nothing more is
/// known of what decides a number's format (see [`formats_of`]).
const OPEN_DIGITS: usize = 4;

/// How a number is written, found by formatting one: its text, with the byte positions where its
/// open digits (its last ones) stand, in order.
#[derive(Clone)]
struct Shape {
    text: String,
    open: Vec<usize>,
}

impl Shape {
    /// The shape of `pretty`, the formatting of `e164`, leaving its last `open` digits open, when
    /// they are `e164`'s last digits in order (in some formats they are not: then there is none).
    fn of(e164: &str, pretty: &str, open: usize) -> Option<Shape> {
        let wanted: Vec<u8> = e164
            .bytes()
            .rev()
            .filter(u8::is_ascii_digit)
            .take(open)
            .collect();
        let mut at_digit = vec![0usize; open];
        let mut found = 0;
        for (at, b) in pretty.bytes().enumerate().rev() {
            if found == open {
                break;
            }
            if b.is_ascii_digit() {
                if wanted.get(found) != Some(&b) {
                    return None;
                }
                at_digit[open - 1 - found] = at;
                found += 1;
            }
        }
        (found == open && open > 0).then(|| Shape {
            text: pretty.to_string(),
            open: at_digit,
        })
    }

    /// Another number of the same shape (the same digits before its last ones) written so.
    fn write(&self, last: &[u8]) -> String {
        let mut text = self.text.clone().into_bytes();
        for (at, digit) in self.open.iter().zip(last) {
            if let Some(b) = text.get_mut(*at) {
                *b = *digit;
            }
        }
        // Only ASCII digits replaced ASCII digits.
        String::from_utf8(text).unwrap_or_default()
    }
}

/// How the phone metadata picks a format for a calling code's numbers, as automata that read a
/// national number digit by digit: for each format in order, its pattern's group lengths and its
/// last leading-digits pattern (none: the format is taken as soon as it is reached).
struct Formats {
    formats: Vec<Format>,
}

/// One format: its pattern's groups as (fewest, most) digits, and its last leading-digits
/// pattern as an automaton.
struct Format {
    groups: Vec<(usize, usize)>,
    leading: Option<dense::DFA<Vec<u32>>>,
}

/// A calling code's one region (`CN`), and its formats for writing its numbers nationally and
/// internationally.
struct Written {
    region: String,
    national: Formats,
    international: Formats,
}

/// The calling code of an E.164 number (its length in digits) with how its numbers are written
/// nationally and internationally, or `None` where that cannot be read this way: a code
/// several regions share (+1, +7, +44), where the region, and with it national or international
/// writing, is told by whole-number patterns; or a format whose pattern is more than groups of
/// digits.
fn formats_of(e164: &str) -> Option<(usize, Arc<Written>)> {
    static KNOWN: LazyLock<Mutex<HashMap<u16, Option<Arc<Written>>>>> =
        LazyLock::new(Default::default);
    let digits = e164.strip_prefix('+')?;
    // Calling codes are a prefix code: no code begins another.
    let (len, code) = (1..=3).find_map(|n| {
        let code: u16 = digits.get(..n)?.parse().ok()?;
        phonenumber::metadata::DATABASE
            .by_code(&code)
            .map(|_| (n, code))
    })?;
    let mut known = KNOWN.lock().ok()?;
    let formats = known.entry(code).or_insert_with(|| read_formats(code));
    formats.clone().map(|f| (len, f))
}

fn read_formats(code: u16) -> Option<Arc<Written>> {
    let regions = phonenumber::metadata::DATABASE.by_code(&code)?;
    let [meta] = regions.as_slice() else {
        return None;
    };
    let read = |list: &[phonenumber::metadata::Format]| -> Option<Formats> {
        let mut formats = Vec::new();
        for format in list {
            let groups = digit_groups(format.pattern().as_str())?;
            let leading = match format.leading_digits().last() {
                // The metadata's patterns are written across lines, read ignoring white space.
                Some(p) => Some(
                    dense::Builder::new()
                        .syntax(regex_automata::util::syntax::Config::new().ignore_whitespace(true))
                        .build(p.as_str())
                        .ok()?,
                ),
                None => None,
            };
            formats.push(Format { groups, leading });
        }
        Some(Formats { formats })
    };
    let international = if meta.international_formats().is_empty() {
        meta.formats()
    } else {
        meta.international_formats()
    };
    Some(Arc::new(Written {
        region: meta.id().to_string(),
        national: read(meta.formats())?,
        international: read(international)?,
    }))
}

/// A format pattern's groups as (fewest, most) digits, when it is nothing but groups of digits
/// (`(\d{3})(\d{4,5})`).
fn digit_groups(pattern: &str) -> Option<Vec<(usize, usize)>> {
    let mut groups = Vec::new();
    for group in pattern.split_terminator(')') {
        let counts = group.strip_prefix("(\\d")?;
        let counts = match counts {
            "" => "{1}",
            c => c,
        };
        let inner = counts.strip_prefix('{')?.strip_suffix('}')?;
        let (low, high) = inner.split_once(',').unwrap_or((inner, inner));
        groups.push((low.parse().ok()?, high.parse().ok()?));
    }
    (!groups.is_empty()).then_some(groups)
}

impl Formats {
    /// How many leading digits of `national` decide its format: the format picked is the first
    /// whose leading-digits pattern matches the number's start and whose groups fit its
    /// length, and each pattern is read only until it has matched or cannot. `None` when a
    /// pattern needs the whole number to tell.
    fn deciding(&self, national: &[u8]) -> Option<usize> {
        let mut depth = 0;
        for Format { groups, leading } in &self.formats {
            let low: usize = groups.iter().map(|g| g.0).sum();
            let high: usize = groups.iter().map(|g| g.1).sum();
            // Each group takes as many as it may, so the lengths between fit.
            let fits = (low..=high).contains(&national.len());
            let Some(dfa) = leading else {
                // Taken whenever reached (the metadata's formatter asks nothing more).
                return Some(depth);
            };
            if !fits {
                continue;
            }
            let start = dfa
                .start_state_forward(&Input::new(national).anchored(Anchored::Yes))
                .ok()?;
            let mut state = start;
            let mut decided = None;
            for (i, b) in national.iter().enumerate() {
                state = dfa.next_state(state, *b);
                if dfa.is_dead_state(state) {
                    decided = Some((i + 1, false));
                    break;
                }
                if dfa.is_match_state(dfa.next_eoi_state(state)) {
                    decided = Some((i + 1, true));
                    break;
                }
            }
            let (read, matched) = decided?;
            depth = depth.max(read);
            if matched {
                return Some(depth);
            }
        }
        Some(depth)
    }
}

/// An E.164 number as people read it: nationally formatted (`0571 8888 6666`) when it belongs
/// to `home_region`, internationally (`+1 415-555-2671`) otherwise.
///
/// Formatting through the phone metadata costs about 9 µs a number (its patterns are regexes
/// found by their whole text, hashed, in one cache of 100 behind one lock, too small for
/// China's), and a list page formats a hundred and an export a million: a third of an export's
/// time. A number's format depends on its calling code, its length and the leading digits its
/// formats look at ([`Formats::deciding`]: two for a Chinese mobile, `1[3-9]`), so the shape of
/// one number (`15_ ____ ____`) is kept for every number that differs from it only after
/// those: an export of a million numbers formats each shape once. Where that depth is not known,
/// a shape leaves only the last four digits open; a format whose last digits are not the
/// number's own keeps each number's text instead.
pub fn phone_pretty(e164: &str, home_region: &str) -> String {
    static KEPT: LazyLock<quick_cache::sync::Cache<String, Option<Shape>>> =
        LazyLock::new(|| quick_cache::sync::Cache::new(PRETTY_KEPT));
    let shaped = e164.starts_with('+')
        && e164.len() > OPEN_DIGITS + 1
        && e164.bytes().skip(1).all(|b| b.is_ascii_digit());
    // The digits that decide the shape: the calling code and the deciding ones after it, or
    // all but the last four.
    let fixed = match formats_of(e164).filter(|_| shaped) {
        Some((code, written)) => {
            let formats = if written.region == home_region {
                &written.national
            } else {
                &written.international
            };
            match formats.deciding(&e164.as_bytes()[1 + code..]) {
                Some(depth) => 1 + code + depth,
                None => e164.len(),
            }
        }
        None => e164.len().saturating_sub(OPEN_DIGITS),
    };
    let last = e164.as_bytes().get(fixed..).unwrap_or_default();
    let shape_key = (shaped && !last.is_empty())
        .then(|| format!("{home_region} {} {}", e164.len(), &e164[..fixed]));
    if let Some(key) = &shape_key
        && let Some(Some(shape)) = KEPT.get(key)
    {
        return shape.write(last);
    }
    let exact_key = format!("{home_region} {e164} =");
    if let Some(Some(kept)) = KEPT.get(&exact_key) {
        return kept.text;
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
    match shape_key.and_then(|key| Some((key, Shape::of(e164, &pretty, last.len())?))) {
        Some((key, shape)) => KEPT.insert(key, Some(shape)),
        None => KEPT.insert(
            exact_key,
            Some(Shape {
                text: pretty.clone(),
                open: Vec::new(),
            }),
        ),
    }
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

/// Whether `input` is a unified social credit code (统一社会信用代码) with a right check
/// character: what an ERP export may name a customer by instead of its name.
pub fn is_uscc(input: &str) -> bool {
    let s = input.trim().to_uppercase();
    s.len() == 18 && looks_like_uscc(&s) && uscc_checksum_ok(&s)
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

    /// A number as the phone metadata writes it for readers at home in `region`, with nothing
    /// kept.
    fn written_afresh(parsed: &phonenumber::PhoneNumber, region: &str) -> String {
        let home = phonenumber::country::Id::from_str(region).ok();
        let mode = if parsed.country().id() == home {
            phonenumber::Mode::National
        } else {
            phonenumber::Mode::International
        };
        parsed.format().mode(mode).to_string()
    }

    /// The short way for bare home mobiles answers as the whole parse does, wherever it answers:
    /// random digit strings of every usual length in regions with and without trunk prefixes,
    /// and every Chinese mobile prefix (numbers that start like a carrier code, 1 79xx, are
    /// among them).
    #[test]
    fn home_mobiles_read_as_the_whole_parse_reads_them() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            // xorshift64*: any fixed sequence will do; the point is breadth.
            seed ^= seed >> 12;
            seed ^= seed << 25;
            seed ^= seed >> 27;
            seed.wrapping_mul(0x2545_f491_4f6c_dd1d)
        };
        let mut cases: Vec<(String, &str)> = Vec::new();
        for prefix in 100..200 {
            for _ in 0..500 {
                cases.push((format!("{prefix}{:08}", next() % 100_000_000), "CN"));
            }
        }
        let regions = [
            "CN", "HK", "MO", "TW", "SG", "JP", "KR", "DE", "FR", "AU", "IN", "US", "GB", "RU",
            "BR", "MX",
        ];
        for region in regions {
            for len in 5..=13 {
                for _ in 0..500 {
                    let n = next();
                    let digits: String = (0..len)
                        .map(|i| char::from(b'0' + ((n >> (i * 4)) % 10) as u8))
                        .collect();
                    cases.push((digits, region));
                }
            }
        }
        let mut answered = 0;
        for (digits, region) in &cases {
            if let Some(quick) = home_mobile_e164(digits, region) {
                answered += 1;
                let whole = whole_parse(digits, region);
                assert_eq!(
                    whole,
                    Some((quick.clone(), Some(digits.clone()))),
                    "{digits} in {region}"
                );
            }
        }
        // Most Chinese mobiles go the short way (the test would prove nothing otherwise).
        assert!(answered > 20_000, "{answered} of {}", cases.len());
    }

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

    /// The national part kept from a number's first parse is what parsing its E.164 form
    /// again gives, at home and abroad (a leading zero of Italy's included).
    #[test]
    fn the_national_part_kept_is_the_one_a_fresh_parse_gives() {
        for (typed, region) in [
            ("139 0029 9999", "CN"),
            ("010-6552 9988", "CN"),
            ("0571 8888 6666", "CN"),
            ("+852 2123 4567", "CN"),
            ("+1 (415) 555-2671", "CN"),
            ("020 7946 0958", "GB"),
            ("06 6982 1234", "IT"),
            ("+49 30 901820", "CN"),
            ("+81 3-1234-5678", "CN"),
        ] {
            let e164 = phone_e164(typed, region).unwrap();
            let fresh = phonenumber::parse(None, &e164)
                .map(|p| p.national().value().to_string())
                .ok();
            assert_eq!(phone_national(&e164), fresh, "{typed} ({region})");
        }
    }

    /// A kept shape writes every number as the phone metadata formats it, at home and abroad.
    #[test]
    fn kept_shapes_format_as_the_metadata_does() {
        let numbers = [
            "+8613812345678",
            "+8613812349999",
            "+8613812340000",
            "+8657188886666",
            "+8657188881234",
            "+861065529988",
            "+861065521111",
            "+8675512345678",
            "+8675512340001",
            "+14155552671",
            "+14155550000",
            "+442079460018",
            "+442079461234",
            "+33123456789",
            "+33123451111",
            "+85221234567",
            "+85221239876",
            "+4930123456",
            "+4930129999",
            "+5491123456789",
            "+5491123450000",
            "+81312345678",
            "+81312349876",
        ];
        for region in ["CN", "US", "GB", "FR", "HK", "DE", "AR", "JP"] {
            for n in numbers {
                let expected = written_afresh(&phonenumber::parse(None, n).unwrap(), region);
                // Twice: formatted, then from the kept shape (or a number of the same shape's).
                assert_eq!(phone_pretty(n, region), expected, "{n} in {region}");
                assert_eq!(phone_pretty(n, region), expected, "{n} in {region}, kept");
            }
        }
        assert_eq!(phone_pretty("not a number", "CN"), "not a number");
    }

    #[test]
    fn kept_shapes_write_every_number_as_the_metadata_does() {
        // Numbers of many shapes: Chinese mobiles of every prefix, landlines with two- and
        // three-digit area codes, service numbers; and other countries' numbers, national and
        // international. Each written from a kept shape must read as formatted afresh.
        let mut seed: u64 = 0x5eed;
        let mut digit = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            char::from(b'0' + ((seed >> 33) % 10) as u8)
        };
        let starts = [
            "+861", "+8613", "+8615", "+8617", "+8618", "+8619", "+86166", "+8610", "+8621",
            "+86571", "+86755", "+86400", "+86800", "+86951", "+3361", "+331", "+8529", "+8522",
            "+4915", "+4930", "+4989", "+8190", "+813", "+8166",
        ];
        let mut valid = 0;
        for start in starts {
            for len in 9..=14 {
                for _ in 0..40 {
                    let mut n = start.to_string();
                    while n.len() < len {
                        n.push(digit());
                    }
                    // Stored numbers are valid ones (`phone_e164`).
                    let Some(parsed) = phonenumber::parse(None, &n).ok().filter(|p| p.is_valid())
                    else {
                        continue;
                    };
                    valid += 1;
                    for region in ["CN", "FR", "HK", "DE", "JP", "US"] {
                        let expected = written_afresh(&parsed, region);
                        assert_eq!(phone_pretty(&n, region), expected, "{n} in {region}");
                    }
                }
            }
        }
        assert!(valid > 1_000, "{valid} valid numbers");
        // A Chinese mobile's format is decided by its first two digits (`1[3-9]`, and the
        // formats before it), so one shape serves a hundred million numbers.
        let (code, written) = formats_of("+8615220036479").unwrap();
        assert_eq!(code, 2);
        assert_eq!(written.national.deciding(b"15220036479"), Some(2));
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
