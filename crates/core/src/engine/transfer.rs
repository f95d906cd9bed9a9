//! Where a transfer a phone asked for goes. A blind transfer's number is routed as the
//! transferor dialling it would be (their outbound permissions included), refused back
//! to the transferor when it reaches nothing, else carried out by the feature that
//! takes it; an attended transfer joins the two parties the transferor talked to.

use std::sync::Arc;
use std::time::Instant;

use switchboard_media::relay::Side;
use switchboard_queue::QueueId;
use switchboard_scenario::model::Scenario;

use super::dispatch::OfficeDirectory;
use super::route::{Route, route};
use super::{CALL_OUT_RINGS, Owner, Pbx, cx};
use crate::features::transfer::{Target, Transfer};
use crate::legs::Phase;
use crate::vocabulary::CallKey;

/// Why the panel could not act on a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallActionError {
    /// No such call, or not one two parties are talking in.
    NotTalking,
    /// The number cannot take the call, and why.
    Refused(String),
}

/// Where an accepted transfer goes.
pub(super) enum Destination {
    Ring(Target),
    Queue(QueueId),
    Scenario(Arc<Scenario>),
    Mailbox(String),
    /// This park slot (its index).
    Park(usize),
    /// A conference room, which the transferred caller joins without a PIN: the
    /// office phone that sent them vouches for them.
    Conference(String),
}

impl Pbx {
    /// From the panel, an office phone of call `key` puts the other party through to
    /// `number`, as that phone transferring would: `leaving`'s phone (an agent's own
    /// call), or for the admin the answering phone (the caller's, on a call out).
    pub fn transfer_call(
        &mut self,
        clock: crate::vocabulary::Clock,
        key: CallKey,
        number: &str,
        leaving: Option<&str>,
    ) -> Result<(), CallActionError> {
        let now = self.legs.tick(clock);
        let by = self
            .legs
            .begin_transfer(key, leaving)
            .ok_or(CallActionError::NotTalking)?;
        let done = self.transfer(now, key, by, number.to_string());
        self.settle(now);
        done.map_err(|(_, reason)| CallActionError::Refused(reason.to_string()))
    }

    /// The admin hangs up call `key` from the panel; false when there is no such call.
    pub fn hang_up_call(&mut self, clock: crate::vocabulary::Clock, key: CallKey) -> bool {
        let now = self.legs.tick(clock);
        let found = self.legs.phase(key).is_some_and(|p| p != Phase::Ended);
        self.legs.abort(now, key, 480, "Hung up from the panel");
        self.settle(now);
        found
    }

    /// `by` asked to put the other party of call `key` through to `number`; the
    /// status and reason the transferor is told when it cannot be.
    pub(super) fn transfer(
        &mut self,
        now: Instant,
        key: CallKey,
        by: String,
        number: String,
    ) -> Result<(), (u16, &'static str)> {
        let Some(referral) = self.legs.calls.get(&key).and_then(|c| c.transfer) else {
            return Err((481, "The call is gone"));
        };
        // Queues, scenarios and mailboxes hold a caller; a party the transferor had
        // called can only be put through to a phone.
        let caller_waits = referral.side == Side::B;
        let destination = match self.destination(now, &by, &number, caller_waits) {
            Ok(d) => d,
            Err((code, reason)) => {
                self.legs.refuse_transfer(now, key, code, reason);
                return Err((code, reason));
            }
        };
        let Some(transferee) = self.legs.let_transferor_go(now, key, &by) else {
            return Err((481, "The call is gone"));
        };
        self.legs.note(key, format!("{by} transferred to {number}"));
        if self.owners.get(&key) == Some(&Owner::Queue) {
            self.queues.transferred(cx!(self, now), key);
        }
        match destination {
            Destination::Ring(target) => {
                self.ring_transfer(now, key, (transferee, by), (number, target));
            }
            Destination::Queue(queue) => {
                self.owners.insert(key, Owner::Queue);
                // The caller keeps the priority they had.
                let priority = self.legs.calls.get(&key).map(|c| c.log.priority);
                let priority = priority.unwrap_or_default();
                self.queues
                    .join(cx!(self, now), key, queue, priority, false);
            }
            Destination::Scenario(scenario) => {
                self.owners.insert(key, Owner::Scenario);
                self.scenarios.start(cx!(self, now), key, scenario);
            }
            Destination::Mailbox(mailbox) => {
                self.owners.insert(key, Owner::Voicemail);
                self.voicemail.leave_message(cx!(self, now), key, mailbox);
            }
            Destination::Conference(room) => {
                self.owners.insert(key, Owner::Conference);
                self.conferences.open(cx!(self, now), key, &room, true);
            }
            Destination::Park(index) => {
                self.owners.insert(key, Owner::Parked);
                if let Some(slot) = self.parking.park(cx!(self, now), key, index, &by) {
                    self.legs.note(key, format!("parked at {slot}"));
                }
            }
        }
        Ok(())
    }

    /// Rings `target` (the number `number`) for the party of call `key` that `by`
    /// transferred, on `transferee`'s leg; the transfer feature holds the call.
    pub(super) fn ring_transfer(
        &mut self,
        now: Instant,
        key: CallKey,
        (transferee, by): ((Side, Option<usize>), String),
        (number, target): (String, Target),
    ) {
        self.owners.insert(key, Owner::Transfer);
        let rings = match target {
            Target::Phones(_) => self.legs.config.ring_timeout,
            Target::Trunks(_) => CALL_OUT_RINGS,
        };
        let transfer = Transfer {
            transferee,
            by,
            number,
            target,
            rings,
        };
        self.transfers.start(cx!(self, now), key, transfer);
    }

    /// `by` asked to join the other party of call `key` to the callee of their
    /// consultation call `with` (attended transfer). A queue that put either call
    /// through sees its agent's part end; the joined call is the two parties' own.
    pub(super) fn join_transfer(&mut self, now: Instant, key: CallKey, by: String, with: CallKey) {
        for call in [key, with] {
            if self.owners.get(&call) == Some(&Owner::Queue) {
                self.queues.transferred(cx!(self, now), call);
            }
        }
        let Some(answerer) = self.legs.join_consultation(now, key, with, &by) else {
            return;
        };
        self.owners.remove(&key);
        let what = format!("{by} transferred to {answerer} after talking to them");
        self.legs.note(key, what);
    }

    /// Where `number` takes a transfer by `by`, or the sipfrag status telling them why
    /// it cannot.
    pub(super) fn destination(
        &self,
        now: Instant,
        by: &str,
        number: &str,
        caller_waits: bool,
    ) -> Result<Destination, (u16, &'static str)> {
        const ONLY_PHONES: (u16, &str) = (488, "Only a phone can take this call");
        let held = |d: Destination| {
            if caller_waits {
                Ok(d)
            } else {
                Err(ONLY_PHONES)
            }
        };
        match route(number, by, &OfficeDirectory(self)) {
            Route::Extension if number == by => Err((482, "That is the transferor's own number")),
            Route::Extension if self.legs.is_extension(number) => {
                if self.legs.live_bindings(now, number).is_empty() {
                    Err((480, "Temporarily Unavailable"))
                } else {
                    Ok(Destination::Ring(Target::Phones(number.to_string())))
                }
            }
            Route::Out(dial) => {
                if !caller_waits {
                    return Err(ONLY_PHONES);
                }
                if self.out_refusal(by, &dial).is_some() {
                    return Err((403, "Forbidden"));
                }
                let dials = self.trunk_dials(by, &dial);
                if dials.is_empty() {
                    return Err((503, "Service Unavailable"));
                }
                Ok(Destination::Ring(Target::Trunks(dials)))
            }
            Route::Queue(queue) => held(Destination::Queue(queue)),
            Route::Scenario(scenario) => held(Destination::Scenario(scenario)),
            Route::LeaveMessage(mailbox) => held(Destination::Mailbox(mailbox)),
            Route::Park => match self.parking.free_slot() {
                Some(index) => held(Destination::Park(index)),
                None => Err((486, "Every park slot is taken")),
            },
            // A slot's own number parks the call there, when it is free.
            Route::Retrieve(slot) => match self.office.codes.park_slot_index(&slot) {
                Some(index) if self.parking.is_free(index) => held(Destination::Park(index)),
                _ => Err((486, "That park slot is taken")),
            },
            Route::Conference(room) if self.conferences.is_full(&room) => {
                Err((486, "The conference is full"))
            }
            Route::Conference(room) => held(Destination::Conference(room)),
            Route::Blocked { .. } => Err((403, "Forbidden")),
            Route::Extension
            | Route::Nowhere
            | Route::FeatureCode(_)
            | Route::Pickup(_)
            | Route::Supervise { .. }
            | Route::Mailbox(_) => Err((404, "Not Found")),
        }
    }
}
