//! The HTML escaping of every template (`askama.toml` names it): the same five characters as
//! askama's own escaper, written the same way, found eight bytes at a time.
//!
//! A board writes about 300 KB of escaped text a request (card titles, names, links) in about
//! 4,500 short pieces, and askama's byte-by-byte search was a tenth of its CPU. Most text has
//! nothing to escape, so finding the next special character fast and copying the run before it
//! is nearly all the work. (A SIMD search was tried first: its setup per call cost more than it
//! saved on pieces this short.)

use std::fmt::{self, Write};

/// The escaper: `"` `&` `'` `<` `>` as numeric character references.
#[derive(Clone, Copy, Debug, Default)]
pub struct Html;

impl askama::filters::Escaper for Html {
    fn write_escaped_str<W: Write>(&self, mut dest: W, text: &str) -> fmt::Result {
        let bytes = text.as_bytes();
        let mut last = 0;
        while let Some(at) = next_special(bytes, last) {
            if at > last {
                dest.write_str(&text[last..at])?;
            }
            dest.write_str(reference(bytes[at]))?;
            last = at + 1;
        }
        if last < text.len() {
            dest.write_str(&text[last..])?;
        }
        Ok(())
    }

    fn write_escaped_char<W: Write>(&self, mut dest: W, c: char) -> fmt::Result {
        match c {
            '"' | '&' | '\'' | '<' | '>' => dest.write_str(reference(c as u8)),
            _ => dest.write_char(c),
        }
    }
}

/// Which bytes are escaped.
const SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    t[b'"' as usize] = true;
    t[b'&' as usize] = true;
    t[b'\'' as usize] = true;
    t[b'<' as usize] = true;
    t[b'>' as usize] = true;
    t
};

/// The first special byte at or after `from`: whole blocks of eight are passed with one test
/// (the branch a byte-by-byte loop takes on every byte, taken once per block).
fn next_special(bytes: &[u8], from: usize) -> Option<usize> {
    let rest = bytes.get(from..)?;
    let mut blocks = rest.chunks_exact(8);
    let mut at = from;
    for block in blocks.by_ref() {
        if block
            .iter()
            .fold(false, |any, &b| any | SPECIAL[usize::from(b)])
        {
            return block
                .iter()
                .position(|&b| SPECIAL[usize::from(b)])
                .map(|i| at + i);
        }
        at += 8;
    }
    blocks
        .remainder()
        .iter()
        .position(|&b| SPECIAL[usize::from(b)])
        .map(|i| at + i)
}

/// The reference a special character is written as; askama's own, so pages read the same.
fn reference(b: u8) -> &'static str {
    match b {
        b'"' => "&#34;",
        b'&' => "&#38;",
        b'\'' => "&#39;",
        b'<' => "&#60;",
        _ => "&#62;",
    }
}

#[cfg(test)]
mod tests {
    use askama::filters::Escaper;

    use super::*;

    fn ours(s: &str) -> String {
        let mut out = String::new();
        Html.write_escaped_str(&mut out, s).unwrap();
        out
    }

    fn askamas(s: &str) -> String {
        let mut out = String::new();
        askama::filters::Html
            .write_escaped_str(&mut out, s)
            .unwrap();
        out
    }

    #[test]
    fn escapes_as_askama_does() {
        let samples = [
            "",
            "plain",
            "<",
            "&&",
            "\"'\"'",
            "<a href=\"x?a=1&b=2\">it's</a>",
            "杭州顺成商贸有限公司 <总部> & \"分公司\"",
            "ends with >",
            "> starts",
            "a'b\"c<d>e&f",
            "long text with nothing to escape, long enough for the wide search: 数据中台 e0c9372b",
        ];
        for s in samples {
            assert_eq!(ours(s), askamas(s), "{s}");
        }
        for c in ['<', '>', '&', '"', '\'', 'a', '关'] {
            let (mut a, mut b) = (String::new(), String::new());
            Html.write_escaped_char(&mut a, c).unwrap();
            askama::filters::Html.write_escaped_char(&mut b, c).unwrap();
            assert_eq!(a, b, "{c}");
        }
    }

    #[test]
    fn escapes_every_mix_of_specials_and_text() {
        // Every string of up to five characters from a small alphabet: runs of each kind of
        // special character next to each other and to text, at the start, middle and end.
        let alphabet = ['a', '<', '"', '&', '\'', '>', '中'];
        let mut level = vec![String::new()];
        let mut strings = level.clone();
        for _ in 0..5 {
            level = level
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            strings.extend(level.iter().cloned());
        }
        assert!(strings.len() > 10_000);
        for s in &strings {
            assert_eq!(ours(s), askamas(s), "{s}");
        }
    }
}
