//! Queue callbacks on calls. A waiting caller who presses 1 (where the queue offers
//! callbacks) hears that they will be called back and is hung up on; the queue keeps
//! their place. When their turn comes the engine reserves an agent
//! ([`Action::PlaceCallback`](switchboard_queue::Action::PlaceCallback)) and Switchboard
//! places a call of its own: the agent's phones ring first (leg B, as in any queue
//! call); once the agent answers they hear the whisper, then music while the
//! customer's phones ring (leg A); when the customer answers the two are bridged. How each attempt
//! went goes back to the engine, which retries or gives up as the queue says.

use std::time::Instant;

use switchboard_media::relay::Side;
use switchboard_media::sdp::{AudioStream, Direction};
use switchboard_queue::{AgentId, CallId, CallbackResult, QueueId};
use switchboard_sip::dialog::Dialog;

use crate::call::{Call, CallStart, Callback, ForkState, Phase};
use crate::outcome::{answered_media, best_failure};
use crate::pbx::{Announcement, CallKey, CallTimer, MediaCommand, Output, Pbx};
use crate::record::{Disposition, HangupBy};
use crate::setup::Ringing;

/// A caller's standing request to be called back.
#[derive(Debug, Clone)]
pub(crate) struct CallbackRequest {
    pub queue: QueueId,
    /// The Call-ID of the call that asked, which names the request in the queue log.
    pub call_id: String,
    pub priority: i32,
}

/// A callback rings one side at a time: its agent, then its customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Agent,
    Customer { agent_fork: usize },
}

impl Pbx {
    /// The queue took the caller's request: they are told, then hung up on.
    pub(crate) fn callback_accepted(&mut self, now: Instant, key: CallKey) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let (Some(queue), Some(local)) = (call.queue, call.local_sdp[0].clone()) else {
            return;
        };
        call.phase = Phase::Telling;
        let caller = crate::outcome::leg_media(&call.offer, &local, call.a_peer);
        let request = CallbackRequest {
            queue,
            call_id: call.a_dialog.call_id.clone(),
            priority: call.priority,
        };
        self.callback_requests.insert(CallId(key), request);
        self.outputs
            .push_back(Output::Media(MediaCommand::Announce {
                call: key,
                side: Side::A,
                to: caller,
                what: Announcement::CallbackAccepted,
            }));
        self.timers.insert((
            now + crate::queue_calls::TELLING_LIMIT,
            key,
            CallTimer::AnnouncementTimeout,
        ));
    }

    /// The engine reserved `agent` for the request: their phones ring first. A
    /// customer with no phone to ring is not worth disturbing the agent for.
    pub(crate) fn place_callback(
        &mut self,
        now: Instant,
        request: CallId,
        agent: AgentId,
        customer: String,
    ) {
        let Some(r) = self.callback_requests.get(&request).cloned() else {
            return self.callback_result(now, request, CallbackResult::CustomerMissed);
        };
        if self.live_bindings(now, &customer).is_empty() {
            return self.callback_result(now, request, CallbackResult::CustomerMissed);
        }
        let extension = self.acd.agent_config(agent).extension.clone();
        let agent_phones = self.live_bindings(now, &extension);
        let Some(ports) = self.ports.take_pair(self.ids.next()) else {
            return self.callback_result(now, request, CallbackResult::CustomerMissed);
        };
        let key = self.new_call_key();
        // Switchboard offers the agent every codec it has: no caller has chosen yet.
        let everything = AudioStream {
            address: std::net::Ipv4Addr::UNSPECIFIED.into(),
            port: 0,
            formats: Vec::new(),
            direction: Direction::SendRecv,
            ptime: None,
            crypto: None,
        };
        let ring = Ringing {
            caller: &customer,
            display: "\"Callback\" ",
            callee: &extension,
            max_forwards: 70,
            offer: &everything,
            port: ports[1],
            seat: Side::B,
        };
        let forks = self.fork_invites(now, key, &ring, agent_phones, 0, None);
        let Some(first) = forks.first() else {
            self.ports.give_back(ports[0]);
            self.ports.give_back(ports[1]);
            return self.callback_result(now, request, CallbackResult::AgentMissed);
        };
        let a_dialog = Dialog {
            call_id: format!("{}@switchboard", self.ids.token()),
            local: String::new(),
            local_tag: self.ids.token(),
            remote: String::new(),
            remote_target: String::new(),
            local_cseq: 1,
            peer: first.peer,
        };
        let mut call = Call::new(CallStart {
            invite_id: None,
            invite: first.invite.clone(),
            a_peer: first.peer,
            a_dialog,
            caller: customer,
            callee: self.queue_names[r.queue.0 as usize].clone(),
            offer: everything,
            ports,
            forks,
            phase: Phase::CallingBack { agent: None },
            started_wall: self.wall(now),
            queue: Some(r.queue),
            max_forwards: 70,
        });
        call.answered_by = Some(extension);
        call.priority = r.priority;
        call.callback = Some(Callback {
            request,
            agent: None,
        });
        self.outputs.push_back(Output::Media(MediaCommand::Open {
            call: key,
            ports: call.ports,
        }));
        self.open_call(now, key, call);
        self.ring_for(now, key, r.queue);
    }

    /// A phone of a callback answered: the agent (then the customer is rung) or the
    /// customer (then both are bridged). Any other answer is not wanted.
    pub(crate) fn callback_fork_answered(
        &mut self,
        now: Instant,
        key: CallKey,
        index: usize,
        sdp: &[u8],
    ) {
        let Some((stage, seat)) = self
            .calls
            .get(&key)
            .and_then(|c| Some((stage(c.phase)?, c.forks[index].seat)))
        else {
            return;
        };
        match (stage, seat) {
            (Stage::Agent, Side::B) => self.callback_agent_answered(now, key, index, sdp),
            (Stage::Customer { agent_fork }, Side::A) => {
                self.callback_customer_answered(now, key, index, agent_fork, sdp)
            }
            _ => {
                self.send_bye(now, key, Side::B, Some(index));
                self.forget_if_done(key);
            }
        }
    }

    fn callback_agent_answered(&mut self, now: Instant, key: CallKey, index: usize, sdp: &[u8]) {
        let peer = self.fork_peer(key, index);
        let Some(Ok((stream, agent))) = peer.map(|(peer, key)| answered_media(sdp, peer, key))
        else {
            self.send_bye(now, key, Side::B, Some(index));
            return self.callback_failed(now, key, CallbackResult::AgentMissed, 488, "No codec");
        };
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        call.phase = Phase::CallingBack { agent: Some(index) };
        call.local_sdp[1] = Some(call.forks[index].sdp.clone());
        // The customer is offered the agent's codec first, so it need not be converted.
        call.offer = stream;
        if let Some(cb) = call.callback.as_mut() {
            cb.agent = Some(agent);
        }
        let others: Vec<usize> = (0..call.forks.len()).filter(|&i| i != index).collect();
        for i in others {
            self.cancel_fork(now, key, i);
        }
        self.timers
            .retain(|&(_, k, t)| !(k == key && t == CallTimer::RingTimeout));
        self.outputs
            .push_back(Output::Media(MediaCommand::Announce {
                call: key,
                side: Side::B,
                to: agent,
                what: Announcement::CallbackWhisper,
            }));
        self.timers.insert((
            now + crate::queue_calls::TELLING_LIMIT,
            key,
            CallTimer::AnnouncementTimeout,
        ));
    }

    /// The agent has heard the whisper: they hear music while the customer's phones
    /// ring. (Ringing the customer only now keeps their answer from cutting the
    /// whisper short.)
    pub(crate) fn callback_whisper_done(&mut self, now: Instant, key: CallKey) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        let dialled = call.forks.iter().any(|f| f.seat == Side::A);
        let (Some(Stage::Customer { .. }), Some(queue), Some(agent), false) = (
            stage(call.phase),
            call.queue,
            call.callback.and_then(|cb| cb.agent),
            dialled,
        ) else {
            return;
        };
        let phones = self.live_bindings(now, &call.caller);
        let (customer, offer, port, first) = (
            call.caller.clone(),
            call.offer.clone(),
            call.ports[0],
            call.forks.len(),
        );
        self.outputs.push_back(Output::Media(MediaCommand::Wait {
            call: key,
            side: Side::B,
            media: agent,
            hears: crate::pbx::Waiting::Ringback,
        }));
        let (number, name) = (
            self.queue_names[queue.0 as usize].clone(),
            self.acd.queue_config(queue).name.clone(),
        );
        let display = format!("\"{}\" ", name.replace(['"', '\\'], ""));
        let ring = Ringing {
            caller: &number,
            display: &display,
            callee: &customer,
            max_forwards: 70,
            offer: &offer,
            port,
            seat: Side::A,
        };
        let forks = self.fork_invites(now, key, &ring, phones, first, None);
        if forks.is_empty() {
            return self.callback_failed(
                now,
                key,
                CallbackResult::CustomerMissed,
                480,
                "The customer has no phone registered",
            );
        }
        if let Some(call) = self.calls.get_mut(&key) {
            call.forks.extend(forks);
        }
        self.ring_for(now, key, queue);
    }

    fn callback_customer_answered(
        &mut self,
        now: Instant,
        key: CallKey,
        index: usize,
        agent_fork: usize,
        sdp: &[u8],
    ) {
        let peer = self.fork_peer(key, index);
        let Some(Ok((_, customer))) = peer.map(|(peer, key)| answered_media(sdp, peer, key)) else {
            self.send_bye(now, key, Side::B, Some(index));
            return self.callback_failed(
                now,
                key,
                CallbackResult::CustomerMissed,
                488,
                "No codec in common with the customer",
            );
        };
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let Some(agent) = call.callback.and_then(|cb| cb.agent) else {
            return;
        };
        let fork = &mut call.forks[index];
        let Some(dialog) = fork.dialog.take() else {
            return;
        };
        call.a_peer = fork.peer;
        call.invite = fork.invite.clone();
        call.local_sdp[0] = Some(fork.sdp.clone());
        call.a_dialog = dialog;
        call.phase = Phase::Answered { winner: agent_fork };
        call.answered = Some(now);
        call.media = Some([customer, agent]);
        let request = call.callback.map(|cb| cb.request);
        let others: Vec<usize> = (0..call.forks.len()).filter(|&i| i != index).collect();
        for i in others {
            self.cancel_fork(now, key, i);
        }
        self.outputs.push_back(Output::Media(MediaCommand::Bridge {
            call: key,
            a: customer,
            b: agent,
        }));
        if let Some(request) = request {
            self.callback_result(now, request, CallbackResult::Connected);
        }
    }

    /// A phone of a callback failed; when every phone of the side being rung has, the
    /// attempt has.
    pub(crate) fn callback_fork_failed(&mut self, now: Instant, key: CallKey, index: usize) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        let Some(stage) = stage(call.phase) else {
            return;
        };
        let seat = match stage {
            Stage::Agent => Side::B,
            Stage::Customer { .. } => Side::A,
        };
        let rung = || call.forks.iter().filter(|f| f.seat == seat);
        if call.forks[index].seat != seat || rung().any(|f| f.is_pending()) {
            return self.forget_if_done(key);
        }
        match stage {
            Stage::Agent => self.callback_failed(
                now,
                key,
                CallbackResult::AgentMissed,
                480,
                "The agent did not answer",
            ),
            Stage::Customer { .. } => {
                let codes: Vec<u16> = rung()
                    .filter_map(|f| match f.state {
                        ForkState::Failed(c) => Some(c),
                        _ => None,
                    })
                    .collect();
                let (code, reason, _) = best_failure(&codes);
                self.callback_failed(now, key, CallbackResult::CustomerMissed, code, reason)
            }
        }
    }

    /// Nobody answered in time: the agent (another one is tried) or the customer (the
    /// request waits for its next attempt).
    pub(crate) fn callback_timeout(&mut self, now: Instant, key: CallKey) {
        match self.calls.get(&key).and_then(|c| stage(c.phase)) {
            Some(Stage::Agent) => self.callback_failed(
                now,
                key,
                CallbackResult::AgentMissed,
                480,
                "The agent did not answer",
            ),
            Some(Stage::Customer { .. }) => {
                self.callback_failed(now, key, CallbackResult::CustomerMissed, 480, "No Answer")
            }
            None => {}
        }
    }

    /// Ends an attempt that never bridged. An attempt that reached the customer's
    /// phones is a call in the log; one the agent missed is only in the queue log.
    pub(crate) fn callback_failed(
        &mut self,
        now: Instant,
        key: CallKey,
        result: CallbackResult,
        code: u16,
        reason: &str,
    ) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let stage = stage(call.phase);
        let request = call.callback.map(|cb| cb.request);
        call.phase = Phase::Ended;
        call.awaiting_ack = [None, None];
        for i in 0..call.forks.len() {
            self.cancel_fork(now, key, i);
        }
        if let Some(Stage::Customer { agent_fork }) = stage {
            self.send_bye(now, key, Side::B, Some(agent_fork));
            let disposition = match code {
                486 | 600 | 603 => Disposition::Busy,
                _ => Disposition::NoAnswer,
            };
            self.record(now, key, disposition, HangupBy::System, code, reason);
        } else {
            self.outputs
                .push_back(Output::Media(MediaCommand::Close { call: key }));
        }
        if let Some(request) = request {
            self.callback_result(now, request, result);
        }
        self.forget_if_done(key);
    }

    fn callback_result(&mut self, now: Instant, request: CallId, result: CallbackResult) {
        self.acd.handle_callback_result(now, request, result);
        self.run_queue(now);
    }

    /// Times the ringing of the side just rung by the queue's ring timeout.
    fn ring_for(&mut self, now: Instant, key: CallKey, queue: QueueId) {
        let timeout = self.acd.queue_config(queue).ring_timeout;
        self.timers
            .insert((now + timeout, key, CallTimer::RingTimeout));
    }
}

fn stage(phase: Phase) -> Option<Stage> {
    match phase {
        Phase::CallingBack { agent: None } => Some(Stage::Agent),
        Phase::CallingBack {
            agent: Some(agent_fork),
        } => Some(Stage::Customer { agent_fork }),
        _ => None,
    }
}
