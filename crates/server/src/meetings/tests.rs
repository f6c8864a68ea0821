use super::*;
use crate::storage::Storage;

const MONDAY_9: i64 = 1_796_029_200; // 2026-11-30 09:00 UTC
const DAY: i64 = 24 * 3600;

fn store() -> (Meetings, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (Meetings::new(Storage::open(dir.path()).unwrap()), dir)
}

fn scheduled(title: &str, starts_at: i64, weekly: bool) -> NewMeeting {
    NewMeeting {
        schedule: Some(Schedule {
            starts_at,
            duration_minutes: 30,
            weekly,
        }),
        ..NewMeeting::titled(title)
    }
}

#[tokio::test]
async fn created_meetings_read_back_with_code_and_host_key() {
    let (meetings, _dir) = store();
    let new = NewMeeting {
        passcode: Some("4711".into()),
        lobby: true,
        public: true,
        ..NewMeeting::titled("  Weekly sync  ")
    };
    let created = meetings.create(new, "admin").await.unwrap();
    assert_eq!(created.title, "Weekly sync", "title is trimmed");
    assert_eq!(created.host_key.len(), 32);
    assert!(MeetingCode::parse(created.code.as_str()).is_some());

    let read = meetings.get(created.code.as_str()).await.unwrap();
    assert_eq!(read.as_ref(), Some(&created));
    let shouted = created.code.as_str().to_uppercase().replace('-', "");
    assert_eq!(meetings.get(&shouted).await.unwrap(), Some(created));
    assert_eq!(meetings.get("not a code").await.unwrap(), None);
}

#[tokio::test]
async fn a_colliding_code_is_drawn_again() {
    let (meetings, _dir) = store();
    let taken = MeetingCode::parse("abc-defg-hjk").unwrap();
    let fresh = MeetingCode::parse("mnp-qrst-uvw").unwrap();
    let first = taken.clone();
    meetings
        .create_with_codes(NewMeeting::titled("one"), "admin", move || first.clone())
        .await
        .unwrap();
    let mut draws = vec![fresh.clone(), taken.clone(), taken.clone()];
    let second = meetings
        .create_with_codes(NewMeeting::titled("two"), "admin", move || {
            draws.pop().unwrap()
        })
        .await
        .unwrap();
    assert_eq!(second.code, fresh, "two collisions, then the fresh code");

    let always_taken = taken.clone();
    let err = meetings
        .create_with_codes(NewMeeting::titled("three"), "admin", move || {
            always_taken.clone()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, MeetingError::NoFreeCode { .. }), "{err}");
}

#[tokio::test]
async fn invalid_fields_are_refused_with_a_sentence() {
    let (meetings, _dir) = store();
    let cases = [
        (NewMeeting::titled("   "), "Give the meeting a title."),
        (
            NewMeeting::titled("x".repeat(MAX_TITLE + 1)),
            "121 characters",
        ),
        (NewMeeting::titled("two\nlines"), "line breaks"),
        (
            NewMeeting {
                passcode: Some("123".into()),
                ..NewMeeting::titled("t")
            },
            "needs 4 to 32",
        ),
        (
            NewMeeting {
                passcode: Some("p".repeat(MAX_PASSCODE + 1)),
                ..NewMeeting::titled("t")
            },
            "33 characters",
        ),
        (
            NewMeeting {
                schedule: Some(Schedule {
                    starts_at: MONDAY_9,
                    duration_minutes: 1441,
                    weekly: false,
                }),
                ..NewMeeting::titled("t")
            },
            "1441 is outside",
        ),
        (
            NewMeeting {
                schedule: Some(Schedule {
                    starts_at: MONDAY_9,
                    duration_minutes: 0,
                    weekly: false,
                }),
                ..NewMeeting::titled("t")
            },
            "0 is outside",
        ),
    ];
    for (new, expected) in cases {
        let err = meetings.create(new, "admin").await.unwrap_err();
        assert!(err.to_string().contains(expected), "{err} / {expected}");
    }
    assert!(meetings.list().await.unwrap().is_empty());
}

#[test]
fn an_empty_passcode_means_none() {
    let new = NewMeeting {
        passcode: Some(String::new()),
        ..NewMeeting::titled("t")
    };
    assert_eq!(new.validated().unwrap().passcode, None);
}

#[test]
fn duration_or_weekly_without_a_start_is_refused() {
    let err = schedule_from(None, Some(30), None).unwrap_err();
    assert!(err.to_string().contains("duration_minutes"), "{err}");
    let err = schedule_from(None, None, Some(true)).unwrap_err();
    assert!(err.to_string().contains("weekly"), "{err}");
    assert_eq!(schedule_from(None, None, Some(false)).unwrap(), None);
    let default = schedule_from(Some(MONDAY_9), None, None).unwrap().unwrap();
    assert_eq!(default.duration_minutes, DEFAULT_DURATION_MINUTES);
}

#[tokio::test]
async fn updates_change_only_the_given_fields() {
    let (meetings, _dir) = store();
    let created = meetings
        .create(scheduled("Planning", MONDAY_9, true), "admin")
        .await
        .unwrap();
    let code = created.code.as_str();
    let changes = MeetingChanges {
        title: Some("Planning (new room)".into()),
        passcode: Some(Some("9876".into())),
        ..MeetingChanges::default()
    };
    let updated = meetings.update(code, changes).await.unwrap();
    assert_eq!(updated.title, "Planning (new room)");
    assert_eq!(updated.passcode.as_deref(), Some("9876"));
    assert_eq!(updated.schedule, created.schedule);
    assert_eq!(updated.host_key, created.host_key);

    let instant = MeetingChanges {
        starts_at: Some(None),
        passcode: Some(None),
        ..MeetingChanges::default()
    };
    let updated = meetings.update(code, instant).await.unwrap();
    assert_eq!(updated.schedule, None);
    assert_eq!(updated.passcode, None);
    assert_eq!(meetings.get(code).await.unwrap(), Some(updated));

    let bad = MeetingChanges {
        title: Some(String::new()),
        ..MeetingChanges::default()
    };
    assert!(matches!(
        meetings.update(code, bad).await,
        Err(MeetingError::EmptyTitle)
    ));
    assert!(matches!(
        meetings
            .update("abc-defg-hjk", MeetingChanges::default())
            .await,
        Err(MeetingError::NotFound { .. })
    ));
}

#[tokio::test]
async fn deleted_meetings_are_gone() {
    let (meetings, _dir) = store();
    let created = meetings
        .create(NewMeeting::titled("t"), "admin")
        .await
        .unwrap();
    assert!(meetings.delete(created.code.as_str()).await.unwrap());
    assert!(!meetings.delete(created.code.as_str()).await.unwrap());
    assert_eq!(meetings.get(created.code.as_str()).await.unwrap(), None);
}

#[tokio::test]
async fn occurrences_expand_weekly_meetings_and_skip_private_ones_on_request() {
    let (meetings, _dir) = store();
    let weekly = NewMeeting {
        public: true,
        ..scheduled("Weekly", MONDAY_9 - 3 * WEEK_SECS, true)
    };
    let once = NewMeeting {
        public: true,
        ..scheduled("Once", MONDAY_9 + 2 * DAY, false)
    };
    let private = scheduled("Private", MONDAY_9 + DAY, false);
    let past = NewMeeting {
        public: true,
        ..scheduled("Past", MONDAY_9 - 2 * DAY, false)
    };
    for new in [weekly, once, private, past, NewMeeting::titled("Instant")] {
        meetings.create(new, "admin").await.unwrap();
    }

    let from = MONDAY_9 - 3600;
    let until = from + 8 * DAY;
    let all = meetings
        .occurrences_between(from, until, Visibility::All)
        .await
        .unwrap();
    let seen: Vec<(&str, i64)> = all
        .iter()
        .map(|o| (o.meeting.title.as_str(), o.starts_at))
        .collect();
    assert_eq!(
        seen,
        [
            ("Weekly", MONDAY_9),
            ("Private", MONDAY_9 + DAY),
            ("Once", MONDAY_9 + 2 * DAY),
            ("Weekly", MONDAY_9 + WEEK_SECS),
        ]
    );
    let public = meetings
        .occurrences_between(from, until, Visibility::PublicOnly)
        .await
        .unwrap();
    assert!(public.iter().all(|o| o.meeting.public));
    assert_eq!(public.len(), 3);
    let instant = meetings.instant(Visibility::All).await.unwrap();
    assert_eq!(instant.len(), 1);
    assert!(
        meetings
            .instant(Visibility::PublicOnly)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn host_keys_match_only_exactly_and_instant_meetings_are_always_open() {
    let (meetings, _dir) = store();
    let m = meetings
        .create(NewMeeting::titled("t"), "admin")
        .await
        .unwrap();
    assert!(m.host_key_matches(&m.host_key.clone()));
    assert!(!m.host_key_matches(&m.host_key[..31]));
    assert!(!m.host_key_matches(""));
    assert!(m.liveness(0).is_open());
    assert!(m.liveness(i64::MAX / 2).is_open());
}
