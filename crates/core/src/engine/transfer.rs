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
use crate::vocabulary::CallKey;

/// Where an accepted transfer goes.
enum Destination {
    Ring(Target),
    Queue(QueueId),
    Scenario(Arc<Scenario>),
    Mailbox(String),
}

impl Pbx {
    /// `by` asked to put the other party of call `key` through to `number`.
    pub(super) fn transfer(&mut self, now: Instant, key: CallKey, by: String, number: String) {
        let Some(referral) = self.legs.calls.get(&key).and_then(|c| c.transfer) else {
            return;
        };
        // Queues, scenarios and mailboxes hold a caller; a party the transferor had
        // called can only be put through to a phone.
        let caller_waits = referral.side == Side::B;
        let destination = match self.destination(now, &by, &number, caller_waits) {
            Ok(d) => d,
            Err((code, reason)) => return self.legs.refuse_transfer(now, key, code, reason),
        };
        let Some(transferee) = self.legs.let_transferor_go(now, key, &by) else {
            return;
        };
        self.legs.note(key, format!("{by} transferred to {number}"));
        if self.owners.get(&key) == Some(&Owner::Queue) {
            self.queues.transferred(cx!(self, now), key);
        }
        match destination {
            Destination::Ring(target) => {
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
        }
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
        if let Some(call) = self.legs.calls.get_mut(&key) {
            call.log.answered_by = Some(answerer.clone());
        }
        let what = format!("{by} transferred to {answerer} after talking to them");
        self.legs.note(key, what);
    }

    /// Where `number` takes a transfer by `by`, or the sipfrag status telling them why
    /// it cannot.
    fn destination(
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
            Route::Blocked { .. } => Err((403, "Forbidden")),
            Route::Extension
            | Route::Nowhere
            | Route::FeatureCode(_)
            | Route::Pickup(_)
            | Route::Mailbox(_) => Err((404, "Not Found")),
        }
    }
}
