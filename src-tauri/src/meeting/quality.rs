//! The network-quality indicator: good, fair or poor, from what the client
//! counted in the last interval (packet loss, concealed audio, frozen
//! video) and the state of the connection. Pure, so it is tested on
//! made-up counters.

use std::collections::{BTreeMap, HashMap, HashSet};

use confab_client::{MeetingEvent, ParticipantId, ReceiveStats};
use confab_proto::signal::Participant;
use serde::Serialize;
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Quality {
    Good,
    Fair,
    Poor,
}

/// Loss at or above which a link is fair / poor (fractions of packets).
const LOSS_FAIR: f32 = 0.02;
const LOSS_POOR: f32 = 0.10;
/// Share of audio time rebuilt by concealment at or above which a link is
/// fair / poor: Opus hides a few percent well, a fifth is audible.
const CONCEALED_FAIR: f64 = 0.05;
const CONCEALED_POOR: f64 = 0.20;

/// One participant's link over an interval: `before` and `now` are the
/// client's counters at its ends; `expect_video` says their camera is on
/// and shown, so no new frame at all means a frozen picture.
pub fn grade(before: &ReceiveStats, now: &ReceiveStats, expect_video: bool) -> Quality {
    let loss = now.loss.unwrap_or(0.0);
    let audio_ms = now.audio_ms.saturating_sub(before.audio_ms);
    let concealed_ms = now.audio_concealed.saturating_sub(before.audio_concealed) * 20;
    let concealed = if audio_ms == 0 {
        0.0
    } else {
        concealed_ms as f64 / audio_ms as f64
    };
    let frozen = expect_video && now.frames_decoded == before.frames_decoded;
    if frozen || loss >= LOSS_POOR || concealed >= CONCEALED_POOR {
        Quality::Poor
    } else if loss >= LOSS_FAIR || concealed >= CONCEALED_FAIR {
        Quality::Fair
    } else {
        Quality::Good
    }
}

/// The meeting's indicator: the worst link, and poor while reconnecting.
pub fn overall(links: impl IntoIterator<Item = Quality>, reconnecting: bool) -> Quality {
    if reconnecting {
        return Quality::Poor;
    }
    links.into_iter().max().unwrap_or(Quality::Good)
}

/// Follows a meeting's events to know whose video should be moving, and
/// grades each link from the counters it is given every interval.
#[derive(Debug, Default)]
pub struct QualityWatch {
    before: HashMap<ParticipantId, ReceiveStats>,
    /// Participants whose video arrived (and has not ended).
    video: HashSet<ParticipantId>,
    /// Participants with their camera off.
    camera_off: HashSet<ParticipantId>,
}

impl QualityWatch {
    pub fn observe(&mut self, event: &MeetingEvent) {
        let mut camera = |p: &Participant| {
            if p.video_muted {
                self.camera_off.insert(p.id);
            } else {
                self.camera_off.remove(&p.id);
            }
        };
        match event {
            MeetingEvent::Joined { participants, .. } => participants.iter().for_each(camera),
            MeetingEvent::ParticipantJoined(p) | MeetingEvent::ParticipantUpdated(p) => camera(p),
            MeetingEvent::VideoAvailable { participant, .. } => {
                self.video.insert(*participant);
            }
            MeetingEvent::MediaEnded { participant }
            | MeetingEvent::ParticipantLeft { participant, .. } => {
                self.video.remove(participant);
                self.before.remove(participant);
            }
            _ => {}
        }
    }

    /// Grades every link since the last call; the first call for a
    /// participant only records their counters.
    pub fn grade(
        &mut self,
        now: &HashMap<ParticipantId, ReceiveStats>,
        reconnecting: bool,
    ) -> (Quality, BTreeMap<ParticipantId, Quality>) {
        let mut links = BTreeMap::new();
        for (p, stats) in now {
            if let Some(before) = self.before.get(p) {
                let expect_video = self.video.contains(p) && !self.camera_off.contains(p);
                links.insert(*p, grade(before, stats, expect_video));
            }
            self.before.insert(*p, *stats);
        }
        (overall(links.values().copied(), reconnecting), links)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watch_expects_frames_only_from_cameras_that_are_on() {
        let mut watch = QualityWatch::default();
        let mut p = Participant {
            id: 7,
            name: "Ana".into(),
            kind: confab_proto::signal::ClientKind::App,
            host: false,
            hand_raised: false,
            audio_muted: false,
            video_muted: false,
            connected: true,
            joined_at_ms: 0,
        };
        watch.observe(&MeetingEvent::ParticipantJoined(p.clone()));
        watch.observe(&MeetingEvent::VideoAvailable {
            participant: 7,
            width: 320,
            height: 180,
        });
        let still = HashMap::from([(7, stats(50, 1_000, 0, None))]);
        assert_eq!(
            watch.grade(&still, false).1.get(&7),
            None,
            "first look only records"
        );
        assert_eq!(watch.grade(&still, false).1[&7], Quality::Poor, "frozen");
        p.video_muted = true;
        watch.observe(&MeetingEvent::ParticipantUpdated(p));
        assert_eq!(
            watch.grade(&still, false).1[&7],
            Quality::Good,
            "camera off"
        );
        assert_eq!(watch.grade(&still, true).0, Quality::Poor, "reconnecting");
    }

    fn stats(frames: u64, audio_ms: u64, concealed: u64, loss: Option<f32>) -> ReceiveStats {
        ReceiveStats {
            frames_decoded: frames,
            audio_ms,
            audio_concealed: concealed,
            loss,
            ..ReceiveStats::default()
        }
    }

    #[test]
    fn a_clean_link_is_good_and_loss_makes_it_fair_then_poor() {
        let before = stats(100, 10_000, 0, None);
        assert_eq!(
            grade(&before, &stats(130, 12_000, 1, Some(0.0)), true),
            Quality::Good
        );
        assert_eq!(
            grade(&before, &stats(130, 12_000, 1, Some(0.04)), true),
            Quality::Fair
        );
        assert_eq!(
            grade(&before, &stats(130, 12_000, 1, Some(0.15)), true),
            Quality::Poor
        );
    }

    #[test]
    fn concealed_audio_and_a_frozen_picture_lower_the_grade() {
        let before = stats(100, 10_000, 0, None);
        // 2 s of audio, 8 frames (160 ms) concealed: 8 %.
        assert_eq!(
            grade(&before, &stats(130, 12_000, 8, None), true),
            Quality::Fair
        );
        assert_eq!(
            grade(&before, &stats(130, 12_000, 25, None), true),
            Quality::Poor
        );
        // No new frame while their camera is on: frozen.
        assert_eq!(
            grade(&before, &stats(100, 12_000, 0, None), true),
            Quality::Poor
        );
        // No new frame with the camera off is no problem.
        assert_eq!(
            grade(&before, &stats(100, 12_000, 0, None), false),
            Quality::Good
        );
    }

    #[test]
    fn the_meeting_shows_its_worst_link_and_poor_while_reconnecting() {
        assert_eq!(overall([], false), Quality::Good);
        assert_eq!(
            overall([Quality::Good, Quality::Fair], false),
            Quality::Fair
        );
        assert_eq!(overall([Quality::Good], true), Quality::Poor);
    }
}
