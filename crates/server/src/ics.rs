//! Calendar invitations (RFC 5545) for scheduled meetings.
//!
//! One VEVENT with times in UTC, written by hand: the format needs four
//! rules (CRLF line ends, folding at 75 octets, TEXT escaping, UTC times),
//! each tested below, and a crate would bring a date library and a general
//! calendar model for one event (see docs/decisions.md).

use crate::meetings::Meeting;
use crate::time::ical_utc;

/// Longest line in octets, not counting the CRLF (RFC 5545 §3.1).
const MAX_LINE_OCTETS: usize = 75;

/// What goes into one invitation.
#[derive(Debug, Clone)]
pub struct Invite<'a> {
    pub meeting: &'a Meeting,
    /// `<base>/j/<code>`.
    pub join_url: &'a str,
    /// Makes the UID unique across servers: the installation's id.
    pub instance_id: &'a str,
    /// When the file was made (DTSTAMP), unix seconds.
    pub now: i64,
}

/// The `.ics` text, or `None` for an instant meeting (it has no time).
pub fn render(invite: &Invite<'_>) -> Option<String> {
    let meeting = invite.meeting;
    let schedule = meeting.schedule?;
    let mut description = format!(
        "Join the Confab meeting: {}\nMeeting code: {}",
        invite.join_url, meeting.code
    );
    if let Some(passcode) = &meeting.passcode {
        description.push_str(&format!("\nPasscode: {passcode}"));
    }
    description.push_str("\nOpen the link, or enter the code in the Confab app.");

    let mut lines = vec![
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//Confab//Confab server//EN".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
        "METHOD:PUBLISH".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        format!("UID:{}@{}.confab", meeting.code, invite.instance_id),
        format!("DTSTAMP:{}", ical_utc(invite.now)),
        format!("DTSTART:{}", ical_utc(schedule.starts_at)),
        format!(
            "DTEND:{}",
            ical_utc(schedule.starts_at + schedule.duration_secs())
        ),
    ];
    if schedule.weekly {
        lines.push("RRULE:FREQ=WEEKLY".to_owned());
    }
    lines.extend([
        format!("SUMMARY:{}", escape_text(&meeting.title)),
        format!("DESCRIPTION:{}", escape_text(&description)),
        format!("LOCATION:{}", escape_text(invite.join_url)),
        format!("URL:{}", invite.join_url),
        "END:VEVENT".to_owned(),
        "END:VCALENDAR".to_owned(),
    ]);
    Some(lines.iter().map(|line| fold(line)).collect())
}

/// Escapes a TEXT value: backslash, semicolon, comma and line breaks.
fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// One content line, CRLF-terminated, folded so that no line passes 75
/// octets: continuation lines start with a space, which counts towards
/// their 75. Folds fall between characters, never inside a UTF-8 sequence.
fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 64 * 3 + 2);
    let mut octets = 0;
    for c in line.chars() {
        if octets + c.len_utf8() > MAX_LINE_OCTETS {
            out.push_str("\r\n ");
            octets = 1;
        }
        out.push(c);
        octets += c.len_utf8();
    }
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meetings::{MeetingCode, Schedule};

    fn meeting(title: &str, weekly: bool, passcode: Option<&str>) -> Meeting {
        Meeting {
            code: MeetingCode::parse("kqz-rmtp-wfa").unwrap(),
            title: title.into(),
            passcode: passcode.map(Into::into),
            lobby: false,
            public: false,
            host_key: "secret-host-key".into(),
            created_by: "admin".into(),
            created_at: 0,
            updated_at: 0,
            schedule: Some(Schedule {
                starts_at: 1_796_029_200,
                duration_minutes: 45,
                weekly,
            }),
        }
    }

    fn render_for(m: &Meeting) -> String {
        render(&Invite {
            meeting: m,
            join_url: "http://office.example:8443/j/kqz-rmtp-wfa",
            instance_id: "0123abcd",
            now: 1_795_000_000,
        })
        .unwrap()
    }

    /// Undoes folding, as a calendar reader does.
    fn unfold(ics: &str) -> String {
        ics.replace("\r\n ", "")
    }

    #[test]
    fn invite_has_one_utc_event_with_the_join_link_and_passcode() {
        let ics = render_for(&meeting("Planning", false, Some("4711")));
        let text = unfold(&ics);
        for expected in [
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n",
            "BEGIN:VEVENT\r\n",
            "UID:kqz-rmtp-wfa@0123abcd.confab\r\n",
            "DTSTART:20261130T090000Z\r\n",
            "DTEND:20261130T094500Z\r\n",
            "SUMMARY:Planning\r\n",
            "http://office.example:8443/j/kqz-rmtp-wfa",
            "Passcode: 4711",
            "END:VEVENT\r\nEND:VCALENDAR\r\n",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
        assert!(!text.contains("RRULE"), "a one-off meeting does not repeat");
        assert!(
            !text.contains("secret-host-key"),
            "guests never see the host key"
        );
    }

    #[test]
    fn weekly_meetings_repeat_weekly() {
        let text = unfold(&render_for(&meeting("Stand-up", true, None)));
        assert!(text.contains("\r\nRRULE:FREQ=WEEKLY\r\n"), "{text}");
        assert!(!text.contains("Passcode"), "{text}");
    }

    #[test]
    fn every_line_ends_in_crlf_and_fits_75_octets() {
        let long = "Quarterly review with the whole Zürich team, ".repeat(3);
        let ics = render_for(&meeting(long.trim(), true, Some("ünïcødé-pass")));
        assert!(ics.ends_with("\r\n"));
        let without_crlf = ics.replace("\r\n", "");
        assert!(!without_crlf.contains(['\r', '\n']), "bare CR or LF found");
        for line in ics.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(
                line.len() <= MAX_LINE_OCTETS,
                "{} octets: {line:?}",
                line.len()
            );
        }
        assert!(
            unfold(&ics).contains(&format!("SUMMARY:{}", escape_text(long.trim()))),
            "folding loses nothing"
        );
    }

    #[test]
    fn text_values_escape_commas_semicolons_backslashes_and_newlines() {
        assert_eq!(escape_text("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
    }

    #[test]
    fn folding_never_splits_a_multibyte_character() {
        let line = format!("SUMMARY:{}", "é".repeat(100));
        let folded = fold(&line);
        for piece in folded.split("\r\n") {
            assert!(piece.len() <= MAX_LINE_OCTETS);
        }
        assert_eq!(unfold(&folded), format!("{line}\r\n"));
    }

    #[test]
    fn instant_meetings_have_no_invite() {
        let mut m = meeting("Now", false, None);
        m.schedule = None;
        let invite = Invite {
            meeting: &m,
            join_url: "x",
            instance_id: "y",
            now: 0,
        };
        assert_eq!(render(&invite), None);
    }
}
