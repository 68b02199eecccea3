//! Where a browser may be sent after a login or a language switch: only to this site.

use url::{Position, Url};

/// Where people land when `next` is missing or refused (the root sends them on to the home list).
const HOME: &str = "/";

/// A stand-in origin: the server does not know the name it is reached by, and does not need to.
const BASE: &str = "http://guanxi.invalid/";

/// The local URL to redirect to for a requested `next`, or the home page. `next` is resolved
/// the way a browser resolves a `Location` header (WHATWG URL parsing: tabs and newlines are
/// dropped, a backslash counts as a slash, `//host/` names another site), and it is kept only
/// if it stays on this origin. The result is the parsed URL serialized again from its path on,
/// percent-encoded, so what goes into the header is exactly what the browser will follow and
/// can never hold a line break.
pub fn local_target(next: Option<&str>) -> String {
    let Some(next) = next.filter(|n| !n.trim().is_empty()) else {
        return HOME.into();
    };
    let Ok(base) = Url::parse(BASE) else {
        return HOME.into();
    };
    match base.join(next) {
        Ok(url) if url.origin() == base.origin() => url[Position::BeforePath..].to_string(),
        _ => HOME.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::local_target;

    #[test]
    fn keeps_local_paths() {
        assert_eq!(
            local_target(Some("/people?sort=-name")),
            "/people?sort=-name"
        );
        assert_eq!(local_target(Some("/things/1#history")), "/things/1#history");
        assert_eq!(local_target(Some("/%09/x")), "/%09/x");
        assert_eq!(
            local_target(Some("/搜索?q=王芳")),
            "/%E6%90%9C%E7%B4%A2?q=%E7%8E%8B%E8%8A%B3"
        );
        assert_eq!(local_target(None), "/");
        assert_eq!(local_target(Some("")), "/");
    }

    #[test]
    fn refuses_everything_a_browser_sends_elsewhere() {
        for evil in [
            "//evil.example/",
            "/\t/evil.example/",
            "/\n/evil.example/",
            "\t//evil.example",
            " //evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "https://evil.example/",
            "https:evil.example",
            "javascript:alert(1)",
            "data:text/html,x",
            "http://guanxi.invalid:81/",
        ] {
            assert_eq!(local_target(Some(evil)), "/", "{evil:?}");
        }
    }

    #[test]
    fn line_breaks_never_reach_the_header() {
        let t = local_target(Some("/a\r\nSet-Cookie: x=1"));
        assert!(!t.contains(['\r', '\n']), "{t:?}");
        assert!(t.starts_with('/'));
    }
}
