//! Writing iCalendar (RFC 5545) files: the few properties a subscribed calendar needs, with
//! text escaped (§3.3.11) and long lines folded at 75 octets (§3.1) without splitting a
//! character, every line ending in CRLF.

use chrono::{DateTime, Utc};

/// One event of a calendar.
pub struct Event {
    /// Stable per record, so a phone updates the event instead of adding another.
    pub uid: String,
    pub stamp: DateTime<Utc>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub summary: String,
    pub location: String,
    pub description: String,
    pub url: String,
    pub categories: String,
    /// Done: marked so, as calendars can show.
    pub done: bool,
}

/// A calendar of `events` named `name`.
pub fn calendar(name: &str, events: &[Event]) -> String {
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, "PRODID:-//Guanxi//Guanxi CRM//EN");
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(&mut out, &format!("X-WR-CALNAME:{}", text(name)));
    line(&mut out, "REFRESH-INTERVAL;VALUE=DURATION:PT1H");
    line(&mut out, "X-PUBLISHED-TTL:PT1H");
    for e in events {
        line(&mut out, "BEGIN:VEVENT");
        line(&mut out, &format!("UID:{}", text(&e.uid)));
        line(&mut out, &format!("DTSTAMP:{}", instant(e.stamp)));
        line(&mut out, &format!("DTSTART:{}", instant(e.start)));
        line(&mut out, &format!("DTEND:{}", instant(e.end)));
        line(&mut out, &format!("SUMMARY:{}", text(&e.summary)));
        if !e.location.is_empty() {
            line(&mut out, &format!("LOCATION:{}", text(&e.location)));
        }
        if !e.description.is_empty() {
            line(&mut out, &format!("DESCRIPTION:{}", text(&e.description)));
        }
        if !e.categories.is_empty() {
            line(&mut out, &format!("CATEGORIES:{}", text(&e.categories)));
        }
        if !e.url.is_empty() {
            line(&mut out, &format!("URL:{}", e.url));
        }
        line(
            &mut out,
            if e.done {
                "STATUS:CONFIRMED\r\nTRANSP:TRANSPARENT"
            } else {
                "STATUS:CONFIRMED"
            },
        );
        line(&mut out, "END:VEVENT");
    }
    line(&mut out, "END:VCALENDAR");
    out
}

/// An instant in UTC, `20261207T020000Z`.
pub fn instant(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A TEXT value: backslash, semicolon and comma escaped, line breaks as `\n`.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            // Other control characters are not allowed in TEXT.
            c if c.is_control() && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends a content line (which may already hold CRLFs between lines), each folded.
fn line(out: &mut String, content: &str) {
    for l in content.split("\r\n") {
        fold(out, l);
    }
}

/// One content line folded: at most 75 octets per physical line, the continuation lines
/// starting with a space (which counts), never splitting a character.
fn fold(out: &mut String, l: &str) {
    let mut width = 0;
    for c in l.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(text("a,b;c\\d\ne\r\nf"), "a\\,b\\;c\\\\d\\ne\\nf");
    }

    #[test]
    fn long_lines_fold_at_75_octets_between_characters() {
        let mut out = String::new();
        let long = format!("SUMMARY:{}", "拜访客户".repeat(20));
        line(&mut out, &long);
        for l in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= 75, "{l} is {} octets", l.len());
        }
        // Unfolded, it is the line again.
        assert_eq!(out.replace("\r\n ", "").trim_end(), long);
        assert!(out.ends_with("\r\n"));
    }

    #[test]
    fn a_calendar_has_its_events() {
        let t = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.to_utc())
                .unwrap_or_default()
        };
        let cal = calendar(
            "Guanxi",
            &[Event {
                uid: "1@guanxi".into(),
                stamp: t("2026-12-01T00:00:00Z"),
                start: t("2026-12-07T02:00:00Z"),
                end: t("2026-12-07T03:00:00Z"),
                summary: "Meeting, review".into(),
                location: String::new(),
                description: String::new(),
                url: String::new(),
                categories: String::new(),
                done: false,
            }],
        );
        assert!(cal.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(cal.contains("\r\nDTSTART:20261207T020000Z\r\nDTEND:20261207T030000Z\r\n"));
        assert!(cal.contains("\r\nSUMMARY:Meeting\\, review\r\n"));
        assert!(!cal.contains("LOCATION"));
        assert!(cal.ends_with("END:VCALENDAR\r\n"));
    }
}
