//! The legs' media: what Switchboard answers each leg's offer with, the keys it gives,
//! and the verbs that answer a caller alone or bridge two legs.

use std::time::{Duration, Instant};

use switchboard_media::relay::{LegMedia, Side};
use switchboard_media::sdp::{
    AudioStream, Direction, LocalDescription, SdpError, SessionDescription, formats_to_answer,
};
use switchboard_media::srtp::{SdesKey, SrtpKeys};
use switchboard_sip::transaction::Peer;

use super::{LegTimer, Legs, Phase};
use crate::record::{HangupBy, Outcome};
use crate::vocabulary::{Announcement, CallKey, MediaCommand};

impl Legs {
    /// Switchboard's SRTP key for a leg whose offer encrypts its audio.
    pub fn answer_crypto(&mut self, offer: &AudioStream) -> Option<SdesKey> {
        Some(self.fresh_key(offer.crypto?.tag))
    }

    /// A new SRTP key, from the engine's cryptographically secure stream.
    pub fn fresh_key(&mut self, tag: u32) -> SdesKey {
        let mut key = [0u8; switchboard_media::srtp::KEY_AND_SALT];
        for chunk in key.chunks_mut(8) {
            chunk.copy_from_slice(&self.ids.random().to_be_bytes()[..chunk.len()]);
        }
        SdesKey { tag, key }
    }

    /// Switchboard's answer to the caller's offer with `formats`, on the caller's port.
    pub(super) fn caller_answer(
        &mut self,
        key: CallKey,
        formats: Vec<switchboard_media::codec::Format>,
        direction: Direction,
    ) -> Option<LocalDescription> {
        let call = self.calls.get(&key)?;
        let (a_peer, port, offer) = (call.a_peer, call.ports[0], call.offer.clone());
        Some(LocalDescription {
            session_id: self.ids.random() >> 1,
            version: 1,
            address: self.local_ip(a_peer),
            port,
            formats,
            direction,
            ptime: 20,
            crypto: self.answer_crypto(&offer),
        })
    }

    /// Switchboard's answer to the caller and both legs' media for the `sdp` fork
    /// `fork` answered with. Once the caller has an answer (early media, or answered
    /// alone), it is kept and only the callee's side is read anew.
    pub fn negotiate(
        &mut self,
        key: CallKey,
        fork: usize,
        sdp: &[u8],
    ) -> Result<(LocalDescription, LegMedia, LegMedia), SdpError> {
        let call = self.calls.get(&key).ok_or(SdpError::NoAudio)?;
        let b_fork = call.forks.get(fork).ok_or(SdpError::NoAudio)?;
        let (b, b_media) = answered_media(sdp, b_fork.peer, b_fork.sdp.crypto)?;
        let local = match &call.local_sdp[0] {
            Some(given) => given.clone(),
            None => {
                let formats = formats_to_answer(&call.offer, b_media.audio.codec)?;
                self.caller_answer(key, formats, b.direction)
                    .ok_or(SdpError::NoAudio)?
            }
        };
        let call = self.calls.get(&key).ok_or(SdpError::NoAudio)?;
        Ok((
            local.clone(),
            leg_media(&call.offer, &local, call.a_peer),
            b_media,
        ))
    }

    /// Answers the caller with Switchboard's own media (no other leg yet); returns the
    /// caller's media. A caller already answered keeps that answer.
    pub fn answer_alone(&mut self, now: Instant, key: CallKey) -> Option<LegMedia> {
        let call = self.calls.get(&key)?;
        if let Some(local) = &call.local_sdp[0] {
            return Some(leg_media(&call.offer, local, call.a_peer));
        }
        let audio = call.offer.first_audio()?;
        let formats = formats_to_answer(&call.offer, audio.codec).ok()?;
        let local = self.caller_answer(key, formats, Direction::SendRecv)?;
        self.answer_caller(now, key, 200, "OK", &local);
        let call = self.calls.get_mut(&key)?;
        call.local_sdp[0] = Some(local.clone());
        Some(leg_media(&call.offer, &local, call.a_peer))
    }

    /// Answers a caller a feature holds and counts the call answered from now; a
    /// caller whose offer cannot be answered is hung up on. False then.
    pub fn answer_held(&mut self, now: Instant, key: CallKey) -> bool {
        if self.answer_alone(now, key).is_none() {
            let (d, by) = (Outcome::Failed, HangupBy::System);
            let why = "The caller's offer cannot be answered";
            self.end_alone(now, key, d, by, 488, why);
            return false;
        }
        self.answered_since(now, key, None);
        true
    }

    /// Switchboard's answer for a caller about to hear why the call fails: the one
    /// they hear already, or a new one with the offer's first codec.
    pub(super) fn early_answer(&mut self, key: CallKey) -> Option<LocalDescription> {
        let call = self.calls.get(&key)?;
        if let Some(given) = &call.local_sdp[0] {
            return Some(given.clone());
        }
        let audio = call.offer.first_audio()?;
        self.caller_answer(key, vec![audio], Direction::SendRecv)
    }

    /// The caller's media, once Switchboard has answered them.
    pub fn caller_media(&self, key: CallKey) -> Option<LegMedia> {
        let call = self.calls.get(&key)?;
        Some(leg_media(
            &call.offer,
            call.local_sdp[Side::A as usize].as_ref()?,
            call.a_peer,
        ))
    }

    /// Where the phone of fork `index` is, and the key Switchboard offered it.
    pub fn fork_peer(&self, key: CallKey, index: usize) -> Option<(Peer, Option<SdesKey>)> {
        let fork = self.calls.get(&key)?.forks.get(index)?;
        Some((fork.peer, fork.sdp.crypto))
    }

    /// The caller and fork `winner`'s phone talk: the relay joins their media and
    /// the call is answered (if it was not yet).
    pub fn bridge(&mut self, now: Instant, key: CallKey, winner: usize, a: LegMedia, b: LegMedia) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        call.phase = Phase::Answered { winner };
        call.media = Some([a, b]);
        self.answered_since(now, key, Some(winner));
        self.media(MediaCommand::Bridge { call: key, a, b });
        self.decide_recording(key);
    }

    /// Plays `sounds` to the caller one after another, replacing what they heard
    /// (none: silence); the feature hears [`super::LegEvent::Played`] when they end.
    pub fn play(&mut self, key: CallKey, sounds: Vec<crate::vocabulary::Sound>) {
        if let Some(to) = self.caller_media(key) {
            self.media(MediaCommand::Prompt {
                call: key,
                to,
                sounds,
            });
        }
    }

    /// The caller of an answered call waits alone, held for a feature (their other
    /// leg was moved away).
    pub fn hold(&mut self, key: CallKey) {
        if let Some(call) = self.calls.get_mut(&key) {
            call.phase = Phase::Held;
        }
    }

    /// Plays `what` once to leg `side` (media `to`); the call's feature hears
    /// [`super::LegEvent::Played`] when it ends, or after `limit` at the latest.
    pub fn announce(
        &mut self,
        now: Instant,
        key: CallKey,
        side: Side,
        to: LegMedia,
        what: Announcement,
        limit: Duration,
    ) {
        self.media(MediaCommand::Announce {
            call: key,
            side,
            to,
            what,
        });
        self.timers
            .insert((now + limit, key, LegTimer::PlaybackLimit));
    }
}

/// The media a leg whose SIP comes from `peer` sends and expects, from its offer and
/// our answer to it.
pub(crate) fn leg_media(offer: &AudioStream, answer: &LocalDescription, peer: Peer) -> LegMedia {
    let audio = answer.formats.iter().copied().find(|f| f.codec.is_audio());
    LegMedia {
        remote: std::net::SocketAddr::new(offer.address, offer.port),
        signalling: peer.addr.ip(),
        srtp: offer
            .crypto
            .zip(answer.crypto)
            .map(|(theirs, ours)| SrtpKeys { theirs, ours }),
        audio: audio.unwrap_or(answer.formats[0]),
        events: answer.formats.iter().copied().find(|f| !f.codec.is_audio()),
    }
}

/// What a trunk's calls must carry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrunkMedia {
    /// Over TLS with their audio in SRTP, both ways.
    pub encrypted: bool,
    /// The codecs offered to the provider and taken from it, most wanted first; empty:
    /// all of Switchboard's.
    pub codecs: Vec<switchboard_media::codec::Codec>,
}

/// A phone's answer to Switchboard's offer (the phone at `peer`, offered the SRTP key
/// `offered`): its stream and the media it takes.
pub(crate) fn answered_media(
    sdp: &[u8],
    peer: Peer,
    offered: Option<SdesKey>,
) -> Result<(AudioStream, LegMedia), SdpError> {
    let stream = SessionDescription::parse(sdp)?.audio()?;
    let audio = stream.first_audio().ok_or(SdpError::NoCommonCodec)?;
    // Offered SRTP, the phone must answer with its key; offered RTP, it has none to use.
    if offered.is_some() && stream.crypto.is_none() {
        return Err(SdpError::NoCommonCrypto);
    }
    let media = LegMedia {
        remote: std::net::SocketAddr::new(stream.address, stream.port),
        signalling: peer.addr.ip(),
        srtp: offered
            .zip(stream.crypto)
            .map(|(ours, theirs)| SrtpKeys { theirs, ours }),
        audio,
        events: stream.telephone_event(),
    };
    Ok((stream, media))
}
