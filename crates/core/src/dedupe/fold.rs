//! Character-level folding shared by every name key: invisible characters out, full-width forms
//! to their ASCII twins, lower case.
//!
//! guanxi-core has no Unicode normalization crate (and this module may not add one), so instead
//! of NFKC the fold is done by hand for what people actually type into a CRM from a Chinese input
//! method: the full-width ASCII block U+FF01–U+FF5E (`Ａｃｍｅ`, `（`, `，`) and the ideographic
//! space U+3000. Other compatibility forms (circled digits, ligatures, half-width katakana) are
//! left as they are; they are rare in company and person names.

use crate::normalize::is_deceptive_format_char;

/// Invisible characters that make two names look alike while their text differs: zero-width
/// spaces and joiners, direction marks, bidi embeddings, overrides and isolates, word joiners and
/// invisible operators, the BOM, and the soft hyphen. A key drops them all (the name field keeps
/// rejecting the deceptive ones, see [`is_deceptive_format_char`]); joiners, which a name may
/// legitimately hold, carry no meaning for matching either.
pub(super) fn is_invisible(c: char) -> bool {
    is_deceptive_format_char(c)
        || matches!(
            c,
            '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
                | '\u{00AD}'
        )
}

/// The characters of `s` with invisible ones removed, width folded and lower-cased, in that
/// order: invisible characters first, so that none can sit inside a word the later steps look
/// for (`有限\u{200B}公司`); width before case, because full-width letters lower-case to
/// full-width letters.
pub(super) fn folded(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars()
        .filter(|&c| !is_invisible(c))
        .map(crate::normalize::fold_width)
        .flat_map(char::to_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold(s: &str) -> String {
        folded(s).collect()
    }

    #[test]
    fn full_width_ascii_and_ideographic_space_fold() {
        assert_eq!(fold("Ａｃｍｅ　Ｉｎｃ"), "acme inc");
        assert_eq!(fold("（北京）１２３，！～"), "(北京)123,!~");
    }

    #[test]
    fn every_listed_invisible_character_goes() {
        let listed = (0x200Bu32..=0x200F)
            .chain(0x202A..=0x202E)
            .chain(0x2060..=0x2064)
            .chain(0x2066..=0x2069)
            .chain([0xFEFF]);
        for cp in listed {
            let Some(c) = char::from_u32(cp) else {
                panic!("{cp:X} is a char")
            };
            assert!(is_invisible(c), "U+{cp:04X}");
            assert_eq!(fold(&format!("中{c}太")), "中太", "U+{cp:04X}");
        }
    }

    #[test]
    fn visible_characters_stay() {
        for c in ['a', '中', ' ', '·', '（', '\u{3001}', '-'] {
            assert!(!is_invisible(c), "{c}");
        }
    }
}
