//! Queue callbacks. A waiting caller who presses 1 (where the queue offers callbacks)
//! hears that they will be called back and is hung up on; the queue keeps their place.
//! When their turn comes the engine reserves an agent
//! ([`Action::PlaceCallback`](switchboard_queue::Action::PlaceCallback)) and Switchboard
//! places a call of its own: the agent's phones ring first (leg B, as in any queue
//! call); once the agent answers they hear the whisper, then ringback while the
//! customer's phones ring (leg A); when the customer answers the two are bridged. How
//! each attempt went goes back to the engine, which retries or gives up as the queue
//! says.

use switchboard_media::relay::{LegMedia, Side};
use switchboard_queue::Priority;
use switchboard_queue::{AgentId, CallId, CallbackResult, QueueId};

use super::Queues;
use crate::features::{Ctx, Handoff};
use crate::legs::{LegEvent, NotPlaced, Phase, Placing, Ringing, answered_media, best_failure};
use crate::record::Outcome;
use crate::vocabulary::{Announcement, CallKey, MediaCommand, Output, Waiting};

/// The longest "we will call you back" and the agent's whisper may take.
const TELLING_LIMIT: std::time::Duration = std::time::Duration::from_secs(20);

/// A callback request as Switchboard keeps it on disk, so that it outlives a restart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingCallback {
    /// The Call-ID of the call that asked, which names the request.
    pub call_id: String,
    /// The queue's number.
    pub queue: String,
    /// Where to call back.
    pub number: String,
    pub priority: Priority,
    /// For a customer outside: the trunk and the office number they called.
    pub through: Option<(String, String)>,
    pub requested: std::time::SystemTime,
    /// For a lost-call task (a caller who gave up waiting): when it is dropped unless
    /// served. A caller's own request has none.
    pub expires: Option<std::time::SystemTime>,
}

/// What changed in the callback requests waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackChange {
    Requested(PendingCallback),
    /// The request named by the Call-ID is served, given up or gone.
    Done(String),
}

/// A caller's standing request to be called back.
#[derive(Debug, Clone)]
pub(super) struct CallbackRequest {
    pub queue: QueueId,
    /// The Call-ID of the call that asked, which names the request in the queue log.
    pub call_id: String,
    /// Where to call back.
    pub number: String,
    pub priority: Priority,
    /// For a customer who called from outside: the trunk they called through, and the
    /// office number they dialled, which the callback shows them.
    pub through: Option<(String, String)>,
}

/// A call Switchboard places for a callback request.
#[derive(Debug, Clone, Copy)]
pub(super) struct Placed {
    pub request: CallId,
    pub queue: QueueId,
    pub stage: Stage,
    /// The agent's media, once their phone answered.
    pub agent: Option<LegMedia>,
}

/// A callback rings one side at a time: its agent, then its customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    Agent,
    Customer { agent_fork: usize },
}

impl Queues {
    /// The queue took the caller's request: they are told, then hung up on.
    pub(super) fn callback_accepted(&mut self, cx: &mut Ctx<'_>, key: CallKey) {
        let (Some(caller), Some(call)) = (cx.legs.caller_media(key), cx.legs.calls.get(&key))
        else {
            return;
        };
        let Some(queue) = self.calls.remove(&key).map(|c| c.queue) else {
            return;
        };
        let request = CallbackRequest {
            queue,
            call_id: call.a_dialog.call_id.clone(),
            number: call.caller.clone(),
            priority: call.log.priority,
            through: call
                .origin
                .trunk()
                .map(|trunk| (trunk.to_string(), call.callee.clone())),
        };
        let pending = PendingCallback {
            call_id: request.call_id.clone(),
            queue: self.name(queue),
            number: call.caller.clone(),
            priority: request.priority,
            through: request.through.clone(),
            requested: cx.legs.wall(cx.now),
            expires: None,
        };
        cx.legs
            .push(Output::Callback(CallbackChange::Requested(pending)));
        self.callback_requests.insert(CallId(key), request);
        let what = Announcement::CallbackAccepted;
        cx.legs
            .announce(cx.now, key, Side::A, caller, what, TELLING_LIMIT);
        cx.hand_off(Handoff::Tell {
            call: key,
            reason: "Callback requested".into(),
        });
    }

    /// A request kept from before a restart, as call `key`: back in its queue with
    /// the time it had waited.
    pub(crate) fn restore_callback(
        &mut self,
        cx: &mut Ctx<'_>,
        key: CallKey,
        pending: PendingCallback,
    ) -> bool {
        let Some(queue) = self.queue(&pending.queue) else {
            return false;
        };
        let wall = cx.legs.wall(cx.now);
        let waited = wall.duration_since(pending.requested).unwrap_or_default();
        // A task whose time ran out while Switchboard was stopped is dropped at once.
        let expires = pending
            .expires
            .map(|end| cx.now + end.duration_since(wall).unwrap_or_default());
        let request = CallbackRequest {
            queue,
            call_id: pending.call_id,
            number: pending.number.clone(),
            priority: pending.priority,
            through: pending.through,
        };
        self.callback_requests.insert(CallId(key), request);
        let call = (queue, CallId(key));
        self.acd.restore_callback(
            cx.now,
            call,
            &pending.number,
            pending.priority,
            waited,
            expires,
        );
        self.run(cx);
        true
    }

    /// The lost-call dialer: caller `key`, who gave up after waiting `waited` in
    /// `queue`, becomes a callback task where the queue calls lost callers back; one
    /// task per number and queue, kept on disk like a caller's own request.
    pub(super) fn lost_call(
        &mut self,
        cx: &mut Ctx<'_>,
        queue: QueueId,
        key: CallKey,
        waited: std::time::Duration,
    ) {
        let Some(policy) = self.acd.queue_config(queue).lost_calls else {
            return;
        };
        let Some(call) = cx.legs.calls.get(&key) else {
            return;
        };
        let number = call.caller.clone();
        let known = !number.is_empty() && number != "anonymous";
        let pending_already = self
            .callback_requests
            .values()
            .any(|r| r.queue == queue && r.number == number);
        if waited < policy.min_wait || !known || pending_already {
            return;
        }
        let requested = cx.legs.wall(cx.now);
        let pending = PendingCallback {
            call_id: call.a_dialog.call_id.clone(),
            queue: self.name(queue),
            number,
            priority: call.log.priority,
            through: call
                .origin
                .trunk()
                .map(|trunk| (trunk.to_string(), call.callee.clone())),
            requested,
            expires: Some(requested + policy.expire_after),
        };
        cx.legs
            .push(Output::Callback(CallbackChange::Requested(pending.clone())));
        let task = cx.legs.new_call_key();
        self.restore_callback(cx, task, pending);
    }

    /// The request of call `request` is served, given up or gone: it is forgotten,
    /// on disk too.
    pub(super) fn forget_request(&mut self, cx: &mut Ctx<'_>, request: CallId) {
        if let Some(r) = self.callback_requests.remove(&request) {
            cx.legs
                .push(Output::Callback(CallbackChange::Done(r.call_id)));
        }
    }

    /// The engine reserved `agent` for the request: their phones ring first. A
    /// customer with no phone to ring is not worth disturbing the agent for.
    pub(super) fn place_callback(
        &mut self,
        cx: &mut Ctx<'_>,
        request: CallId,
        agent: AgentId,
        customer: String,
    ) {
        let now = cx.now;
        let Some(r) = self.callback_requests.get(&request).cloned() else {
            return self.callback_result(cx, request, CallbackResult::CustomerMissed);
        };
        if r.through.is_none() && cx.legs.live_bindings(now, &customer).is_empty() {
            return self.callback_result(cx, request, CallbackResult::CustomerMissed);
        }
        let extension = self.acd.agent_config(agent).extension.clone();
        let placing = Placing {
            extension: &extension,
            caller: &customer,
            display: "\"Callback\" ",
            callee: self.name(r.queue),
            seat: Side::B,
        };
        let key = match cx.legs.place_call(now, placing) {
            Ok(key) => key,
            Err(NotPlaced::NoPorts) => {
                return self.callback_result(cx, request, CallbackResult::CustomerMissed);
            }
            Err(NotPlaced::NoPhones) => {
                return self.callback_result(cx, request, CallbackResult::AgentMissed);
            }
        };
        let Some(call) = cx.legs.calls.get_mut(&key) else {
            return;
        };
        call.log.queue = Some(self.name(r.queue));
        call.log.answered_by = Some(extension);
        call.log.priority = r.priority;
        self.placed.insert(
            key,
            Placed {
                request,
                queue: r.queue,
                stage: Stage::Agent,
                agent: None,
            },
        );
        cx.hand_off(Handoff::QueuePlaced { call: key });
        self.ring_for(cx, key, r.queue);
    }

    /// What the legs report about a call placed for a callback.
    pub(super) fn callback_event(&mut self, cx: &mut Ctx<'_>, event: LegEvent) {
        match event {
            LegEvent::Answered { call, fork, sdp } => self.callback_answered(cx, call, fork, &sdp),
            LegEvent::Failed { call, fork, .. } => self.callback_fork_failed(cx, call, fork),
            LegEvent::Played { call } => self.callback_whisper_done(cx, call),
            LegEvent::HungUp {
                call,
                side: Side::B,
            } => self.callback_failed(
                cx,
                call,
                CallbackResult::AgentMissed,
                487,
                "The agent hung up before the customer answered",
            ),
            LegEvent::RingTimeout { call } => self.callback_timeout(cx, call),
            LegEvent::Broken { call, code, reason } => {
                self.callback_failed(cx, call, CallbackResult::CustomerMissed, code, reason)
            }
            _ => {}
        }
    }

    /// A phone of a callback answered: the agent (then the customer is rung) or the
    /// customer (then both are bridged). Any other answer is not wanted.
    fn callback_answered(&mut self, cx: &mut Ctx<'_>, key: CallKey, index: usize, sdp: &[u8]) {
        let seat = cx.legs.calls.get(&key).map(|c| c.forks[index].seat);
        let Some((placed, seat)) = self.placed.get(&key).copied().zip(seat) else {
            return;
        };
        match (placed.stage, seat) {
            (Stage::Agent, Side::B) => self.callback_agent_answered(cx, key, index, sdp),
            (Stage::Customer { agent_fork }, Side::A) => {
                self.callback_customer_answered(cx, key, index, agent_fork, sdp)
            }
            _ => cx.legs.send_bye(cx.now, key, Side::B, Some(index)),
        }
    }

    fn callback_agent_answered(
        &mut self,
        cx: &mut Ctx<'_>,
        key: CallKey,
        index: usize,
        sdp: &[u8],
    ) {
        let now = cx.now;
        let peer = cx.legs.fork_peer(key, index);
        let Some(Ok((stream, agent))) = peer.map(|(peer, key)| answered_media(sdp, peer, key))
        else {
            cx.legs.send_bye(now, key, Side::B, Some(index));
            let missed = CallbackResult::AgentMissed;
            return self.callback_failed(cx, key, missed, 488, "No codec");
        };
        let (Some(call), Some(placed)) = (cx.legs.calls.get_mut(&key), self.placed.get_mut(&key))
        else {
            return;
        };
        placed.stage = Stage::Customer { agent_fork: index };
        placed.agent = Some(agent);
        call.local_sdp[1] = Some(call.forks[index].sdp.clone());
        // The customer is offered the agent's codec first, so it need not be converted.
        call.offer = stream;
        cx.legs.cancel_forks(now, key, Some(index));
        cx.legs.stop_ring_timer(key);
        let what = Announcement::CallbackWhisper;
        cx.legs
            .announce(now, key, Side::B, agent, what, TELLING_LIMIT);
    }

    /// The agent has heard the whisper: they hear ringback while the customer's phones
    /// ring. (Ringing the customer only now keeps their answer from cutting the
    /// whisper short.)
    fn callback_whisper_done(&mut self, cx: &mut Ctx<'_>, key: CallKey) {
        let now = cx.now;
        let (Some(call), Some(placed)) = (cx.legs.calls.get(&key), self.placed.get(&key).copied())
        else {
            return;
        };
        let dialled = call.forks.iter().any(|f| f.seat == Side::A);
        let (Stage::Customer { .. }, Some(agent), false) = (placed.stage, placed.agent, dialled)
        else {
            return;
        };
        let (customer, offer, port) = (call.caller.clone(), call.offer.clone(), call.ports[0]);
        let phones = cx.legs.live_bindings(now, &customer);
        cx.legs.media(MediaCommand::Wait {
            call: key,
            side: Side::B,
            media: agent,
            hears: Waiting::Ringback,
        });
        let through = self
            .callback_requests
            .get(&placed.request)
            .and_then(|r| r.through.clone());
        if let Some((trunk, shown)) = through {
            // The engine knows the trunks: it calls the customer out through theirs.
            cx.hand_off(Handoff::CallOut {
                call: key,
                trunk,
                number: customer,
                shown,
            });
            return self.ring_for(cx, key, placed.queue);
        }
        let number = self.name(placed.queue);
        let name = self.acd.queue_config(placed.queue).name.clone();
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
        if cx.legs.ring(now, key, &ring, phones).is_empty() {
            return self.callback_failed(
                cx,
                key,
                CallbackResult::CustomerMissed,
                480,
                "The customer has no phone registered",
            );
        }
        self.ring_for(cx, key, placed.queue);
    }

    fn callback_customer_answered(
        &mut self,
        cx: &mut Ctx<'_>,
        key: CallKey,
        index: usize,
        agent_fork: usize,
        sdp: &[u8],
    ) {
        let now = cx.now;
        let peer = cx.legs.fork_peer(key, index);
        let Some(Ok((_, customer))) = peer.map(|(peer, key)| answered_media(sdp, peer, key)) else {
            cx.legs.send_bye(now, key, Side::B, Some(index));
            return self.callback_failed(
                cx,
                key,
                CallbackResult::CustomerMissed,
                488,
                "No codec in common with the customer",
            );
        };
        let Some(placed) = self.placed.get(&key).copied() else {
            return;
        };
        let Some(agent) = placed.agent else {
            return;
        };
        if !cx.legs.seat_on_a(key, index) {
            return;
        }
        cx.legs.cancel_forks(now, key, Some(index));
        cx.legs.bridge(now, key, agent_fork, customer, agent);
        cx.legs.mark_answered(now, key, Some(agent_fork));
        self.callback_result(cx, placed.request, CallbackResult::Connected);
    }

    /// A phone of a callback failed; when every phone of the side being rung has, the
    /// attempt has.
    fn callback_fork_failed(&mut self, cx: &mut Ctx<'_>, key: CallKey, index: usize) {
        let (Some(call), Some(placed)) = (cx.legs.calls.get(&key), self.placed.get(&key)) else {
            return;
        };
        let seat = match placed.stage {
            Stage::Agent => Side::B,
            Stage::Customer { .. } => Side::A,
        };
        let rung = || call.forks.iter().filter(|f| f.seat == seat);
        if call.forks[index].seat != seat || rung().any(|f| f.is_pending()) {
            return;
        }
        match placed.stage {
            Stage::Agent => self.callback_failed(
                cx,
                key,
                CallbackResult::AgentMissed,
                480,
                "The agent did not answer",
            ),
            Stage::Customer { .. } => {
                let codes = call.failure_codes(|f| f.seat == seat);
                let (code, reason, _) = best_failure(&codes);
                self.callback_failed(cx, key, CallbackResult::CustomerMissed, code, reason)
            }
        }
    }

    /// Nobody answered in time: the agent (another one is tried) or the customer (the
    /// request waits for its next attempt).
    fn callback_timeout(&mut self, cx: &mut Ctx<'_>, key: CallKey) {
        match self.placed.get(&key).map(|p| p.stage) {
            Some(Stage::Agent) => self.callback_failed(
                cx,
                key,
                CallbackResult::AgentMissed,
                480,
                "The agent did not answer",
            ),
            Some(Stage::Customer { .. }) => {
                self.callback_failed(cx, key, CallbackResult::CustomerMissed, 480, "No Answer")
            }
            None => {}
        }
    }

    /// The engine could not call the customer out through their trunk (it is gone).
    pub(crate) fn callback_unreachable(&mut self, cx: &mut Ctx<'_>, key: CallKey) {
        let missed = CallbackResult::CustomerMissed;
        self.callback_failed(cx, key, missed, 503, "The customer's trunk is gone");
    }

    /// Ends an attempt that never bridged. An attempt that reached the customer's
    /// phones is a call in the log; one the agent missed is only in the queue log.
    fn callback_failed(
        &mut self,
        cx: &mut Ctx<'_>,
        key: CallKey,
        result: CallbackResult,
        code: u16,
        reason: &str,
    ) {
        let Some(placed) = self.placed.get(&key).copied() else {
            return;
        };
        if cx.legs.phase(key) != Some(Phase::Placing) {
            return;
        }
        let answered = match placed.stage {
            Stage::Customer { agent_fork } => {
                let outcome = match code {
                    486 | 600 | 603 => Outcome::Busy,
                    _ => Outcome::NoAnswer,
                };
                Some((agent_fork, outcome, code, reason))
            }
            Stage::Agent => None,
        };
        cx.legs.end_placed(cx.now, key, answered);
        self.callback_result(cx, placed.request, result);
    }

    fn callback_result(&mut self, cx: &mut Ctx<'_>, request: CallId, result: CallbackResult) {
        self.acd.handle_callback_result(cx.now, request, result);
        self.run(cx);
    }

    /// Times the ringing of the side just rung by the queue's ring timeout.
    fn ring_for(&mut self, cx: &mut Ctx<'_>, key: CallKey, queue: QueueId) {
        let timeout = self.acd.queue_config(queue).ring_timeout;
        cx.legs.ring_for(cx.now, key, timeout);
    }
}
