//! Numbers as Chinese users type them: `100万` is a million, `1.5亿` a hundred and fifty
//! million, `3千` three thousand; thousands separators (`1,000,000`) and full-width digits are
//! read too. Filters and amounts accept them wherever a plain number is accepted.

/// The plain decimal form of a number typed with a Chinese magnitude (`100万` → `1000000`,
/// `-2.5万` → `-25000`, `1,200` → `1200`), or `None` when `typed` is not such a number (it is then
/// read as it is, and refused there if it is not a number at all).
pub fn expand(typed: &str) -> Option<String> {
    let s: String = typed
        .trim()
        .chars()
        .filter(|c| *c != ',' && *c != '，' && !c.is_whitespace())
        .map(|c| match c {
            // Full-width digits, point and minus, as an IME may type them.
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            '．' => '.',
            '－' => '-',
            c => c,
        })
        .collect();
    let (number, zeros) = match s.char_indices().last() {
        Some((i, '万')) => (&s[..i], 4),
        Some((i, '亿')) => (&s[..i], 8),
        Some((i, '千')) => (&s[..i], 3),
        Some((i, '百')) => (&s[..i], 2),
        _ => (s.as_str(), 0),
    };
    let (negative, digits) = match number.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, number),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && frac.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    if zeros == 0 && s == typed.trim() {
        // Nothing to expand: the number reads as it was typed.
        return None;
    }
    // Move the decimal point `zeros` places right, keeping any digits still after it.
    let mut int_part = whole.to_string();
    let mut frac_part = frac.to_string();
    for _ in 0..zeros {
        if frac_part.is_empty() {
            int_part.push('0');
        } else {
            int_part.push(frac_part.remove(0));
        }
    }
    let int_part = int_part.trim_start_matches('0');
    let int_part = if int_part.is_empty() { "0" } else { int_part };
    let frac_part = frac_part.trim_end_matches('0');
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    out.push_str(int_part);
    if !frac_part.is_empty() {
        out.push('.');
        out.push_str(frac_part);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::expand;

    #[test]
    fn magnitudes_expand_and_plain_numbers_stay() {
        assert_eq!(expand("100万").as_deref(), Some("1000000"));
        assert_eq!(expand("1.5亿").as_deref(), Some("150000000"));
        assert_eq!(expand("2.345万").as_deref(), Some("23450"));
        assert_eq!(expand("0.00001万").as_deref(), Some("0.1"));
        assert_eq!(expand("-2.5万").as_deref(), Some("-25000"));
        assert_eq!(expand("3千").as_deref(), Some("3000"));
        assert_eq!(expand(" 1,000,000 ").as_deref(), Some("1000000"));
        assert_eq!(expand("１００万").as_deref(), Some("1000000"));
        assert_eq!(expand("1000000"), None);
        assert_eq!(expand("万"), None);
        assert_eq!(expand("abc万"), None);
        assert_eq!(expand("1.2.3万"), None);
        assert_eq!(expand(""), None);
    }
}
