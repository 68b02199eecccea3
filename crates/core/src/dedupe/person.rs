//! The name key of a contact.
//!
//! Chinese, Japanese and Korean names are written family name first and their order carries
//! meaning, so for them the key is family + given in that order: 张 三, `张三` and `张三 ` (in
//! either field, split or not) all give `张三`, while 三张 stays another person.
//!
//! Names in other scripts have no reliable order in a CRM: one rep types family `Smith`, given
//! `John`; another types `John Smith` into one field; a third writes `Smith, John`. Which word is
//! the family name cannot be told from the text, so the key ignores order: the words of both
//! fields, sorted, joined. John Smith, `Smith John` and family=Smith given=John all give
//! `johnsmith`. The price — `Lee Kim` meets `Kim Lee` — is small for a rule that only warns.
//! Romanised Chinese names (`Zhang San` / `San Zhang`) fall in this group and gain from it.

use super::fold::folded;
use crate::search::text::is_cjk;

/// Scripts whose names are written family name first.
fn is_family_first(c: char) -> bool {
    is_cjk(c)
        || matches!(
            c,
            '\u{3040}'..='\u{30FF}' // hiragana, katakana
                | '\u{1100}'..='\u{11FF}' // hangul jamo
                | '\u{3130}'..='\u{318F}' // hangul compatibility jamo
                | '\u{AC00}'..='\u{D7AF}' // hangul syllables
        )
}

/// The words of one name field, folded (invisible characters out, full-width to half-width,
/// lower case) with everything but letters and digits removed inside each word: `O'Brien` →
/// `obrien`, `Jean-Luc` → `jeanluc`, `阿卜杜拉·买买提` → one word.
fn words(field: &str) -> Vec<String> {
    let folded: String = folded(field).collect();
    folded
        .split(|c: char| c.is_whitespace() || c == ',')
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric())
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// The key two spellings of one contact's name share; see the module documentation. Empty when
/// neither field has a letter or digit; callers should not match on an empty key.
pub fn person_name_key(family: &str, given: &str) -> String {
    let mut all = words(family);
    all.extend(words(given));
    if !all.iter().any(|w| w.chars().any(is_family_first)) {
        all.sort_unstable();
    }
    all.concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_names_ignore_spaces_and_field_split() {
        for (family, given) in [
            ("张", "三"),
            ("张三", ""),
            ("", "张三"),
            ("张三 ", ""),
            ("张 三", ""),
            (" 张", " 三 "),
            ("张\u{3000}", "三"),
            ("张\u{200B}", "\u{FEFF}三"),
        ] {
            assert_eq!(
                person_name_key(family, given),
                "张三",
                "{family:?} {given:?}"
            );
        }
    }

    #[test]
    fn chinese_order_matters() {
        assert_ne!(person_name_key("张", "三"), person_name_key("三", "张"));
        assert_ne!(person_name_key("张", "三"), person_name_key("章", "三"));
    }

    #[test]
    fn latin_names_ignore_order_case_and_width() {
        let want = "johnsmith";
        for (family, given) in [
            ("Smith", "John"),
            ("", "John Smith"),
            ("John Smith", ""),
            ("John", "Smith"),
            ("SMITH", "john"),
            ("Smith,", "John"),
            ("", "Smith, John"),
            ("Ｓｍｉｔｈ", "Ｊｏｈｎ"),
            ("  Smith ", "\tJohn  "),
        ] {
            assert_eq!(person_name_key(family, given), want, "{family:?} {given:?}");
        }
        assert_ne!(
            person_name_key("Smith", "John"),
            person_name_key("Smith", "Jon")
        );
    }

    #[test]
    fn punctuation_inside_names() {
        assert_eq!(
            person_name_key("O'Brien", "Pat"),
            person_name_key("OBrien", "Pat")
        );
        assert_eq!(person_name_key("Picard", "Jean-Luc"), "jeanlucpicard");
        assert_eq!(person_name_key("", "阿卜杜拉·买买提"), "阿卜杜拉买买提");
        assert_eq!(person_name_key("", ""), "");
    }

    #[test]
    fn japanese_and_korean_keep_order() {
        assert_eq!(person_name_key("やまだ", "たろう"), "やまだたろう");
        assert_eq!(person_name_key("김", "민수"), "김민수");
        assert_ne!(person_name_key("김", "민수"), person_name_key("민수", "김"));
    }
}
