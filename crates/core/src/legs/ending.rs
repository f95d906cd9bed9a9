//! How calls end: a failure told to the caller before the final answer, the ring
//! timeout, hanging up answered calls, and the record written when a call ends.

use std::time::{Duration, Instant};

use rsip::Header;
use switchboard_media::relay::Side;
use switchboard_sip::dialog::cancel_for;

use super::call::{ForkState, PendingFailure, Phase};
use super::{LegEvent, LegTimer, Legs, leg_media};
use crate::record::{CallRecord, HangupBy, Outcome};
use crate::vocabulary::{Announcement, CallKey, MediaCommand, Output};

/// The longest an announcement may hold back the final answer.
const ANNOUNCEMENT_LIMIT: Duration = Duration::from_secs(20);

impl Legs {
    /// Tells the caller why the call failed before answering it with `code`: a 183
    /// with Switchboard's media, the announcement, then the final response (when the
    /// media edge reports the end, or a timer as backstop). Ringing phones are
    /// cancelled now.
    pub fn announce_failure(
        &mut self,
        now: Instant,
        key: CallKey,
        code: u16,
        reason: &str,
        outcome: Outcome,
        what: Announcement,
    ) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        // Only a caller who has no final answer yet can be told.
        let unanswered = match call.phase {
            Phase::Ringing => true,
            Phase::Held => call.answered.is_none() && call.local_sdp[0].is_none(),
            _ => false,
        };
        let local = if unanswered {
            self.early_answer(key)
        } else {
            None
        };
        let Some(local) = local else {
            return self.fail(now, key, code, reason, outcome);
        };
        self.answer_caller(now, key, 183, "Session Progress", &local);
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let to = leg_media(&call.offer, &local, call.a_peer);
        call.phase = Phase::Announcing;
        call.pending_failure = Some(PendingFailure {
            code,
            reason: reason.to_string(),
            outcome,
        });
        self.media(MediaCommand::Announce {
            call: key,
            side: Side::A,
            to,
            what,
        });
        self.cancel_forks(now, key, None);
        self.timers
            .insert((now + ANNOUNCEMENT_LIMIT, key, LegTimer::PlaybackLimit));
    }

    /// What was played to the call ended (the media edge said so, or its time is up).
    pub fn finish_playback(&mut self, now: Instant, key: CallKey) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        match call.phase {
            Phase::Announcing => {
                if let Some(p) = call.pending_failure.take() {
                    self.fail(now, key, p.code, &p.reason, p.outcome);
                }
            }
            Phase::Held | Phase::Placing => self.emit(LegEvent::Played { call: key }),
            _ => {}
        }
    }

    /// Cancels the call's forks still ringing (all but `except`); ones that have not
    /// answered provisionally yet are cancelled when they do.
    pub fn cancel_forks(&mut self, now: Instant, key: CallKey, except: Option<usize>) {
        let forks = self.calls.get(&key).map_or(0, |c| c.forks.len());
        for i in (0..forks).filter(|&i| Some(i) != except) {
            self.cancel_fork(now, key, i);
        }
    }

    pub fn cancel_fork(&mut self, now: Instant, key: CallKey, index: usize) {
        let Some(fork) = self
            .calls
            .get_mut(&key)
            .and_then(|c| c.forks.get_mut(index))
        else {
            return;
        };
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

    pub(super) fn ring_timeout(&mut self, now: Instant, key: CallKey) {
        match self.phase(key) {
            Some(Phase::Ringing) => self.announce_failure(
                now,
                key,
                480,
                "No Answer",
                Outcome::NoAnswer,
                Announcement::Unavailable,
            ),
            Some(Phase::Placing) => self.emit(LegEvent::RingTimeout { call: key }),
            _ => {}
        }
    }

    /// Ends an unanswered call: the caller gets `code`, ringing phones a CANCEL.
    pub fn fail(&mut self, now: Instant, key: CallKey, code: u16, reason: &str, outcome: Outcome) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let was_ringing = matches!(call.phase, Phase::Ringing | Phase::Announcing);
        call.phase = Phase::Ended;
        let invite = call.invite.clone();
        let (id, tag) = (call.invite_id, call.a_dialog.local_tag.clone());
        if let Some(id) = id.filter(|_| was_ringing || code >= 300) {
            let mut r = self.sip.response(&invite, code, reason, &tag);
            if outcome == Outcome::NoAnswer {
                r.headers.push(Header::Other(
                    "Reason".into(),
                    format!("SIP;cause={code};text=\"{reason}\""),
                ));
            }
            self.sip.respond(now, id, &r);
        }
        self.cancel_forks(now, key, None);
        let hangup = match outcome {
            Outcome::Cancelled => HangupBy::Caller,
            Outcome::Busy => HangupBy::Callee,
            _ => HangupBy::System,
        };
        self.record(now, key, outcome, hangup, code, reason);
        self.forget_if_done(key);
    }

    /// Ends an answered call from `by`'s side (or the system's). The features hear
    /// [`LegEvent::Ended`] while the legs are still up (a VIP's agent may go back to
    /// the caller they held); the engine then calls [`Legs::finish_hang_up`].
    pub fn hang_up(&mut self, key: CallKey, by: HangupBy, reason: &str) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if !matches!(call.phase, Phase::Answered { .. }) || call.ending.is_some() {
            return;
        }
        call.ending = Some((by, reason.to_string()));
        self.emit(LegEvent::Ended {
            call: key,
            by,
            bridged: true,
        });
    }

    /// BYE to the leg(s) that did not hang up, and the record.
    pub fn finish_hang_up(&mut self, now: Instant, key: CallKey) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let (Phase::Answered { winner }, Some((by, reason))) = (call.phase, call.ending.take())
        else {
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
        self.record(now, key, Outcome::Answered, by, 200, &reason);
        self.forget_if_done(key);
    }

    /// Ends a call that was never put through to another phone (held for a feature):
    /// phones stop ringing, the caller is hung up on unless they hung up, and the call
    /// is recorded.
    pub fn end_alone(
        &mut self,
        now: Instant,
        key: CallKey,
        outcome: Outcome,
        by: HangupBy,
        code: u16,
        reason: &str,
    ) {
        let bye = (by != HangupBy::Caller).then_some((Side::A, None));
        self.end_waiting(now, key, bye, (outcome, by), code, reason);
    }

    /// Ends a call whose one party waits alone: phones stop ringing, the party is
    /// hung up on (`bye`: their leg, and their fork on B) unless they hung up, and the
    /// call is recorded.
    pub fn end_waiting(
        &mut self,
        now: Instant,
        key: CallKey,
        bye: Option<(Side, Option<usize>)>,
        (outcome, by): (Outcome, HangupBy),
        code: u16,
        reason: &str,
    ) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        call.phase = Phase::Ended;
        call.awaiting_ack = [None, None];
        self.emit(LegEvent::Ended {
            call: key,
            by,
            bridged: false,
        });
        self.cancel_forks(now, key, None);
        if let Some((side, fork)) = bye {
            self.send_bye(now, key, side, fork);
        }
        self.record(now, key, outcome, by, code, reason);
        self.forget_if_done(key);
    }

    /// The ending a call held for a feature gets unless the feature says otherwise:
    /// its caller hung up, or it broke. Other events change nothing.
    pub fn end_held(&mut self, now: Instant, event: &LegEvent) {
        match *event {
            LegEvent::HungUp {
                call,
                side: Side::A,
            } => {
                let (d, by) = (Outcome::Answered, HangupBy::Caller);
                self.end_alone(now, call, d, by, 200, "Normal Clearing");
            }
            LegEvent::Broken { call, code, reason } => {
                let (d, by) = (Outcome::Failed, HangupBy::System);
                self.end_alone(now, call, d, by, code, reason);
            }
            _ => {}
        }
    }

    /// Ends a call Switchboard placed before its two sides talked. With `answered`
    /// (the fork that answered on leg B, the outcome, code and reason) the attempt
    /// reached the callee's phones and is a call in the log; without it, it is not.
    pub fn end_placed(
        &mut self,
        now: Instant,
        key: CallKey,
        answered: Option<(usize, Outcome, u16, &str)>,
    ) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        call.phase = Phase::Ended;
        call.awaiting_ack = [None, None];
        self.cancel_forks(now, key, None);
        match answered {
            Some((fork, outcome, code, reason)) => {
                self.send_bye(now, key, Side::B, Some(fork));
                self.record(now, key, outcome, HangupBy::System, code, reason);
            }
            None => self.media(MediaCommand::Close { call: key }),
        }
        self.forget_if_done(key);
    }

    /// Ends a call whatever its phase; a feature's call is ended by its feature.
    pub fn abort(&mut self, now: Instant, key: CallKey, code: u16, reason: &'static str) {
        match self.phase(key) {
            Some(Phase::Ringing | Phase::Announcing) => {
                self.fail(now, key, code, reason, Outcome::Failed)
            }
            Some(Phase::Answered { .. }) => self.hang_up(key, HangupBy::System, reason),
            Some(Phase::Held | Phase::Placing) => self.emit(LegEvent::Broken {
                call: key,
                code,
                reason,
            }),
            _ => {}
        }
    }

    fn record(
        &mut self,
        now: Instant,
        key: CallKey,
        outcome: Outcome,
        hangup_by: HangupBy,
        code: u16,
        reason: &str,
    ) {
        let wall = self.wall(now);
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        let answered = call.answered.map(|t| self.wall(t));
        let log = call.log.clone();
        let recording = self.recording_file(key);
        let record = Box::new(CallRecord {
            call_id: call.call_id.clone(),
            caller: call.caller.clone(),
            callee: call.callee.clone(),
            direction: call.direction(),
            trunk: call.trunk().map(str::to_string),
            started: call.started_wall,
            answered,
            ended: wall,
            outcome,
            hangup_by,
            caller_codec: call.media.map(|m| m[0].audio.codec.name().to_string()),
            callee_codec: call.media.map(|m| m[1].audio.codec.name().to_string()),
            sip_code: code,
            reason: reason.to_string(),
            queue: log.queue,
            answered_by: log.answered_by,
            priority: log.priority,
            preempted: log.preempted,
            scenario_path: log.scenario_path,
            history: (!log.history.is_empty()).then(|| log.history.join("; ")),
            recording,
        });
        self.push(Output::CallRecord {
            record,
            opened: Some(key),
        });
        self.media(MediaCommand::Close { call: key });
    }

    /// Drops an ended call once no fork can still answer (a late 200 must find it to be
    /// acknowledged and hung up).
    pub(super) fn forget_if_done(&mut self, key: CallKey) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        if call.phase != Phase::Ended || call.forks.iter().any(|f| f.is_pending()) {
            return;
        }
        let mut call = self.calls.remove(&key).expect("present");
        let busy = std::mem::take(&mut call.busy);
        self.release(busy);
        if !call.ports_taken_elsewhere {
            self.give_back_ports(call.ports);
        }
        if let Some(id) = call.invite_id {
            self.by_invite.remove(&id);
        }
        self.by_dialog.remove(&(
            call.a_dialog.call_id.clone(),
            call.a_dialog.local_tag.clone(),
        ));
        // Re-INVITEs of a moved leg's dialog end with it.
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
            if let Some(client) = fork.client {
                self.by_fork.remove(&client);
            }
            if let Some(d) = &fork.dialog {
                self.by_dialog
                    .remove(&(d.call_id.clone(), d.local_tag.clone()));
            }
        }
        self.emit(LegEvent::Closed {
            call: key,
            answered: call.answered.is_some(),
        });
    }
}

/// Which announcement explains a failure, if one does.
pub(super) fn announcement_for(code: u16, outcome: Outcome) -> Option<Announcement> {
    match (code, outcome) {
        (_, Outcome::Busy) => Some(Announcement::Busy),
        (480, _) => Some(Announcement::Unavailable),
        _ => None,
    }
}

/// What the caller hears when every phone refused (RFC 3261 §16.7 step 6, simplified):
/// a global failure wins, then busy, then the lowest code.
pub(crate) fn best_failure(codes: &[u16]) -> (u16, &'static str, Outcome) {
    let pick = codes
        .iter()
        .copied()
        .find(|c| *c >= 600)
        .or_else(|| codes.iter().copied().find(|&c| c == 486))
        .or_else(|| codes.iter().copied().min())
        .unwrap_or(480);
    match pick {
        486 | 600 => (486, "Busy Here", Outcome::Busy),
        603 => (603, "Decline", Outcome::Busy),
        408 => (480, "No Answer", Outcome::NoAnswer),
        480 => (480, "Temporarily Unavailable", Outcome::Failed),
        code => (code, "Call Failed", Outcome::Failed),
    }
}
