//! A caller's way through a queue: joining (answered, hearing music), announcements,
//! keys, offers ringing agents' phones, being put through, and leaving.

use std::time::Duration;
use switchboard_queue::Priority;

use switchboard_media::relay::Side;
use switchboard_queue::{
    AgentId, Announcement, CallId, LeaveReason, OfferFailure, OfferId, Party, QueueId,
};
use switchboard_scenario::run::QueueExit;

use super::{Offer, QueueCall, Queues};
use crate::features::{Ctx, Handoff};
use crate::legs::{LegEvent, Ringing, display_name};
use crate::record::{HangupBy, Outcome};
use crate::vocabulary::{CallKey, MediaCommand, Waiting, Word};

impl Queues {
    /// The caller joins `queue` with at least priority `floor` (a scenario's, which
    /// also means leaving the queue goes back to the scenario).
    pub fn join(
        &mut self,
        cx: &mut Ctx<'_>,
        key: CallKey,
        queue: QueueId,
        floor: Priority,
        by_scenario: bool,
    ) {
        let now = cx.now;
        let Some(call) = cx.legs.calls.get_mut(&key) else {
            return;
        };
        let number = call.caller.clone();
        // A caller on a VIP list waits with the list's priority.
        let priority = cx.office.vip_priority(&number).max(floor);
        call.log.priority = priority;
        call.log.queue = Some(self.name(queue));
        self.calls.insert(
            key,
            QueueCall {
                queue,
                by_scenario,
                connecting: None,
            },
        );
        self.acd
            .handle_join(now, queue, CallId(key), &number, priority);
        // A caller the queue takes is answered before what the engine decided is
        // carried out, so the music is on before the first announcement; one turned
        // away (full, nobody to answer) gets the failure instead.
        if self.acd.position(CallId(key)).is_some()
            && let Some(caller) = cx.legs.answer_alone(now, key)
        {
            cx.legs.media(MediaCommand::Wait {
                call: key,
                side: Side::A,
                media: caller,
                hears: Waiting::Music,
            });
        }
        self.run(cx);
    }

    /// What the legs report about a call the queues hold.
    pub fn call_event(&mut self, cx: &mut Ctx<'_>, event: LegEvent) {
        if let Some(call) = event.call()
            && self.placed.contains_key(&call)
        {
            return self.callback_event(cx, event);
        }
        match event {
            LegEvent::Answered { call, fork, sdp } => self.fork_answered(cx, call, fork, sdp),
            LegEvent::Failed { call, fork, code } => self.fork_failed(cx, call, fork, code),
            LegEvent::HungUp {
                call,
                side: Side::A,
            } => self.abandon(cx, call),
            LegEvent::Key { call, key } => {
                self.acd.handle_key(cx.now, self.engine_call(call), key);
                self.run(cx);
            }
            broken @ LegEvent::Broken { call, .. } => {
                self.acd
                    .handle_hangup(cx.now, self.engine_call(call), Party::Caller);
                self.run(cx);
                cx.legs.end_held(cx.now, &broken);
            }
            _ => {}
        }
    }

    /// Says an announcement the engine scheduled to a waiting caller; where the queue
    /// offers callbacks, it ends with how to ask for one.
    pub(super) fn announce(&self, cx: &mut Ctx<'_>, key: CallKey, announcement: Announcement) {
        let callbacks = self
            .calls
            .get(&key)
            .is_some_and(|c| self.acd.queue_config(c.queue).callback.is_some());
        cx.legs.media(MediaCommand::Say {
            call: key,
            to: Side::A,
            words: words_for(announcement, callbacks),
        });
    }

    /// Rings every phone of the agent's extension for the caller; an agent with none
    /// registered cannot take the offer.
    pub(super) fn ring_agent(
        &mut self,
        cx: &mut Ctx<'_>,
        key: CallKey,
        offer: OfferId,
        extension: &str,
    ) {
        let now = cx.now;
        let Some(call) = cx.legs.calls.get(&key) else {
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
        let bindings = cx.legs.live_bindings(now, extension);
        let forks = cx.legs.ring(now, key, &ring, bindings);
        if forks.is_empty() {
            self.acd
                .handle_offer_failed(now, offer, OfferFailure::Unreachable);
            return;
        }
        self.offers.insert(offer, Offer { call: key, forks });
    }

    pub(super) fn cancel_offer(&mut self, cx: &mut Ctx<'_>, offer: OfferId) {
        let Some(offer) = self.offers.remove(&offer) else {
            return;
        };
        for i in offer.forks {
            cx.legs.cancel_fork(cx.now, offer.call, i);
        }
    }

    /// The offer fork `index` of call `key` rings for.
    fn offer_of(&self, key: CallKey, index: usize) -> Option<OfferId> {
        self.offers
            .iter()
            .find(|(_, o)| o.call == key && o.forks.contains(&index))
            .map(|(id, _)| *id)
    }

    /// An agent's phone answered an offer: the engine decides whether it still stands.
    fn fork_answered(&mut self, cx: &mut Ctx<'_>, key: CallKey, index: usize, sdp: Vec<u8>) {
        let Some(offer) = self.offer_of(key, index) else {
            // Too late: the caller left or another agent took the call.
            return cx.legs.send_bye(cx.now, key, Side::B, Some(index));
        };
        if let Some(call) = self.calls.get_mut(&key) {
            call.connecting = Some((index, sdp));
        }
        self.acd.handle_offer_answered(cx.now, offer);
        self.run(cx);
        if let Some((index, _)) = self.calls.get_mut(&key).and_then(|c| c.connecting.take()) {
            cx.legs.send_bye(cx.now, key, Side::B, Some(index));
        }
    }

    /// A fork of an offer failed; when all of the agent's phones have, so did the offer.
    fn fork_failed(&mut self, cx: &mut Ctx<'_>, key: CallKey, index: usize, code: u16) {
        let Some(offer) = self.offer_of(key, index) else {
            return;
        };
        let ringing = cx.legs.calls.get(&key).is_some_and(|c| {
            self.offers[&offer]
                .forks
                .iter()
                .any(|&i| c.forks[i].is_pending())
        });
        if ringing {
            return;
        }
        self.offers.remove(&offer);
        let why = match code {
            486 | 600 | 603 => OfferFailure::Declined,
            408 | 480 | 487 => OfferFailure::NoAnswer,
            _ => OfferFailure::Unreachable,
        };
        self.acd.handle_offer_failed(cx.now, offer, why);
        self.run(cx);
    }

    /// The engine put the caller through to the agent whose phone answered: the agent
    /// hears the whisper while the two are bridged.
    pub(super) fn put_through(
        &mut self,
        cx: &mut Ctx<'_>,
        key: CallKey,
        agent: AgentId,
        waited: Duration,
    ) {
        let now = cx.now;
        let several_queues = self.acd.agent_queues(agent).len() > 1;
        let agent = self.acd.agent_config(agent).extension.clone();
        let Some(queue_call) = self.calls.get_mut(&key) else {
            return;
        };
        let Some((index, sdp)) = queue_call.connecting.take() else {
            return;
        };
        let queue = queue_call.queue;
        let offer = self.offer_of(key, index);
        let others = offer
            .and_then(|o| self.offers.remove(&o))
            .map_or(Vec::new(), |o| o.forks);
        let (_, a_media, b_media) = match cx.legs.negotiate(key, index, &sdp) {
            Ok(n) => n,
            Err(e) => {
                cx.legs.send_bye(now, key, Side::B, Some(index));
                self.acd
                    .handle_hangup(now, self.engine_call(key), Party::Agent);
                self.run(cx);
                let (d, by) = (Outcome::Failed, HangupBy::System);
                return cx.legs.end_alone(now, key, d, by, 488, &e.to_string());
            }
        };
        if let Some(call) = cx.legs.calls.get_mut(&key) {
            call.log.answered_by = Some(agent);
        }
        // The call is answered when the agent answers, even after a scenario.
        cx.legs.mark_answered(now, key, Some(index));
        cx.legs.bridge(now, key, index, a_media, b_media);
        cx.legs.media(MediaCommand::Say {
            call: key,
            to: Side::B,
            words: whisper_for(several_queues.then(|| self.name(queue)).as_deref(), waited),
        });
        for i in others.into_iter().filter(|&i| i != index) {
            cx.legs.cancel_fork(now, key, i);
        }
    }

    /// The caller hung up while waiting, or while on hold for their agent's VIP call.
    fn abandon(&mut self, cx: &mut Ctx<'_>, key: CallKey) {
        self.acd
            .handle_hangup(cx.now, self.engine_call(key), Party::Caller);
        self.run(cx);
        let (outcome, code, reason) = match cx.legs.calls.get(&key) {
            Some(c) if c.answered.is_some() => (
                Outcome::Answered,
                200,
                "Caller hung up while on hold for a VIP call",
            ),
            _ => (
                Outcome::Cancelled,
                487,
                "Caller hung up while waiting in the queue",
            ),
        };
        cx.legs
            .end_alone(cx.now, key, outcome, HangupBy::Caller, code, reason);
    }

    /// The engine sends the caller on: a scenario's caller goes back to the scenario;
    /// one who dialled the queue and pressed 0 leaves a message in the queue's box; one
    /// not yet answered gets the failure, a waiting one is hung up on.
    pub(super) fn leave(&mut self, cx: &mut Ctx<'_>, key: CallKey, reason: LeaveReason) {
        let Some(queue_call) = self.calls.remove(&key) else {
            return;
        };
        let answered = cx
            .legs
            .calls
            .get(&key)
            .is_some_and(|c| c.local_sdp[0].is_some());
        // A caller sent on (to a scenario or a mailbox) is no longer the queue's.
        if (queue_call.by_scenario || (matches!(reason, LeaveReason::Key(_)) && answered))
            && let Some(call) = cx.legs.calls.get_mut(&key)
        {
            call.log.queue = None;
        }
        if queue_call.by_scenario {
            let exit = match reason {
                LeaveReason::Full => QueueExit::Full,
                LeaveReason::Empty => QueueExit::Empty,
                LeaveReason::Timeout => QueueExit::Timeout,
                LeaveReason::Key(_) => QueueExit::Key,
            };
            return cx.hand_off(Handoff::LeftQueue { call: key, exit });
        }
        if let (LeaveReason::Key(_), true) = (reason, answered) {
            let mailbox = self.name(queue_call.queue);
            return cx.hand_off(Handoff::LeaveMessage { call: key, mailbox });
        }
        let (code, text) = match reason {
            LeaveReason::Full => (486, "The queue is full"),
            LeaveReason::Empty => (480, "No agent in the queue"),
            LeaveReason::Timeout => (408, "Waited the queue's maximum"),
            LeaveReason::Key(_) => (480, "Left the queue by key"),
        };
        if answered {
            let (d, by) = (Outcome::NoAnswer, HangupBy::System);
            cx.legs.end_alone(cx.now, key, d, by, code, text);
        } else {
            cx.legs.fail(cx.now, key, code, text, Outcome::NoAnswer);
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

/// What an agent hears before a queue caller is put through, kept short since the
/// caller hears music meanwhile: "Queue call"; the queue's number digit by digit for an
/// agent who answers several queues (an office's queue names are its own words, which
/// Switchboard cannot say); the minutes the caller waited once it is a minute or more.
pub(crate) fn whisper_for(queue_number: Option<&str>, waited: Duration) -> Vec<Word> {
    let mut words = vec![Word::QueueWhisper];
    words.extend(
        queue_number
            .unwrap_or_default()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whisper_names_the_queue_to_agents_of_several_and_a_wait_of_a_minute_or_more() {
        assert_eq!(
            whisper_for(None, Duration::from_secs(20)),
            [Word::QueueWhisper]
        );
        let said = |secs| whisper_for(Some("61"), Duration::from_secs(secs));
        assert_eq!(
            said(59),
            [Word::QueueWhisper, Word::Number(6), Word::Number(1)]
        );
        assert_eq!(
            said(185),
            [
                Word::QueueWhisper,
                Word::Number(6),
                Word::Number(1),
                Word::QueueWaited,
                Word::Number(3)
            ]
        );
    }

    #[test]
    fn announcements_are_said_word_by_word() {
        use switchboard_queue::Announcement;
        let position = |position, wait: Option<u64>| Announcement::Position {
            position,
            estimated_wait: wait.map(Duration::from_secs),
        };
        assert_eq!(
            words_for(position(3, Some(150)), false),
            [
                Word::QueuePosition,
                Word::Number(3),
                Word::QueueWait,
                Word::Number(3)
            ]
        );
        assert_eq!(
            words_for(position(1, Some(20)), false),
            [Word::QueuePosition, Word::Number(1), Word::QueueWaitShort]
        );
        assert_eq!(
            words_for(position(75, None), false),
            [Word::QueuePosition, Word::MoreThan, Word::Number(60)]
        );
        assert_eq!(
            words_for(Announcement::Comfort, false),
            [Word::QueueComfort]
        );
        assert_eq!(
            words_for(Announcement::Comfort, true),
            [Word::QueueComfort, Word::QueueCallbackOffer],
            "where the queue calls back, every announcement says how to ask"
        );
    }
}
