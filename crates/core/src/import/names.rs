//! A person's whole name, as one column of an imported file gives it (姓名, "Name"), split into
//! the family and given names a record keeps apart.
//!
//! - Chinese names: the family name is the first character, or the first two when they are a
//!   compound surname ([`COMPOUND_SURNAMES`]: 欧阳修 → 欧阳 + 修) and a given name follows;
//!   a space says where outright (张 三); a name that is a compound surname alone (司马) is one
//!   too.
//! - Transliterated names written with a middle dot (约翰·史密斯, 阿卜杜拉·艾力) read given name
//!   first, family name last.
//! - Western names: "Last, First" when there is a comma, else "First (Middle) Last", with a
//!   particle such as "van" or "de" kept with the family name.
//! - A family name with a form of address in place of the given name (王先生, 李总, 欧阳女士)
//!   keeps the form apart ([`PersonName::honorific`]).
//! - One word that is not Chinese is a given name (Madonna); a single Chinese character, a
//!   family name.

use crate::search::text::is_cjk;

/// Chinese two-character family names (复姓), the common ones first. 欧阳修's family name is 欧阳,
/// not 欧.
pub const COMPOUND_SURNAMES: &[&str] = &[
    "欧阳", "司马", "诸葛", "上官", "司徒", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文",
    "夏侯", "令狐", "轩辕", "端木", "独孤", "南宫", "西门", "呼延", "澹台", "公冶", "宗政", "濮阳",
    "淳于", "单于", "太叔", "申屠", "仲孙", "钟离", "闻人", "万俟", "赫连", "百里", "东郭", "南门",
    "羊舌", "微生", "梁丘", "左丘", "东门", "第五", "公羊", "谷梁", "拓跋", "司空", "司寇", "亓官",
    "巫马", "乐正", "壤驷", "漆雕", "公西", "颛孙", "子车", "宰父", "段干", "鲜于", "闾丘",
];

/// Lower-case words that belong to the family name that follows them (Ludwig van Beethoven).
const PARTICLES: &[&str] = &[
    "van", "von", "de", "der", "den", "da", "di", "del", "della", "du", "la", "le", "ter", "ten",
    "bin", "al",
];

/// What follows a family name in place of the given name, in lists that know a person only as
/// 王先生 or 李总: taken off and kept as [`PersonName::honorific`].
pub const HONORIFICS: &[&str] = &[
    "先生", "女士", "小姐", "太太", "总", "经理", "老师", "博士", "教授", "律师", "医生", "主任",
    "工",
];

/// A whole name in its two parts; either may be empty.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PersonName {
    pub family: String,
    pub given: String,
    /// A form of address written in place of the given name (王先生 → 先生), if any.
    pub honorific: Option<String>,
}

impl PersonName {
    fn new(family: &str, given: &str) -> PersonName {
        PersonName {
            family: family.trim().to_string(),
            given: given.trim().to_string(),
            honorific: None,
        }
    }
}

/// 王先生, 欧阳总: a family name alone (one character, or a compound surname) and a form of
/// address.
fn with_honorific(whole: &str) -> Option<PersonName> {
    HONORIFICS.iter().find_map(|h| {
        let family = whole.strip_suffix(h)?;
        let n = family.chars().count();
        let surname = (n == 1 && family.chars().all(is_cjk)) || COMPOUND_SURNAMES.contains(&family);
        surname.then(|| PersonName {
            family: family.to_string(),
            given: String::new(),
            honorific: Some((*h).to_string()),
        })
    })
}

/// Splits a whole name into family and given name (see the module's rules).
pub fn split(whole: &str) -> PersonName {
    let whole = collapse_spaces(whole);
    let whole = whole.as_str();
    if whole.is_empty() {
        return PersonName::default();
    }
    if let Some((family, given)) = whole.split_once([',', '，']) {
        return PersonName::new(family, given);
    }
    if let Some((given, family)) = whole.rsplit_once(['·', '•', '・', '‧']) {
        return PersonName::new(family, given);
    }
    let chinese = whole.chars().any(is_cjk);
    if chinese {
        if let Some(name) = with_honorific(whole) {
            return name;
        }
        if let Some((family, given)) = whole.split_once(' ') {
            return PersonName::new(family, given);
        }
        let chars: Vec<char> = whole.chars().collect();
        if chars.len() >= 2 {
            let two: String = chars[..2].iter().collect();
            if chars.len() > 2 && COMPOUND_SURNAMES.contains(&two.as_str()) {
                return PersonName::new(&two, &chars[2..].iter().collect::<String>());
            }
            if chars.len() == 2 && COMPOUND_SURNAMES.contains(&two.as_str()) {
                return PersonName::new(&two, "");
            }
            return PersonName::new(
                &chars[..1].iter().collect::<String>(),
                &chars[1..].iter().collect::<String>(),
            );
        }
        return PersonName::new(whole, "");
    }
    let words: Vec<&str> = whole.split(' ').collect();
    match words.as_slice() {
        [] => PersonName::default(),
        [one] => PersonName::new("", one),
        _ => {
            // The family name starts at the first particle before the last word, if any.
            let mut start = words.len() - 1;
            while start > 1 && PARTICLES.contains(&words[start - 1]) {
                start -= 1;
            }
            PersonName::new(&words[start..].join(" "), &words[..start].join(" "))
        }
    }
}

/// Trims and turns runs of spaces (full-width ones too) into one.
fn collapse_spaces(s: &str) -> String {
    s.split(|c: char| c.is_whitespace() || c == '\u{3000}')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(s: &str) -> (String, String) {
        let n = split(s);
        (n.family, n.given)
    }

    fn p(f: &str, g: &str) -> (String, String) {
        (f.to_string(), g.to_string())
    }

    #[test]
    fn chinese_names() {
        assert_eq!(parts("张三"), p("张", "三"));
        assert_eq!(parts("王小明"), p("王", "小明"));
        assert_eq!(parts(" 李 四 "), p("李", "四"));
        assert_eq!(parts("张"), p("张", ""));
        // A space says where, even against the list.
        assert_eq!(parts("欧 阳明"), p("欧", "阳明"));
    }

    #[test]
    fn compound_surnames() {
        for (whole, family, given) in [
            ("欧阳修", "欧阳", "修"),
            ("欧阳娜娜", "欧阳", "娜娜"),
            ("司马光", "司马", "光"),
            ("诸葛亮", "诸葛", "亮"),
            ("上官婉儿", "上官", "婉儿"),
            ("司徒雷登", "司徒", "雷登"),
            ("东方朔", "东方", "朔"),
            ("皇甫嵩", "皇甫", "嵩"),
            ("尉迟恭", "尉迟", "恭"),
            ("公孙胜", "公孙", "胜"),
            ("慕容复", "慕容", "复"),
            ("长孙无忌", "长孙", "无忌"),
            ("宇文泰", "宇文", "泰"),
            ("夏侯惇", "夏侯", "惇"),
            ("令狐冲", "令狐", "冲"),
        ] {
            assert_eq!(parts(whole), p(family, given), "{whole}");
        }
        // A compound surname alone, and names that only start like one.
        assert_eq!(parts("司马"), p("司马", ""));
        assert_eq!(parts("欧文"), p("欧", "文"));
        assert_eq!(parts("东风"), p("东", "风"));
    }

    #[test]
    fn forms_of_address_are_kept_apart() {
        let n = split("王先生");
        assert_eq!(
            (n.family.as_str(), n.given.as_str(), n.honorific.as_deref()),
            ("王", "", Some("先生"))
        );
        assert_eq!(split("欧阳女士").family, "欧阳");
        assert_eq!(split("李总").honorific.as_deref(), Some("总"));
        // A given name that only ends like one.
        assert_eq!(parts("张国总"), p("张", "国总"));
        assert_eq!(split("张国总").honorific, None);
    }

    #[test]
    fn dotted_and_western_names() {
        assert_eq!(parts("约翰·史密斯"), p("史密斯", "约翰"));
        assert_eq!(parts("John Smith"), p("Smith", "John"));
        assert_eq!(parts("Mary Ann  Smith"), p("Smith", "Mary Ann"));
        assert_eq!(parts("Smith, John"), p("Smith", "John"));
        assert_eq!(parts("Ludwig van Beethoven"), p("van Beethoven", "Ludwig"));
        assert_eq!(parts("Madonna"), p("", "Madonna"));
        assert_eq!(parts("   "), p("", ""));
    }
}
