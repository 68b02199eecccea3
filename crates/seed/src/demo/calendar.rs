//! When the demo's work happened: a year of working days in Beijing time, so that records,
//! their history and their deals read as a team's past year, not as one afternoon's load. Every
//! instant is in office hours (09:00–18:00, Monday to Friday, UTC+8) and before now.

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveTime, Offset, TimeZone, Utc, Weekday,
};

use super::vocab::Gen;

/// The demo's year: from a year ago to an hour ago.
pub struct Year {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

/// Beijing time, where the demo's teams work.
fn beijing() -> FixedOffset {
    // Eight hours east of UTC is always a valid offset.
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix())
}

impl Year {
    pub fn ending(now: DateTime<Utc>) -> Year {
        Year {
            start: now - Duration::days(365),
            end: now - Duration::hours(1),
        }
    }

    /// An instant about `share` (0 to 1) of the way through the year, in office hours.
    pub fn at(&self, g: &mut Gen, share: f64) -> DateTime<Utc> {
        let span = (self.end - self.start).num_minutes() as f64;
        let t = self.start + Duration::minutes((span * share.clamp(0.0, 1.0)) as i64);
        self.in_office_hours(g, t, self.start)
    }

    /// An instant after `after`, within about `days` days of it, in office hours where the year
    /// leaves room; never before `after` nor after the year's end (unless `after` is).
    pub fn after(&self, g: &mut Gen, after: DateTime<Utc>, days: u64) -> DateTime<Utc> {
        // Within what is left of the year, so that late records do not pile up at its end.
        let left = (self.end - after).num_minutes().max(1) as u64;
        let t = after + Duration::minutes(g.range(0, (days.max(1) * 24 * 60).min(left)) as i64);
        let t = self.in_office_hours(g, t, after);
        if t > after {
            t
        } else {
            after + Duration::minutes(g.range(1, 30) as i64)
        }
    }

    /// `t` moved to a working day's office hours (a random minute of them), no later than the
    /// year's end and no earlier than `floor`.
    fn in_office_hours(
        &self,
        g: &mut Gen,
        t: DateTime<Utc>,
        floor: DateTime<Utc>,
    ) -> DateTime<Utc> {
        let tz = beijing();
        let mut day = t.with_timezone(&tz).date_naive();
        let minute = g.range(0, 9 * 60 - 1) as i64;
        let opening = NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default();
        let mut at = t;
        // The working day of `t`, or the next one when that day's office hours would fall
        // before `floor` (the year's first day, begun late in the afternoon).
        for _ in 0..4 {
            day += Duration::days(match day.weekday() {
                Weekday::Sat => 2,
                Weekday::Sun => 1,
                _ => 0,
            });
            let local = day.and_time(opening) + Duration::minutes(minute);
            at = tz
                .from_local_datetime(&local)
                .single()
                .map(|l| l.with_timezone(&Utc))
                .unwrap_or(t);
            if at >= floor {
                break;
            }
            day += Duration::days(1);
        }
        at.min(self.end).max(floor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;

    #[test]
    fn instants_fall_in_office_hours_within_the_year_and_after_their_cause() {
        let now = Utc::now();
        let year = Year::ending(now);
        let mut g = Gen::new(7);
        for i in 0..=200 {
            let t = year.at(&mut g, f64::from(i) / 200.0);
            assert!(t <= now && t >= now - Duration::days(366), "{t}");
            let later = year.after(&mut g, t, 30);
            assert!(later > t && later <= now, "{t} {later}");
            let local = t.with_timezone(&beijing());
            if t < now - Duration::days(3) {
                assert!(
                    !matches!(local.weekday(), Weekday::Sat | Weekday::Sun),
                    "{local}"
                );
                assert!((9..18).contains(&local.hour()), "{local}");
            }
        }
    }
}
