//! One call's media as the engine directs it: the relay between its legs, and what
//! Switchboard plays over it. A leg waiting alone hears its backdrop (music on hold or
//! ringback); words said to a leg replace what it heard until they end, then it goes
//! back to its backdrop (or, bridged, to the other leg); a whisper plays over the call;
//! an announcement is reported when it ends. Sans-IO: the media edge feeds it commands
//! and packets with the time, sends what it emits and passes its reports on.

use std::time::{Instant, SystemTime};

use crate::dtmf::Dtmf;
use crate::prompt::{Prompt, PromptPlayer};
use crate::relay::{Dropped, Emit, Forward, LegMedia, Relay, RelayEvent, RelayStats, Side};

/// What a leg waiting alone hears, looping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backdrop {
    Music,
    Ringback,
}

/// The looping sounds a call's backdrops play.
#[derive(Debug, Clone)]
pub struct Backdrops {
    pub music: Prompt,
    pub ringback: Prompt,
}

impl Backdrops {
    pub(crate) fn player(&self, backdrop: Backdrop) -> PromptPlayer {
        let prompt = match backdrop {
            Backdrop::Music => &self.music,
            Backdrop::Ringback => &self.ringback,
        };
        PromptPlayer::new(prompt.clone(), true)
    }
}

/// The random identities of the streams a new relay sends (the edge draws them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamIds {
    pub ssrcs: [u32; 2],
    pub first_seqs: [u16; 2],
}

/// What the playback reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaybackEvent {
    /// The announcement or prompts played with [`Playback::announce`] or
    /// [`Playback::prompt`] ended.
    AnnouncementDone,
}

#[derive(Debug)]
pub struct Playback {
    backdrops: Backdrops,
    relay: Option<Relay>,
    /// The leg hearing an announcement, reported when it ends.
    announcing: Option<Side>,
    /// The leg hearing words over the call.
    whispering: Option<Side>,
    /// The leg waiting alone and what it hears between words.
    waiting: Option<(Side, Backdrop)>,
    /// The leg hearing words, after which it goes back to what it heard.
    saying: Option<Side>,
    /// What relays replaced so far had counted.
    retired: RelayStats,
    /// The call is being recorded: every relay keeps what the legs say.
    recording: bool,
}

impl Playback {
    pub fn new(backdrops: Backdrops) -> Self {
        Playback {
            backdrops,
            relay: None,
            announcing: None,
            whispering: None,
            waiting: None,
            saying: None,
            retired: RelayStats::default(),
            recording: false,
        }
    }

    /// The two legs talk (replacing whatever was played).
    pub fn bridge(
        &mut self,
        now: Instant,
        wall: SystemTime,
        a: LegMedia,
        b: LegMedia,
        ids: StreamIds,
    ) {
        self.replace(now, wall, Relay::new(a, b, ids.ssrcs, ids.first_seqs));
        (self.waiting, self.saying) = (None, None);
    }

    /// A re-INVITE moved one leg.
    pub fn update(&mut self, side: Side, media: LegMedia) {
        if let Some(r) = self.relay.as_mut() {
            r.update(side, media);
        }
    }

    pub fn send_dtmf(&mut self, now: Instant, to: Side, dtmf: Dtmf) {
        if let Some(r) = self.relay.as_mut() {
            r.send_dtmf(now, to, dtmf);
        }
    }

    /// Plays `prompt` once to leg `side` (media `to`), reported when it ends.
    #[allow(clippy::too_many_arguments)]
    pub fn announce(
        &mut self,
        now: Instant,
        wall: SystemTime,
        side: Side,
        to: LegMedia,
        prompt: Prompt,
        ids: StreamIds,
    ) {
        let r = self.relay.get_or_insert_with(|| {
            Relay::for_announcement(to, ids.ssrcs[0], ids.first_seqs[0]).with_wall_clock(now, wall)
        });
        r.set_music(now, side, Some(PromptPlayer::new(prompt, false)));
        self.announcing = Some(side);
    }

    /// The caller (media `to`) alone hears `prompt` (none: silence), replacing what
    /// they heard; reported when it ends.
    pub fn prompt(
        &mut self,
        now: Instant,
        wall: SystemTime,
        to: LegMedia,
        prompt: Option<Prompt>,
        ids: StreamIds,
    ) {
        let mut r = Relay::for_announcement(to, ids.ssrcs[0], ids.first_seqs[0]);
        let player = prompt.map(|p| PromptPlayer::new(p, false));
        self.announcing = player.is_some().then_some(Side::A);
        r.set_music(now, Side::A, player);
        self.replace(now, wall, r);
        (self.waiting, self.saying) = (None, None);
    }

    /// Leg `side` (media `media`) waits alone, hearing `backdrop`.
    pub fn wait(
        &mut self,
        now: Instant,
        wall: SystemTime,
        side: Side,
        media: LegMedia,
        backdrop: Backdrop,
        ids: StreamIds,
    ) {
        let mut r = Relay::for_announcement(media, ids.ssrcs[0], ids.first_seqs[0]);
        r.set_music(now, side, Some(self.backdrops.player(backdrop)));
        self.replace(now, wall, r);
        (self.waiting, self.saying) = (Some((side, backdrop)), None);
    }

    /// `words` to leg `to`, then back to what it heard; with `hold_other`, a bridged
    /// call's other leg hears music meanwhile.
    pub fn say(&mut self, now: Instant, to: Side, words: Prompt, hold_other: bool) {
        let Some(r) = self.relay.as_mut() else {
            return;
        };
        r.set_music(now, to, Some(PromptPlayer::new(words, false)));
        if hold_other && self.waiting.is_none() {
            r.set_music(
                now,
                to.other(),
                Some(self.backdrops.player(Backdrop::Music)),
            );
        }
        self.saying = Some(to);
    }

    /// `words` to leg `to` over what the other leg says.
    pub fn whisper(&mut self, now: Instant, to: Side, words: Prompt) {
        if let Some(r) = self.relay.as_mut() {
            r.set_whisper(now, to, Some(PromptPlayer::new(words, false)));
            self.whispering = Some(to);
        }
    }

    /// Music on hold to leg `to` (its other side holds), or not.
    pub fn music(&mut self, now: Instant, to: Side, on: bool) {
        if let Some(r) = self.relay.as_mut() {
            let music = on.then(|| self.backdrops.player(Backdrop::Music));
            r.set_music(now, to, music);
        }
    }

    /// A packet from leg `side`; see [`Relay::handle_rtp`]. None before anything is
    /// up (no leg answered yet): the packet is dropped.
    pub fn handle_rtp(
        &mut self,
        now: Instant,
        side: Side,
        from: std::net::SocketAddr,
        buf: &mut [u8],
        len: usize,
    ) -> Option<Result<Forward, Dropped>> {
        Some(self.relay.as_mut()?.handle_rtp(now, side, from, buf, len))
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.relay.as_ref().and_then(Relay::poll_timeout)
    }

    pub fn poll_emit(&mut self, now: Instant) -> Option<Emit> {
        self.relay.as_mut()?.poll_emit(now)
    }

    pub fn poll_relay_event(&mut self) -> Option<RelayEvent> {
        self.relay.as_mut()?.poll_event()
    }

    /// What ended since the last look: words go back to what the leg heard, a
    /// whisper stops, an announcement is reported.
    pub fn poll_event(&mut self, now: Instant) -> Option<PlaybackEvent> {
        let r = self.relay.as_mut()?;
        if let Some(to) = self.whispering.filter(|&to| r.whisper_finished(to)) {
            self.whispering = None;
            r.set_whisper(now, to, None);
        }
        if let Some(to) = self.saying.filter(|&to| r.music_finished(to)) {
            self.saying = None;
            if let Some((side, backdrop)) = self.waiting {
                r.set_music(now, side, Some(self.backdrops.player(backdrop)));
            } else {
                r.set_music(now, to, None);
                r.set_music(now, to.other(), None);
            }
        }
        let side = self.announcing.filter(|&side| r.music_finished(side))?;
        self.announcing = None;
        r.set_music(now, side, None);
        Some(PlaybackEvent::AnnouncementDone)
    }

    /// Everything counted since the call began, across the relays it had.
    pub fn stats(&self) -> RelayStats {
        let current = self.relay.as_ref().map(Relay::stats).unwrap_or_default();
        plus(&self.retired, &current)
    }

    /// Puts `new` in place of the relay, continuing the streams the phones hear.
    fn replace(&mut self, now: Instant, wall: SystemTime, new: Relay) {
        let new = match self.relay.take() {
            Some(mut old) => {
                self.retired = plus(&self.retired, &old.stats());
                new.continuing(&mut old)
            }
            None => new,
        };
        let mut new = new.with_wall_clock(now, wall);
        new.set_recording(self.recording);
        self.relay = Some(new);
    }

    /// Keeps what the legs say for the call's recording from now on, or stops.
    pub fn record(&mut self, on: bool) {
        self.recording = on;
        if let Some(r) = self.relay.as_mut() {
            r.set_recording(on);
        }
    }

    pub fn is_recording(&self) -> bool {
        self.recording
    }

    /// What the legs said since the last call, for the recording.
    pub fn drain_heard(&mut self) -> impl Iterator<Item = crate::call_recording::Heard> + '_ {
        self.relay.iter_mut().flat_map(Relay::drain_heard)
    }
}

fn plus(a: &RelayStats, b: &RelayStats) -> RelayStats {
    RelayStats {
        forwarded: a.forwarded + b.forwarded,
        malformed: a.malformed + b.malformed,
        unexpected_source: a.unexpected_source + b.unexpected_source,
        foreign_ssrc: a.foreign_ssrc + b.foreign_ssrc,
        payload: a.payload + b.payload,
        rtcp: a.rtcp + b.rtcp,
        dtmf_translated: a.dtmf_translated + b.dtmf_translated,
        held: a.held + b.held,
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::codec::{Codec, Format};
    use crate::g711::linear_to_ulaw;

    const IDS: StreamIds = StreamIds {
        ssrcs: [7, 8],
        first_seqs: [1, 1],
    };

    fn leg(remote: &str) -> LegMedia {
        let remote: SocketAddr = remote.parse().unwrap();
        LegMedia {
            remote,
            signalling: remote.ip(),
            srtp: None,
            audio: Format::default_for(Codec::Pcmu),
            events: None,
        }
    }

    /// A constant level, `ms` long, so each packet tells which sound it carries.
    fn level(value: i16, ms: usize) -> Prompt {
        Prompt {
            rate: 8000,
            samples: Arc::from(vec![value; 8 * ms]),
        }
    }

    const MUSIC: i16 = -8000;
    const WORDS: i16 = 8000;

    fn playback() -> Playback {
        Playback::new(Backdrops {
            music: level(MUSIC, 1000),
            ringback: level(100, 1000),
        })
    }

    /// What `side` is sent for `ms` from `t`, one letter a packet (M music, W words,
    /// ? other), and the events reported meanwhile.
    fn heard(
        p: &mut Playback,
        t: &mut Instant,
        ms: u64,
        side: Side,
    ) -> (String, Vec<PlaybackEvent>) {
        let (mut said, mut events) = (String::new(), Vec::new());
        let end = *t + Duration::from_millis(ms);
        while *t < end {
            *t += Duration::from_millis(20);
            while let Some(e) = p.poll_emit(*t) {
                if e.side != side || e.rtcp {
                    continue;
                }
                said.push(match e.packet[12] {
                    b if b == linear_to_ulaw(MUSIC) => 'M',
                    b if b == linear_to_ulaw(WORDS) => 'W',
                    _ => '?',
                });
            }
            events.extend(std::iter::from_fn(|| p.poll_event(*t)));
        }
        (said, events)
    }

    #[test]
    fn a_waiting_leg_hears_words_then_its_music_again() {
        let (mut p, mut t) = (playback(), Instant::now());
        let wall = SystemTime::now();
        p.wait(t, wall, Side::A, leg("10.0.0.1:4000"), Backdrop::Music, IDS);
        let (before, _) = heard(&mut p, &mut t, 100, Side::A);
        assert!(
            !before.is_empty() && before.chars().all(|c| c == 'M'),
            "{before}"
        );
        p.say(t, Side::A, level(WORDS, 100), true);
        let (said, events) = heard(&mut p, &mut t, 200, Side::A);
        assert!(
            said.starts_with("WWWWW") && said.ends_with("MMMM"),
            "{said}"
        );
        assert!(events.is_empty(), "words are not an announcement");
    }

    #[test]
    fn an_announcement_is_reported_once_it_has_played() {
        let (mut p, mut t) = (playback(), Instant::now());
        let wall = SystemTime::now();
        p.prompt(t, wall, leg("10.0.0.1:4000"), Some(level(WORDS, 100)), IDS);
        let (first, events) = heard(&mut p, &mut t, 60, Side::A);
        assert!(
            first.starts_with("WWW") && first.chars().all(|c| c == 'W'),
            "{first}"
        );
        assert!(events.is_empty(), "not before it ends");
        let (_, events) = heard(&mut p, &mut t, 100, Side::A);
        assert_eq!(events, [PlaybackEvent::AnnouncementDone]);
        let (_, again) = heard(&mut p, &mut t, 100, Side::A);
        assert!(again.is_empty(), "reported once");
    }

    #[test]
    fn a_bridged_agent_hears_the_whisper_while_the_caller_hears_music_then_both_talk() {
        let (mut p, t) = (playback(), Instant::now());
        let wall = SystemTime::now();
        let (caller, agent) = (leg("10.0.0.1:4000"), leg("10.0.0.2:4000"));
        p.wait(t, wall, Side::A, caller, Backdrop::Music, IDS);
        p.bridge(t, wall, caller, agent, IDS);
        p.say(t, Side::B, level(WORDS, 100), true);
        let mut tb = t;
        let (to_agent, _) = heard(&mut p, &mut tb, 100, Side::B);
        assert!(
            !to_agent.is_empty() && to_agent.chars().all(|c| c == 'W'),
            "{to_agent}"
        );
        // Once the words end, nothing more is played to either side: they talk.
        let (after, _) = heard(&mut p, &mut tb, 100, Side::B);
        assert!(after.is_empty(), "{after}");
        assert!(p.poll_timeout().is_none_or(|at| at > tb));
    }
}
