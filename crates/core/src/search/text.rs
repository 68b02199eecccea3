//! Turning names and contact details into search tokens, and queries into token patterns, with
//! one tokenizer for both so what is indexed is what is asked for.
//!
//! Chinese text: every CJK character is its own token, so a phrase of characters matches any
//! substring, two-character names included (王芳 among millions is one phrase lookup, not a scan).
//! Each Chinese name is also indexed by its pinyin syllables in order, the syllables run together
//! (`zhangsan`) and the initials (`zs`). A Latin query is tried both as a word prefix and, when it
//! splits into pinyin syllables, as a phrase of them, so `zhongtai` finds 北京中太数据科技有限公司.

use std::collections::HashSet;
use std::sync::OnceLock;

use pinyin::ToPinyin;

pub fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2EBEF)
}

/// Splits text into lower-case tokens: runs of ASCII letters and digits (and other non-CJK
/// letters), and single CJK characters. Everything else separates, the marks of
/// [`super::grams`] tokens included, so no typed word can match those.
pub fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        if is_cjk(c) {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            out.push(c.to_string());
        } else if c.is_alphanumeric() && c != super::grams::MARK && c != super::grams::UNDERSCORE {
            cur.extend(c.to_lowercase());
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Pinyin tokens of a name: syllables in order, then the run-together form and the initials.
pub fn pinyin_tokens(name: &str) -> Vec<String> {
    let mut syllables = Vec::new();
    for c in name.chars() {
        if let Some(p) = c.to_pinyin() {
            syllables.push(p.plain().to_string());
        }
    }
    if syllables.is_empty() {
        return vec![];
    }
    let full: String = syllables.concat();
    let initials: String = syllables.iter().filter_map(|s| s.chars().next()).collect();
    let mut out = syllables;
    out.push(full);
    out.push(initials);
    out
}

/// Every syllable the pinyin table knows, for splitting Latin queries.
fn syllables() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        (0x4E00u32..=0x9FFF)
            .filter_map(char::from_u32)
            .filter_map(|c| c.to_pinyin())
            .map(|p| p.plain())
            .collect()
    })
}

/// Splits a Latin word into pinyin syllables, the last of which may be unfinished
/// (`zhongt` → zhong, t…). Prefers the fewest syllables. `None` when it is not pinyin or is a
/// single syllable (a plain prefix search covers that).
pub fn split_pinyin(word: &str) -> Option<Vec<String>> {
    let set = syllables();
    let n = word.len();
    if !(2..=60).contains(&n) || !word.bytes().all(|b| b.is_ascii_lowercase()) {
        return None;
    }
    // best[i] = fewest syllables covering word[..i], with the split point before it.
    let mut best: Vec<Option<(usize, usize)>> = vec![None; n + 1];
    best[0] = Some((0, 0));
    for i in 0..n {
        let Some((count, _)) = best[i] else { continue };
        for j in (i + 1)..=n.min(i + 6) {
            let piece = &word[i..j];
            let whole = set.contains(piece);
            let unfinished = j == n && set.iter().any(|s| s.starts_with(piece));
            if whole || unfinished {
                let cand = (count + 1, i);
                if best[j].is_none_or(|b| cand.0 < b.0) {
                    best[j] = Some(cand);
                }
            }
        }
    }
    let mut parts = Vec::new();
    let mut end = n;
    while end > 0 {
        let (_, start) = best[end]?;
        parts.push(word[start..end].to_string());
        end = start;
    }
    parts.reverse();
    if parts.len() < 2 { None } else { Some(parts) }
}

/// The most readings [`typed_pinyin`] gives of one text.
pub const MOST_READINGS: usize = 4;

/// Latin text typed into a name filter read as pinyin (`zhongtai`, `Zhong Tai`, `zhongt`): the
/// ways it splits into syllables, the last of which may be unfinished (`t`, the start of `tai`),
/// fewest syllables first, and at most one syllable more than the fewest: `xian` is 先 `xian`
/// or 西安 `xi-an`, `changan` is 长安 `chang-an` or `chan-gan`. At most [`MOST_READINGS`].
/// Empty when the text is not pinyin, or is shorter than two letters, which would match too
/// much to mean anything.
pub fn typed_pinyin(typed: &str) -> Vec<Vec<String>> {
    let words: Vec<String> = typed.split_whitespace().map(str::to_lowercase).collect();
    if words.iter().map(String::len).sum::<usize>() < 2
        || words
            .iter()
            .any(|w| w.len() > 60 || !w.bytes().all(|b| b.is_ascii_lowercase()))
    {
        return Vec::new();
    }
    let mut readings: Vec<Vec<String>> = vec![Vec::new()];
    for (i, w) in words.iter().enumerate() {
        let last = i + 1 == words.len();
        let splits = splits(w, last);
        readings = readings
            .iter()
            .flat_map(|r| {
                splits.iter().map(move |s| {
                    let mut r = r.clone();
                    r.extend(s.iter().cloned());
                    r
                })
            })
            .collect();
        if readings.is_empty() {
            return readings;
        }
    }
    let fewest = readings.iter().map(Vec::len).min().unwrap_or(0);
    readings.retain(|r| r.len() <= fewest + 1);
    readings.sort_by_key(Vec::len);
    readings.truncate(MOST_READINGS);
    readings
}

/// Every way `word` splits into whole syllables, the last of them unfinished where `open`.
/// Bounded: a word splits at most 64 ways before the rest are left out.
fn splits(word: &str, open: bool) -> Vec<Vec<String>> {
    let set = syllables();
    let mut out = Vec::new();
    let mut stack: Vec<(usize, Vec<String>)> = vec![(0, Vec::new())];
    while let Some((at, parts)) = stack.pop() {
        if out.len() >= 64 {
            break;
        }
        for j in (at + 1..=word.len().min(at + 6)).rev() {
            let piece = &word[at..j];
            let end = j == word.len();
            let fits =
                set.contains(piece) || (end && open && set.iter().any(|s| s.starts_with(piece)));
            if !fits {
                continue;
            }
            let mut next = parts.clone();
            next.push(piece.to_string());
            if end {
                out.push(next);
            } else {
                stack.push((j, next));
            }
        }
    }
    out
}

/// The token that lets a phone number be found by its last digits: the digits reversed, so a
/// prefix search on it is a suffix search on the number.
pub fn reversed_phone_token(digits: &str) -> String {
    format!("r{}", digits.chars().rev().collect::<String>())
}

/// Digits typed in the search box: the start of the number (as stored internationally or
/// nationally, with or without the trunk 0) or its end.
fn phone_term(digits: &str) -> Term {
    let mut alts = vec![
        Term::Phrase {
            tokens: vec![digits.to_string()],
            prefix: true,
        },
        Term::Phrase {
            tokens: vec![reversed_phone_token(digits)],
            prefix: true,
        },
    ];
    let trimmed = digits.trim_start_matches('0');
    if trimmed != digits && !trimmed.is_empty() {
        alts.push(Term::Phrase {
            tokens: vec![trimmed.to_string()],
            prefix: true,
        });
    }
    Term::Any(alts)
}

/// One thing every result must match.
#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    /// Tokens in order; the last may be a prefix.
    Phrase { tokens: Vec<String>, prefix: bool },
    /// Any of these.
    Any(Vec<Term>),
    /// Either of two forms, the first much cheaper to look up and usually enough: a pinyin word
    /// as the run-together pinyin of a name, or as a phrase of its syllables.
    Either {
        preferred: Box<Term>,
        fallback: Box<Term>,
    },
}

/// Parses a search box query into terms that must all match.
pub fn parse_query(q: &str) -> Vec<Term> {
    let q = q.trim();
    // A phone number typed with spaces or dashes is one number.
    if q.chars().filter(|c| c.is_ascii_digit()).count() >= 3
        && q.chars().all(|c| c.is_ascii_digit() || " -+()".contains(c))
    {
        let digits: String = q.chars().filter(|c| c.is_ascii_digit()).collect();
        return vec![phone_term(&digits)];
    }
    let mut terms = Vec::new();
    for chunk in q.split_whitespace().take(10) {
        let toks = tokens(chunk);
        if toks.is_empty() {
            continue;
        }
        let last_is_cjk = toks.last().is_some_and(|t| t.chars().all(is_cjk));
        let phrase = Term::Phrase {
            tokens: toks.clone(),
            prefix: !last_is_cjk,
        };
        if toks.len() == 1
            && let Some(parts) = split_pinyin(&toks[0])
        {
            // A finished last syllable is matched exactly: as a prefix, `san` would also pull in
            // every `sang…` token, which costs much and finds little.
            let unfinished = parts
                .last()
                .is_some_and(|p| !syllables().contains(p.as_str()));
            terms.push(Term::Either {
                preferred: Box::new(phrase),
                fallback: Box::new(Term::Phrase {
                    tokens: parts,
                    prefix: unfinished,
                }),
            });
            continue;
        }
        terms.push(phrase);
    }
    terms
}

/// The query with every [`Term::Either`] reduced to its preferred form; `None` when it has none.
pub fn narrow(terms: &[Term]) -> Option<Vec<Term>> {
    if !terms.iter().any(|t| matches!(t, Term::Either { .. })) {
        return None;
    }
    Some(
        terms
            .iter()
            .map(|t| match t {
                Term::Either { preferred, .. } => (**preferred).clone(),
                other => other.clone(),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizes_mixed_text() {
        assert_eq!(
            tokens("北京中太 Data-Tech 2024"),
            vec!["北", "京", "中", "太", "data", "tech", "2024"]
        );
        assert_eq!(
            tokens("zhang.san@Example.com"),
            vec!["zhang", "san", "example", "com"]
        );
    }

    #[test]
    fn pinyin_of_names() {
        assert_eq!(
            pinyin_tokens("张三"),
            vec!["zhang", "san", "zhangsan", "zs"]
        );
        assert!(pinyin_tokens("Acme").is_empty());
    }

    #[test]
    fn narrow_keeps_the_run_together_pinyin() {
        let terms = parse_query("zhangwei 中");
        let narrow = narrow(&terms).unwrap();
        assert_eq!(
            narrow,
            vec![
                Term::Phrase {
                    tokens: vec!["zhangwei".into()],
                    prefix: true
                },
                Term::Phrase {
                    tokens: vec!["中".into()],
                    prefix: false
                }
            ]
        );
        assert_eq!(super::narrow(&parse_query("中太")), None);
    }

    #[test]
    fn reads_typed_names_as_pinyin() {
        let read = |t: &str| {
            typed_pinyin(t)
                .iter()
                .map(|r| r.join("-"))
                .collect::<Vec<_>>()
        };
        assert_eq!(read("zhongtai")[0], "zhong-tai");
        assert_eq!(read("Zhong Tai")[0], "zhong-tai");
        assert_eq!(read("zhongt")[0], "zhong-t");
        assert_eq!(read("zhang")[0], "zhang");
        assert_eq!(read("bei jingzh")[0], "bei-jing-zh");
        // Both readings of an ambiguous spelling.
        assert!(read("xian").contains(&"xi-an".to_string()));
        assert!(read("xian").contains(&"xian".to_string()));
        assert!(read("chongqingchangan").contains(&"chong-qing-chang-an".to_string()));
        assert!(read("xianxianxianxian").len() <= MOST_READINGS);
        // An unfinished syllable only at the end; not pinyin at all; too short.
        assert!(read("zhongt ai").is_empty());
        assert!(read("smith").is_empty());
        assert!(read("中太").is_empty());
        assert!(read("z").is_empty());
    }

    #[test]
    fn splits_pinyin_queries() {
        assert_eq!(split_pinyin("zhangsan").unwrap(), vec!["zhang", "san"]);
        assert_eq!(split_pinyin("zhongtai").unwrap(), vec!["zhong", "tai"]);
        assert_eq!(split_pinyin("zhongt").unwrap(), vec!["zhong", "t"]);
        assert_eq!(split_pinyin("zhang"), None);
        assert_eq!(split_pinyin("xyz"), None);
    }

    #[test]
    fn parses_queries() {
        assert_eq!(
            parse_query("中太"),
            vec![Term::Phrase {
                tokens: vec!["中".into(), "太".into()],
                prefix: false
            }]
        );
        assert_eq!(
            parse_query("138 1234 5678"),
            vec![Term::Any(vec![
                Term::Phrase {
                    tokens: vec!["13812345678".into()],
                    prefix: true
                },
                Term::Phrase {
                    tokens: vec!["r87654321831".into()],
                    prefix: true
                },
            ])]
        );
        assert!(matches!(&parse_query("zhangsan")[0], Term::Either { .. }));
        // a phone number has no cheaper form to try first
        assert_eq!(super::narrow(&parse_query("138 1234 5678")), None);
        assert!(parse_query("  ** ").is_empty());
    }
}
