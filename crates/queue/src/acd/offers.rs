//! Offers: an agent's phone ringing with a caller, until it is answered, refused, rings
//! out or is no longer wanted.

use std::time::Instant;

use super::{Acd, CallerState, Offer, Timer, waited};
use crate::agent::{AgentState, AgentStatus};
use crate::model::{AgentId, CallId, OfferId, QueueId};
use crate::output::{Action, EventKind, Whisper};

/// Why an agent's phone did not take an offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferFailure {
    /// Rang out, or the phone reported no answer.
    NoAnswer,
    /// The agent refused it (busy or decline).
    Declined,
    /// The phone could not be reached.
    Unreachable,
}

impl Acd {
    /// The agent's phone answered the offer.
    pub fn handle_offer_answered(&mut self, now: Instant, offer: OfferId) {
        let Some(Offer { call, agent }) = self.offers.remove(&offer) else {
            return;
        };
        let Some((queue, joined)) = self.take_from_queue(call, agent) else {
            return;
        };
        self.start_call(now, queue, call, agent, joined);
        let q = self.queue(queue);
        let whisper = Whisper {
            queue: q.config.name.clone(),
            waited: waited(now, joined),
            vip: q.config.vip.is_some(),
            callback: false,
        };
        self.act(Action::Connect {
            call,
            agent,
            whisper,
        });
        self.positions_changed(now, queue);
        self.dispatch(now);
    }

    /// The agent's phone did not take the offer.
    pub fn handle_offer_failed(&mut self, now: Instant, offer: OfferId, why: OfferFailure) {
        if let Some(o) = self.offers.remove(&offer) {
            self.offer_failed(now, o, why);
            self.dispatch(now);
        }
    }

    pub(crate) fn offer(&mut self, now: Instant, queue: QueueId, call: CallId, agent: AgentId) {
        let id = self.next_offer_id();
        self.offers.insert(id, Offer { call, agent });
        let a = self.agent_mut(agent);
        a.state = AgentState::Ringing { offer: id };
        let ring = a
            .config
            .ring_timeout
            .unwrap_or(self.queue(queue).config.ring_timeout);
        if let Some(c) = self.callers.get_mut(&call) {
            c.offers.push(id);
            c.tried.push(agent);
        }
        self.schedule(now + ring, Timer::Offer(id));
        self.act(Action::Offer {
            offer: id,
            call,
            agent,
        });
    }

    pub(crate) fn ring_timed_out(&mut self, now: Instant, offer: OfferId) {
        if let Some(o) = self.offers.remove(&offer) {
            self.act(Action::CancelOffer {
                offer,
                agent: o.agent,
            });
            self.offer_failed(now, o, OfferFailure::NoAnswer);
        }
    }

    fn offer_failed(&mut self, now: Instant, offer: Offer, why: OfferFailure) {
        let Offer { call, agent } = offer;
        let queue = self.callers.get_mut(&call).map(|c| {
            c.offers.retain(|o| self.offers.contains_key(o));
            c.queue
        });
        let config = queue.map(|q| {
            let c = &self.queue(q).config;
            (c.reject_delay, c.max_missed)
        });
        let a = self.agent_mut(agent);
        a.state = AgentState::Idle;
        let kind = match why {
            OfferFailure::NoAnswer => {
                a.missed_in_a_row += 1;
                EventKind::RingNoAnswer
            }
            OfferFailure::Declined | OfferFailure::Unreachable => {
                if let Some((reject_delay, _)) = config {
                    let until = now + reject_delay;
                    a.resting_until = Some(until);
                    self.schedule(until, Timer::Rest(agent));
                }
                EventKind::Declined
            }
        };
        self.log(queue, Some(call), Some(agent), kind);
        let missed = self.agent(agent).missed_in_a_row;
        if let Some(limit) = config.and_then(|(_, max_missed)| max_missed)
            && missed >= limit
        {
            let reason = format!("missed {missed} calls in a row");
            self.set_status(now, agent, AgentStatus::OnBreak { reason });
        }
    }

    /// The caller leaves the waiting line for `agent`: other offers stop, an agent warned
    /// for them is released, and their place is given up. Returns their queue and when
    /// they joined.
    pub(crate) fn take_from_queue(
        &mut self,
        call: CallId,
        agent: AgentId,
    ) -> Option<(QueueId, Instant)> {
        self.cancel_offers(call);
        self.release_vip_target(call);
        let caller = self.callers.get_mut(&call)?;
        caller.state = CallerState::Connected { agent };
        let (queue, place, joined) = (caller.queue, caller.place, caller.joined);
        self.queue_mut(queue).waiting.remove(&place);
        Some((queue, joined))
    }

    /// Stops every agent still ringing for this caller; they are free again.
    pub(crate) fn cancel_offers(&mut self, call: CallId) {
        let Some(caller) = self.callers.get_mut(&call) else {
            return;
        };
        for offer in std::mem::take(&mut caller.offers) {
            if let Some(o) = self.offers.remove(&offer) {
                self.agent_mut(o.agent).state = AgentState::Idle;
                self.act(Action::CancelOffer {
                    offer,
                    agent: o.agent,
                });
            }
        }
    }

    /// An agent and a caller are talking: the counters move.
    pub(crate) fn start_call(
        &mut self,
        now: Instant,
        queue: QueueId,
        call: CallId,
        agent: AgentId,
        joined: Instant,
    ) {
        let a = self.agent_mut(agent);
        a.state = AgentState::InCall { call };
        a.call_started = Some(now);
        a.missed_in_a_row = 0;
        a.stats.calls += 1;
        let q = self.queue_mut(queue);
        let waited = waited(now, joined);
        q.counters.answered += 1;
        if waited <= q.config.service_level {
            q.counters.answered_in_time += 1;
        }
        let vip = q.config.vip.is_some();
        self.log(
            Some(queue),
            Some(call),
            Some(agent),
            EventKind::Connect { waited, vip },
        );
    }
}
