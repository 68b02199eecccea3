//! Two- and three-character pieces ("grams") of the fields declared `grams`, kept in each
//! record's search document, so that a `contains` filter reads the few records holding the
//! pieces of what was typed instead of every row of the table.
//!
//! The pieces only narrow: the filter still applies its own `LIKE` to the candidates, so a list
//! returns exactly the records it returned without them. For that the candidates must include
//! every record the `LIKE` accepts. Both backends lower-case the column (SQLite its ASCII
//! letters, PostgreSQL every letter) and compare it with the typed text lower-cased; whatever
//! the column holds where it matched therefore lower-cases, character by character, to the
//! typed text lower-cased the same way. So the pieces are taken from the value and from the
//! typed text lower-cased one character at a time (no context rules such as the Greek final
//! sigma), and every piece of the typed text is a piece of the value.
//!
//! A piece is a token of its own in the document: a mark no typed search word can hold (see
//! [`super::text::tokens`]), the entity and field, and the piece's UTF-8 bytes in hex, which
//! keeps spaces and punctuation inside a piece without the tokenizer splitting it.

use std::collections::BTreeSet;
use std::fmt::Write;

/// Starts every piece token and separates its parts. A letter to both tokenizers, so a token
/// stays whole; never a character of a search query's tokens.
pub const MARK: char = 'ǂ';
/// Stands for `_` in entity and field names, which the tokenizer would split on.
pub const UNDERSCORE: char = 'ǁ';

/// The text typed shortest that the pieces can narrow: one character matches too much to be
/// worth a lookup.
pub const MIN_CHARS: usize = 2;

fn lower(text: &str) -> Vec<char> {
    text.chars().flat_map(char::to_lowercase).collect()
}

fn tag(name: &str) -> String {
    name.replace('_', &UNDERSCORE.to_string())
}

fn token(entity: &str, field: &str, piece: &[char]) -> String {
    let mut out = format!("{MARK}{}{MARK}{}{MARK}", tag(entity), tag(field));
    let mut buf = [0u8; 4];
    for c in piece {
        for b in c.encode_utf8(&mut buf).bytes() {
            // Writing to a String cannot fail.
            let _ = write!(out, "{b:02x}");
        }
    }
    out
}

/// Every two- and three-character piece of `value`, once each, as document tokens.
pub fn of_value(entity: &str, field: &str, value: &str) -> Vec<String> {
    let chars = lower(value);
    let mut seen = BTreeSet::new();
    for n in [2, 3] {
        for piece in chars.windows(n) {
            seen.insert(token(entity, field, piece));
        }
    }
    seen.into_iter().collect()
}

/// The tokens a record must hold for `typed` to be inside its field: the text itself when it
/// is two characters long, else three-character pieces that cover it (every third one, and the
/// last): a record holding the text holds every piece of it, and fewer pieces are fewer posting
/// lists to intersect (half the time for a 15-letter name), while the filter's own `LIKE`
/// decides about the rare record that holds the pieces apart. Taken from the text the filter's
/// `LIKE` compares (trimmed and lower-cased as a whole), which is what the column matched.
/// `None` when it is too short to narrow.
pub fn of_typed(entity: &str, field: &str, typed: &str) -> Option<Vec<String>> {
    let chars = lower(&typed.trim().to_lowercase());
    if chars.len() < MIN_CHARS {
        return None;
    }
    let n = chars.len().min(3);
    let last = chars.len() - n;
    let set: BTreeSet<String> = (0..=last)
        .step_by(n)
        .chain([last])
        .map(|at| token(entity, field, &chars[at..at + n]))
        .collect();
    Some(set.into_iter().collect())
}

/// Whether `typed` is one piece, itself ([`of_typed`]): at most three characters. Then a
/// record holding its piece holds the text, so the filter's `LIKE` turns down none of them,
/// but for a letter whose case SQLite's `lower` leaves as it is (Ä against ä).
pub fn is_one_piece(typed: &str) -> bool {
    lower(&typed.trim().to_lowercase()).len() <= 3
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contains_by_pieces(value: &str, typed: &str) -> bool {
        let have: BTreeSet<String> = of_value("e", "f", value).into_iter().collect();
        of_typed("e", "f", typed).is_some_and(|want| want.iter().all(|t| have.contains(t)))
    }

    #[test]
    fn every_substring_is_found_by_its_pieces() {
        let values = [
            "北京中太数据科技有限公司",
            "John O'Neil-Smith",
            "ÄRGER & Söhne GmbH",
            "ΟΔΥΣΣΕΑΣ",
            "欧阳 Na",
        ];
        let mut checked = 0;
        for v in values {
            let chars: Vec<char> = v.chars().collect();
            for i in 0..chars.len() {
                for j in i + 2..=chars.len() {
                    let sub: String = chars[i..j].iter().collect();
                    if sub.trim().chars().count() < 2 {
                        continue;
                    }
                    // As typed and in capitals: found whenever the filter's LIKE text
                    // (lower-cased as a whole, so a final Σ becomes ς) is in the value
                    // lower-cased, which is when the LIKE accepts the value.
                    for typed in [sub.clone(), sub.to_uppercase()] {
                        let like: String = typed.trim().to_lowercase();
                        if lower(v).iter().collect::<String>().contains(&like) {
                            assert!(contains_by_pieces(v, &typed), "{v:?} ⊇ {typed:?}");
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(checked > 300, "{checked}");
    }

    #[test]
    fn tokens_are_single_words_to_the_tokenizers() {
        for t in of_value("sales_order", "ship_to", "a b,c'd\"e") {
            assert!(t.chars().all(char::is_alphanumeric), "{t}");
        }
        assert_eq!(of_typed("e", "f", " x "), None);
        assert_eq!(of_typed("e", "f", "王芳").map(|v| v.len()), Some(1));
        assert_eq!(of_typed("e", "f", "smith").map(|v| v.len()), Some(2));
        assert_eq!(of_typed("e", "f", "abcdefghi").map(|v| v.len()), Some(3));
        assert_eq!(of_typed("e", "f", "abcdefghij").map(|v| v.len()), Some(4));
        for (typed, one) in [
            ("王芳", true),
            (" 欧阳娜 ", true),
            ("smith", false),
            ("欧阳娜娜", false),
        ] {
            assert_eq!(is_one_piece(typed), one, "{typed}");
            assert_eq!(
                of_typed("e", "f", typed).map(|v| v.len() == 1),
                Some(one),
                "{typed}"
            );
        }
    }

    #[test]
    fn fields_and_entities_do_not_share_tokens() {
        assert_ne!(of_value("a_b", "c", "xy"), of_value("a", "b_c", "xy"));
        assert_ne!(
            of_value("lead", "title", "xy"),
            of_value("case", "title", "xy")
        );
    }
}
