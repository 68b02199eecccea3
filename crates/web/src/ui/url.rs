//! Values written into the addresses pages link to.

/// `s` encoded for a query string (`a b&c` → `a+b%26c`).
pub(super) fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
