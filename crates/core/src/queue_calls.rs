//! Calls to a queue. The queue engine ([`switchboard_queue::Acd`]) decides; this module
//! carries its decisions out on SIP and media. The caller is answered and hears music
//! while the engine offers them to agents; an offer rings every phone of the agent's
//! extension (one fork each); the agent who answers is bridged to the caller. The
//! engine's log goes out as [`Output::QueueEvent`].
//!
//! Waiting callers hear their position, estimated wait and the comfort prompt as the
//! engine schedules them, and where the queue offers callbacks, that 1 asks for one
//! (carried out in [`crate::callbacks`]); an agent hears "Queue call" before the caller
//! is put through. Keys reach the engine from RFC 4733 events and SIP INFO. VIP
//! preemption is carried out in [`crate::vip_calls`]. Not carried out yet: key 0
//! (voicemail arrives with scenarios).

use std::time::{Duration, Instant, SystemTime};

use switchboard_media::relay::{LegMedia, Side};
use switchboard_media::sdp::{LocalDescription, formats_to_answer};
use switchboard_queue::{
    Action, AgentConfig, AgentStatus, Announcement, CallId, EventKind, LeaveReason, Membership,
    OfferFailure, OfferId, Party, QueueConfig, QueueId,
};

use crate::Clock;
use crate::call::Phase;
use crate::numbers::ListKind;
use crate::outcome::leg_media;
use crate::pbx::{CallKey, MediaCommand, Output, Pbx, Word};
use crate::record::{Disposition, HangupBy};
use crate::setup::{Ringing, display_name};

/// A queue as the office configured it: the number callers dial, its settings and
/// its members by extension.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueSetup {
    pub number: String,
    pub config: QueueConfig,
    pub members: Vec<(String, Membership)>,
}

/// One line of the queue log, with the names the office knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEventRecord {
    pub at: SystemTime,
    /// The queue's number.
    pub queue: Option<String>,
    /// The caller's Call-ID.
    pub call_id: Option<String>,
    /// The agent's extension.
    pub agent: Option<String>,
    pub vip: bool,
    pub kind: EventKind,
}

/// Numbers an agent dials to change their own status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureCode {
    /// *45: log in to the queues, or out.
    LogInOut,
    /// *46: take a break, or end it.
    Break,
}

impl FeatureCode {
    pub fn from_number(number: &str) -> Option<FeatureCode> {
        match number {
            "*45" => Some(FeatureCode::LogInOut),
            "*46" => Some(FeatureCode::Break),
            _ => None,
        }
    }
}

/// The longest a feature code's answer may take to be said before Switchboard hangs up.
pub(crate) const TELLING_LIMIT: std::time::Duration = std::time::Duration::from_secs(20);

impl Pbx {
    /// Applies the queues and agents of the configuration, at start and on every change
    /// alike, in place: callers waiting keep their places and announcements, agents
    /// taken out of a queue finish the call they have, agents added are offered the next
    /// caller. A queue no longer configured takes no new callers and goes on serving
    /// those already in it. New agents who follow their registration are available
    /// while their extension has a phone registered; the others from the start.
    pub fn set_queues(&mut self, clock: Clock, queues: Vec<QueueSetup>, agents: Vec<AgentConfig>) {
        let now = self.tick(clock);
        let configured: std::collections::HashSet<String> =
            agents.iter().map(|a| a.extension.clone()).collect();
        for agent in agents {
            if let Some(id) = self.acd.agent_by_extension(&agent.extension) {
                self.acd.update_agent(id, agent);
                continue;
            }
            let extension = agent.extension.clone();
            let registered = !self.live_bindings(now, &extension).is_empty();
            if registered {
                self.agents_registered.insert(extension.clone());
            }
            let available = registered || !agent.follows_registration;
            let id = self.acd.add_agent(now, agent);
            if available {
                self.acd.handle_status(now, id, AgentStatus::Available);
            }
            if self.busy_extensions.contains_key(&extension) {
                self.acd.handle_agent_busy(now, id, true);
            }
        }
        let mut numbers = std::collections::HashMap::new();
        for setup in queues {
            let queue = match self.queue_numbers.get(&setup.number) {
                Some(&queue) => {
                    self.acd.update_queue(queue, setup.config);
                    queue
                }
                None => {
                    self.queue_names.push(setup.number.clone());
                    self.acd.add_queue(setup.config)
                }
            };
            let members = setup
                .members
                .into_iter()
                .filter_map(|(extension, membership)| {
                    Some((self.acd.agent_by_extension(&extension)?, membership))
                })
                .collect();
            self.acd.set_members(queue, members);
            numbers.insert(setup.number, queue);
        }
        self.queue_numbers = numbers;
        let retired: Vec<switchboard_queue::AgentId> = self
            .acd
            .agents()
            .filter(|&a| !configured.contains(&self.acd.agent_config(a).extension))
            .collect();
        for agent in retired {
            for queue in self.acd.agent_queues(agent).to_vec() {
                self.acd.remove_member(queue, agent);
            }
        }
        self.acd.handle_reconfigured(now);
        self.run_queue(now);
    }

    /// `extension` is on a call the queues do not manage (a direct call, or calling
    /// out): an agent there is not offered queue calls meanwhile by queues that do not
    /// ring busy agents.
    pub(crate) fn mark_busy(&mut self, now: Instant, key: CallKey, extension: &str) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if call.busy.iter().any(|e| e == extension) {
            return;
        }
        call.busy.push(extension.to_string());
        let calls = self
            .busy_extensions
            .entry(extension.to_string())
            .or_default();
        *calls += 1;
        if *calls == 1 {
            self.agent_busy(now, extension, true);
        }
    }

    /// A call that kept `extensions` busy is over.
    pub(crate) fn release_busy(&mut self, now: Instant, extensions: Vec<String>) {
        for extension in extensions {
            let Some(calls) = self.busy_extensions.get_mut(&extension) else {
                continue;
            };
            *calls -= 1;
            if *calls == 0 {
                self.busy_extensions.remove(&extension);
                self.agent_busy(now, &extension, false);
            }
        }
    }

    fn agent_busy(&mut self, now: Instant, extension: &str, busy: bool) {
        if let Some(agent) = self.acd.agent_by_extension(extension) {
            self.acd.handle_agent_busy(now, agent, busy);
            self.run_queue(now);
        }
    }

    /// The caller joins `queue` with at least priority `floor` (a scenario's).
    pub(crate) fn join_queue(&mut self, now: Instant, key: CallKey, queue: QueueId, floor: i32) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        let number = call.caller.clone();
        // A caller on a VIP list waits with the list's priority.
        let listed = self
            .lists_of(&number)
            .iter()
            .filter_map(|l| match l.kind {
                ListKind::Vip { priority } => Some(priority),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        let priority = listed.max(floor);
        if let Some(call) = self.calls.get_mut(&key) {
            call.priority = priority;
        }
        self.acd
            .handle_join(now, queue, CallId(key), &number, priority);
        // A caller the queue takes is answered before what the engine decided is
        // carried out, so the music is on before the first announcement; one turned
        // away (full, nobody to answer) gets the failure instead.
        if self.acd.position(CallId(key)).is_some() {
            self.answer_to_wait(now, key);
        }
        self.run_queue(now);
    }

    /// The caller is answered and hears music on hold until an agent takes the call.
    fn answer_to_wait(&mut self, now: Instant, key: CallKey) {
        if let Some(caller) = self.answer_alone(now, key) {
            self.outputs.push_back(Output::Media(MediaCommand::Wait {
                call: key,
                side: Side::A,
                media: caller,
                hears: crate::pbx::Waiting::Music,
            }));
        }
    }

    /// Answers the caller with Switchboard's own media (no other leg yet); returns the
    /// caller's media. A caller already answered (by a scenario) keeps that answer.
    pub(crate) fn answer_alone(&mut self, now: Instant, key: CallKey) -> Option<LegMedia> {
        let call = self.calls.get(&key)?;
        if let Some(local) = &call.local_sdp[0] {
            return Some(leg_media(&call.offer, local, call.a_peer));
        }
        let audio = call.offer.first_audio()?;
        let formats = formats_to_answer(&call.offer, audio.codec).ok()?;
        let (a_peer, port, offer) = (call.a_peer, call.ports[0], call.offer.clone());
        let local = LocalDescription {
            session_id: self.ids.next() >> 1,
            version: 1,
            address: self.local_ip(a_peer),
            port,
            formats,
            direction: switchboard_media::sdp::Direction::SendRecv,
            ptime: 20,
            crypto: self.answer_crypto(&offer),
        };
        self.answer_caller(now, key, 200, "OK", &local);
        if let Some(call) = self.calls.get_mut(&key) {
            call.local_sdp[0] = Some(local.clone());
        }
        Some(leg_media(&offer, &local, a_peer))
    }

    /// Carries out what the queue engine decided, and passes its log on.
    pub(crate) fn run_queue(&mut self, now: Instant) {
        while let Some(action) = self.acd.poll_action() {
            match action {
                Action::Offer { offer, call, agent } => {
                    let extension = self.acd.agent_config(agent).extension.clone();
                    self.ring_agent(now, self.call_of(call), offer, &extension);
                }
                Action::CancelOffer { offer, .. } => self.cancel_offer(now, offer),
                Action::Connect {
                    call,
                    agent,
                    whisper,
                } => {
                    let extension = self.acd.agent_config(agent).extension.clone();
                    self.put_through(now, self.call_of(call), extension, whisper.waited);
                }
                Action::Leave { call, reason } => self.leave_queue(now, self.call_of(call), reason),
                Action::Announce {
                    call,
                    announcement: Announcement::CallbackAccepted,
                } => self.callback_accepted(now, call.0),
                Action::Announce { call, announcement } => {
                    let key = self.call_of(call);
                    let callbacks = self
                        .calls
                        .get(&key)
                        .and_then(|c| c.queue)
                        .is_some_and(|q| self.acd.queue_config(q).callback.is_some());
                    self.outputs.push_back(Output::Media(MediaCommand::Say {
                        call: key,
                        to: Side::A,
                        words: words_for(announcement, callbacks),
                    }));
                }
                Action::PlaceCallback {
                    call,
                    agent,
                    number,
                    ..
                } => self.place_callback(now, call, agent, number),
                Action::WarnAgent { agent, .. } => self.warn_agent(agent),
                Action::Preempt { agent, held, vip } => self.preempt(now, agent, held, vip),
                Action::Resume { agent, held } => self.resume(now, agent, held),
            }
        }
        let at = self.wall(now);
        while let Some(event) = self.acd.poll_event() {
            let record = QueueEventRecord {
                at,
                vip: event
                    .queue
                    .is_some_and(|q| self.acd.queue_config(q).vip.is_some()),
                queue: event
                    .queue
                    .and_then(|q| self.queue_names.get(q.0 as usize).cloned()),
                call_id: event.call.and_then(|c| self.queue_call_id(c)),
                agent: event
                    .agent
                    .map(|a| self.acd.agent_config(a).extension.clone()),
                kind: event.kind,
            };
            if let (Some(call), EventKind::CallbackFailed { .. }) = (event.call, &record.kind) {
                self.callback_requests.remove(&call);
            }
            self.outputs.push_back(Output::QueueEvent(record));
        }
    }

    /// The engine's name for a call: its own key, or for a callback Switchboard placed,
    /// the request it serves.
    pub(crate) fn engine_call(&self, key: CallKey) -> CallId {
        self.calls
            .get(&key)
            .and_then(|c| c.callback)
            .map_or(CallId(key), |cb| cb.request)
    }

    /// The call the engine means: for a callback request, the call placed for it (once
    /// there is one); otherwise the caller's own call.
    pub(crate) fn call_of(&self, call: CallId) -> CallKey {
        if !self.callback_requests.contains_key(&call) {
            return call.0;
        }
        self.calls
            .iter()
            .find(|(_, c)| c.callback.is_some_and(|cb| cb.request == call))
            .map_or(call.0, |(key, _)| *key)
    }

    /// The Call-ID the queue log names an engine call by: the caller's call, or for a
    /// callback request, the call that asked for it.
    fn queue_call_id(&self, call: CallId) -> Option<String> {
        match self.callback_requests.get(&call) {
            Some(r) => Some(r.call_id.clone()),
            None => self.calls.get(&call.0).map(|c| c.a_dialog.call_id.clone()),
        }
    }

    /// A key the caller pressed while waiting. Key 0 leaves by the scenario's "key"
    /// exit; a caller who dialled the queue directly has nowhere to go, so 0 is ignored
    /// for them and no key drops a caller.
    pub(crate) fn queue_key(&mut self, now: Instant, key: CallKey, pressed: char) {
        self.acd.handle_key(now, self.engine_call(key), pressed);
        self.run_queue(now);
    }

    /// Rings every phone of the agent's extension for the caller; an agent with none
    /// registered cannot take the offer.
    fn ring_agent(&mut self, now: Instant, key: CallKey, offer: OfferId, extension: &str) {
        let Some(call) = self.calls.get(&key) else {
            self.acd
                .handle_offer_failed(now, offer, OfferFailure::Unreachable);
            return;
        };
        let (caller, display, offer_sdp) = (
            call.caller.clone(),
            display_name(&call.invite),
            call.offer.clone(),
        );
        let ring = Ringing {
            caller: &caller,
            display: &display,
            callee: extension,
            max_forwards: call.max_forwards,
            offer: &offer_sdp,
            port: call.ports[1],
            seat: Side::B,
        };
        let first = call.forks.len();
        let bindings = self.live_bindings(now, extension);
        let forks = self.fork_invites(now, key, &ring, bindings, first, Some(offer));
        if forks.is_empty() {
            self.acd
                .handle_offer_failed(now, offer, OfferFailure::Unreachable);
            return;
        }
        self.queue_offers.insert(offer, key);
        if let Some(call) = self.calls.get_mut(&key) {
            call.forks.extend(forks);
        }
    }

    fn cancel_offer(&mut self, now: Instant, offer: OfferId) {
        let Some(key) = self.queue_offers.remove(&offer) else {
            return;
        };
        let forks: Vec<usize> = self.calls.get(&key).map_or(Vec::new(), |c| {
            (0..c.forks.len())
                .filter(|&i| c.forks[i].offer == Some(offer))
                .collect()
        });
        for i in forks {
            self.cancel_fork(now, key, i);
        }
    }

    /// An agent's phone answered an offer: the engine decides whether it still stands.
    pub(crate) fn queue_fork_answered(
        &mut self,
        now: Instant,
        key: CallKey,
        index: usize,
        sdp: &[u8],
    ) {
        let offer = self
            .calls
            .get(&key)
            .and_then(|c| c.forks.get(index))
            .and_then(|f| f.offer);
        let Some(offer) = offer.filter(|o| self.queue_offers.contains_key(o)) else {
            // Too late: the caller left or another agent took the call.
            self.send_bye(now, key, Side::B, Some(index));
            return;
        };
        if let Some(call) = self.calls.get_mut(&key) {
            call.connecting = Some((index, sdp.to_vec()));
        }
        self.acd.handle_offer_answered(now, offer);
        self.run_queue(now);
        if let Some((index, _)) = self.calls.get_mut(&key).and_then(|c| c.connecting.take()) {
            self.send_bye(now, key, Side::B, Some(index));
        }
    }

    /// A fork of an offer failed; when all of the agent's phones have, so did the offer.
    pub(crate) fn queue_fork_failed(
        &mut self,
        now: Instant,
        key: CallKey,
        index: usize,
        code: u16,
    ) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        let Some(offer) = call.forks.get(index).and_then(|f| f.offer) else {
            return;
        };
        let ringing = call
            .forks
            .iter()
            .any(|f| f.offer == Some(offer) && f.is_pending());
        if ringing || self.queue_offers.remove(&offer).is_none() {
            return;
        }
        let why = match code {
            486 | 600 | 603 => OfferFailure::Declined,
            408 | 480 | 487 => OfferFailure::NoAnswer,
            _ => OfferFailure::Unreachable,
        };
        self.acd.handle_offer_failed(now, offer, why);
        self.run_queue(now);
    }

    /// The engine put the caller through to the agent whose phone answered.
    fn put_through(&mut self, now: Instant, key: CallKey, agent: String, waited: Duration) {
        let Some((index, sdp)) = self.calls.get_mut(&key).and_then(|c| c.connecting.take()) else {
            return;
        };
        let offer = self.calls[&key].forks[index].offer;
        if let Some(offer) = offer {
            self.queue_offers.remove(&offer);
        }
        let (_, a_media, b_media) = match self.negotiate(key, index, &sdp) {
            Ok(n) => n,
            Err(e) => {
                self.send_bye(now, key, Side::B, Some(index));
                self.acd
                    .handle_hangup(now, self.engine_call(key), Party::Agent);
                self.run_queue(now);
                return self.end_unbridged(
                    now,
                    key,
                    Disposition::Failed,
                    HangupBy::System,
                    488,
                    &e.to_string(),
                );
            }
        };
        let others: Vec<usize> = {
            let call = &self.calls[&key];
            (0..call.forks.len())
                .filter(|&i| i != index && call.forks[i].offer == offer)
                .collect()
        };
        if let Some(call) = self.calls.get_mut(&key) {
            call.phase = Phase::Answered { winner: index };
            call.answered = Some(now);
            call.media = Some([a_media, b_media]);
            call.answered_by = Some(agent);
        }
        let number = self
            .calls
            .get(&key)
            .and_then(|c| c.queue)
            .and_then(|q| self.queue_names.get(q.0 as usize).cloned())
            .unwrap_or_default();
        self.outputs.push_back(Output::Media(MediaCommand::Bridge {
            call: key,
            a: a_media,
            b: b_media,
        }));
        self.outputs.push_back(Output::Media(MediaCommand::Say {
            call: key,
            to: Side::B,
            words: whisper_for(&number, waited),
        }));
        for i in others {
            self.cancel_fork(now, key, i);
        }
    }

    /// The caller hung up while waiting, or while on hold for their agent's VIP call.
    pub(crate) fn abandon_queue(&mut self, now: Instant, key: CallKey) {
        self.acd
            .handle_hangup(now, self.engine_call(key), Party::Caller);
        self.run_queue(now);
        let (disposition, code, reason) = match self.calls.get(&key) {
            Some(c) if c.answered.is_some() => (
                Disposition::Answered,
                200,
                "Caller hung up while on hold for a VIP call",
            ),
            _ => (
                Disposition::Cancelled,
                487,
                "Caller hung up while waiting in the queue",
            ),
        };
        self.end_unbridged(now, key, disposition, HangupBy::Caller, code, reason);
    }

    /// A call put through by a queue ended: the engine learns who hung up.
    pub(crate) fn queue_call_ended(&mut self, now: Instant, key: CallKey, by: HangupBy) {
        if self.calls.get(&key).is_some_and(|c| c.queue.is_some()) {
            let party = match by {
                HangupBy::Callee => Party::Agent,
                _ => Party::Caller,
            };
            self.acd.handle_hangup(now, self.engine_call(key), party);
            self.run_queue(now);
        }
    }

    /// The engine sends the caller on: a scenario's caller goes back to the scenario;
    /// one who dialled the queue and pressed 0 leaves a message in the queue's box; one
    /// not yet answered gets the failure, a waiting one is hung up on.
    fn leave_queue(&mut self, now: Instant, key: CallKey, reason: LeaveReason) {
        if self.calls.get(&key).is_some_and(|c| c.run.is_some()) {
            return self.scenario_left_queue(now, key, reason);
        }
        if let (LeaveReason::Key(_), Some(call)) = (reason, self.calls.get_mut(&key))
            && call.local_sdp[0].is_some()
        {
            call.queue = None;
            let mailbox = call.callee.clone();
            return self.leave_message(key, &mailbox);
        }
        let (code, text) = match reason {
            LeaveReason::Full => (486, "The queue is full"),
            LeaveReason::Empty => (480, "No agent in the queue"),
            LeaveReason::Timeout => (408, "Waited the queue's maximum"),
            LeaveReason::Key(_) => (480, "Left the queue by key"),
        };
        let answered = self
            .calls
            .get(&key)
            .is_some_and(|c| c.local_sdp[0].is_some());
        if answered {
            self.end_unbridged(
                now,
                key,
                Disposition::NoAnswer,
                HangupBy::System,
                code,
                text,
            );
        } else if let Some(call) = self.calls.get_mut(&key) {
            // `fail` answers calls that still ring.
            call.phase = Phase::Ringing;
            self.fail(now, key, code, text, Disposition::NoAnswer);
        }
    }

    /// Ends a call Switchboard answered alone (a caller waiting in a queue, or being told
    /// something) for `reason`: a waiting caller leaves the queue and is hung up on.
    pub(crate) fn end_alone(&mut self, now: Instant, key: CallKey, code: u16, reason: &str) {
        if self
            .calls
            .get(&key)
            .is_some_and(|c| c.phase == Phase::Queued)
        {
            self.acd
                .handle_hangup(now, self.engine_call(key), Party::Caller);
            self.run_queue(now);
        }
        self.end_unbridged(
            now,
            key,
            Disposition::Failed,
            HangupBy::System,
            code,
            reason,
        );
    }

    /// Ends a call that was never put through to another phone (waiting in a queue,
    /// being told something): agents stop ringing, the caller is hung up on unless they
    /// hung up, and the call is recorded.
    pub(crate) fn end_unbridged(
        &mut self,
        now: Instant,
        key: CallKey,
        disposition: Disposition,
        by: HangupBy,
        code: u16,
        reason: &str,
    ) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        call.phase = Phase::Ended;
        call.awaiting_ack = [None, None];
        let forks = call.forks.len();
        for i in 0..forks {
            self.cancel_fork(now, key, i);
        }
        if by != HangupBy::Caller {
            self.send_bye(now, key, Side::A, None);
        }
        self.record(now, key, disposition, by, code, reason);
        self.forget_if_done(key);
        // A caller told they will be called back is off the line: the request can be
        // served.
        if self.callback_requests.contains_key(&CallId(key)) {
            self.acd.handle_hangup(now, CallId(key), Party::Caller);
            self.run_queue(now);
        }
    }

    /// What every agent does, for the wallboard.
    pub fn agent_boards(&self) -> Vec<switchboard_queue::AgentSnapshot> {
        self.acd.agent_snapshots()
    }

    /// The wallboard's picture of every queue, by number.
    pub fn queue_boards(&self, now: Instant) -> Vec<(String, switchboard_queue::QueueSnapshot)> {
        self.acd
            .snapshot(now)
            .into_iter()
            .map(|s| (self.queue_names[s.queue.0 as usize].clone(), s))
            .collect()
    }

    /// A REGISTER changed an extension's phones: its agent may come or go. A refresh
    /// changes nothing, so an agent who logged out by hand stays out.
    pub(crate) fn agent_registration(&mut self, now: Instant, extension: &str) {
        let Some(agent) = self.acd.agent_by_extension(extension) else {
            return;
        };
        let registered = !self.live_bindings(now, extension).is_empty();
        let was = if registered {
            !self.agents_registered.insert(extension.to_string())
        } else {
            self.agents_registered.remove(extension)
        };
        if was != registered {
            self.acd.handle_registration(now, agent, registered);
            self.run_queue(now);
        }
    }

    /// The admin panel (or the agent's own) changes an agent's status, as *45 and *46
    /// do from the phone. False when `extension` answers no queue.
    pub fn set_agent_status(&mut self, clock: Clock, extension: &str, status: AgentStatus) -> bool {
        let now = self.tick(clock);
        let Some(agent) = self.acd.agent_by_extension(extension) else {
            return false;
        };
        self.acd.handle_status(now, agent, status);
        self.run_queue(now);
        self.drain(now);
        true
    }

    /// An agent dialled a feature code: their status changes and they are told.
    pub(crate) fn feature_code(&mut self, now: Instant, key: CallKey, code: FeatureCode) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        let Some(agent) = self.acd.agent_by_extension(&call.caller) else {
            let what = crate::pbx::Announcement::NoSuchNumber;
            return self.announce_failure(
                now,
                key,
                404,
                "Not a queue agent",
                Disposition::Failed,
                what,
            );
        };
        use crate::pbx::Announcement as Tell;
        let break_reason = || AgentStatus::OnBreak {
            reason: "break (*46)".into(),
        };
        let (status, tell) = match (code, self.acd.agent_status(agent)) {
            (FeatureCode::LogInOut, AgentStatus::LoggedOut) => {
                (AgentStatus::Available, Tell::AgentLoggedIn)
            }
            (FeatureCode::LogInOut, _) => (AgentStatus::LoggedOut, Tell::AgentLoggedOut),
            (FeatureCode::Break, AgentStatus::Available) => (break_reason(), Tell::AgentOnBreak),
            (FeatureCode::Break, AgentStatus::OnBreak { .. }) => {
                (AgentStatus::Available, Tell::AgentBack)
            }
            (FeatureCode::Break, AgentStatus::LoggedOut) => {
                (AgentStatus::LoggedOut, Tell::AgentLoggedOut)
            }
        };
        self.acd.handle_status(now, agent, status);
        self.run_queue(now);
        if let Some(caller) = self.answer_alone(now, key) {
            if let Some(call) = self.calls.get_mut(&key) {
                call.phase = Phase::Telling;
                call.answered = Some(now);
            }
            self.outputs
                .push_back(Output::Media(MediaCommand::Announce {
                    call: key,
                    side: Side::A,
                    to: caller,
                    what: tell,
                }));
            self.timers.insert((
                now + TELLING_LIMIT,
                key,
                crate::pbx::CallTimer::AnnouncementTimeout,
            ));
        }
    }

    /// What the caller was told has been said: Switchboard hangs up.
    pub(crate) fn told(&mut self, now: Instant, key: CallKey) {
        if self
            .calls
            .get(&key)
            .is_some_and(|c| c.phase == Phase::Telling)
        {
            let callback = self.callback_requests.contains_key(&CallId(key));
            if let Some(call) = self.calls.get_mut(&key) {
                call.told_reason.get_or_insert_with(|| {
                    if callback {
                        "Callback requested"
                    } else {
                        "Told"
                    }
                    .to_string()
                });
            }
            self.hang_up_told(now, key);
        }
    }
}

/// What a waiting caller is told, word by word; where the queue offers callbacks,
/// each announcement ends with how to ask for one.
pub(crate) fn words_for(announcement: Announcement, callbacks: bool) -> Vec<Word> {
    let mut words = match announcement {
        Announcement::Position {
            position,
            estimated_wait,
        } => {
            let mut words = vec![Word::QueuePosition];
            words.extend(number(position as u64));
            match estimated_wait.map(|w| w.as_secs()) {
                Some(secs) if secs < 60 => words.push(Word::QueueWaitShort),
                Some(secs) => {
                    words.push(Word::QueueWait);
                    words.extend(number(secs.div_ceil(60)));
                }
                None => {}
            }
            words
        }
        Announcement::Comfort => vec![Word::QueueComfort],
        // Said as an announcement of its own, before the call ends.
        Announcement::CallbackAccepted => return Vec::new(),
    };
    if callbacks {
        words.push(Word::QueueCallbackOffer);
    }
    words
}

/// What an agent hears before a queue caller is put through: "Queue call", the queue's
/// number digit by digit (an office's queue names are its own words, which Switchboard
/// cannot say), and the minutes the caller waited once it is a minute or more.
pub(crate) fn whisper_for(queue_number: &str, waited: Duration) -> Vec<Word> {
    let mut words = vec![Word::QueueWhisper];
    words.extend(
        queue_number
            .chars()
            .filter_map(|c| c.to_digit(10))
            .map(Word::Number),
    );
    let minutes = waited.as_secs() / 60;
    if minutes > 0 {
        words.push(Word::QueueWaited);
        words.extend(number(minutes));
    }
    words
}

/// A number as said: beyond the largest prompt, "more than" it.
fn number(n: u64) -> Vec<Word> {
    let max = u64::from(Word::MAX_NUMBER);
    if n > max {
        vec![Word::MoreThan, Word::Number(Word::MAX_NUMBER)]
    } else {
        vec![Word::Number(n as u32)]
    }
}
