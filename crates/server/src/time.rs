//! Unix seconds to and from the forms people and calendars read.

use jiff::Timestamp;

/// RFC 3339 in UTC, `2026-11-30T09:00:00Z`. Out-of-range values (beyond
/// year 9999) are clamped rather than refused: they can only come from a
/// hand-edited database.
pub fn rfc3339(unix: i64) -> String {
    to_timestamp(unix).to_string()
}

/// Reads RFC 3339 with any offset (`Z`, `+01:00`); `None` otherwise.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    text.trim().parse::<Timestamp>().ok().map(|t| t.as_second())
}

/// iCalendar's UTC form, `20261130T090000Z`.
pub fn ical_utc(unix: i64) -> String {
    to_timestamp(unix).strftime("%Y%m%dT%H%M%SZ").to_string()
}

pub(crate) fn to_timestamp(unix: i64) -> Timestamp {
    let clamped = unix.clamp(Timestamp::MIN.as_second(), Timestamp::MAX.as_second());
    Timestamp::from_second(clamped).unwrap_or(Timestamp::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips_and_accepts_offsets() {
        assert_eq!(rfc3339(1_796_029_200), "2026-11-30T09:00:00Z");
        assert_eq!(parse_rfc3339("2026-11-30T09:00:00Z"), Some(1_796_029_200));
        assert_eq!(
            parse_rfc3339("2026-11-30T10:00:00+01:00"),
            Some(1_796_029_200)
        );
        assert_eq!(
            parse_rfc3339("2026-11-30 09:00"),
            None,
            "an offset is required"
        );
        assert_eq!(parse_rfc3339("tomorrow"), None);
    }

    #[test]
    fn ical_times_are_basic_format_utc() {
        assert_eq!(ical_utc(1_796_029_200), "20261130T090000Z");
    }
}
