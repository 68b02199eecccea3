//! Reading a received message: headers (RFC 5322 unfolding, RFC 2047 encoded-words) and the
//! text parts of MIME bodies (RFC 2045/2046: multipart, quoted-printable, base64).

use crate::Received;

/// Deepest multipart nesting looked into.
const MAX_DEPTH: usize = 16;

impl Received {
    /// The first header of this name (case-insensitive), unfolded, with RFC 2047
    /// encoded-words decoded, and without surrounding whitespace.
    pub fn header(&self, name: &str) -> Option<String> {
        let (headers, _) = split_entity(self.message());
        headers
            .into_iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| decode_words(&v))
    }

    /// Every header of this name (case-insensitive), decoded as by [`Received::header`], in
    /// order.
    pub fn headers(&self, name: &str) -> Vec<String> {
        let (headers, _) = split_entity(self.message());
        headers
            .into_iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| decode_words(&v))
            .collect()
    }

    /// The body as sent: everything after the blank line that ends the headers, still
    /// transfer-encoded, without the line ending of its last line.
    pub fn body(&self) -> &str {
        split_entity(self.message()).1
    }

    /// The first `text/plain` part that is not an attachment, looked for through nested
    /// multiparts (or the body of a single-part `text/plain` message), with its transfer
    /// encoding and charset decoded. Line endings are given as `\n`.
    pub fn text_part(&self) -> Option<String> {
        find_part(self.message(), "text/plain", 0)
    }

    /// The first `text/html` part that is not an attachment, decoded as by
    /// [`Received::text_part`].
    pub fn html_part(&self) -> Option<String> {
        find_part(self.message(), "text/html", 0)
    }

    /// The message without the line ending of its last line, which SMTP requires whether or
    /// not the message had one.
    fn message(&self) -> &str {
        strip_line_ending(&self.data)
    }
}

fn strip_line_ending(s: &str) -> &str {
    let s = s.strip_suffix('\n').unwrap_or(s);
    s.strip_suffix('\r').unwrap_or(s)
}

/// Splits an entity into its headers (name, unfolded raw value) and its body.
fn split_entity(text: &str) -> (Vec<(String, String)>, &str) {
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        offset += line.len();
        let content = strip_line_ending(line);
        if content.is_empty() {
            return (headers, &text[offset..]);
        }
        if content.starts_with([' ', '\t']) {
            // A folded line: unfolding removes the line break only.
            if let Some((_, value)) = headers.last_mut() {
                value.push_str(content);
            }
        } else if let Some((name, value)) = content.split_once(':') {
            headers.push((name.trim().to_owned(), value.to_owned()));
        }
    }
    (headers, "")
}

fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

/// Decodes the RFC 2047 encoded-words in a header value. Whitespace between two adjacent
/// encoded-words is dropped, and their bytes are joined before the charset is decoded, so a
/// character split across two words still reads back.
pub(crate) fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut pending_charset = String::new();
    let mut after_word = false;
    let mut rest = value;
    while let Some(start) = rest.find("=?") {
        let before = &rest[..start];
        match parse_word(&rest[start..]) {
            Some((charset, bytes, len)) => {
                let joins = after_word && before.chars().all(char::is_whitespace);
                if !joins || !charset.eq_ignore_ascii_case(&pending_charset) {
                    out.push_str(&decode_charset(&pending, &pending_charset));
                    pending.clear();
                }
                if !joins {
                    out.push_str(before);
                }
                pending.extend_from_slice(&bytes);
                pending_charset = charset;
                after_word = true;
                rest = &rest[start + len..];
            }
            None => {
                out.push_str(&decode_charset(&pending, &pending_charset));
                pending.clear();
                out.push_str(&rest[..start + 2]);
                after_word = false;
                rest = &rest[start + 2..];
            }
        }
    }
    out.push_str(&decode_charset(&pending, &pending_charset));
    out.push_str(rest);
    out.trim().to_owned()
}

/// Parses one encoded-word `=?charset?B|Q?text?=` at the start of `s`: its charset (without
/// an RFC 2231 language), its bytes, and its length in `s`.
fn parse_word(s: &str) -> Option<(String, Vec<u8>, usize)> {
    let inner = s.strip_prefix("=?")?;
    let (charset, rest) = inner.split_once('?')?;
    let (encoding, rest) = rest.split_once('?')?;
    let end = rest.find("?=")?;
    let text = &rest[..end];
    let valid = |t: &str| !t.is_empty() && !t.contains(|c: char| c.is_whitespace() || c == '?');
    if !valid(charset) || text.contains(char::is_whitespace) {
        return None;
    }
    let bytes = match encoding {
        "B" | "b" => crate::base64::decode_strict(text.as_bytes())?,
        "Q" | "q" => decode_q(text),
        _ => return None,
    };
    let len = 2 + charset.len() + 1 + encoding.len() + 1 + text.len() + 2;
    let charset = charset.split('*').next().unwrap_or(charset).to_owned();
    Some((charset, bytes, len))
}

/// The `Q` encoding of RFC 2047: quoted-printable with `_` for a space.
fn decode_q(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'_' => out.push(b' '),
            b'=' => {
                if let Some(b) = hex_pair(bytes.get(i + 1..i + 3)) {
                    out.push(b);
                    i += 3;
                    continue;
                }
                out.push(b'=');
            }
            b => out.push(b),
        }
        i += 1;
    }
    out
}

fn hex_pair(pair: Option<&[u8]>) -> Option<u8> {
    let pair = pair?;
    let digit = |c: u8| (c as char).to_digit(16);
    let (hi, lo) = (digit(*pair.first()?)?, digit(*pair.get(1)?)?);
    u8::try_from(hi * 16 + lo).ok()
}

/// Decodes quoted-printable (RFC 2045 §6.7): `=XX` bytes, `=` at the end of a line for a soft
/// line break, trailing whitespace on a line dropped. Hard line breaks come out as `\r\n`.
fn decode_quoted_printable(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut lines = text.split('\n').peekable();
    while let Some(line) = lines.next() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let line = line.trim_end_matches([' ', '\t']);
        let (line, soft) = match line.strip_suffix('=') {
            Some(l) => (l, true),
            None => (line, false),
        };
        let bytes = line.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'='
                && let Some(b) = hex_pair(bytes.get(i + 1..i + 3))
            {
                out.push(b);
                i += 3;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        if !soft && lines.peek().is_some() {
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}

/// Bytes in a charset to text; charsets other than UTF-8, ASCII and Latin-1 are read as
/// UTF-8, lossily.
fn decode_charset(bytes: &[u8], charset: &str) -> String {
    match charset.to_ascii_lowercase().as_str() {
        "iso-8859-1" | "iso8859-1" | "latin1" | "latin-1" | "l1" | "windows-1252" | "cp1252" => {
            bytes.iter().map(|&b| char::from(b)).collect()
        }
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// A `Content-Type` (or `Content-Disposition`) value: the lowercased type, and the parameters
/// with lowercased names and unquoted values.
fn parse_parameters(value: &str) -> (String, Vec<(String, String)>) {
    let mut segments = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut escaped = false;
    for c in value.chars() {
        if escaped {
            current.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => {
                current.push(c);
                escaped = true;
            }
            '"' => {
                current.push(c);
                quoted = !quoted;
            }
            ';' if !quoted => segments.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    segments.push(current);
    let mut segments = segments.into_iter();
    let kind = segments
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let params = segments
        .filter_map(|segment| {
            let (name, value) = segment.split_once('=')?;
            let value = value.trim();
            let value = match value.strip_prefix('"') {
                Some(inner) => unquote(inner.strip_suffix('"').unwrap_or(inner)),
                None => value.to_owned(),
            };
            Some((name.trim().to_ascii_lowercase(), value))
        })
        .collect();
    (kind, params)
}

fn unquote(inner: &str) -> String {
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            _ => out.push(c),
        }
    }
    out
}

fn param<'p>(params: &'p [(String, String)], name: &str) -> Option<&'p str> {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// The first part of type `wanted` in `text`, an entity, that is not an attachment.
fn find_part(text: &str, wanted: &str, depth: usize) -> Option<String> {
    if depth > MAX_DEPTH {
        return None;
    }
    let (headers, body) = split_entity(text);
    let (kind, params) = match header(&headers, "Content-Type") {
        Some(value) => parse_parameters(value),
        None => ("text/plain".to_owned(), Vec::new()),
    };
    if kind.starts_with("multipart/") {
        let boundary = param(&params, "boundary")?;
        return split_multipart(body, boundary)
            .into_iter()
            .find_map(|part| find_part(part, wanted, depth + 1));
    }
    if kind != wanted {
        return None;
    }
    if let Some(disposition) = header(&headers, "Content-Disposition")
        && parse_parameters(disposition).0 == "attachment"
    {
        return None;
    }
    let encoding = header(&headers, "Content-Transfer-Encoding")
        .unwrap_or("7bit")
        .to_ascii_lowercase();
    let bytes = match encoding.as_str() {
        "quoted-printable" => decode_quoted_printable(body),
        "base64" => crate::base64::decode_lenient(body.as_bytes()),
        _ => body.as_bytes().to_vec(),
    };
    let text = decode_charset(&bytes, param(&params, "charset").unwrap_or("utf-8"));
    Some(text.replace("\r\n", "\n"))
}

/// The parts of a multipart body: what lies between its `--boundary` lines, without the line
/// ending before each (which belongs to the delimiter), up to `--boundary--`.
fn split_multipart<'a>(body: &'a str, boundary: &str) -> Vec<&'a str> {
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut start: Option<usize> = None;
    let mut offset = 0;
    for line in body.split_inclusive('\n') {
        let line_start = offset;
        offset += line.len();
        let Some(after) = line.strip_prefix(delimiter.as_str()) else {
            continue;
        };
        let after = after.trim_end();
        let closing = after == "--";
        if !closing && !after.is_empty() {
            continue;
        }
        if let Some(s) = start {
            let end = line_start.max(s);
            parts.push(strip_line_ending(&body[s..end]));
        }
        if closing {
            return parts;
        }
        start = Some(offset);
    }
    // No closing delimiter: take what there is of the last part.
    if let Some(s) = start {
        parts.push(strip_line_ending(&body[s..]));
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn received(data: &str) -> Received {
        Received {
            from: "a@example.com".to_owned(),
            to: vec!["b@example.com".to_owned()],
            data: data.to_owned(),
            auth_user: None,
        }
    }

    #[test]
    fn encoded_words() {
        assert_eq!(
            decode_words(" =?UTF-8?B?5qyi6L+O?= =?utf-8?b?5p2l5Yiw?=\r\n\t=?UTF-8?Q?_Guanxi?="),
            "欢迎来到 Guanxi"
        );
        assert_eq!(decode_words("=?UTF-8?Q?=E5=BC=A0?= Three"), "张 Three");
        assert_eq!(
            decode_words("Hello =?UTF-8?Q?=E5=BC?=   =?UTF-8?Q?=A0?="),
            "Hello 张"
        );
        assert_eq!(decode_words("=?ISO-8859-1?Q?Caf=E9?="), "Café");
        assert_eq!(decode_words("=?UTF-8*zh?B?5byg?="), "张");
        assert_eq!(decode_words("a =?bad word?= b"), "a =?bad word?= b");
        assert_eq!(decode_words("=?UTF-8?X?abc?= =?"), "=?UTF-8?X?abc?= =?");
        assert_eq!(decode_words("plain text"), "plain text");
    }

    #[test]
    fn headers_unfold_and_match_any_case() {
        let m = received(
            "From: a@example.com\r\nSUBJECT: =?UTF-8?B?5byg?=\r\n =?UTF-8?B?5LiJ?=\r\n\
             X-Long: one\r\n\ttwo\r\nX-Long: again\r\n\r\nbody\r\n",
        );
        assert_eq!(m.header("subject").as_deref(), Some("张三"));
        assert_eq!(m.header("x-long").as_deref(), Some("one\ttwo"));
        assert_eq!(m.headers("X-LONG"), ["one\ttwo", "again"]);
        assert_eq!(m.header("To"), None);
        assert_eq!(m.body(), "body");
        assert_eq!(m.text_part().as_deref(), Some("body"));
        assert_eq!(m.html_part(), None);
    }

    #[test]
    fn quoted_printable() {
        assert_eq!(
            String::from_utf8(decode_quoted_printable(
                "=E5=BC=A0=E4=B8=89 says hi=\r\n there  \r\nnext=3Dline\r\n= \r\nend"
            ))
            .unwrap(),
            "张三 says hi there\r\nnext=line\r\nend"
        );
        assert_eq!(decode_quoted_printable("a=zz=4"), b"a=zz=4");
        // A character split across a soft line break.
        assert_eq!(
            String::from_utf8(decode_quoted_printable("=E5=BC=\r\n=A0")).unwrap(),
            "张"
        );
    }

    #[test]
    fn content_type_parameters() {
        let (kind, params) = parse_parameters(
            "Multipart/Alternative; boundary=\"a;b \\\"c\\\"\"; charset=UTF-8 ; x",
        );
        assert_eq!(kind, "multipart/alternative");
        assert_eq!(param(&params, "boundary"), Some("a;b \"c\""));
        assert_eq!(param(&params, "charset"), Some("UTF-8"));
    }

    #[test]
    fn nested_multipart() {
        let m = received(concat!(
            "Subject: x\r\n",
            "MIME-Version: 1.0\r\n",
            "Content-Type: multipart/mixed;\r\n boundary=outer\r\n",
            "\r\n",
            "preamble\r\n",
            "--outer\r\n",
            "Content-Type: multipart/alternative; boundary=\"in ner\"\r\n",
            "\r\n",
            "--in ner\r\n",
            "Content-Type: text/plain; charset=utf-8\r\n",
            "Content-Transfer-Encoding: quoted-printable\r\n",
            "\r\n",
            "=E4=BD=A0=E5=A5=BD=EF=BC=8C=E5=BC=\r\n",
            "=A0=E4=B8=89\r\n",
            "second line\r\n",
            "--in ner\r\n",
            "Content-Type: text/html; charset=\"UTF-8\"\r\n",
            "Content-Transfer-Encoding: base64\r\n",
            "\r\n",
            "PHA+5L2g5aW9PC9wPg==\r\n",
            "--in ner--\r\n",
            "--outer\r\n",
            "Content-Type: text/plain\r\n",
            "Content-Disposition: attachment; filename=a.txt\r\n",
            "\r\n",
            "attached\r\n",
            "--outer--\r\n",
            "epilogue\r\n",
        ));
        assert_eq!(m.text_part().as_deref(), Some("你好，张三\nsecond line"));
        assert_eq!(m.html_part().as_deref(), Some("<p>你好</p>"));
    }

    #[test]
    fn attachment_is_skipped_for_later_body() {
        let m = received(concat!(
            "Content-Type: multipart/mixed; boundary=b\n",
            "\n",
            "--b\n",
            "Content-Type: text/plain\n",
            "Content-Disposition: attachment\n",
            "\n",
            "attached\n",
            "--b\n",
            "Content-Type: text/plain; charset=iso-8859-1\n",
            "Content-Transfer-Encoding: 8bit\n",
            "\n",
            "line one\n",
            "\n",
            "--b--\n",
        ));
        assert_eq!(m.text_part().as_deref(), Some("line one\n"));
    }

    #[test]
    fn unterminated_multipart() {
        let m = received(
            "Content-Type: multipart/alternative; boundary=zz\r\n\r\n--zz\r\n\r\nhello\r\n",
        );
        assert_eq!(m.text_part().as_deref(), Some("hello"));
        let m = received("Content-Type: multipart/alternative\r\n\r\n--zz\r\n\r\nhello\r\n");
        assert_eq!(m.text_part(), None);
    }
}
