//! People's time zones: which one a user reads and types times in, and the conversions between
//! the UTC instants stored and the wall-clock times people read and type.
//!
//! A user chooses an IANA zone (`Asia/Shanghai`) or none (`''`), and then the instance's
//! default applies ([`crate::Settings::default_time_zone`]). Conversions go through the IANA
//! rules (`chrono-tz`), so daylight saving is right on the day it changes: a wall-clock time
//! that a spring-forward skips does not exist and is refused; one that a fall-back repeats
//! is taken as the earlier of its two instants.

use chrono::{DateTime, LocalResult, NaiveDateTime, Offset, TimeZone, Utc};
pub use chrono_tz::Tz;

use crate::error::{FieldError, codes, shown};

/// The zones most people here choose, offered first, in this order.
pub const COMMON: [Tz; 13] = [
    Tz::Asia__Shanghai,
    Tz::Asia__Hong_Kong,
    Tz::Asia__Taipei,
    Tz::Asia__Singapore,
    Tz::Asia__Tokyo,
    Tz::Asia__Kolkata,
    Tz::Europe__London,
    Tz::Europe__Berlin,
    Tz::America__New_York,
    Tz::America__Chicago,
    Tz::America__Los_Angeles,
    Tz::Australia__Sydney,
    Tz::UTC,
];

/// The format of a wall-clock time as pages show it: `2026-12-05 16:30`.
pub const SHOWN: &str = "%Y-%m-%d %H:%M";

/// A zone by its IANA name (`Asia/Shanghai`, `UTC`), exactly as the database spells it.
pub fn parse(name: &str) -> Option<Tz> {
    name.parse::<Tz>().ok()
}

/// Every zone the database knows, by name: the choices after [`COMMON`].
pub fn all() -> impl Iterator<Item = Tz> {
    chrono_tz::TZ_VARIANTS.iter().copied()
}

/// A user's stored choice checked: an IANA name, or `''` for the instance default.
pub fn check_choice(name: &str) -> Result<(), FieldError> {
    if name.is_empty() || parse(name).is_some() {
        Ok(())
    } else {
        Err(FieldError::new(codes::UNKNOWN_TIME_ZONE).with("value", shown(name)))
    }
}

/// The zone a user reads in: their choice, else `default`. A stored name this build's database
/// does not know (removed from IANA since it was chosen) falls back to the default too, rather
/// than locking the user out.
pub fn resolve(chosen: &str, default: Tz) -> Tz {
    parse(chosen).unwrap_or(default)
}

/// The wall-clock time an instant is in `zone`.
pub fn to_local(t: DateTime<Utc>, zone: Tz) -> NaiveDateTime {
    t.with_timezone(&zone).naive_local()
}

/// The day an instant falls on for someone in `zone`: what "today" is to them. Dates people
/// mean (a deal closed today, a task repeated until Friday) are their days, not UTC's.
pub fn day_of(t: DateTime<Utc>, zone: Tz) -> chrono::NaiveDate {
    to_local(t, zone).date()
}

/// The instant a wall-clock time in `zone` stands for. A time skipped by a change of offset
/// (02:30 on the night New York springs forward) is refused, naming the time and the zone; a
/// time that comes twice (01:30 on the night it falls back) is the first of the two, the one
/// people mean until the clock has gone back.
pub fn to_utc(local: NaiveDateTime, zone: Tz) -> Result<DateTime<Utc>, FieldError> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => Ok(t.to_utc()),
        LocalResult::Ambiguous(earlier, _) => Ok(earlier.to_utc()),
        LocalResult::None => Err(FieldError::new(codes::NONEXISTENT_LOCAL_TIME)
            .with("value", local.format(SHOWN).to_string())
            .with("zone", zone.name())),
    }
}

/// A zone's offset from UTC at an instant, as people write it: `UTC+08:00`, `UTC-04:00`.
pub fn offset_at(zone: Tz, t: DateTime<Utc>) -> String {
    format!("UTC{}", zone.offset_from_utc_datetime(&t.naive_utc()).fix())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn a_choice_wins_over_the_default_and_none_falls_back_to_it() {
        assert_eq!(
            resolve("America/New_York", Tz::Asia__Shanghai),
            Tz::America__New_York
        );
        assert_eq!(resolve("", Tz::Asia__Shanghai), Tz::Asia__Shanghai);
        // A name that is no longer known reads in the default rather than failing.
        assert_eq!(
            resolve("Mars/Olympus", Tz::Europe__Berlin),
            Tz::Europe__Berlin
        );
    }

    #[test]
    fn choices_are_iana_names_or_nothing() {
        assert!(check_choice("").is_ok());
        assert!(check_choice("Asia/Kolkata").is_ok());
        assert!(check_choice("UTC").is_ok());
        for bad in ["Mars/Olympus", "asia/shanghai", "+08:00", "CST "] {
            let e = check_choice(bad).unwrap_err();
            assert_eq!(e.code, codes::UNKNOWN_TIME_ZONE, "{bad}");
            assert_eq!(e.params["value"], bad.trim(), "{bad}");
        }
    }

    #[test]
    fn shanghai_is_eight_hours_ahead_all_year() {
        let zone = Tz::Asia__Shanghai;
        assert_eq!(
            to_utc(local(2026, 12, 5, 16, 30), zone).unwrap(),
            utc("2026-12-05T08:30:00Z")
        );
        assert_eq!(
            to_local(utc("2026-07-01T20:00:00Z"), zone),
            local(2026, 7, 2, 4, 0)
        );
        assert_eq!(offset_at(zone, utc("2026-07-01T00:00:00Z")), "UTC+08:00");
    }

    #[test]
    fn new_york_follows_daylight_saving() {
        let zone = Tz::America__New_York;
        // Winter: five hours behind; summer: four.
        assert_eq!(
            to_utc(local(2026, 1, 15, 9, 0), zone).unwrap(),
            utc("2026-01-15T14:00:00Z")
        );
        assert_eq!(
            to_utc(local(2026, 7, 15, 9, 0), zone).unwrap(),
            utc("2026-07-15T13:00:00Z")
        );
        assert_eq!(offset_at(zone, utc("2026-07-15T13:00:00Z")), "UTC-04:00");
        assert_eq!(offset_at(zone, utc("2026-01-15T13:00:00Z")), "UTC-05:00");
        assert_eq!(
            to_local(utc("2026-03-08T07:00:00Z"), zone),
            local(2026, 3, 8, 3, 0),
            "the first instant after the gap"
        );
    }

    #[test]
    fn a_time_the_spring_forward_skips_is_refused_by_name() {
        // 8 March 2026: New York's clocks go from 02:00 straight to 03:00.
        let e = to_utc(local(2026, 3, 8, 2, 30), Tz::America__New_York).unwrap_err();
        assert_eq!(e.code, codes::NONEXISTENT_LOCAL_TIME);
        assert_eq!(e.params["value"], "2026-03-08 02:30");
        assert_eq!(e.params["zone"], "America/New_York");
        // Either side of the gap is fine.
        assert_eq!(
            to_utc(local(2026, 3, 8, 1, 59), Tz::America__New_York).unwrap(),
            utc("2026-03-08T06:59:00Z")
        );
        assert_eq!(
            to_utc(local(2026, 3, 8, 3, 0), Tz::America__New_York).unwrap(),
            utc("2026-03-08T07:00:00Z")
        );
    }

    #[test]
    fn a_time_the_fall_back_repeats_is_the_earlier_instant() {
        // 1 November 2026: 01:00–02:00 comes twice, first at -04:00, then at -05:00.
        let zone = Tz::America__New_York;
        let t = to_utc(local(2026, 11, 1, 1, 30), zone).unwrap();
        assert_eq!(t, utc("2026-11-01T05:30:00Z"));
        // Both instants read back as the same wall-clock time.
        assert_eq!(to_local(t, zone), local(2026, 11, 1, 1, 30));
        assert_eq!(
            to_local(utc("2026-11-01T06:30:00Z"), zone),
            local(2026, 11, 1, 1, 30)
        );
    }

    #[test]
    fn the_common_zones_come_from_the_database() {
        for z in COMMON {
            assert_eq!(parse(z.name()), Some(z));
            assert!(all().any(|a| a == z));
        }
        assert!(all().count() > 400);
    }
}
