//! Which encoding a text file is in, judged from its first bytes, and a reader that decodes it
//! to UTF-8 as it streams.
//!
//! Read: UTF-8 with or without a byte order mark (Excel's "CSV UTF-8" writes one), GBK and
//! GB18030 (what Chinese Excel's "CSV (comma delimited)" and WPS write; decoded as GB18030, which
//! holds GBK), and UTF-16 with a byte order mark (Excel's "Unicode text", tab-separated).
//! Anything else (UTF-16 without a mark, a binary file, Big5, Shift_JIS, a Western code page) is
//! refused with [`ReadError::UnknownEncoding`] rather than read as mojibake.

use std::io::{self, Read};

use encoding_rs::{Decoder, Encoding, GB18030, UTF_8, UTF_16BE, UTF_16LE};

use super::ReadError;

/// How many bytes the encoding is judged from by default.
pub const SNIFF_BYTES: usize = 256 * 1024;

/// What a file's first bytes say about its encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detected {
    pub encoding: &'static Encoding,
    /// The length of the byte order mark to skip.
    pub bom: usize,
}

impl Detected {
    /// The encoding's WHATWG name, for a report (`UTF-8`, `gb18030`, `UTF-16LE`).
    pub fn name(&self) -> &'static str {
        self.encoding.name()
    }
}

/// Judges the encoding of a text file from its first bytes. `complete` says whether `prefix` is
/// the whole file (otherwise its last character may be cut and is not held against it).
pub fn detect(prefix: &[u8], complete: bool) -> Result<Detected, ReadError> {
    if let Some((encoding, bom)) = Encoding::for_bom(prefix) {
        return Ok(Detected { encoding, bom });
    }
    // UTF-16 without a mark, images, archives: text files hold no NUL.
    if prefix.contains(&0) {
        return Err(ReadError::UnknownEncoding);
    }
    if valid_utf8(prefix, complete) || mostly_utf8(prefix) {
        return Ok(Detected {
            encoding: UTF_8,
            bom: 0,
        });
    }
    // Not UTF-8: ask which legacy encoding the bytes read best as. GBK (a subset of GB18030)
    // is taken when the detector says so; also when it says so for a reader in China and
    // nearly every two-byte character is one of GB2312's (the common Chinese characters and
    // marks), which a file in Japanese, Korean, Big5 or a Western code page does not have: a
    // file with a few Chinese names among Latin text reads as Japanese to the detector alone.
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(prefix, complete);
    let chinese = |e: &'static Encoding| e == encoding_rs::GBK || e == GB18030;
    let sure = chinese(detector.guess(None, false));
    let likely = || chinese(detector.guess(Some(b"cn"), false)) && gb2312_share(prefix) >= 0.9;
    if (sure || likely()) && decodes_cleanly(GB18030, prefix, complete) {
        return Ok(Detected {
            encoding: GB18030,
            bom: 0,
        });
    }
    Err(ReadError::UnknownEncoding)
}

/// Whether text is UTF-8 but for a few bad sequences (a row pasted in from a GBK file): at
/// least two good non-ASCII characters for each bad sequence (a GBK character makes one or two). GBK text seldom makes even one
/// good one. The rows with the bad bytes are reported by line ([`ReadError::UnreadableCharacters`]).
fn mostly_utf8(bytes: &[u8]) -> bool {
    let (mut good, mut bad) = (0usize, 0usize);
    let mut rest = bytes;
    loop {
        let (valid, error) = match std::str::from_utf8(rest) {
            Ok(s) => (s, None),
            Err(e) => (
                std::str::from_utf8(&rest[..e.valid_up_to()]).unwrap_or_default(),
                Some((e.valid_up_to(), e.error_len())),
            ),
        };
        good += valid.chars().filter(|c| !c.is_ascii()).count();
        match error {
            Some((at, Some(len))) => {
                bad += 1;
                rest = &rest[at + len..];
            }
            _ => break,
        }
    }
    good > 0 && good >= 2 * bad
}

/// The share of GB2312's characters among the two-byte characters of GBK text.
fn gb2312_share(bytes: &[u8]) -> f64 {
    let (mut all, mut common) = (0u32, 0u32);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            i += 1;
            continue;
        }
        let Some(&t) = bytes.get(i + 1) else { break };
        all += 1;
        if (0xA1..=0xF7).contains(&b) && (0xA1..=0xFE).contains(&t) {
            common += 1;
        }
        i += 2;
    }
    if all == 0 {
        0.0
    } else {
        f64::from(common) / f64::from(all)
    }
}

/// Whether `bytes` are UTF-8, allowing a character cut by the end of a prefix.
fn valid_utf8(bytes: &[u8], complete: bool) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(_) => true,
        // `error_len() == None`: the bytes end inside a character that more bytes would finish.
        Err(e) => !complete && e.error_len().is_none() && bytes.len() - e.valid_up_to() < 4,
    }
}

/// Whether `bytes` decode in `encoding` with no malformed sequence (a cut last one allowed).
fn decodes_cleanly(encoding: &'static Encoding, bytes: &[u8], complete: bool) -> bool {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(
        decoder
            .max_utf8_buffer_length_without_replacement(bytes.len())
            .unwrap_or(bytes.len() * 3),
    );
    let (result, _read) = decoder.decode_to_string_without_replacement(bytes, &mut out, complete);
    !matches!(result, encoding_rs::DecoderResult::Malformed(..))
}

/// Whether an encoding is one of the UTF-16s (whose files Excel separates with tabs).
pub fn is_utf16(encoding: &'static Encoding) -> bool {
    encoding == UTF_16LE || encoding == UTF_16BE
}

/// Decodes a byte stream in a known encoding to UTF-8 a block at a time. Bytes that are not
/// text in the encoding become U+FFFD (the row reader reports the line they are on).
pub struct DecodingReader<R> {
    inner: R,
    decoder: Decoder,
    raw: Vec<u8>,
    raw_start: usize,
    raw_end: usize,
    out: Vec<u8>,
    out_start: usize,
    out_end: usize,
    eof: bool,
    done: bool,
    /// Read as UTF-8 while the text is ASCII; judged again at its first other byte.
    undecided: bool,
}

const BLOCK: usize = 64 * 1024;
/// How many bytes from the first that is not ASCII are judged, when the first bytes were all
/// ASCII.
const LATER_BYTES: usize = 64 * 1024;

impl<R: Read> DecodingReader<R> {
    /// A reader of `inner`, positioned after the byte order mark, if any.
    pub fn new(inner: R, encoding: &'static Encoding) -> DecodingReader<R> {
        let decoder = encoding.new_decoder_without_bom_handling();
        let out_len = decoder
            .max_utf8_buffer_length(BLOCK)
            .unwrap_or(BLOCK * 3)
            .max(16);
        DecodingReader {
            inner,
            decoder,
            raw: vec![0; BLOCK],
            raw_start: 0,
            raw_end: 0,
            out: vec![0; out_len],
            out_start: 0,
            out_end: 0,
            eof: false,
            done: false,
            undecided: false,
        }
    }

    /// A reader of a file whose first bytes were all ASCII, which says nothing of its encoding:
    /// it is judged (as [`detect`] judges) from the bytes that follow its first non-ASCII one,
    /// and a read fails there with [`ReadError::UnknownEncoding`] (inside an
    /// [`io::ErrorKind::InvalidData`] error) if it is none of those read.
    pub fn deciding_later(inner: R) -> DecodingReader<R> {
        let mut reader = DecodingReader::new(inner, UTF_8);
        reader.undecided = true;
        reader
    }

    /// Judges the encoding from the bytes from `at` (the first non-ASCII one) on.
    fn decide(&mut self, at: usize) -> io::Result<()> {
        let mut window = self.raw[at..self.raw_end].to_vec();
        while window.len() < LATER_BYTES && !self.eof {
            let mut chunk = vec![0; LATER_BYTES - window.len()];
            let n = read_full(&mut self.inner, &mut chunk)?;
            self.eof = n == 0;
            window.extend_from_slice(&chunk[..n]);
        }
        let found = detect(&window, self.eof)
            .ok()
            .filter(|d| d.bom == 0)
            .ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidData, ReadError::UnknownEncoding)
            })?;
        let mut raw = self.raw[self.raw_start..at].to_vec();
        raw.extend_from_slice(&window);
        self.raw_start = 0;
        self.raw_end = raw.len();
        self.raw = raw;
        // The ASCII before reads the same in either.
        self.decoder = found.encoding.new_decoder_without_bom_handling();
        self.undecided = false;
        Ok(())
    }

    /// Decodes the next block into `out`; false at the end.
    fn fill(&mut self) -> io::Result<bool> {
        loop {
            if self.done {
                return Ok(false);
            }
            if self.raw_start == self.raw_end && !self.eof {
                let n = read_full(&mut self.inner, &mut self.raw)?;
                self.raw_start = 0;
                self.raw_end = n;
                self.eof = n == 0;
            }
            if self.undecided
                && let Some(k) = self.raw[self.raw_start..self.raw_end]
                    .iter()
                    .position(|b| !b.is_ascii())
            {
                self.decide(self.raw_start + k)?;
            }
            // At the end, the decoder is told so and flushes a cut last character as U+FFFD.
            let last = self.eof;
            let src = &self.raw[self.raw_start..self.raw_end];
            let (result, read, written, _) = self.decoder.decode_to_utf8(src, &mut self.out, last);
            self.raw_start += read;
            self.out_start = 0;
            self.out_end = written;
            if last && result == encoding_rs::CoderResult::InputEmpty {
                self.done = true;
            }
            if written > 0 {
                return Ok(true);
            }
        }
    }
}

/// Reads until `buf` is full or the stream ends.
fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

impl<R: Read> Read for DecodingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.out_start == self.out_end && !self.fill()? {
            return Ok(0);
        }
        let n = buf.len().min(self.out_end - self.out_start);
        buf[..n].copy_from_slice(&self.out[self.out_start..self.out_start + n]);
        self.out_start += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gbk(s: &str) -> Vec<u8> {
        encoding_rs::GBK.encode(s).0.into_owned()
    }

    fn decode_all(bytes: &[u8], d: Detected) -> String {
        let mut r = DecodingReader::new(&bytes[d.bom..], d.encoding);
        let mut s = String::new();
        r.read_to_string(&mut s).expect("decodes");
        s
    }

    #[test]
    fn utf8_with_and_without_a_mark() {
        let d = detect("姓名,手机\r\n张三,13800138000\r\n".as_bytes(), true).expect("utf-8");
        assert_eq!((d.encoding, d.bom), (UTF_8, 0));
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice("姓名\r\n".as_bytes());
        let d = detect(&bom, true).expect("utf-8 bom");
        assert_eq!((d.encoding, d.bom), (UTF_8, 3));
        assert_eq!(decode_all(&bom, d), "姓名\r\n");
    }

    #[test]
    fn gbk_as_chinese_excel_writes_it() {
        let bytes = gbk(
            "姓名,手机,电子邮箱,公司名称\r\n张三,13800138000,zs@example.cn,北京星辰科技有限公司\r\n欧阳娜娜,13900139000,,上海\r\n",
        );
        let d = detect(&bytes, true).expect("gbk");
        assert_eq!(d.encoding, GB18030);
        assert!(decode_all(&bytes, d).contains("欧阳娜娜,13900139000"));
        // A short header alone.
        let d = detect(&gbk("姓名,手机\r\n"), true).expect("short gbk");
        assert_eq!(d.encoding, GB18030);
        // Mostly ASCII with one Chinese name.
        let d = detect(
            &gbk("name,phone,email\r\nAnn Lee,13800138000,ann@example.com\r\n李雷,139,\r\n"),
            true,
        );
        assert_eq!(d.map(|d| d.encoding), Ok(GB18030));
        let d = detect(&gbk("id,addr\r\n1,北京市朝阳区\r\n"), true);
        assert_eq!(d.map(|d| d.encoding), Ok(GB18030));
    }

    #[test]
    fn a_prefix_cut_inside_a_character_is_not_held_against_it() {
        let text = "姓名,城市\n李四,深圳\n".as_bytes();
        let cut = &text[..text.len() - 3];
        assert_eq!(
            detect(&cut[..cut.len() - 1], false)
                .ok()
                .map(|d| d.encoding),
            Some(UTF_8)
        );
        let g = gbk("姓名,城市\n李四,深圳\n");
        let cut = &g[..g.len() - 2];
        assert_eq!(detect(cut, false).ok().map(|d| d.encoding), Some(GB18030));
    }

    #[test]
    fn utf16_with_a_mark_is_read() {
        let mut bytes = vec![0xFF, 0xFE];
        for u in "姓名\t手机\r\n王五\t139\r\n".encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        let d = detect(&bytes, true).expect("utf-16le");
        assert_eq!((d.encoding, d.bom), (UTF_16LE, 2));
        assert_eq!(decode_all(&bytes, d), "姓名\t手机\r\n王五\t139\r\n");
    }

    #[test]
    fn utf16_without_a_mark_and_binary_are_refused() {
        let mut bytes = Vec::new();
        for u in "name,phone\r\n".encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(detect(&bytes, true), Err(ReadError::UnknownEncoding));
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0";
        assert_eq!(detect(png, true), Err(ReadError::UnknownEncoding));
        let shift_jis = encoding_rs::SHIFT_JIS
            .encode("氏名,電話番号,メールアドレス\r\n山田太郎,090-1234-5678,taro@example.jp\r\n")
            .0
            .into_owned();
        assert_eq!(detect(&shift_jis, true), Err(ReadError::UnknownEncoding));
        let western = encoding_rs::WINDOWS_1252
            .encode("Name;Stadt;Straße\r\nJürgen Müller;Köln;Hauptstraße 5\r\nAnaïs;Besançon;Rue de l'Église\r\n")
            .0
            .into_owned();
        assert_eq!(detect(&western, true), Err(ReadError::UnknownEncoding));
        let big5 = encoding_rs::BIG5
            .encode("公司名稱,聯絡人\r\n臺灣積體電路製造,張忠謀\r\n")
            .0
            .into_owned();
        assert_eq!(detect(&big5, true), Err(ReadError::UnknownEncoding));
    }

    #[test]
    fn an_ascii_beginning_is_judged_again_at_the_first_other_byte() {
        // A megabyte of ASCII, then Chinese in GBK: read as GBK, not as broken UTF-8.
        let mut text = "name,city\r\n".to_string();
        while text.len() < 1 << 20 {
            text.push_str("Zhang San,Beijing\r\n");
        }
        text.push_str("张三,北京\r\n欧阳修,庐陵\r\n");
        let bytes = gbk(&text);
        let mut r = DecodingReader::deciding_later(&bytes[..]);
        let mut s = String::new();
        r.read_to_string(&mut s).expect("decodes");
        assert_eq!(s, text);
        // The same in UTF-8 stays UTF-8.
        let mut r = DecodingReader::deciding_later(text.as_bytes());
        let mut s = String::new();
        r.read_to_string(&mut s).expect("decodes");
        assert_eq!(s, text);
        // Shift_JIS after ASCII: refused where it starts.
        let mut bytes = b"name,city\r\nA,B\r\n".to_vec();
        bytes.extend(
            encoding_rs::SHIFT_JIS
                .encode("山田太郎,東京都新宿区西新宿\r\nカタカナ,メールアドレス\r\n")
                .0
                .iter(),
        );
        let mut r = DecodingReader::deciding_later(&bytes[..]);
        let e = r.read_to_string(&mut String::new()).err();
        let inner = e
            .as_ref()
            .and_then(|e| e.get_ref())
            .and_then(|e| e.downcast_ref::<ReadError>());
        assert_eq!(inner, Some(&ReadError::UnknownEncoding));
    }

    #[test]
    fn decoding_streams_across_blocks() {
        // Characters cut across the reader's blocks come out whole.
        let line = "欧阳修,司马光,诸葛亮\r\n";
        let text: String = line.repeat(20_000);
        let bytes = gbk(&text);
        assert!(bytes.len() > 3 * BLOCK);
        let d = detect(&bytes[..SNIFF_BYTES], false).expect("gbk");
        assert_eq!(decode_all(&bytes, d), text);
        // Invalid bytes become U+FFFD rather than an error.
        let d = Detected {
            encoding: UTF_8,
            bom: 0,
        };
        assert_eq!(decode_all(b"a\xFFb", d), "a\u{FFFD}b");
        assert_eq!(decode_all(b"ab\xE5\xA7", d), "ab\u{FFFD}");
    }
}
