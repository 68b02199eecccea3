//! Estimating text width without a font: the server never knows which font the reader's
//! browser picks, so layout works from em estimates that err on the wide side (a label cut a
//! little early reads better than one running into its neighbour).

/// Size of all chart text, in viewBox units.
pub(crate) const FONT: f64 = 12.0;

const ELLIPSIS: char = '…';

/// Width of one character in ems. Chinese, Japanese and Korean characters (and full-width
/// forms and emoji) are square; Latin, digits and punctuation average a little over half.
pub(crate) fn em(c: char) -> f64 {
    let u = c as u32;
    if is_zero_width(u) {
        0.0
    } else if is_wide(u) || c == ELLIPSIS {
        1.0
    } else {
        0.6
    }
}

fn is_zero_width(u: u32) -> bool {
    matches!(u,
        0x0300..=0x036F     // combining diacritics
        | 0x200B..=0x200F   // zero-width space, joiners, direction marks
        | 0xFE00..=0xFE0F   // variation selectors
    )
}

fn is_wide(u: u32) -> bool {
    matches!(u,
        0x1100..=0x115F         // Hangul Jamo
        | 0x2E80..=0x303E       // CJK radicals, ideographic punctuation
        | 0x3040..=0xA4CF       // kana, bopomofo, CJK unified ideographs, Yi
        | 0xAC00..=0xD7A3       // Hangul syllables
        | 0xF900..=0xFAFF       // CJK compatibility ideographs
        | 0xFE30..=0xFE4F       // CJK compatibility forms
        | 0xFF00..=0xFF60       // full-width forms
        | 0xFFE0..=0xFFE6
        | 0x1F300..=0x1FAFF     // emoji
        | 0x20000..=0x3FFFD     // CJK extensions B and beyond
    )
}

/// Estimated width of `s` at `size` units.
pub(crate) fn width(s: &str, size: f64) -> f64 {
    s.chars().map(em).sum::<f64>() * size
}

/// `s` cut to fit `max` units, ending in "…" when anything was cut.
pub(crate) fn truncate(s: &str, max: f64, size: f64) -> String {
    if width(s, size) <= max {
        return s.to_string();
    }
    let room = max - em(ELLIPSIS) * size;
    let mut used = 0.0;
    let mut kept = String::new();
    for c in s.chars() {
        let w = em(c) * size;
        if used + w > room {
            break;
        }
        used += w;
        kept.push(c);
    }
    let mut kept = kept.trim_end().to_string();
    kept.push(ELLIPSIS);
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_counts_a_full_em_and_latin_six_tenths() {
        assert_eq!(width("张伟", 12.0), 24.0);
        assert!((width("Alice", 10.0) - 30.0).abs() < 1e-9);
        // "¥" is narrow, "万" is wide.
        assert!((width("¥120万", 10.0) - 34.0).abs() < 1e-9);
        assert_eq!(width("e\u{301}", 10.0), 6.0);
    }

    #[test]
    fn truncation_keeps_fewer_chinese_than_latin_characters_in_the_same_room() {
        let cjk = truncate("上海欧阳明远科技有限公司", 60.0, 12.0);
        assert_eq!(cjk, "上海欧阳…");
        assert!(width(&cjk, 12.0) <= 60.0);

        let latin = truncate("International Business Machines", 60.0, 12.0);
        assert_eq!(latin, "Intern…");
        assert!(width(&latin, 12.0) <= 60.0);
    }

    #[test]
    fn truncation_leaves_fitting_text_alone_and_trims_space_before_the_ellipsis() {
        assert_eq!(truncate("张伟", 24.0, 12.0), "张伟");
        assert_eq!(truncate("Sales Team East", 60.0, 12.0), "Sales…");
        assert_eq!(truncate("", 0.0, 12.0), "");
        // No room at all still yields a marker rather than a panic or an empty string.
        assert_eq!(truncate("张伟", 0.0, 12.0), "…");
    }
}
