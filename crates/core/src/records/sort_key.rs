//! The order people expect of names in a list: Chinese by pinyin, mixed in with Latin text
//! letter by letter, the same on SQLite and PostgreSQL.
//!
//! A sortable text field keeps, beside its value, a collation key in `<column>_sort`
//! ([`super::values::columns`]) that lists order by. The key is plain text whose bytes order as
//! the names should, so each backend orders it by comparing bytes: SQLite's default `BINARY`
//! collation, and PostgreSQL's `"C"` collation, which the column is declared with so that the
//! database's locale cannot reorder it. The keyset cursor carries the key like any other text
//! sort value.
//!
//! A key is two levels, `primary ␠ original`:
//!
//! - **primary**: the text as words joined by `-`: each Han character is a word of its toneless
//!   pinyin (北京 → `bei-jing`), read as a place or a trade name reads it where the dictionary's
//!   first reading is wrong there ([`WORDS`], [`FIRST`]); runs of letters and digits are words,
//!   lower-cased, with accents and full-width forms folded (`Běijīng` → `beijing`, `ＡＢＣ` →
//!   `abc`); spaces and punctuation only separate words (`Bei Jing` → `bei-jing`, next to 北京).
//!   The separator sorts before every letter and digit, so a word sorts before its longer
//!   continuations, syllable by syllable as a dictionary does: 西安 (`xi-an`) before 先 (`xian`).
//! - **original**: the text itself, after a space (which sorts before the separator), so names
//!   that read alike still differ and sort the same way every time: `Bei Jing` before 北京.
//!
//! Empty text has the empty key, so blanks sort first as `''` did. Very long text is cut
//! ([`MAX_PRIMARY_BYTES`], [`MAX_ORIGINAL_BYTES`]) so that a key fits a PostgreSQL index entry
//! and a cursor; two texts alike for that long compare equal and the id breaks the tie.
//!
//! Changing what [`key`] returns for any text (a new reading, a new fold) changes the order
//! stored keys make: it needs a migration that computes them again, as `m0017_pinyin_sort` did.

use pinyin::ToPinyin;

use crate::search::text::is_cjk;

/// Separates the words of the primary level. Below every letter and digit.
const WORD_BREAK: char = '-';
/// Separates the primary level from the original text. Below [`WORD_BREAK`], and never in the
/// primary level, which has no spaces.
const LEVEL_BREAK: char = ' ';

/// The longest primary level kept, in bytes: about 120 Chinese characters' pinyin, more than any
/// name, and short enough that a key fits a PostgreSQL index entry (at most 2704 bytes) and a
/// cursor (at most 2000 characters) with room to spare.
pub const MAX_PRIMARY_BYTES: usize = 512;
/// The longest part of the original text kept after the primary level, in bytes.
pub const MAX_ORIGINAL_BYTES: usize = 256;

/// Words whose characters read otherwise than the pinyin table's first reading, wherever they
/// occur in a text. Kept to place names and the words of company names that lists are full of:
///
/// - cities, districts and rivers where 长 is cháng, not zhǎng (长沙 长春 长治 长宁 长安 长江
///   长城), and 长子 (a county), where it is zhǎng, so that the [`FIRST`] rule leaves it alone;
/// - 重庆 chóng, not zhòng; 厦门 xià, not shà (大厦 stays shà); 蚌埠 bèng; 六安 lù; 乐清 yuè;
///   番禺 pān; 西藏 zàng; 都 dū, not dōu, which is the adverb and never a name (成都, 首都,
///   花都, 都市);
/// - 行 as háng, not xíng, in banks and their branches (银行, 分行, 支行), in 行业 (trade
///   associations) and in the title 行长; 会 as kuài in 会计 (accounting firms).
///
/// Longer words win where two start at the same character.
pub const WORDS: [(&str, &[&str]); 22] = [
    ("长沙", &["chang", "sha"]),
    ("长春", &["chang", "chun"]),
    ("长治", &["chang", "zhi"]),
    ("长宁", &["chang", "ning"]),
    ("长安", &["chang", "an"]),
    ("长江", &["chang", "jiang"]),
    ("长城", &["chang", "cheng"]),
    ("长子", &["zhang", "zi"]),
    ("重庆", &["chong", "qing"]),
    ("厦门", &["xia", "men"]),
    ("蚌埠", &["beng", "bu"]),
    ("六安", &["lu", "an"]),
    ("乐清", &["yue", "qing"]),
    ("番禺", &["pan", "yu"]),
    ("西藏", &["xi", "zang"]),
    ("都", &["du"]),
    ("银行", &["yin", "hang"]),
    ("分行", &["fen", "hang"]),
    ("支行", &["zhi", "hang"]),
    ("行业", &["hang", "ye"]),
    ("行长", &["hang", "zhang"]),
    ("会计", &["kuai", "ji"]),
];

/// Readings of a text's first character, where [`WORDS`] has none: 长 opens company names as
/// cháng (长虹, 长城, 长安, 长江, 长飞; zhǎng opens none but the county 长子), and 曾 opens
/// names as the surname Zēng (曾 as céng, "once", opens none).
pub const FIRST: [(char, &str); 2] = [('长', "chang"), ('曾', "zeng")];

/// Whether [`WORDS`] or [`FIRST`] read some character as `syllable` where the pinyin table's
/// first reading, which search documents hold (`search::text::pinyin_tokens`), differs.
pub fn is_overridden_reading(syllable: &str) -> bool {
    let differs = |c: char, reading: &str| {
        *reading == *syllable && c.to_pinyin().is_none_or(|p| p.plain() != reading)
    };
    WORDS.iter().any(|(word, readings)| {
        word.chars()
            .zip(readings.iter())
            .any(|(c, reading)| differs(c, reading))
    }) || FIRST.iter().any(|(c, reading)| differs(*c, reading))
}

/// The collation key of `text` (see the module documentation).
pub fn key(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    let mut p = Primary::default();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if p.full {
            break;
        }
        let Some(py) = c.to_pinyin() else {
            rest = &rest[c.len_utf8()..];
            p.other(c);
            continue;
        };
        if let Some((word, readings)) = word_at(rest) {
            for r in readings {
                p.syllable(r);
            }
            rest = &rest[word.len()..];
            continue;
        }
        rest = &rest[c.len_utf8()..];
        let first = p
            .out
            .is_empty()
            .then(|| FIRST.iter().find(|(f, _)| *f == c));
        match first.flatten() {
            Some((_, reading)) => p.syllable(reading),
            None => p.syllable(py.plain()),
        }
    }
    let mut out = p.out;
    out.push(LEVEL_BREAK);
    out.push_str(cut(text, MAX_ORIGINAL_BYTES));
    out
}

/// The longest word of [`WORDS`] that `text` starts with.
fn word_at(text: &str) -> Option<(&'static str, &'static [&'static str])> {
    WORDS
        .iter()
        .filter(|(w, _)| text.starts_with(w))
        .max_by_key(|(w, _)| w.len())
        .copied()
}

/// The primary level being built: words, and a break pending until the next word starts, so
/// that there is never a break at either end or two in a row.
#[derive(Default)]
struct Primary {
    out: String,
    pending_break: bool,
    /// Nothing more fits.
    full: bool,
}

impl Primary {
    fn word_break(&mut self) {
        self.pending_break = !self.out.is_empty();
    }

    fn letter(&mut self, c: char) {
        let needs = usize::from(self.pending_break) + c.len_utf8();
        if self.full || self.out.len() + needs > MAX_PRIMARY_BYTES {
            self.full = true;
            return;
        }
        if std::mem::take(&mut self.pending_break) {
            self.out.push(WORD_BREAK);
        }
        self.out.push(c);
    }

    /// A pinyin syllable as a word of its own. ü is written u (绿 `lu`), as it is folded in
    /// Latin text, so a typed `Lü` or `Lu` sorts with it.
    fn syllable(&mut self, s: &str) {
        self.word_break();
        for c in s.chars() {
            self.letter(if c == 'ü' { 'u' } else { c });
        }
        self.word_break();
    }

    /// A character the pinyin table has no reading for.
    fn other(&mut self, c: char) {
        let c = match c {
            // Full-width letters and digits (ＡＢＣ１２３) as the ASCII ones.
            'Ａ'..='Ｚ' | 'ａ'..='ｚ' | '０'..='９' => {
                char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
            }
            _ => c,
        };
        if c.is_ascii_alphanumeric() {
            self.letter(c.to_ascii_lowercase());
        } else if is_cjk(c) {
            // A Han character without a reading: a word of its own.
            self.word_break();
            self.letter(c);
            self.word_break();
        } else if let Some(folded) = fold(c) {
            for l in folded.chars() {
                self.letter(l);
            }
        } else if c.is_alphanumeric() {
            for l in c.to_lowercase() {
                self.letter(l);
            }
        } else if !ignorable(c) {
            self.word_break();
        }
    }
}

/// `s` cut to at most `max` bytes at a character boundary.
fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Marks that belong to the letter before them or inside a word, not between words: combining
/// accents and apostrophes (`O'Brien` → `obrien`).
fn ignorable(c: char) -> bool {
    matches!(c, '\u{300}'..='\u{36f}' | '\'' | '\u{2019}')
}

/// Accented letters of Western European names and of pinyin with tone marks, as plain
/// lower-case ASCII (`Běijīng` sorts with `beijing` and 北京, `Müller` with `muller`).
fn fold(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ǎ' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' | 'Ā'
        | 'Ǎ' => "a",
        'æ' | 'Æ' => "ae",
        'ç' | 'Ç' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ě' | 'È' | 'É' | 'Ê' | 'Ë' | 'Ē' | 'Ě' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'ǐ' | 'Ì' | 'Í' | 'Î' | 'Ï' | 'Ī' | 'Ǐ' => "i",
        'ñ' | 'Ñ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ǒ' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'Ō'
        | 'Ǒ' => "o",
        'œ' | 'Œ' => "oe",
        'ß' => "ss",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ǔ' | 'ǖ' | 'ǘ' | 'ǚ' | 'ǜ' | 'Ù' | 'Ú' | 'Û' | 'Ü' | 'Ū'
        | 'Ǔ' | 'Ǖ' | 'Ǘ' | 'Ǚ' | 'Ǜ' => "u",
        'ý' | 'ÿ' | 'Ý' => "y",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn primary(text: &str) -> String {
        let k = key(text);
        k.split_once(LEVEL_BREAK)
            .map(|(p, _)| p.to_string())
            .unwrap_or(k)
    }

    fn sorted(texts: &[&str]) -> Vec<String> {
        let mut v: Vec<&str> = texts.to_vec();
        v.sort_by_key(|t| key(t));
        v.into_iter().map(String::from).collect()
    }

    #[test]
    fn chinese_sorts_by_pinyin_with_place_readings() {
        assert_eq!(
            sorted(&["厦门", "上海", "重庆", "长沙", "北京", "阿里巴巴"]),
            ["阿里巴巴", "北京", "长沙", "重庆", "上海", "厦门"]
        );
        assert_eq!(primary("北京"), "bei-jing");
        assert_eq!(primary("长沙银行"), "chang-sha-yin-hang");
        assert_eq!(primary("重庆长安汽车"), "chong-qing-chang-an-qi-che");
        assert_eq!(primary("厦门航空"), "xia-men-hang-kong");
        assert_eq!(primary("国贸大厦"), "guo-mao-da-sha");
        assert_eq!(primary("蚌埠"), "beng-bu");
        assert_eq!(primary("六安"), "lu-an");
        assert_eq!(primary("乐清"), "yue-qing");
        assert_eq!(primary("乐山"), "le-shan");
        assert_eq!(primary("成都"), "cheng-du");
        assert_eq!(primary("西藏"), "xi-zang");
        assert_eq!(primary("番禺"), "pan-yu");
    }

    #[test]
    fn heteronyms_read_by_their_word_and_place() {
        // 行 in banks, 长 opening a name or in a title.
        assert_eq!(
            primary("中国工商银行北京分行"),
            "zhong-guo-gong-shang-yin-hang-bei-jing-fen-hang"
        );
        assert_eq!(primary("银行行长"), "yin-hang-hang-zhang");
        assert_eq!(primary("董事长"), "dong-shi-zhang");
        assert_eq!(primary("长虹"), "chang-hong");
        assert_eq!(primary("长子县"), "zhang-zi-xian");
        assert_eq!(primary("旅行社"), "lu-xing-she");
        assert_eq!(primary("立信会计师事务所"), "li-xin-kuai-ji-shi-shi-wu-suo");
        assert_eq!(primary("开会"), "kai-hui");
        // 曾 opens a name as the surname; inside one it keeps the table's reading.
        assert_eq!(primary("曾"), "zeng");
        assert_eq!(primary("曾伟"), "zeng-wei");
        assert_eq!(primary("何曾"), "he-ceng");
    }

    #[test]
    fn latin_digits_and_punctuation() {
        assert_eq!(primary("Apple Inc."), "apple-inc");
        assert_eq!(primary("3M 中国"), "3m-zhong-guo");
        assert_eq!(primary("华为Huawei"), "hua-wei-huawei");
        assert_eq!(primary("  ——（北京）—— "), "bei-jing");
        assert_eq!(primary("O'Brien & Co"), "obrien-co");
        assert_eq!(primary("Běijīng Café"), "beijing-cafe");
        assert_eq!(primary("Müller"), "muller");
        assert_eq!(primary("ＡＢＣ１２３"), "abc123");
        assert_eq!(primary("吕"), "lu");
        assert_eq!(primary("Straße"), "strasse");
        assert_eq!(primary("Москва"), "москва");
        // Digits before letters, letters by pinyin and by themselves alike.
        assert_eq!(
            sorted(&["Zebra", "阿里巴巴", "Bosch", "北京", "3M", "Apple", "长沙"]),
            ["3M", "阿里巴巴", "Apple", "北京", "Bosch", "长沙", "Zebra"]
        );
    }

    #[test]
    fn syllables_compare_one_by_one_and_originals_break_ties() {
        // As a dictionary: xi before xian, whatever follows.
        assert!(key("西安") < key("先"));
        assert!(key("北京") < key("北京市"));
        // Read alike, told apart by the text itself, the same way every time.
        assert!(key("Bei Jing") < key("北京"));
        assert_ne!(key("北京"), key("背景"));
        assert!(key("李四") < key("理想"));
        assert!(key("abc") < key("ABD"));
        assert!(key("ABC") != key("abc"));
        // Blank first; punctuation alone after blanks, before words.
        assert_eq!(key(""), "");
        assert!(key("") < key("---"));
        assert!(key("---") < key("0"));
        assert_eq!(key("---"), " ---");
    }

    #[test]
    fn long_text_is_cut_to_fit_an_index_entry_and_a_cursor() {
        let long = "北京".repeat(1000);
        let k = key(&long);
        let (p, o) = k.split_once(LEVEL_BREAK).unwrap();
        assert!(p.len() <= MAX_PRIMARY_BYTES, "{}", p.len());
        assert!(!p.ends_with(WORD_BREAK));
        assert!(o.len() <= MAX_ORIGINAL_BYTES);
        assert!(long.starts_with(o));
        let latin = "Ab".repeat(1000);
        assert!(key(&latin).len() <= MAX_PRIMARY_BYTES + 1 + MAX_ORIGINAL_BYTES);
    }

    #[test]
    fn every_word_reads_one_syllable_per_character() {
        for (word, readings) in WORDS {
            assert_eq!(word.chars().count(), readings.len(), "{word}");
            for (c, r) in word.chars().zip(readings.iter()) {
                assert!(
                    c.to_pinyin().is_some(),
                    "{word}: {c} is a character the table reads"
                );
                assert!(r.chars().all(|c| c.is_ascii_lowercase()), "{word}: {r}");
            }
        }
    }
}
