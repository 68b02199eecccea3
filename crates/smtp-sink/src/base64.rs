//! Base64 decoding (RFC 4648's standard alphabet), strict for `AUTH` and lenient for MIME.

fn value(c: u8) -> Option<u32> {
    let v = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

/// Decodes base64, skipping whitespace; `None` on any other character outside the alphabet,
/// on data after the padding, or on a dangling sixth of a byte.
pub(crate) fn decode_strict(input: &[u8]) -> Option<Vec<u8>> {
    decode(input, true)
}

/// Decodes base64 as RFC 2045 asks of MIME readers: characters outside the alphabet are
/// ignored, and decoding stops at the padding.
pub(crate) fn decode_lenient(input: &[u8]) -> Vec<u8> {
    decode(input, false).unwrap_or_default()
}

fn decode(input: &[u8], strict: bool) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 3);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    let mut symbols = 0usize;
    let mut padded = false;
    for &c in input {
        if c.is_ascii_whitespace() {
            continue;
        }
        if padded {
            if strict && c != b'=' {
                return None;
            }
            continue;
        }
        if c == b'=' {
            padded = true;
            continue;
        }
        let Some(v) = value(c) else {
            if strict {
                return None;
            }
            continue;
        };
        symbols += 1;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if strict && symbols % 4 == 1 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes() {
        assert_eq!(decode_strict(b"").unwrap(), b"");
        assert_eq!(decode_strict(b"Zg==").unwrap(), b"f");
        assert_eq!(decode_strict(b"Zm8=").unwrap(), b"fo");
        assert_eq!(decode_strict(b"Zm9v").unwrap(), b"foo");
        assert_eq!(decode_strict(b"Zm9vYg").unwrap(), b"foob");
        assert_eq!(decode_strict(b"Zm9v\r\nYmFy").unwrap(), b"foobar");
        assert_eq!(
            decode_strict("5byg5LiJ".as_bytes()).unwrap(),
            "张三".as_bytes()
        );
        assert_eq!(decode_strict(b"+/+/").unwrap(), [0xfb, 0xff, 0xbf]);
    }

    #[test]
    fn strict_refuses_junk() {
        assert_eq!(decode_strict(b"Zm9v!"), None);
        assert_eq!(decode_strict(b"Zg==Zg=="), None);
        assert_eq!(decode_strict(b"Zm9vY"), None);
    }

    #[test]
    fn lenient_skips_junk() {
        assert_eq!(decode_lenient(b"Zm9v!YmFy"), b"foobar");
        assert_eq!(decode_lenient(b"Zg==\r\nignored"), b"f");
    }
}
