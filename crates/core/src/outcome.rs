//! How the callee's phones answer: ringing, the first answer that wins, failures, the
//! ring timeout, and the end of a call with its record.

use std::time::Instant;

use rsip::Header;
use switchboard_media::relay::{LegMedia, Side};
use switchboard_media::sdp::{
    AudioStream, Direction, LocalDescription, SdpError, SessionDescription, formats_to_answer,
};
use switchboard_media::srtp::{SdesKey, SrtpKeys};
use switchboard_sip::dialog::{Dialog, cancel_for};
use switchboard_sip::header::CSeq;
use switchboard_sip::message::{Message, header_value, to_bytes};
use switchboard_sip::transaction::{ClientId, Peer};

use crate::call::{EarlyMedia, ForkState, PendingFailure, Phase};
use crate::in_dialog::DialogRoute;
use crate::pbx::{Announcement, CallKey, CallTimer, MediaCommand, Output, Pbx};
use crate::record::{CallRecord, Disposition, HangupBy};

impl Pbx {
    pub(crate) fn handle_response(&mut self, now: Instant, id: ClientId, response: rsip::Response) {
        if self.notify_answered(id, response.status_code.code()) {
            return;
        }
        let Some(&(key, index)) = self.by_fork.get(&id) else {
            return self.reinvite_answered(id, &response);
        };
        let code = response.status_code.code();
        match code {
            100 => {}
            101..=199 => self.fork_provisional(now, key, index, &response),
            200..=299 => self.fork_answered(now, key, index, &response),
            _ => self.fork_failed(now, key, index, code),
        }
    }

    pub(crate) fn handle_client_timeout(&mut self, now: Instant, id: ClientId) {
        if self.notify_answered(id, 408) {
            return;
        }
        if let Some(&(key, index)) = self.by_fork.get(&id) {
            self.fork_failed(now, key, index, 408);
        }
        self.reinvites.remove(&id);
    }

    fn fork_provisional(
        &mut self,
        now: Instant,
        key: CallKey,
        index: usize,
        response: &rsip::Response,
    ) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let fork = &mut call.forks[index];
        if fork.state == ForkState::Calling {
            fork.state = ForkState::Proceeding;
        }
        if fork.cancel_on_provisional {
            fork.cancel_on_provisional = false;
            fork.cancel_sent = true;
            if let Ok(cancel) = cancel_for(&fork.invite) {
                let peer = fork.peer;
                self.sip.send_request(now, cancel, peer);
            }
            return;
        }
        if call.phase != Phase::Ringing {
            return;
        }
        if !response.body.is_empty() && call.early_media.is_none() {
            return self.bridge_early_media(now, key, index, &response.body);
        }
        let Some(id) = call.invite_id.filter(|_| !call.ringing_sent) else {
            return;
        };
        call.ringing_sent = true;
        let invite = call.invite.clone();
        let tag = call.a_dialog.local_tag.clone();
        let (callee, a_peer) = (call.callee.clone(), call.a_peer);
        let mut ringing = self.sip.response(&invite, 180, "Ringing", &tag);
        let contact = self.contact(&callee, a_peer);
        ringing.headers.push(Header::Contact(contact.into()));
        self.sip.respond(now, id, &ringing);
    }

    fn fork_answered(
        &mut self,
        now: Instant,
        key: CallKey,
        index: usize,
        response: &rsip::Response,
    ) {
        let cseq = header_value(&response.headers, "CSeq")
            .and_then(|v| CSeq::parse(v).ok())
            .map_or(1, |c| c.seq);
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let fork = &mut call.forks[index];
        if fork.state == ForkState::Answered {
            // A retransmitted 2xx: our ACK was lost.
            if let Some(dialog) = fork.dialog.clone() {
                self.send_ack(&dialog, cseq);
            }
            return;
        }
        let Ok(dialog) = Dialog::as_uac(&fork.invite, response, fork.peer) else {
            return;
        };
        fork.state = ForkState::Answered;
        fork.dialog = Some(dialog.clone());
        let cancelled = fork.cancel_sent || fork.cancel_on_provisional;
        let (phase, seat) = (call.phase, fork.seat);
        let early = call.early_media.clone();
        self.by_dialog.insert(
            (dialog.call_id.clone(), dialog.local_tag.clone()),
            DialogRoute {
                call: key,
                side: seat,
                peer: fork.peer,
                extension: Some(fork.extension.clone()),
            },
        );
        self.send_ack(&dialog, cseq);
        if phase == Phase::Queued && !cancelled {
            return self.queue_fork_answered(now, key, index, &response.body);
        }
        if matches!(phase, Phase::CallingBack { .. }) && !cancelled {
            return self.callback_fork_answered(now, key, index, &response.body);
        }
        if phase == Phase::Scenario && !cancelled {
            return self.scenario_fork_answered(now, key, index, &response.body);
        }
        if phase != Phase::Ringing || cancelled {
            // Another phone answered first (or the caller gave up): this one is not wanted.
            self.send_bye(now, key, Side::B, Some(index));
            return self.forget_if_done(key);
        }
        // A phone that sent its SDP in early media need not repeat it in the 200.
        let body = match &early {
            Some(e) if e.fork == index && response.body.is_empty() => &e.sdp[..],
            _ => &response.body[..],
        };
        let negotiated = self.negotiate(key, index, body);
        if let Some(call) = self.calls.get_mut(&key) {
            call.phase = Phase::Answered { winner: index };
            let callee = call.forks[index].extension.clone();
            self.mark_busy(now, key, &callee);
        }
        let (local, a_media, b_media) = match negotiated {
            Ok(n) => n,
            Err(e) => {
                self.send_bye(now, key, Side::B, Some(index));
                if let Some(call) = self.calls.get_mut(&key) {
                    call.phase = Phase::Ringing;
                }
                return self.fail(now, key, 488, &e.to_string(), Disposition::Failed);
            }
        };
        // The caller keeps the stream it already hears: only the callee's side moves.
        self.outputs.push_back(Output::Media(match early {
            Some(_) => MediaCommand::Update {
                call: key,
                side: Side::B,
                media: b_media,
            },
            None => MediaCommand::Bridge {
                call: key,
                a: a_media,
                b: b_media,
            },
        }));
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        call.answered = Some(now);
        call.media = Some([a_media, b_media]);
        call.local_sdp[0] = Some(local.clone());
        let others: Vec<usize> = (0..call.forks.len()).filter(|&i| i != index).collect();
        self.answer_caller(now, key, 200, "OK", &local);
        for i in others {
            self.cancel_fork(now, key, i);
        }
    }

    /// A callee's phone sent early media (an 18x with SDP): the caller gets a 183 with
    /// Switchboard's answer and hears that phone from now on (a recorded greeting, its
    /// own ringback). The first such phone is heard; the answer given here stands for
    /// the rest of the call whichever phone answers.
    fn bridge_early_media(&mut self, now: Instant, key: CallKey, index: usize, sdp: &[u8]) {
        let Ok((local, a_media, b_media)) = self.negotiate(key, index, sdp) else {
            // Early media the caller cannot take is not worth failing the call for.
            return;
        };
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        call.early_media = Some(EarlyMedia {
            fork: index,
            sdp: sdp.to_vec(),
        });
        call.ringing_sent = true;
        call.media = Some([a_media, b_media]);
        call.local_sdp[0] = Some(local.clone());
        self.outputs.push_back(Output::Media(MediaCommand::Bridge {
            call: key,
            a: a_media,
            b: b_media,
        }));
        self.answer_caller(now, key, 183, "Session Progress", &local);
    }

    /// Switchboard's SRTP key for a leg whose offer encrypts its audio.
    pub(crate) fn answer_crypto(&mut self, offer: &AudioStream) -> Option<SdesKey> {
        Some(self.fresh_key(offer.crypto?.tag))
    }

    /// A new SRTP key, from the engine's cryptographically secure stream.
    pub(crate) fn fresh_key(&mut self, tag: u32) -> SdesKey {
        let mut key = [0u8; switchboard_media::srtp::KEY_AND_SALT];
        for chunk in key.chunks_mut(8) {
            chunk.copy_from_slice(&self.ids.next().to_be_bytes()[..chunk.len()]);
        }
        SdesKey { tag, key }
    }

    /// Whether `extension` must call and be called over TLS with SRTP.
    pub(crate) fn requires_encryption(&self, extension: &str) -> bool {
        self.sip
            .account(extension)
            .is_some_and(|a| a.encryption == switchboard_sip::service::Encryption::Require)
    }

    /// Where the phone of fork `index` of a call is, and the key Switchboard offered
    /// it, if any.
    pub(crate) fn fork_peer(&self, key: CallKey, index: usize) -> Option<(Peer, Option<SdesKey>)> {
        let fork = self.calls.get(&key)?.forks.get(index)?;
        Some((fork.peer, fork.sdp.crypto))
    }

    /// Switchboard's answer to the caller and both legs' media for a callee's `sdp`.
    /// Once the caller has an answer (early media), it is kept and only the callee's
    /// side is read anew.
    pub(crate) fn negotiate(
        &mut self,
        key: CallKey,
        fork: usize,
        sdp: &[u8],
    ) -> Result<(LocalDescription, LegMedia, LegMedia), SdpError> {
        let call = self.calls.get(&key).ok_or(SdpError::NoAudio)?;
        let b_fork = call.forks.get(fork).ok_or(SdpError::NoAudio)?;
        let (b, b_media) = answered_media(sdp, b_fork.peer, b_fork.sdp.crypto)?;
        let b_audio = b_media.audio;
        let local = match &call.local_sdp[0] {
            Some(given) => given.clone(),
            None => {
                let formats = formats_to_answer(&call.offer, b_audio.codec)?;
                let (a_peer, port, offer) = (call.a_peer, call.ports[0], call.offer.clone());
                LocalDescription {
                    session_id: self.ids.next() >> 1,
                    version: 1,
                    address: self.local_ip(a_peer),
                    port,
                    formats,
                    direction: b.direction,
                    ptime: 20,
                    crypto: self.answer_crypto(&offer),
                }
            }
        };
        let call = self.calls.get(&key).ok_or(SdpError::NoAudio)?;
        Ok((
            local.clone(),
            leg_media(&call.offer, &local, call.a_peer),
            b_media,
        ))
    }

    fn fork_failed(&mut self, now: Instant, key: CallKey, index: usize, code: u16) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if !call.forks[index].is_pending() {
            return;
        }
        call.forks[index].state = ForkState::Failed(code);
        if call.phase == Phase::Queued {
            return self.queue_fork_failed(now, key, index, code);
        }
        if matches!(call.phase, Phase::CallingBack { .. }) {
            return self.callback_fork_failed(now, key, index);
        }
        if call.phase == Phase::Scenario {
            return self.scenario_fork_failed(now, key);
        }
        if call.phase != Phase::Ringing || call.forks.iter().any(|f| f.is_pending()) {
            return self.forget_if_done(key);
        }
        let codes: Vec<u16> = call
            .forks
            .iter()
            .filter_map(|f| match f.state {
                ForkState::Failed(c) => Some(c),
                _ => None,
            })
            .collect();
        let (code, reason, disposition) = best_failure(&codes);
        match announcement_for(code, disposition) {
            Some(what) => self.announce_failure(now, key, code, reason, disposition, what),
            None => self.fail(now, key, code, reason, disposition),
        }
    }

    /// Tells the caller why the call failed before answering it with `code`: a 183
    /// with Switchboard's media, the announcement, then the final response (when the
    /// media edge reports the end, or a timer as backstop). Ringing phones are
    /// cancelled now.
    pub(crate) fn announce_failure(
        &mut self,
        now: Instant,
        key: CallKey,
        code: u16,
        reason: &str,
        disposition: Disposition,
        what: Announcement,
    ) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        let Some(audio) = call
            .offer
            .first_audio()
            .filter(|_| call.phase == Phase::Ringing)
        else {
            return self.fail(now, key, code, reason, disposition);
        };
        let (a_peer, a_port, offer) = (call.a_peer, call.ports[0], call.offer.clone());
        // A caller already hearing early media keeps the answer it was given.
        let given = call.local_sdp[0].clone();
        let crypto = self.answer_crypto(&offer);
        let local = given.unwrap_or_else(|| LocalDescription {
            session_id: self.ids.next() >> 1,
            version: 1,
            address: self.local_ip(a_peer),
            port: a_port,
            formats: vec![audio],
            direction: Direction::SendRecv,
            ptime: 20,
            crypto,
        });
        self.answer_caller(now, key, 183, "Session Progress", &local);
        self.outputs
            .push_back(Output::Media(MediaCommand::Announce {
                call: key,
                side: Side::A,
                to: leg_media(&offer, &local, a_peer),
                what,
            }));
        let forks = self.calls.get(&key).map_or(0, |c| c.forks.len());
        for i in 0..forks {
            self.cancel_fork(now, key, i);
        }
        if let Some(call) = self.calls.get_mut(&key) {
            call.phase = Phase::Announcing;
            call.pending_failure = Some(PendingFailure {
                code,
                reason: reason.to_string(),
                disposition,
            });
        }
        self.timers.insert((
            now + ANNOUNCEMENT_LIMIT,
            key,
            CallTimer::AnnouncementTimeout,
        ));
    }

    pub(crate) fn finish_announcement(&mut self, now: Instant, key: CallKey) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if call.phase == Phase::Telling {
            return self.told(now, key);
        }
        if matches!(call.phase, Phase::CallingBack { .. }) {
            return self.callback_whisper_done(now, key);
        }
        if call.phase == Phase::Scenario {
            let done = switchboard_scenario::run::Event::PromptDone;
            return self.scenario_event(now, key, done);
        }
        if call.phase == Phase::Voicemail {
            return self.voicemail_prompt_done(now, key);
        }
        if call.phase != Phase::Announcing {
            return;
        }
        if let Some(p) = call.pending_failure.take() {
            self.fail(now, key, p.code, &p.reason, p.disposition);
        }
    }

    /// Cancels forks still ringing; ones that have not answered provisionally yet are
    /// cancelled when they do.
    pub(crate) fn cancel_fork(&mut self, now: Instant, key: CallKey, index: usize) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let fork = &mut call.forks[index];
        if fork.cancel_sent {
            return;
        }
        match fork.state {
            ForkState::Proceeding => {
                fork.cancel_sent = true;
                if let Ok(cancel) = cancel_for(&fork.invite) {
                    let peer = fork.peer;
                    self.sip.send_request(now, cancel, peer);
                }
            }
            ForkState::Calling => fork.cancel_on_provisional = true,
            _ => {}
        }
    }

    pub(crate) fn ring_timeout(&mut self, now: Instant, key: CallKey) {
        self.callback_timeout(now, key);
        if self
            .calls
            .get(&key)
            .is_some_and(|c| c.phase == Phase::Ringing)
        {
            self.announce_failure(
                now,
                key,
                480,
                "No Answer",
                Disposition::NoAnswer,
                Announcement::Unavailable,
            );
        }
    }

    /// Ends an unanswered call: the caller gets `code`, ringing phones a CANCEL.
    pub(crate) fn fail(
        &mut self,
        now: Instant,
        key: CallKey,
        code: u16,
        reason: &str,
        disposition: Disposition,
    ) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let was_ringing = matches!(call.phase, Phase::Ringing | Phase::Announcing);
        call.phase = Phase::Ended;
        let invite = call.invite.clone();
        let (id, tag) = (call.invite_id, call.a_dialog.local_tag.clone());
        let forks = call.forks.len();
        if let Some(id) = id.filter(|_| was_ringing || code >= 300) {
            let mut r = self.sip.response(&invite, code, reason, &tag);
            if disposition == Disposition::NoAnswer {
                r.headers.push(Header::Other(
                    "Reason".into(),
                    format!("SIP;cause={code};text=\"{reason}\""),
                ));
            }
            self.sip.respond(now, id, &r);
        }
        for i in 0..forks {
            self.cancel_fork(now, key, i);
        }
        let hangup = match disposition {
            Disposition::Cancelled => HangupBy::Caller,
            Disposition::Busy => HangupBy::Callee,
            _ => HangupBy::System,
        };
        self.record(now, key, disposition, hangup, code, reason);
        self.forget_if_done(key);
    }

    /// Ends an answered call from `by`'s side (or the system's): BYE to the other leg(s).
    pub(crate) fn hang_up(&mut self, now: Instant, key: CallKey, by: HangupBy, reason: &str) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let Phase::Answered { winner } = call.phase else {
            return;
        };
        self.queue_call_ended(now, key, by);
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        call.phase = Phase::Ended;
        call.awaiting_ack = [None, None];
        if by != HangupBy::Caller {
            self.send_bye(now, key, Side::A, None);
        }
        if by != HangupBy::Callee {
            self.send_bye(now, key, Side::B, Some(winner));
        }
        self.record(now, key, Disposition::Answered, by, 200, reason);
        self.forget_if_done(key);
    }

    /// Ends a call whatever its phase.
    pub(crate) fn abort(&mut self, now: Instant, key: CallKey, code: u16, reason: &str) {
        match self.calls.get(&key).map(|c| c.phase) {
            Some(Phase::Ringing | Phase::Announcing) => {
                self.fail(now, key, code, reason, Disposition::Failed)
            }
            Some(Phase::Answered { .. }) => self.hang_up(now, key, HangupBy::System, reason),
            Some(Phase::Queued | Phase::Telling | Phase::Scenario | Phase::Voicemail) => {
                self.end_alone(now, key, code, reason)
            }
            Some(Phase::CallingBack { .. }) => self.callback_failed(
                now,
                key,
                switchboard_queue::CallbackResult::CustomerMissed,
                code,
                reason,
            ),
            _ => {}
        }
    }

    pub(crate) fn send_bye(&mut self, now: Instant, key: CallKey, side: Side, fork: Option<usize>) {
        self.send_in_dialog(now, key, side, fork, rsip::Method::Bye, None);
    }

    /// Leg A's dialog, or the dialog of fork `fork` on leg B.
    pub(crate) fn dialog_mut(
        &mut self,
        key: CallKey,
        side: Side,
        fork: Option<usize>,
    ) -> Option<&mut Dialog> {
        let call = self.calls.get_mut(&key)?;
        match (side, fork) {
            (Side::A, _) => Some(&mut call.a_dialog),
            (Side::B, Some(i)) => call.forks.get_mut(i)?.dialog.as_mut(),
            (Side::B, None) => None,
        }
    }

    pub(crate) fn send_ack(&mut self, dialog: &Dialog, cseq: u32) {
        let via = self.via(dialog.peer);
        if let Ok(ack) = dialog.ack(cseq, &via) {
            self.sip
                .send_raw(dialog.peer, to_bytes(&Message::Request(ack)));
        }
    }

    pub(crate) fn record(
        &mut self,
        now: Instant,
        key: CallKey,
        disposition: Disposition,
        hangup_by: HangupBy,
        code: u16,
        reason: &str,
    ) {
        let wall = self.wall(now);
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        let answered = call.answered.map(|t| self.wall(t));
        let record = CallRecord {
            call_id: call.a_dialog.call_id.clone(),
            caller: call.caller.clone(),
            callee: call.callee.clone(),
            started: call.started_wall,
            answered,
            ended: wall,
            disposition,
            hangup_by,
            caller_codec: call.media.map(|m| m[0].audio.codec.name()),
            callee_codec: call.media.map(|m| m[1].audio.codec.name()),
            sip_code: code,
            reason: reason.to_string(),
            queue: call
                .queue
                .and_then(|q| self.queue_names.get(q.0 as usize).cloned()),
            answered_by: call.answered_by.clone(),
            priority: call.priority,
            preempted: call.preempted,
            scenario_path: call.run.as_ref().map(|run| {
                let mut path = run.path().join(" → ");
                for note in run.notes() {
                    path.push_str(&format!(" ({note})"));
                }
                path
            }),
            opened: Some(key),
        };
        self.outputs.push_back(Output::CallRecord(record));
        self.outputs
            .push_back(Output::Media(MediaCommand::Close { call: key }));
    }

    /// Drops an ended call once no fork can still answer (a late 200 must find it to be
    /// acknowledged and hung up).
    pub(crate) fn forget_if_done(&mut self, key: CallKey) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        if call.phase != Phase::Ended || call.forks.iter().any(|f| f.is_pending()) {
            return;
        }
        let mut call = self.calls.remove(&key).expect("present");
        let busy = std::mem::take(&mut call.busy);
        self.release_busy(self.last_now, busy);
        // A callback that reached its customer has served its request.
        if let Some(cb) = call.callback.filter(|_| call.answered.is_some()) {
            self.callback_requests.remove(&cb.request);
        }
        if !call.ports_taken_elsewhere {
            self.ports.give_back(call.ports[0]);
            self.ports.give_back(call.ports[1]);
        }
        if let Some(id) = call.invite_id {
            self.by_invite.remove(&id);
        }
        self.by_dialog.remove(&(
            call.a_dialog.call_id.clone(),
            call.a_dialog.local_tag.clone(),
        ));
        // Re-INVITEs of the agent's dialog end with it.
        let dialogs: Vec<&str> = call
            .forks
            .iter()
            .filter_map(|f| Some(f.dialog.as_ref()?.call_id.as_str()))
            .collect();
        if !dialogs.is_empty() && !self.reinvites.is_empty() {
            self.reinvites
                .retain(|_, d| !dialogs.contains(&d.call_id.as_str()));
        }
        for fork in &call.forks {
            self.by_fork.remove(&fork.client);
            if let Some(d) = &fork.dialog {
                self.by_dialog
                    .remove(&(d.call_id.clone(), d.local_tag.clone()));
            }
        }
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

/// The longest an announcement may hold back the final answer.
const ANNOUNCEMENT_LIMIT: std::time::Duration = std::time::Duration::from_secs(20);

/// Which announcement explains a failure, if one does.
fn announcement_for(code: u16, disposition: Disposition) -> Option<Announcement> {
    match (code, disposition) {
        (_, Disposition::Busy) => Some(Announcement::Busy),
        (480, _) => Some(Announcement::Unavailable),
        _ => None,
    }
}

/// What the caller hears when every phone refused (RFC 3261 §16.7 step 6, simplified):
/// a global failure wins, then busy, then the lowest code.
pub(crate) fn best_failure(codes: &[u16]) -> (u16, &'static str, Disposition) {
    let pick = codes
        .iter()
        .copied()
        .find(|c| *c >= 600)
        .or_else(|| codes.iter().copied().find(|&c| c == 486))
        .or_else(|| codes.iter().copied().min())
        .unwrap_or(480);
    match pick {
        486 | 600 => (486, "Busy Here", Disposition::Busy),
        603 => (603, "Decline", Disposition::Busy),
        408 => (480, "No Answer", Disposition::NoAnswer),
        480 => (480, "Temporarily Unavailable", Disposition::Failed),
        code => (code, "Call Failed", Disposition::Failed),
    }
}
