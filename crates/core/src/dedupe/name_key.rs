//! The name key of a company and its pinyin key.
//!
//! A Chinese company's registered name is, by the naming rules, region, trade name, industry
//! and organisational form in that order (北京 中太 数据科技 有限公司), and the region may
//! instead sit in brackets after the trade name (中太数据科技（北京）有限公司). People leave out
//! or move the region, drop or abbreviate the form, and type full-width or half-width
//! punctuation as their input method pleases. The name key keeps what identifies the company — trade name and industry — and drops
//! the rest, so all those spellings share one key.
//!
//! # Steps, and why in this order
//!
//! 1. **Invisible characters out** (zero-width, bidi controls, BOM): first, because one inside
//!    a word (`有限\u{200B}公司`) would hide it from every later step.
//! 2. **Width fold and lower case** (full-width ASCII, the ideographic space; by hand, see
//!    [`super::fold`]): before punctuation and brackets are recognised, so `（` and `，` are the
//!    same characters as `(` and `,`, and before suffixes are matched, so `ＬＴＤ` is `ltd`.
//! 3. and 4. **Punctuation, spaces and bracketed regions out, in one pass.** Bracketed regions
//!    have to be found *while* the brackets are still there: removing punctuation first would
//!    leave nothing to tell 中太（北京）科技 from 中太北京科技. So one pass reads the text once:
//!    a bracketed part that is nothing but region names (or a country: `（中国）`, `(China)`) is
//!    dropped; any other bracketed part is kept without its brackets; other punctuation and
//!    spaces are dropped. Where a space or punctuation mark stood is remembered as a word break,
//!    because English suffixes only count as whole words: `Costco` is not `Cost` + `co`.
//!    The same pass without region removal gives the *plain form* step 7 falls back to.
//! 6. **Company-form suffixes off the end, repeatedly** (有限公司, 集团, `co ltd`, `inc`, …):
//!    before the leading regions, because how much of the name is left after the suffixes is
//!    what step 5 checks.
//! 5. **Leading regions off, repeatedly, longest name first** (广东省深圳市 → both), but only
//!    while at least [`MIN_CORE_CHARS`] characters remain. A two-character remainder is nearly
//!    always an industry word, and the region is then the trade name: 北京银行 and 上海银行 are
//!    different banks, not both 银行; 广州酒家 is not 酒家. The price is that a two-character
//!    trade name written with a leading region (北京中太) no longer meets the bracketed form
//!    (中太（北京）).
//! 7. **Fallback**: if nothing would be left — a name made only of forms and regions: 有限公司,
//!    `Group Inc`, 北京市, 广东省深圳市, 北京有限公司 — the key is the plain form, so such names
//!    match only themselves and not everything.
//!
//! # Branches
//!
//! 分公司 is *not* removed, and a name ending in it has no suffix removed at all: a branch signs
//! its own contracts, has its own address, contacts and tax registration, and most CRMs keep it
//! as its own account (linked to the parent), so 中太数据科技有限公司北京分公司 must not be
//! reported as a duplicate of 中太数据科技有限公司. Leading and bracketed regions still go, so
//! the branch's own spellings meet each other. 总公司 (head office) is the company itself and is
//! removed like 公司.
//!
//! # Known limits
//!
//! Regions match longest first, so 北京市场营销 loses 北京市, not 北京; and a common industry
//! word after a region (上海交通大学, 西安交通大学 → 交通大学) collides. The name rule only
//! warns, so a collision costs one look from the rep; the pinyin key is weaker still.

use std::collections::HashSet;

use pinyin::ToPinyin;

use super::fold::folded;
use crate::search::text::is_cjk;

/// The fewest characters a leading region may leave behind (after suffixes); see the module
/// documentation, step 5.
pub const MIN_CORE_CHARS: usize = 3;

/// Brackets deeper than this are read as plain punctuation, so a pathological name cannot
/// recurse without bound.
const MAX_BRACKET_DEPTH: usize = 8;

/// Country names that qualify a company only in brackets: 阿里巴巴（中国）有限公司,
/// `Siemens (China) Co., Ltd.`. Never removed at the start, where they are part of the name
/// (中国银行 is not 银行).
const BRACKET_ONLY: &[&str] = &["中国", "中华人民共和国", "china", "prc", "中国大陆"];

/// Organisational forms removed from the end of a name, in their folded form (lower case, no
/// punctuation). Latin ones count only as whole words. Multi-word forms (`co ltd`, `s.a.`) need
/// no entry of their own: their words go one by one, or they fold into one word (`co.ltd` →
/// `coltd`, `s.a.` → `sa`).
const SUFFIXES: &[&str] = &[
    "集团股份有限公司",
    "集团有限公司",
    "股份有限公司",
    "有限责任公司",
    "责任有限公司",
    "股份公司",
    "有限公司",
    "有限合伙",
    "普通合伙",
    "总公司",
    "集团",
    "公司",
    "控股",
    "incorporated",
    "corporation",
    "holdings",
    "holding",
    "limited",
    "company",
    "group",
    "coltd",
    "corp",
    "gmbh",
    "inc",
    "ltd",
    "llc",
    "llp",
    "plc",
    "pte",
    "co",
    "sa",
    "ag",
];

/// A branch office: see the module documentation.
const BRANCH: &str = "分公司";

fn is_opener(c: char) -> bool {
    matches!(
        c,
        '(' | '[' | '{' | '【' | '〔' | '〖' | '〘' | '〚' | '「' | '『' | '〈' | '《' | '⦅'
    )
}

fn is_closer(c: char) -> bool {
    matches!(
        c,
        ')' | ']' | '}' | '】' | '〕' | '〗' | '〙' | '〛' | '」' | '』' | '〉' | '》' | '⦆'
    )
}

/// Marks removed without breaking a word: `Co.Ltd` → `coltd`, `S.A.` → `sa`, `McDonald's`,
/// `Hewlett-Packard`.
fn is_joiner(c: char) -> bool {
    matches!(c, '.' | '\'' | '\u{2019}' | '-' | '\u{2010}' | '\u{2011}')
}

/// A letter or digit of a script that separates words with spaces. Han text has no word breaks,
/// so a Han character never needs one.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() && !is_cjk(c)
}

/// Folded text with no spaces or punctuation, and where the word breaks were.
#[derive(Debug, Default)]
struct Words {
    text: String,
    /// Byte offsets in `text`, ascending, where a space or punctuation separated two words.
    breaks: Vec<usize>,
    pending_break: bool,
}

impl Words {
    fn push(&mut self, c: char) {
        if self.pending_break && !self.text.is_empty() {
            self.breaks.push(self.text.len());
        }
        self.pending_break = false;
        self.text.push(c);
    }

    fn brk(&mut self) {
        self.pending_break = true;
    }

    fn append(&mut self, other: &Words) {
        if other.text.is_empty() {
            return;
        }
        let base = self.text.len();
        if base > 0 {
            self.breaks.push(base);
        }
        self.breaks.extend(other.breaks.iter().map(|b| b + base));
        self.text.push_str(&other.text);
        self.pending_break = true;
    }

    /// Whether a word may start or end at byte `i`: at either end, at a break, or where a Han
    /// character meets anything.
    fn is_boundary(&self, i: usize) -> bool {
        if i == 0 || i >= self.text.len() || self.breaks.binary_search(&i).is_ok() {
            return true;
        }
        let before = self.text.get(..i).and_then(|s| s.chars().next_back());
        let after = self.text.get(i..).and_then(|s| s.chars().next());
        !matches!((before, after), (Some(b), Some(a)) if is_word_char(b) && is_word_char(a))
    }
}

/// Reads folded characters into [`Words`]: letters and digits kept, joiners dropped, other
/// punctuation and spaces turned into word breaks, and each matched bracket pair replaced by its
/// content — or by nothing when `regions` is given and the content is only region names.
struct Reader<'a> {
    chars: &'a [char],
    /// For each opening bracket, the index of its closing one.
    partner: Vec<Option<usize>>,
    regions: Option<&'a RegionSet>,
}

impl<'a> Reader<'a> {
    fn new(chars: &'a [char], regions: Option<&'a RegionSet>) -> Reader<'a> {
        let mut partner = vec![None; chars.len()];
        let mut open = Vec::new();
        for (i, &c) in chars.iter().enumerate() {
            if is_opener(c) {
                open.push(i);
            } else if is_closer(c)
                && let Some(o) = open.pop()
            {
                partner[o] = Some(i);
            }
        }
        Reader {
            chars,
            partner,
            regions,
        }
    }

    fn read(&self, from: usize, to: usize, depth: usize) -> Words {
        let mut out = Words::default();
        let mut i = from;
        while i < to {
            let c = self.chars[i];
            if is_opener(c)
                && depth < MAX_BRACKET_DEPTH
                && let Some(close) = self.partner[i].filter(|&j| j < to)
            {
                let inner = self.read(i + 1, close, depth + 1);
                if self.regions.is_some_and(|r| r.is_qualifier(&inner)) {
                    out.brk();
                } else {
                    out.append(&inner);
                }
                i = close + 1;
                continue;
            }
            if c.is_alphanumeric() {
                out.push(c);
            } else if !is_joiner(c) {
                out.brk();
            }
            i += 1;
        }
        out
    }
}

fn read(name: &str, regions: Option<&RegionSet>) -> Words {
    let chars: Vec<char> = folded(name).collect();
    Reader::new(&chars, regions).read(0, chars.len(), 0)
}

/// A set of names, found at a position longest first.
#[derive(Debug, Default, Clone)]
struct NameTable {
    names: HashSet<String>,
    /// The distinct byte lengths of `names`, longest first.
    lens: Vec<usize>,
}

impl NameTable {
    fn insert(&mut self, name: String) {
        if name.is_empty() {
            return;
        }
        if !self.lens.contains(&name.len()) {
            self.lens.push(name.len());
            self.lens.sort_unstable_by(|a, b| b.cmp(a));
        }
        self.names.insert(name);
    }

    /// Whether `w.text[..end]` is one or more names and nothing else (and not empty).
    fn covers(&self, w: &Words, end: usize) -> bool {
        if end == 0 {
            return false;
        }
        let mut at = 0;
        while at < end {
            match self.longest_at(w, at, end) {
                Some(len) => at += len,
                None => return false,
            }
        }
        true
    }

    /// The byte length of the longest name that starts at `start`, ends by `end` and ends on a
    /// word boundary.
    fn longest_at(&self, w: &Words, start: usize, end: usize) -> Option<usize> {
        let rest = w.text.get(start..end)?;
        self.lens.iter().copied().find(|&len| {
            rest.get(..len)
                .is_some_and(|p| self.names.contains(p) && w.is_boundary(start + len))
        })
    }
}

/// The administrative region names that qualify a company name: removed at its start and in
/// brackets. Built from names as people write them (北京市, 北京, 内蒙古自治区, 内蒙古); each
/// is normalized as names are, so `北京 市` or full-width forms in the source list do no harm.
/// Give short forms explicitly: the set does not derive 北京 from 北京市.
#[derive(Debug, Default, Clone)]
pub struct RegionSet {
    /// Removed at the start of a name and in brackets.
    leading: NameTable,
    /// Removed in brackets: the regions and [`BRACKET_ONLY`] country names.
    bracketed: NameTable,
}

impl RegionSet {
    pub fn new(names: impl IntoIterator<Item = impl AsRef<str>>) -> RegionSet {
        let mut set = RegionSet::default();
        for name in names {
            let key = read(name.as_ref(), None).text;
            set.leading.insert(key.clone());
            set.bracketed.insert(key);
        }
        for country in BRACKET_ONLY {
            set.bracketed.insert((*country).to_string());
        }
        set
    }

    /// Whether bracketed text is nothing but regions: （北京）, （广东深圳）, （中国）.
    fn is_qualifier(&self, inner: &Words) -> bool {
        self.bracketed.covers(inner, inner.text.len())
    }
}

/// The longest organisational form that ends `text[..end]` on a word boundary.
fn suffix_at(w: &Words, end: usize) -> Option<usize> {
    let head = w.text.get(..end)?;
    if head.ends_with(BRANCH) {
        return None;
    }
    SUFFIXES
        .iter()
        .filter(|s| head.ends_with(**s) && w.is_boundary(end - s.len()))
        .map(|s| s.len())
        .max()
}

/// The key two spellings of one company's name share: 北京中太数据科技有限公司,
/// 中太数据科技（北京）有限公司 and `北京市 中太数据科技 股份有限公司` all give `中太数据科技`;
/// `Acme Co., Ltd.`, `ACME Inc` and `Ａｃｍｅ` give `acme`. See the module documentation for
/// the steps. Empty only when the name has no letters or digits at all; callers should not
/// match on an empty key.
pub fn company_name_key(name: &str, regions: &RegionSet) -> String {
    let w = read(name, Some(regions));

    let mut end = w.text.len();
    while let Some(len) = suffix_at(&w, end) {
        end -= len;
    }
    if end == 0 || regions.leading.covers(&w, end) {
        return read(name, None).text;
    }

    let mut start = 0;
    while let Some(len) = regions.leading.longest_at(&w, start, end) {
        let left = w
            .text
            .get(start + len..end)
            .map_or(0, |s| s.chars().count());
        if left < MIN_CORE_CHARS {
            break;
        }
        start += len;
    }
    w.text.get(start..end).unwrap_or_default().to_string()
}

/// The toneless pinyin of a name key, Han characters replaced by their syllables and everything
/// else kept: 中太数据科技 and 中泰数据科技 both give `zhongtaishujukeji`. A weaker rule than the
/// name key, for names heard on the phone or typed with the wrong homophone. `None` when the key
/// holds no Han character: Latin names are matched by the name key alone, which already is their
/// spelling.
///
/// Polyphonic characters take their most common reading (重庆 → `zhongqing`); both spellings of
/// a name get the same reading, which is all a key needs.
pub fn pinyin_key(name_key: &str) -> Option<String> {
    let mut han = false;
    let mut out = String::with_capacity(name_key.len() * 2);
    for c in name_key.chars() {
        if is_cjk(c) {
            han = true;
        }
        match c.to_pinyin() {
            Some(p) => out.push_str(p.plain()),
            None => out.push(c),
        }
    }
    han.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regions() -> RegionSet {
        RegionSet::new([
            "北京市",
            "北京",
            "上海市",
            "上海",
            "广东省",
            "广东",
            "内蒙古自治区",
            "内蒙古",
            "深圳市",
            "深圳",
            "西安市",
            "西安",
            "香港特别行政区",
            "香港",
        ])
    }

    fn key(name: &str) -> String {
        company_name_key(name, &regions())
    }

    fn same(a: &str, b: &str) {
        assert_eq!(key(a), key(b), "{a} vs {b}");
    }

    fn differ(a: &str, b: &str) {
        assert_ne!(key(a), key(b), "{a} vs {b}");
    }

    #[test]
    fn region_before_or_in_brackets_and_form_variants_meet() {
        let want = "中太数据科技";
        for name in [
            "北京中太数据科技有限公司",
            "中太数据科技（北京）有限公司",
            "中太数据科技(北京)有限公司",
            "北京市 中太数据科技 股份有限公司",
            "北京市中太数据科技股份有限公司",
            "中太数据科技【北京】有限公司",
            "中太数据科技 (北京市) 有限责任公司",
            "中太数据科技",
            "中太数据科技公司",
            "中太数据科技集团",
            "中太数据科技集团有限公司",
            "中太数据科技集团股份有限公司",
            "中太数据科技控股集团有限公司",
            "  中太数据科技有限公司  ",
        ] {
            assert_eq!(key(name), want, "{name}");
        }
    }

    #[test]
    fn latin_forms_meet() {
        for name in [
            "Acme Co., Ltd.",
            "ACME Inc",
            "acme",
            "Acme Inc.",
            "Acme Incorporated",
            "Acme Corp.",
            "Acme Corporation",
            "Acme, LLC",
            "Acme GmbH",
            "Acme Co.Ltd.",
            "Acme Co Ltd",
            "Acme Company Limited",
            "Acme Group",
            "Acme PLC",
            "Acme S.A.",
            "Acme AG",
            "Acme Holdings Ltd",
            "ACME LIMITED",
            "Ａｃｍｅ　Ｉｎｃ",
            "Ａｃｍｅ，Ｌｔｄ．",
        ] {
            assert_eq!(key(name), "acme", "{name}");
        }
    }

    #[test]
    fn latin_forms_are_whole_words_only() {
        assert_eq!(key("Costco"), "costco");
        assert_eq!(key("Visa"), "visa");
        assert_eq!(key("Zag Inc"), "zag");
        assert_eq!(key("Disco Inc"), "disco");
        assert_eq!(key("Bancorp"), "bancorp");
        assert_eq!(key("Ideag Ltd"), "ideag");
        // Joined by a dot or hyphen, still one word.
        assert_eq!(key("Star-Co"), "starco");
        // A Han character next to a Latin form is a word break.
        assert_eq!(key("中太Ltd"), "中太");
    }

    #[test]
    fn invisible_characters_do_not_split_or_hide() {
        same("中太\u{200B}数据科技有限公司", "中太数据科技有限公司");
        same("中太数据科技有限\u{200B}公司", "中太数据科技");
        same(
            "\u{FEFF}\u{202E}中太数据科技\u{2066}有限公司\u{2069}",
            "中太数据科技",
        );
        same("Acme\u{200D} In\u{2060}c", "acme");
        same("北\u{200C}京中太数据科技", "中太数据科技");
    }

    #[test]
    fn one_character_apart_stays_apart() {
        differ("中太数据", "中泰数据");
        differ("北京中太数据科技有限公司", "北京中泰数据科技有限公司");
        differ("Acme", "Acne");
    }

    #[test]
    fn country_in_brackets_and_group_forms() {
        same("阿里巴巴（中国）有限公司", "阿里巴巴集团");
        same("阿里巴巴(中国)网络技术有限公司", "阿里巴巴网络技术有限公司");
        same("Siemens (China) Co., Ltd.", "Siemens AG");
        same("西门子（中国）有限公司", "西门子");
        // At the start a country is part of the name.
        assert_eq!(key("中国银行股份有限公司"), "中国银行");
        differ("中国银行", "银行");
    }

    #[test]
    fn province_and_city_both_go() {
        same("深圳市腾讯计算机系统有限公司", "腾讯计算机系统");
        same(
            "广东省深圳市腾讯计算机系统有限公司",
            "腾讯计算机系统有限公司",
        );
        same(
            "广东深圳腾讯计算机系统有限公司",
            "腾讯计算机系统（深圳）有限公司",
        );
        same("腾讯计算机系统（广东省深圳市）有限公司", "腾讯计算机系统");
        same("腾讯计算机系统（中国深圳）有限公司", "腾讯计算机系统");
        same("内蒙古自治区伊利实业集团股份有限公司", "内蒙古伊利实业");
        assert_eq!(key("内蒙古伊利实业集团股份有限公司"), "伊利实业");
    }

    #[test]
    fn region_words_inside_a_name_stay() {
        // 华北 is no region in the set: a trade name, not a qualifier.
        assert_eq!(key("华北制药股份有限公司"), "华北制药");
        differ("华北制药", "制药");
        // A region in the middle is part of the name.
        assert_eq!(key("中太北京数据科技有限公司"), "中太北京数据科技");
        // Brackets holding anything but regions keep their content.
        assert_eq!(key("中太（数据）科技有限公司"), "中太数据科技");
        assert_eq!(
            key("中太数据科技（北京研发）有限公司"),
            "中太数据科技北京研发"
        );
        same("中太数据科技(集团)有限公司", "中太数据科技");
    }

    #[test]
    fn a_region_and_an_industry_word_is_a_name() {
        assert_eq!(key("北京银行股份有限公司"), "北京银行");
        differ("北京银行", "上海银行");
        assert_eq!(key("广东深圳银行"), "深圳银行");
        // Three characters left: the region goes.
        assert_eq!(key("北京三快科技有限公司"), "三快科技");
    }

    #[test]
    fn names_that_are_only_regions_or_forms_keep_themselves() {
        assert_eq!(key("北京市"), "北京市");
        assert_eq!(key("北京"), "北京");
        assert_eq!(key("广东省深圳市"), "广东省深圳市");
        differ("北京市", "中太数据科技");
        assert_eq!(key("（北京）"), "北京");
        assert_eq!(key("有限公司"), "有限公司");
        assert_eq!(key("集团有限公司"), "集团有限公司");
        assert_eq!(key("Group Inc."), "groupinc");
        assert_eq!(key("Co., Ltd."), "coltd");
        assert_eq!(key("（北京）有限公司"), "北京有限公司");
        assert_eq!(key("北京有限公司"), "北京有限公司");
        assert_eq!(key("北京市 有限公司"), "北京市有限公司");
        differ("北京有限公司", "北京");
        assert_eq!(key("深圳市"), "深圳市");
        differ("广东省深圳市", "深圳市");
        assert_eq!(key(""), "");
        assert_eq!(key(" ，。、 "), "");
    }

    #[test]
    fn branches_are_their_own_customers() {
        differ("中太数据科技有限公司北京分公司", "中太数据科技有限公司");
        assert_eq!(
            key("中太数据科技有限公司北京分公司"),
            "中太数据科技有限公司北京分公司"
        );
        same(
            "北京中太数据科技有限公司上海分公司",
            "中太数据科技（北京）有限公司 上海分公司",
        );
        differ(
            "中太数据科技有限公司上海分公司",
            "中太数据科技有限公司深圳分公司",
        );
        // A head office is the company itself.
        same("中太数据科技总公司", "中太数据科技有限公司");
    }

    #[test]
    fn punctuation_of_both_widths_goes() {
        same("中太·数据、科技，有限公司。", "中太数据科技");
        same("A&B Co., Ltd.", "AB");
        same("McDonald's Corporation", "McDonalds");
        same("Hewlett-Packard Company", "HewlettPackard");
        same("《中太》数据科技有限公司", "中太数据科技");
        same("中太数据科技〔北京〕有限公司", "中太数据科技");
        same("合伙企业（有限合伙）", "合伙企业");
    }

    #[test]
    fn unbalanced_and_deep_brackets_are_harmless() {
        assert_eq!(key("中太（北京有限公司"), "中太北京");
        assert_eq!(key("中太）北京（有限公司"), "中太北京");
        let deep = format!("{}北京{}中太数据科技", "(".repeat(50), ")".repeat(50));
        // Past the depth limit inner brackets read as punctuation; the region still goes.
        assert_eq!(key(&deep), "中太数据科技");
        let many = "((((".repeat(10_000);
        assert_eq!(key(&many), "");
    }

    #[test]
    fn region_set_normalizes_its_names() {
        let set = RegionSet::new(["  北京 市 ", "ＢＥＩＪＩＮＧ", ""]);
        assert_eq!(company_name_key("北京市中太数据科技", &set), "中太数据科技");
        assert_eq!(company_name_key("Beijing Acme Tech", &set), "acmetech");
        // A Latin region only as a whole word.
        assert_eq!(company_name_key("Beijingren Tech", &set), "beijingrentech");
        let empty = RegionSet::new(Vec::<String>::new());
        assert_eq!(
            company_name_key("北京中太数据科技", &empty),
            "北京中太数据科技"
        );
        assert_eq!(company_name_key("中太（中国）", &empty), "中太");
    }

    #[test]
    fn longest_region_first() {
        let set = RegionSet::new(["内蒙古", "内蒙古自治区"]);
        assert_eq!(company_name_key("内蒙古自治区伊利实业", &set), "伊利实业");
    }

    #[test]
    fn pinyin_key_joins_homophones() {
        let a = pinyin_key(&key("北京中太数据科技有限公司"));
        let b = pinyin_key(&key("中泰数据科技（北京）有限公司"));
        assert_eq!(a.as_deref(), Some("zhongtaishujukeji"));
        assert_eq!(a, b);
        assert_ne!(key("中太数据科技"), key("中泰数据科技"));
    }

    #[test]
    fn pinyin_key_keeps_latin_and_digits_and_skips_latin_only() {
        assert_eq!(pinyin_key("abc科技").as_deref(), Some("abckeji"));
        assert_eq!(pinyin_key("360安全").as_deref(), Some("360anquan"));
        assert_eq!(pinyin_key("acme"), None);
        assert_eq!(pinyin_key(""), None);
    }
}
