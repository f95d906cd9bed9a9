//! How phones answer the INVITEs the legs sent: ringing, early media, the first answer
//! that wins a call to an extension, failures, and answers to Switchboard's re-INVITEs.
//! A phone rung for a feature's call is reported to the feature instead.

use std::time::Instant;

use rsip::Header;
use switchboard_media::relay::Side;
use switchboard_sip::dialog::{Dialog, cancel_for};
use switchboard_sip::header::CSeq;
use switchboard_sip::message::header_value;
use switchboard_sip::transaction::ClientId;

use super::call::{EarlyMedia, ForkState, Phase};
use super::{DialogRoute, LegEvent, Legs};
use crate::record::{CallAnswered, Outcome};
use crate::vocabulary::{CallKey, MediaCommand, Output};

impl Legs {
    /// A response to one of the legs' requests; false when it answers none of them.
    pub fn handle_response(&mut self, now: Instant, id: ClientId, response: rsip::Response) {
        let Some(&(key, index)) = self.by_fork.get(&id) else {
            return self.reinvite_answered(id, &response);
        };
        let code = response.status_code.code();
        match code {
            100 => {}
            101..=199 => self.fork_provisional(now, key, index, &response),
            200..=299 => self.fork_answered(now, key, index, &response),
            401 | 407 if self.trunk_challenged(now, key, index, &response) => {}
            _ => self.fork_failed(now, key, index, code),
        }
    }

    pub fn handle_client_timeout(&mut self, now: Instant, id: ClientId) {
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
                extension: fork.target.extension().map(str::to_string),
            },
        );
        self.send_ack(&dialog, cseq);
        if phase.is_featured() && !cancelled {
            let sdp = response.body.clone();
            return self.emit(LegEvent::Answered {
                call: key,
                fork: index,
                sdp,
            });
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
        let (local, a_media, b_media) = match self.negotiate(key, index, body) {
            Ok(n) => n,
            Err(e) => {
                self.send_bye(now, key, Side::B, Some(index));
                return self.fail(now, key, 488, &e.to_string(), Outcome::Failed);
            }
        };
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let callee = call.forks[index].target.extension().map(str::to_string);
        let others = call.other_forks(index);
        call.local_sdp[0] = Some(local.clone());
        match early {
            // The caller keeps the stream it already hears: only the callee's side moves.
            Some(_) => {
                call.phase = Phase::Answered { winner: index };
                call.media = Some([a_media, b_media]);
                self.answered_since(now, key, Some(index));
                self.media(MediaCommand::Update {
                    call: key,
                    side: Side::B,
                    media: b_media,
                });
                self.decide_recording(key);
            }
            None => self.bridge(now, key, index, a_media, b_media),
        }
        if let Some(callee) = callee {
            self.occupy(key, &callee);
        }
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
        self.media(MediaCommand::Bridge {
            call: key,
            a: a_media,
            b: b_media,
        });
        self.answer_caller(now, key, 183, "Session Progress", &local);
    }

    fn fork_failed(&mut self, now: Instant, key: CallKey, index: usize, code: u16) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if !call.forks[index].is_pending() {
            return;
        }
        call.forks[index].state = ForkState::Failed(code);
        if self.trunk_failed_over(now, key, index, code) {
            return;
        }
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if call.phase.is_featured() {
            return self.emit(LegEvent::Failed {
                call: key,
                fork: index,
                code,
            });
        }
        if call.phase != Phase::Ringing || call.forks.iter().any(|f| f.is_pending()) {
            return self.forget_if_done(key);
        }
        let codes = call.failure_codes(|_| true);
        let (code, reason, outcome) = super::best_failure(&codes);
        match super::ending::announcement_for(code, outcome) {
            Some(what) => self.announce_failure(now, key, code, reason, outcome, what),
            None => self.fail(now, key, code, reason, outcome),
        }
    }

    /// A phone answered one of Switchboard's re-INVITEs: a 2xx (and any copy of it,
    /// should the ACK be lost) is acknowledged.
    fn reinvite_answered(&mut self, id: ClientId, response: &rsip::Response) {
        let code = response.status_code.code();
        if code < 200 {
            return;
        }
        let Some(dialog) = self.reinvites.get(&id).cloned() else {
            return;
        };
        if code >= 300 {
            self.reinvites.remove(&id);
        } else {
            let cseq = header_value(&response.headers, "CSeq")
                .and_then(|v| CSeq::parse(v).ok())
                .map_or(dialog.local_cseq, |c| c.seq);
            self.send_ack(&dialog, cseq);
        }
    }

    /// The phone that answered fork `index`, rung seated on leg A (a callback's
    /// customer, a transfer's target when the transferor was the caller), becomes the
    /// call's leg A. False when it has no dialog.
    pub fn seat_on_a(&mut self, key: CallKey, index: usize) -> bool {
        let Some(call) = self.calls.get_mut(&key) else {
            return false;
        };
        let fork = &mut call.forks[index];
        let Some(dialog) = fork.dialog.take() else {
            return false;
        };
        call.a_peer = fork.peer;
        call.invite = fork.invite.clone();
        call.local_sdp[0] = Some(fork.sdp.clone());
        // A call Switchboard placed is named by its customer's leg from the first
        // answer; an answered call keeps its name through a transfer.
        if call.answered.is_none() {
            call.call_id = dialog.call_id.clone();
        }
        call.a_dialog = dialog;
        true
    }

    /// Call `key` is answered now (by fork `fork`'s party, or with none by whoever
    /// the record names, else Switchboard itself): the record's answer time becomes
    /// now, as when a queue's agent answers after a menu.
    pub fn mark_answered(&mut self, now: Instant, key: CallKey, fork: Option<usize>) {
        if let Some(call) = self.calls.get_mut(&key) {
            call.answered = Some(now);
        }
        self.tell_answered(now, key, fork);
    }

    /// As [`Legs::mark_answered`], but a call answered before keeps that time (a
    /// caller transferred here was answered long before).
    pub fn answered_since(&mut self, now: Instant, key: CallKey, fork: Option<usize>) {
        if let Some(call) = self.calls.get_mut(&key) {
            call.answered.get_or_insert(now);
        }
        self.tell_answered(now, key, fork);
    }

    /// Tells the store (and through it the office's webhooks) who answers call `key`,
    /// once per party that answers it.
    fn tell_answered(&mut self, now: Instant, key: CallKey, fork: Option<usize>) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let answered_by = fork
            .and_then(|f| call.forks.get(f))
            .map(|f| f.target.party().to_string())
            .or_else(|| call.log.answered_by.clone());
        if call.log.told_answered.as_ref() == Some(&answered_by) {
            return;
        }
        call.log.told_answered = Some(answered_by.clone());
        let answered = CallAnswered {
            call: key,
            call_id: call.call_id.clone(),
            caller: call.caller.clone(),
            callee: call.callee.clone(),
            answered_by,
            answered: self.wall(now),
        };
        self.push(Output::CallAnswered(answered));
    }

    /// The party of fork `index` talks for the office from now on (a scenario's ring,
    /// a transfer's target, a pickup): the record names it and its extension is busy.
    /// Returns the extension or the number called out.
    pub fn talks_for_office(&mut self, key: CallKey, index: usize) -> Option<String> {
        let call = self.calls.get_mut(&key)?;
        let target = call.forks.get(index)?.target.clone();
        let party = target.party().to_string();
        call.log.answered_by = Some(party.clone());
        if let Some(extension) = target.extension() {
            self.occupy(key, extension);
        }
        Some(party)
    }
}
