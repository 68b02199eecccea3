//! Values written into the addresses pages link to.

/// `s` encoded for a query string (`a b&c` → `a+b%26c`).
pub(super) fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A link to `plural`'s list page showing `conds` (field, operator, value) as its filter chips,
/// then `more` (a sort, columns), in the list page's own form: what opens is the list a page counted,
/// with conditions the reader can see and remove.
pub(super) fn list_link(plural: &str, conds: &[(&str, &str, String)], more: &str) -> String {
    let mut q: Vec<String> = conds
        .iter()
        .map(|(f, o, v)| format!("ff={}&fo={o}&fv={}", enc(f), enc(v)))
        .collect();
    if !more.is_empty() {
        q.push(more.to_string());
    }
    format!("/{plural}?{}", q.join("&"))
}
