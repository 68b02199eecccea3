//! Splitting a one-line Chinese address (北京市丰台区科技园路382号, 浙江杭州西湖区文三路) into
//! province, city, district and street, by the division data.
//!
//! Every way of reading the line's start as province, city and district names (full or short,
//! each level optional, each inside the one above) is tried, and the reading that covers the
//! most characters wins; on a tie, the one with the longer higher-level names (海南 alone is the
//! province, not Qinghai's prefecture 海南藏族自治州, which is written 海南州). A level left
//! out is filled from the level below (深圳市 gives 广东省; a district gives its city), and a
//! municipality is its own city. Short names are guarded against street names that begin with
//! them (朝阳路, 中山北路): see [`STREET_CHARS`].

use std::borrow::Cow;

use super::divisions::{Index, index};

/// A one-line address in its parts: official full names, the city repeated for a
/// municipality (北京市 / 北京市 / 丰台区), empty where the line names no such level; the street is
/// the rest of the line as written, width-folded and trimmed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SplitAddress {
    pub province: String,
    pub city: String,
    pub district: String,
    pub street: String,
}

/// The characters that, right after a short name, show it is the start of a longer proper name
/// rather than the division: a road or street (朝阳路, 朝阳门, 北京大街), a place (深圳湾, 杭州湖),
/// or another division's suffix (朝阳区 when the name matched was the city 朝阳). Such a short
/// name counts only when a lower division's name follows it directly (枣庄市中区: 枣庄 then
/// 市中区).
const STREET_CHARS: &str =
    "路街道巷弄胡里号桥门村镇乡庄站公广小大湾港湖河江岛山园苑楼厦寺区县市省州旗盟";

/// Directions that with a road word after them continue a street name (朝阳北路, 中山东街):
/// 朝阳 followed by 北路 is a road, followed by 北苑 it may well be the district.
const DIRECTIONS: &str = "东西南北中";
const ROAD_AFTER_DIRECTION: &str = "路街道大巷环里门桥";

/// What may stand between the parts: spaces, commas, 、 and the dashes and slashes of exported
/// forms (广东省-深圳市-南山区).
fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, ',' | '、' | '-' | '/' | '|')
}

/// A country name before the address, as on a business card: 中国北京市….
const COUNTRY_PREFIXES: &[&str] = &["中华人民共和国", "中国"];

/// The longest line [`split_line`] reads: an address is far shorter, and a caller can name the
/// limit rather than answer "not recognised".
pub const MAX_LINE_CHARS: usize = 500;

/// A division name found at the start of the remaining text.
#[derive(Debug, Clone, Copy)]
struct Hit {
    /// Position in the index.
    entry: usize,
    /// Where in the line the name ends (bytes).
    end: usize,
    /// Counted in characters, for comparing readings.
    chars: usize,
    /// A short name followed by a [`STREET_CHARS`] character: it stands only if a lower
    /// division follows.
    needs_more: bool,
}

/// Splits a one-line Chinese address into province, city, district and street; `None` when the
/// line does not start with a province, city or district name this can place (an address abroad,
/// a district name several cities share without the city given, an empty line).
pub fn split_line(line: &str) -> Option<SplitAddress> {
    if line.chars().count() > MAX_LINE_CHARS {
        return None;
    }
    let line = crate::normalize::fold_width_and_spaces(line);
    let idx = index();
    let mut start = skip_separators(&line, 0);
    for prefix in COUNTRY_PREFIXES {
        if line[start..].starts_with(prefix) {
            start = skip_separators(&line, start + prefix.len());
            break;
        }
    }
    let (p, c, d) = best_reading(idx, &line, start)?;
    let last = [d, c, p].into_iter().flatten().next()?;

    let district = d.map(|h| h.entry);
    let city = c.map(|h| h.entry).or_else(|| {
        district
            .and_then(|i| parent_of(idx, i))
            .or_else(|| p.and_then(|h| idx.municipality_city(h.entry)))
    });
    let province = p
        .map(|h| h.entry)
        .or_else(|| city.and_then(|i| parent_of(idx, i)));
    let name = |i: Option<usize>| {
        i.map(|i| idx.entries[i].division.name.to_string())
            .unwrap_or_default()
    };
    let street_from = skip_separators(&line, last.end);
    Some(SplitAddress {
        province: name(province),
        city: name(city),
        district: name(district),
        street: line[street_from..].trim().to_string(),
    })
}

type Reading = (Option<Hit>, Option<Hit>, Option<Hit>);

/// The reading of the line's start, from `at`, that covers the most characters.
fn best_reading(idx: &Index, line: &str, at: usize) -> Option<Reading> {
    let mut best: Option<(usize, Reading)> = None;
    let mut consider = |reading: Reading| {
        let hits = [reading.0, reading.1, reading.2];
        let valid = hits.iter().enumerate().all(|(n, h)| match h {
            Some(h) if h.needs_more => hits[n + 1..].iter().any(Option::is_some),
            _ => true,
        });
        let chars: usize = hits.iter().flatten().map(|h| h.chars).sum();
        if valid && chars > 0 && best.as_ref().is_none_or(|(b, _)| chars > *b) {
            best = Some((chars, reading));
        }
    };
    // Longer names are tried first at each level and a reading must beat the best so far, so
    // on a tie the reading with the longer higher-level names stands.
    for p in options(idx, &idx.provinces, line, at, false) {
        let after_p = p.map_or(at, |h| skip_separators(line, h.end));
        let cities: &[usize] = match p {
            Some(h) => &idx.entries[h.entry].children,
            None => &idx.cities,
        };
        for c in options(idx, cities, line, after_p, false) {
            let after_c = c.map_or(after_p, |h| skip_separators(line, h.end));
            // A district is looked for in the city found; else anywhere in the province found
            // (上海浦东新区: the municipality's city goes unnamed); else in the whole country,
            // by full name only, since short ones (朝阳, 南山) are shared by many cities.
            let (districts, full_only): (Cow<[usize]>, bool) = match (p, c) {
                (_, Some(c)) => (Cow::Borrowed(&idx.entries[c.entry].children), false),
                (Some(p), None) => (
                    idx.entries[p.entry]
                        .children
                        .iter()
                        .flat_map(|&city| idx.entries[city].children.iter().copied())
                        .collect(),
                    false,
                ),
                (None, None) => (Cow::Borrowed(&idx.districts), true),
            };
            for d in options(idx, &districts, line, after_c, full_only) {
                consider((p, c, d));
            }
        }
    }
    best.map(|(_, reading)| reading)
}

/// The names in `scope` that the line continues with at `at`, longest first, then `None` (the
/// level left out). A name two divisions in the scope share is left out: it places neither.
fn options(
    idx: &Index,
    scope: &[usize],
    line: &str,
    at: usize,
    full_only: bool,
) -> Vec<Option<Hit>> {
    let rest = &line[at..];
    let mut hits: Vec<Hit> = Vec::new();
    // Several entries matching the same length: ambiguous at that length.
    let mut shared: Vec<usize> = Vec::new();
    for &entry in scope {
        for (name, short) in idx.forms(entry) {
            if (short && full_only) || !rest.starts_with(name) {
                continue;
            }
            let end = at + name.len();
            if let Some(other) = hits.iter().find(|h| h.end == end) {
                if other.entry != entry {
                    shared.push(end);
                }
                continue;
            }
            hits.push(Hit {
                entry,
                end,
                chars: name.chars().count(),
                needs_more: short && continues_a_name(&line[end..]),
            });
        }
    }
    hits.retain(|h| !shared.contains(&h.end));
    hits.sort_by_key(|h| std::cmp::Reverse(h.end));
    let mut out: Vec<Option<Hit>> = hits.into_iter().map(Some).collect();
    out.push(None);
    out
}

/// Whether the text right after a short name shows the name is part of a longer one.
fn continues_a_name(after: &str) -> bool {
    let mut chars = after.chars();
    match (chars.next(), chars.next()) {
        (Some(c), _) if STREET_CHARS.contains(c) => true,
        (Some(c), Some(next)) => DIRECTIONS.contains(c) && ROAD_AFTER_DIRECTION.contains(next),
        _ => false,
    }
}

fn skip_separators(line: &str, from: usize) -> usize {
    line[from..]
        .char_indices()
        .find(|(_, c)| !is_separator(*c))
        .map_or(line.len(), |(i, _)| from + i)
}

fn parent_of(idx: &Index, i: usize) -> Option<usize> {
    idx.position(idx.entries[i].division.parent?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(line: &str) -> Option<[String; 4]> {
        split_line(line).map(|s| [s.province, s.city, s.district, s.street])
    }

    #[track_caller]
    fn check(line: &str, want: [&str; 4]) {
        assert_eq!(split(line), Some(want.map(String::from)), "{line}");
    }

    #[test]
    fn full_names() {
        check(
            "北京市丰台区科技园路382号",
            ["北京市", "北京市", "丰台区", "科技园路382号"],
        );
        check(
            "广东省深圳市南山区科技园南区",
            ["广东省", "深圳市", "南山区", "科技园南区"],
        );
        check(
            "新疆维吾尔自治区乌鲁木齐市天山区人民路1号",
            ["新疆维吾尔自治区", "乌鲁木齐市", "天山区", "人民路1号"],
        );
        check(
            "重庆市城口县葛城街道",
            ["重庆市", "重庆市", "城口县", "葛城街道"],
        );
    }

    #[test]
    fn short_names() {
        check(
            "浙江杭州西湖区文三路",
            ["浙江省", "杭州市", "西湖区", "文三路"],
        );
        check(
            "上海浦东新区张江路",
            ["上海市", "上海市", "浦东新区", "张江路"],
        );
        check("广西南宁青秀区", ["广西壮族自治区", "南宁市", "青秀区", ""]);
        check("北京朝阳望京", ["北京市", "北京市", "朝阳区", "望京"]);
        check(
            "湖北恩施州利川市",
            ["湖北省", "恩施土家族苗族自治州", "利川市", ""],
        );
    }

    #[test]
    fn a_level_left_out_is_filled_from_below() {
        check(
            "深圳市南山区科技园",
            ["广东省", "深圳市", "南山区", "科技园"],
        );
        check("杭州西湖区", ["浙江省", "杭州市", "西湖区", ""]);
        // A district alone, when only one city has it.
        check("浦东新区张江路", ["上海市", "上海市", "浦东新区", "张江路"]);
        // Province and district, the city between them found from the district.
        check("广东南山区科技园", ["广东省", "深圳市", "南山区", "科技园"]);
    }

    #[test]
    fn municipalities_and_cities_without_districts() {
        check("北京", ["北京市", "北京市", "", ""]);
        check("天津市和平区", ["天津市", "天津市", "和平区", ""]);
        check(
            "湖北省仙桃市沔阳大道1号",
            ["湖北省", "仙桃市", "", "沔阳大道1号"],
        );
        check("广东省东莞市长安镇", ["广东省", "东莞市", "", "长安镇"]);
        check("东莞长安镇", ["广东省", "东莞市", "", "长安镇"]);
        check(
            "香港特别行政区中西区皇后大道中",
            ["香港特别行政区", "", "", "中西区皇后大道中"],
        );
    }

    #[test]
    fn spaces_separators_and_full_width() {
        check(
            "  北京市 丰台区　科技园路３８２号 ",
            ["北京市", "北京市", "丰台区", "科技园路382号"],
        );
        check(
            "广东省-深圳市-南山区-科技园",
            ["广东省", "深圳市", "南山区", "科技园"],
        );
        check(
            "中国 浙江省，杭州市，西湖区，文三路 ５号",
            ["浙江省", "杭州市", "西湖区", "文三路 5号"],
        );
    }

    #[test]
    fn street_names_that_begin_with_a_division_stay_in_the_street() {
        // 深圳 has no 朝阳区; Beijing has, and its 朝阳路 and 朝阳北路 are roads all the same.
        check(
            "广东省深圳市朝阳路1号",
            ["广东省", "深圳市", "", "朝阳路1号"],
        );
        check("北京市朝阳路8号", ["北京市", "北京市", "", "朝阳路8号"]);
        check("北京朝阳北路8号", ["北京市", "北京市", "", "朝阳北路8号"]);
        check(
            "上海市南京路步行街",
            ["上海市", "上海市", "", "南京路步行街"],
        );
        check(
            "广州市越秀区北京路",
            ["广东省", "广州市", "越秀区", "北京路"],
        );
        // A short name then a lower division's name is read as both.
        check("山东枣庄市中区", ["山东省", "枣庄市", "市中区", ""]);
        check("南京江宁区", ["江苏省", "南京市", "江宁区", ""]);
        // The longer reading: the city 吉林市 rather than the province 吉林 and 市….
        check("吉林市船营区", ["吉林省", "吉林市", "船营区", ""]);
    }

    #[test]
    fn ambiguous_short_names_are_resolved_only_inside_the_place_found() {
        // 朝阳区 is in Beijing and in Changchun; 南山区 in Shenzhen and in Hegang.
        assert_eq!(split("朝阳区建国路"), None);
        check("长春朝阳区建国路", ["吉林省", "长春市", "朝阳区", "建国路"]);
        check("北京朝阳区", ["北京市", "北京市", "朝阳区", ""]);
        assert_eq!(split("南山区科技园"), None);
        check("鹤岗南山区", ["黑龙江省", "鹤岗市", "南山区", ""]);
        // A short district name is not looked up nationwide: 丰台 needs its city.
        assert_eq!(split("丰台科技园"), None);
        // 海南 is a province and a prefecture of Qinghai; 海南州 is the prefecture.
        check("海南海口", ["海南省", "海口市", "", ""]);
        check(
            "青海海南州共和县",
            ["青海省", "海南藏族自治州", "共和县", ""],
        );
        check("海南州共和县", ["青海省", "海南藏族自治州", "共和县", ""]);
    }

    #[test]
    fn lines_that_are_not_chinese_addresses() {
        assert_eq!(split("1 Market St, San Francisco"), None);
        assert_eq!(split("1 Market St, San Francisco, CA 94105, USA"), None);
        assert_eq!(split(""), None);
        assert_eq!(split("   "), None);
        assert_eq!(split("中山路100号"), None);
        assert_eq!(split("科技园路382号"), None);
        assert_eq!(split("中国"), None);
        assert_eq!(split(&"北京".repeat(300)), None);
    }

    #[test]
    fn every_province_city_and_district_splits_back() {
        let idx = index();
        for &p in &idx.provinces {
            let pn = idx.entries[p].division.name;
            let cities = &idx.entries[p].children;
            if cities.is_empty() {
                check(pn, [pn, "", "", ""]);
            }
            for &c in cities {
                let cn = idx.entries[c].division.name;
                let districts = &idx.entries[c].children;
                if districts.is_empty() {
                    check(&format!("{pn}{cn}"), [pn, cn, "", ""]);
                }
                for &d in districts {
                    let dn = idx.entries[d].division.name;
                    let line = if pn == cn {
                        format!("{pn}{dn}一号")
                    } else {
                        format!("{pn}{cn}{dn}一号")
                    };
                    check(&line, [pn, cn, dn, "一号"]);
                }
            }
        }
    }
}
