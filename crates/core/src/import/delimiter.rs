//! Which character separates a CSV file's fields: comma, semicolon (what Excel writes where the
//! decimal mark is a comma) or tab (Excel's "Unicode text", files pasted from a spreadsheet),
//! judged from the header and the first rows, quotes respected.

/// The delimiters looked for, the likeliest first (the first wins a tie).
pub const CANDIDATES: [u8; 3] = [b',', b'\t', b';'];

/// How many records of the sample are looked at.
const RECORDS: usize = 50;

/// The delimiter of a CSV text, from its beginning `sample` (which may end inside a record:
/// set `complete` when it is the whole file). A line such as Excel's `sep=;` says it outright.
/// A file of one column has none of them: a comma is as good as any.
pub fn detect(sample: &str, complete: bool) -> u8 {
    if let Some(d) = sep_line(sample) {
        return d;
    }
    let mut best = (b',', 0usize, 0usize);
    for d in CANDIDATES {
        let counts = counts(sample, d, complete);
        let Some(&header) = counts.first() else {
            continue;
        };
        if header == 0 {
            continue;
        }
        // Rows that split into as many fields as the header, then the header's width.
        let agree = counts.iter().filter(|&&c| c == header).count();
        if (agree, header) > (best.1, best.2) {
            best = (d, agree, header);
        }
    }
    best.0
}

/// Excel's first line `sep=;`: the delimiter, said outright.
pub fn sep_line(sample: &str) -> Option<u8> {
    let first = sample.lines().next()?.trim_end();
    match first.strip_prefix("sep=")?.as_bytes() {
        [d] if d.is_ascii_punctuation() || *d == b'\t' => Some(*d),
        _ => None,
    }
}

/// How many times `d` occurs outside quotes on each of the first records (records end at a line
/// break outside quotes; blank lines are skipped; a record cut by the sample's end is dropped).
fn counts(sample: &str, d: u8, complete: bool) -> Vec<usize> {
    let mut out = Vec::new();
    let mut quoted = false;
    let mut count = 0;
    let mut blank = true;
    let bytes = sample.as_bytes();
    let mut i = 0;
    while i < bytes.len() && out.len() < RECORDS {
        let b = bytes[i];
        if quoted {
            if b == b'"' {
                if bytes.get(i + 1) == Some(&b'"') {
                    i += 1;
                } else {
                    quoted = false;
                }
            }
        } else if b == b'"' {
            quoted = true;
            blank = false;
        } else if b == b'\n' || b == b'\r' {
            if !blank {
                out.push(count);
            }
            count = 0;
            blank = true;
        } else {
            if b == d {
                count += 1;
            }
            blank = false;
        }
        i += 1;
    }
    if complete && !blank && out.len() < RECORDS {
        out.push(count);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::detect;

    #[test]
    fn comma_semicolon_tab() {
        assert_eq!(detect("姓名,手机,城市\r\n张三,138,北京\r\n", true), b',');
        assert_eq!(
            detect("Name;Phone;City\nAnna;+49 30 1234;Berlin, Mitte\n", true),
            b';'
        );
        assert_eq!(
            detect("姓名\t手机\t备注\n王五\t139\t\"A, B; C\"\n", true),
            b'\t'
        );
    }

    #[test]
    fn delimiters_in_quotes_do_not_count() {
        // The comma only ever appears inside quoted text, some of it across lines.
        let text = "Name;Notes;City\n\"Li, Lei\";\"one, two,\nthree, four\";\"Xi'an, Shaanxi\"\nWang;\"a,b,c,d\";Beijing\n";
        assert_eq!(detect(text, true), b';');
    }

    #[test]
    fn excel_sep_line_and_one_column() {
        assert_eq!(detect("sep=;\nName,Phone;City\n", true), b';');
        assert_eq!(detect("姓名\n张三\n李四\n", true), b',');
    }

    #[test]
    fn a_cut_last_record_is_ignored() {
        // The sample ends in the middle of a record that would have a different width.
        assert_eq!(detect("a;b;c\n1;2;3\n4;5;6\n7,", false), b';');
    }
}
