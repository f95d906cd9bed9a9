//! The engine's one dispatcher: SIP requests and responses to the legs (a new INVITE
//! routed first), what the legs report to the feature holding the call, and handoffs
//! between features.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rsip::{Header, Method};
use switchboard_queue::{Priority, QueueId};
use switchboard_scenario::model::Scenario;
use switchboard_scenario::run::QueueExit;
use switchboard_sip::header::{NameAddr, uri_user};
use switchboard_sip::message::header_value;
use switchboard_sip::service::ALLOW;
use switchboard_sip::transaction::{Peer, ServerId, TransactionEvent};

use super::route::{Directory, Route, route, route_in};
use super::transfer::Destination;
use super::{CALL_OUT_RINGS, Owner, Pbx, cx};
use crate::features::Handoff;
use crate::features::consult::{Colleague, ConsultOutcome};
use crate::features::key_transfer::KeyStep;
use crate::features::park::ParkOutcome;
use crate::features::transfer::{Target, Transfer};
use crate::legs::{LegEvent, Origin, Phase, Refusal, TrunkDial};
use crate::outbound::{CallClass, Dial};
use crate::trunks::TrunkSetup;
use crate::vocabulary::{CallKey, MediaCommand, Waiting, Word};
use switchboard_media::relay::Side;

use crate::record::{HangupBy, Outcome};
use crate::trunks::{called_number, caller_number};

impl Pbx {
    /// Carries out everything the input set going: each SIP event in turn, and after
    /// each, what the legs reported and the features handed over.
    pub(super) fn settle(&mut self, now: Instant) {
        loop {
            self.settle_features(now);
            let Some(event) = self.legs.sip.poll_event() else {
                break;
            };
            match event {
                TransactionEvent::Request { id, request, peer } => {
                    self.handle_request(now, id, request, peer)
                }
                TransactionEvent::Ack { request, peer } => self.legs.handle_ack(&request, peer),
                TransactionEvent::Response { id, response } => {
                    let code = response.status_code.code();
                    if !self.mwi.notify_answered(id, code)
                        && !self.lamps.notify_answered(id, code)
                        && !self.trunks.answered(now, id, &response)
                    {
                        self.legs.handle_response(now, id, response);
                    }
                }
                TransactionEvent::ClientTimeout { id } => {
                    if !self.mwi.notify_answered(id, 408)
                        && !self.lamps.notify_answered(id, 408)
                        && !self.trunks.timed_out(now, id)
                    {
                        self.legs.handle_client_timeout(now, id);
                    }
                }
                // Our failure answer was never acknowledged; the call is already over.
                TransactionEvent::ServerTimeout { .. } => {}
            }
        }
        // What the trunks want after the answers they were given, or once due.
        self.trunks
            .send_due(now, &mut self.legs.sip, &mut self.legs.ids);
        if self.lamps.subscriptions() > 0 {
            let parked = self.parked_lamps();
            self.lamps.refresh(cx!(self, now), &parked);
        }
    }

    /// The park slots taken, with their calls' ids, as busy lamps show them.
    fn parked_lamps(&self) -> Vec<(String, String)> {
        let call_id = |key| Some(self.legs.calls.get(&key)?.a_dialog.call_id.clone());
        self.parking
            .taken(&self.office.codes)
            .into_iter()
            .filter_map(|(slot, key)| Some((slot, call_id(key)?)))
            .collect()
    }

    /// What the legs reported and the features handed over, until nothing is left.
    fn settle_features(&mut self, now: Instant) {
        loop {
            if let Some(event) = self.legs.poll_event() {
                self.leg_event(now, event);
            } else if let Some(handoff) = self.handoffs.pop_front() {
                self.handoff(now, handoff);
            } else {
                break;
            }
        }
    }

    fn handle_request(&mut self, now: Instant, id: ServerId, request: rsip::Request, peer: Peer) {
        let in_dialog = header_value(&request.headers, "To")
            .and_then(|to| NameAddr::parse(to, "To").ok())
            .is_some_and(|to| to.tag().is_some());
        match request.method {
            Method::Subscribe if event_package(&request) == Some("dialog") => {
                let parked = self.parked_lamps();
                self.lamps
                    .handle_subscribe(cx!(self, now), (id, request, peer), &parked)
            }
            Method::Subscribe => {
                let voicemail = &self.voicemail;
                let counts = |mailbox: &str| voicemail.counts(mailbox);
                let cx = &mut crate::features::Ctx {
                    now,
                    legs: &mut self.legs,
                    office: &self.office,
                    handoffs: &mut self.handoffs,
                };
                self.mwi.handle_subscribe(cx, (id, request, peer), counts)
            }
            Method::Invite if !in_dialog => self.handle_invite(now, id, request, peer),
            Method::Cancel => self.legs.handle_cancel(now, id, &request, peer),
            Method::Invite | Method::Bye | Method::Info | Method::Refer if in_dialog => {
                self.legs.handle_in_dialog(now, id, request, peer)
            }
            Method::Bye | Method::Info | Method::Refer => {
                self.legs
                    .reply(now, id, &request, 481, "Call/Transaction Does Not Exist")
            }
            _ => {
                let sip = &mut self.legs.sip;
                let tag = sip.stateless_tag(&request);
                let mut r = sip.response(&request, 405, "Method Not Allowed", &tag);
                r.headers.push(Header::Allow(ALLOW.into()));
                sip.respond(now, id, &r);
            }
        }
    }

    /// A new call: from a trunk when it comes from a trunk's addresses, else from an
    /// extension that proves who it is; then routed.
    fn handle_invite(&mut self, now: Instant, id: ServerId, invite: rsip::Request, peer: Peer) {
        if let Some(trunk) = self.trunks.calling_from(peer) {
            let (name, calls_in) = (trunk.name.clone(), trunk.calls_in.clone());
            return self.handle_trunk_invite(now, id, invite, peer, name, calls_in);
        }
        let Some(caller) = self.legs.admit_caller(now, id, &invite, peer) else {
            return;
        };
        let callee = uri_user(&invite.uri.to_string())
            .unwrap_or_default()
            .to_string();
        // A busy lamp key pressed while the lamp shows ringing: the phone asks to take
        // over the ringing call by the dialog the lamp named (RFC 3891).
        if let Some(replaces) = header_value(&invite.headers, "Replaces") {
            let call_id = replaces.split(';').next().unwrap_or_default().trim();
            let pick = Pick::Replacing(call_id.to_string());
            let names = (caller, callee, Origin::Extension);
            return self.pick_up(now, (id, invite, peer), names, pick);
        }
        let route = route(&callee, &caller, &OfficeDirectory(self));
        self.start_call(
            now,
            id,
            invite,
            peer,
            (caller, callee, Origin::Extension),
            route,
        );
    }

    /// A customer's call from a trunk: their number and the office number they dialled
    /// read as the trunk says, both normalised as number lists keep them.
    fn handle_trunk_invite(
        &mut self,
        now: Instant,
        id: ServerId,
        invite: rsip::Request,
        peer: Peer,
        trunk: String,
        calls_in: crate::trunks::CallsIn,
    ) {
        if !self.legs.admit(now, id, &invite) {
            return;
        }
        let normalised = |n: String| self.office.normalise(&n).unwrap_or(n);
        let caller = normalised(caller_number(&invite, calls_in.caller));
        let dialled = called_number(&invite, calls_in.called).unwrap_or_default();
        let called = self
            .inbound_number(&dialled)
            .unwrap_or_else(|| normalised(dialled));
        let route = route_in(
            &called,
            &caller,
            calls_in.unknown_number.as_deref(),
            &OfficeDirectory(self),
        );
        self.start_call(
            now,
            id,
            invite,
            peer,
            (caller, called, Origin::Trunk(trunk)),
            route,
        );
    }

    /// The office's inbound number a provider's `dialled` is, as the office wrote it:
    /// the same once both are normalised, and a number of digits alone also read as
    /// international (providers often send E.164 without its "+").
    fn inbound_number(&self, dialled: &str) -> Option<String> {
        let office = &self.office;
        let mut forms = vec![office.normalise(dialled)];
        if !dialled.is_empty() && dialled.bytes().all(|b| b.is_ascii_digit()) {
            forms.push(office.normalise(&format!("+{dialled}")));
        }
        let forms: Vec<String> = forms.into_iter().flatten().collect();
        self.scenarios
            .inbound_number(|n| {
                n == dialled || office.normalise(n).is_some_and(|n| forms.contains(&n))
            })
            .map(str::to_string)
    }

    /// Takes up a call routed to `route`, or refuses it.
    fn start_call(
        &mut self,
        now: Instant,
        id: ServerId,
        invite: rsip::Request,
        peer: Peer,
        (caller, callee, origin): (String, String, Origin),
        route: Route,
    ) {
        let names = (caller.clone(), callee.clone(), origin.clone());
        match route {
            Route::Blocked {
                reason,
                tell: false,
            } => {
                return self
                    .legs
                    .refuse(now, id, &invite, names, Refusal::new(603, reason));
            }
            Route::Nowhere => {
                return self
                    .legs
                    .refuse(now, id, &invite, names, Refusal::new(404, "Not Found"));
            }
            Route::Pickup(ringing) => {
                let pick = Pick::Ringing(ringing.as_deref());
                return self.pick_up(now, (id, invite, peer), names, pick);
            }
            Route::Park => {
                let how = Refusal::new(403, "Transfer a call to the park code to park it");
                return self.legs.refuse(now, id, &invite, names, how);
            }
            Route::Retrieve(slot) => return self.retrieve(now, (id, invite, peer), names, &slot),
            Route::Supervise { ref extension, .. } => {
                let refusal = if !self.supervision.may_supervise(&caller) {
                    Some(Refusal::new(403, "Only a supervisor may listen to calls"))
                } else if self.legs.talking_call_of(extension).is_none() {
                    Some(Refusal::new(404, "That extension is on no call"))
                } else if self
                    .legs
                    .talking_call_of(extension)
                    .is_some_and(|(call, _)| self.consultations.holds(call))
                {
                    // Its legs already talk through a room of their own.
                    Some(Refusal::new(486, "That call is being transferred"))
                } else {
                    None
                };
                if let Some(refusal) = refusal {
                    return self.legs.refuse(now, id, &invite, names, refusal);
                }
            }
            _ => {}
        }
        let phase = match route {
            Route::Extension | Route::Blocked { .. } | Route::Out(_) => Phase::Ringing,
            _ => Phase::Held,
        };
        let key = match self
            .legs
            .take_call(now, id, &invite, peer, &caller, &callee, origin, phase)
        {
            Ok(key) => key,
            Err(refusal) => return self.legs.refuse(now, id, &invite, names, refusal),
        };
        // The caller is busy before any feature offers them a call.
        self.settle_features(now);
        match route {
            Route::Blocked { reason, .. } => {
                let what = crate::vocabulary::Announcement::Blocked;
                let failed = Outcome::Failed;
                self.legs
                    .announce_failure(now, key, 603, &reason, failed, what);
            }
            Route::Queue(queue) => {
                self.owners.insert(key, Owner::Queue);
                self.queues
                    .join(cx!(self, now), key, queue, Priority::default(), false);
            }
            Route::FeatureCode(code) => self.queues.feature_code(cx!(self, now), key, code),
            Route::Scenario(scenario) => {
                self.owners.insert(key, Owner::Scenario);
                self.scenarios.start(cx!(self, now), key, scenario);
            }
            Route::Mailbox(mailbox) => {
                self.owners.insert(key, Owner::Voicemail);
                self.voicemail.open_menu(cx!(self, now), key, mailbox);
            }
            Route::LeaveMessage(mailbox) => {
                self.owners.insert(key, Owner::Voicemail);
                if self.legs.answer_held(now, key) {
                    self.voicemail.leave_message(cx!(self, now), key, mailbox);
                }
            }
            Route::Conference(room) => {
                self.owners.insert(key, Owner::Conference);
                self.conferences.open(cx!(self, now), key, &room, false);
            }
            Route::Supervise { extension, how } => {
                self.owners.insert(key, Owner::Supervision);
                if let Some(watched) = self.legs.talking_call_of(&extension) {
                    self.supervision.start(cx!(self, now), key, watched, how);
                }
            }
            Route::Extension => self.legs.ring_extension(now, key),
            Route::Out(dial) => self.call_out(now, key, &caller, dial),
            Route::Nowhere | Route::Pickup(_) | Route::Park | Route::Retrieve(_) => {}
        }
    }

    /// The caller's phone answers a call ringing another: by a pickup code, the oldest
    /// call ringing the phones `pick` names (when none, of an extension sharing a
    /// pickup group with the caller, or of any extension for one in no group); by a
    /// busy lamp's Replaces, the call it names. A queue's offer is left to its agents.
    fn pick_up(
        &mut self,
        now: Instant,
        (id, invite, peer): (ServerId, rsip::Request, Peer),
        names: (String, String, Origin),
        pick: Pick<'_>,
    ) {
        let picker = names.0.clone();
        let rung = |key: &CallKey| {
            let call = self.legs.calls.get(key)?;
            let fork = call.forks.iter().find(|f| f.is_pending())?;
            Some(fork.target.extension()?.to_string())
        };
        let ringing = match pick {
            Pick::Ringing(extension) => extension,
            Pick::Replacing(_) => None,
        };
        let key = self
            .legs
            .ringing_calls(ringing, &picker)
            .into_iter()
            .filter(|k| self.owners.get(k) != Some(&Owner::Queue))
            .find(|k| match &pick {
                Pick::Ringing(Some(_)) => true,
                Pick::Ringing(None) => {
                    rung(k).is_some_and(|rung| self.pickup_groups.may_pick(&picker, &rung))
                }
                Pick::Replacing(call_id) => self
                    .legs
                    .calls
                    .get(k)
                    .is_some_and(|c| c.a_dialog.call_id == *call_id),
            });
        let Some(key) = key else {
            let nothing = match pick {
                Pick::Ringing(_) => Refusal::new(404, "No call to pick up"),
                // RFC 3891 §3: no early dialog matches.
                Pick::Replacing(_) => Refusal::new(481, "No ringing call matches Replaces"),
            };
            return self.legs.refuse(now, id, &invite, names, nothing);
        };
        let rung = rung(&key);
        if self.legs.pick_up(now, id, &invite, peer, &picker, key) {
            let rung = rung.unwrap_or_default();
            self.legs
                .note(key, format!("{picker} picked up the call ringing {rung}"));
        }
    }

    /// The caller dialled a park slot: their phone takes the call parked there.
    fn retrieve(
        &mut self,
        now: Instant,
        (id, invite, peer): (ServerId, rsip::Request, Peer),
        names: (String, String, Origin),
        slot: &str,
    ) {
        let picker = names.0.clone();
        let Some(key) = self.parking.take(&self.office.codes, slot) else {
            let nothing = Refusal::new(404, "Nothing is parked there");
            return self.legs.refuse(now, id, &invite, names, nothing);
        };
        self.owners.remove(&key);
        if self.legs.pick_up(now, id, &invite, peer, &picker, key) {
            self.legs
                .note(key, format!("{picker} took the call from {slot}"));
        }
    }

    /// An extension's call out, once the toll-fraud guard lets it: through the route's
    /// trunks in turn, the number shown as the route or the trunk's account says.
    fn call_out(&mut self, now: Instant, key: CallKey, caller: &str, dial: Dial) {
        use crate::vocabulary::Announcement::{NotAllowed, Unavailable};
        if let Some(call) = self.legs.calls.get_mut(&key) {
            call.dials_out = true;
        }
        if let Some(reason) = self.out_refusal(caller, &dial) {
            self.alert_out(now, key, caller, &reason);
            return self
                .legs
                .announce_failure(now, key, 403, &reason, Outcome::Failed, NotAllowed);
        }
        let dials = self.trunk_dials(caller, &dial);
        let limited =
            dials.is_empty() && dial.trunks.iter().any(|t| self.trunks.setup(t).is_some());
        if self.legs.dial_trunks(now, key, dials, Side::B) {
            self.legs.ring_for(now, key, CALL_OUT_RINGS);
            if let Some(left) = self.talk_left(now, caller, &dial) {
                self.talk_limits.insert(key, left);
                self.legs.wake_at(key, now + left);
            }
        } else if limited {
            let reason = format!(
                "every trunk of route {} has all the calls out it may",
                dial.route
            );
            self.alert_out(now, key, caller, &reason);
            self.legs
                .announce_failure(now, key, 503, &reason, Outcome::Failed, Unavailable);
        } else {
            let reason = format!("no trunk of route {} can take the call", dial.route);
            self.legs
                .announce_failure(now, key, 503, &reason, Outcome::Failed, Unavailable);
        }
    }

    /// How much longer `caller` may talk out today, when its minutes are limited (an
    /// emergency call is not).
    fn talk_left(&self, now: Instant, caller: &str, dial: &Dial) -> Option<Duration> {
        let allowed = self.outbound.daily_talk(caller)?;
        let today = self.outbound.day_of(self.legs.wall(now));
        let talked = self.talk_out.on(today, caller);
        (dial.class != CallClass::Emergency).then(|| allowed.saturating_sub(talked))
    }

    /// A call out whose talk is limited: cut off once it has talked as long as it may.
    fn limit_talk(&mut self, now: Instant, key: CallKey) {
        let Some(&left) = self.talk_limits.get(&key) else {
            return;
        };
        let answered = self.legs.calls.get(&key).and_then(|c| c.answered);
        match answered {
            Some(at) if now >= at + left => {
                self.legs
                    .abort(now, key, 480, "The minutes out for today are used up");
            }
            Some(at) => self.legs.wake_at(key, at + left),
            None => self.legs.wake_at(key, now + left),
        }
    }

    /// A call out kept from going out, for the wallboard.
    fn alert_out(&mut self, now: Instant, key: CallKey, caller: &str, reason: &str) {
        let number = self
            .legs
            .calls
            .get(&key)
            .map(|c| c.callee.clone())
            .unwrap_or_default();
        self.out_alerts.push(crate::OutAlert {
            at: self.legs.wall(now),
            caller: caller.to_string(),
            number,
            reason: reason.to_string(),
        });
    }

    /// Why the toll-fraud guard keeps `caller` from calling out as `dial` says: a
    /// class the extension may not call, or too many calls out at once.
    pub(super) fn out_refusal(&self, caller: &str, dial: &Dial) -> Option<String> {
        let rules = &self.outbound;
        if !rules.allows(caller, dial.class) {
            Some(format!(
                "{caller} may not call {:?} numbers (route {})",
                dial.class, dial.route
            ))
        } else if dial.class != CallClass::Emergency
            && self.legs.calls_out_of(caller) >= rules.max_calls_per_extension as usize
        {
            Some(format!(
                "{caller} already has {} calls out",
                rules.max_calls_per_extension
            ))
        } else if self
            .talk_left(self.legs.now(), caller, dial)
            .is_some_and(|left| left.is_zero())
        {
            let minutes = rules.daily_talk(caller).unwrap_or_default().as_secs() / 60;
            Some(format!(
                "{caller} has talked its {minutes} minutes out for today"
            ))
        } else {
            None
        }
    }

    /// The number of `dial` through each of its route's trunks, shown as the route or
    /// the trunk's account says (else as `caller`). Trunks with all the calls out they
    /// may have are left out, except for an emergency call.
    pub(super) fn trunk_dials(&self, caller: &str, dial: &Dial) -> Vec<TrunkDial> {
        let emergency = dial.class == CallClass::Emergency;
        dial.trunks
            .iter()
            .filter_map(|name| self.trunks.setup(name))
            .filter(|setup| {
                let full = setup
                    .max_calls_out
                    .is_some_and(|max| self.legs.calls_through(&setup.name) >= max as usize);
                emergency || !full
            })
            .map(|setup| trunk_dial(setup, &dial.number, dial.caller_id.clone(), caller))
            .collect()
    }

    fn leg_event(&mut self, now: Instant, event: LegEvent) {
        match event {
            LegEvent::Busy { .. } => self.queues.leg_event(cx!(self, now), &event),
            // A party of a call that consults a colleague hung up: the others go on.
            LegEvent::Ended {
                call,
                by: by @ (HangupBy::Caller | HangupBy::Callee),
                bridged: true,
            } if self.consultations.holds(call) => {
                let side = if by == HangupBy::Caller {
                    Side::A
                } else {
                    Side::B
                };
                let outcome = self.consultations.left(cx!(self, now), call, side);
                self.consulted(now, outcome);
            }
            LegEvent::Ended { call, bridged, .. } => {
                self.queues.leg_event(cx!(self, now), &event);
                if bridged {
                    self.legs.finish_hang_up(now, call);
                }
            }
            LegEvent::Pressed { call, side, key } if self.consultations.holds(call) => {
                self.consultations.pressed(cx!(self, now), call, side, key);
            }
            LegEvent::Pressed { call, side, key } => {
                if self.legs.extension_on(call, side).is_some() {
                    let step = self.key_transfers.pressed(cx!(self, now), call, side, key);
                    self.key_step(now, call, step);
                }
            }
            LegEvent::Wake { call } if self.key_transfers.is_typing(call) => {
                let step = self.key_transfers.wake(now, call);
                self.key_step(now, call, step);
                if self.talk_limits.contains_key(&call) && !self.owners.contains_key(&call) {
                    self.limit_talk(now, call)
                }
            }
            LegEvent::Wake { call }
                if self.talk_limits.contains_key(&call) && !self.owners.contains_key(&call) =>
            {
                self.limit_talk(now, call)
            }
            LegEvent::Closed { call, .. } => {
                self.owners.remove(&call);
                self.key_transfers.forget(call);
                self.talk_limits.remove(&call);
                self.queues.leg_event(cx!(self, now), &event);
                self.scenarios.call_event(cx!(self, now), event.clone());
                self.transfers.call_event(cx!(self, now), event.clone());
                self.parking.call_event(cx!(self, now), event.clone());
                self.conferences.call_event(cx!(self, now), event.clone());
                self.supervision.call_event(cx!(self, now), event.clone());
                self.consultations.call_event(cx!(self, now), event.clone());
                self.voicemail.call_event(cx!(self, now), event);
            }
            LegEvent::Transfer { call, by, target } => {
                // A refusal has been told to the transferor.
                let _ = self.transfer(now, call, by, target);
            }
            LegEvent::TransferJoin { call, by, with } => self.join_transfer(now, call, by, with),
            _ => {
                let Some(call) = event.call() else {
                    return;
                };
                match self.owners.get(&call).cloned() {
                    Some(Owner::Queue) => self.queues.call_event(cx!(self, now), event),
                    Some(Owner::Scenario) => self.scenarios.call_event(cx!(self, now), event),
                    Some(Owner::Voicemail) => self.voicemail.call_event(cx!(self, now), event),
                    Some(Owner::Transfer) => self.transfers.call_event(cx!(self, now), event),
                    Some(Owner::Parked) => self.parked_event(now, event),
                    Some(Owner::Conference) => self.conferences.call_event(cx!(self, now), event),
                    Some(Owner::Supervision) => self.supervision.call_event(cx!(self, now), event),
                    Some(Owner::Consultation) => {
                        self.consultations.call_event(cx!(self, now), event)
                    }
                    Some(Owner::Told { reason }) => self.told_event(now, event, &reason),
                    // A call no feature holds yet (answered for an agent's code before
                    // being told) still ends when its caller hangs up or it breaks.
                    None => self.legs.end_held(now, &event),
                }
            }
        }
    }

    /// A transfer typed on a phone's keys: as that phone's blind transfer, or a
    /// consultation of the colleague first; a refusal is said to it, and the call
    /// goes on.
    fn key_step(&mut self, now: Instant, call: CallKey, step: KeyStep) {
        let (side, number, attended) = match step {
            KeyStep::Nothing => return,
            KeyStep::Record { side } => {
                // Told to the phone that typed the code alone, over the call.
                let word = match self.legs.toggle_recording(call, side) {
                    Some(true) => Word::RecordingOn,
                    Some(false) => Word::RecordingPaused,
                    None => Word::RecordingRefused,
                };
                let words = vec![word];
                self.legs.media(MediaCommand::Whisper {
                    call,
                    to: side,
                    words,
                });
                return;
            }
            KeyStep::Transfer {
                side,
                number,
                attended,
            } => (side, number, attended),
        };
        self.key_transfers.forget(call);
        let Some(by) = self.legs.extension_on(call, side) else {
            return;
        };
        let done = if attended {
            self.consult(now, call, (side, by), number)
        } else if self.legs.begin_transfer(call, Some(&by)).is_none() {
            return;
        } else {
            self.transfer(now, call, by, number).map_err(|_| ())
        };
        if done.is_err() {
            self.legs.media(MediaCommand::Say {
                call,
                to: side,
                words: vec![Word::TransferRefused],
            });
        }
    }

    /// `by`'s phone, on leg `side` of call `call`, consults `number` before
    /// transferring to it: an extension with a phone (not the phone's own), or a number
    /// outside that the phone may call.
    fn consult(
        &mut self,
        now: Instant,
        call: CallKey,
        (side, by): (Side, String),
        number: String,
    ) -> Result<(), ()> {
        // A call a supervisor watches already talks through a room of its own.
        let free = !self.consultations.holds(call)
            && !self.supervision.is_watched(call)
            && self
                .legs
                .calls
                .get(&call)
                .is_some_and(|c| c.transfer.is_none());
        let whom = match route(&number, &by, &OfficeDirectory(self)) {
            Route::Extension
                if number != by
                    && self.legs.is_extension(&number)
                    && !self.legs.live_bindings(now, &number).is_empty() =>
            {
                Colleague::Phones
            }
            Route::Out(dial) if self.out_refusal(&by, &dial).is_none() => {
                Colleague::Out(self.trunk_dials(&by, &dial), CALL_OUT_RINGS)
            }
            _ => return Err(()),
        };
        if !free {
            return Err(());
        }
        let colleague = self
            .consultations
            .start(cx!(self, now), call, (side, by), (number, whom))
            .map_err(|_| ())?;
        self.owners.insert(colleague, Owner::Consultation);
        Ok(())
    }

    /// What the consultation feature leaves to the engine: a call a party left is
    /// the feature's from now on (a queue's part in it ends); a consultation left
    /// before the colleague answered becomes a blind transfer.
    fn consulted(&mut self, now: Instant, outcome: ConsultOutcome) {
        let call = match outcome {
            ConsultOutcome::Nothing => return,
            ConsultOutcome::Left { call } | ConsultOutcome::Blind { call, .. } => call,
        };
        if self.owners.get(&call) == Some(&Owner::Queue) {
            self.queues.transferred(cx!(self, now), call);
        }
        let ConsultOutcome::Blind {
            transferee,
            by,
            number,
            ..
        } = outcome
        else {
            self.owners.insert(call, Owner::Consultation);
            return;
        };
        if let Some(media) = self.legs.calls.get(&call).and_then(|c| c.media) {
            self.legs.media(MediaCommand::Wait {
                call,
                side: transferee.0,
                media: media[transferee.0 as usize],
                hears: Waiting::Ringback,
            });
        }
        self.legs
            .note(call, format!("{by} transferred to {number}"));
        // The number as a blind transfer rings it; one that can no longer take the call
        // rings the transferor's phones instead.
        let target = match self.destination(now, &by, &number, true) {
            Ok(Destination::Ring(target)) => target,
            _ => Target::Phones(by.clone()),
        };
        self.ring_transfer(now, call, (transferee, by), (number, target));
    }

    /// A parked call: parked too long, it rings whoever parked it.
    fn parked_event(&mut self, now: Instant, event: LegEvent) {
        let outcome = self.parking.call_event(cx!(self, now), event);
        if let ParkOutcome::RingBack { call, slot, by } = outcome {
            self.legs
                .note(call, format!("parked too long at {slot}, {by} rung"));
            self.owners.insert(call, Owner::Transfer);
            let transfer = Transfer {
                transferee: (Side::A, None),
                by: by.clone(),
                number: slot,
                target: Target::Phones(by),
                rings: self.legs.config.ring_timeout,
            };
            self.transfers.ring_back(cx!(self, now), call, transfer);
        }
    }

    /// A call being told something ends once it is said, or as any held call does.
    fn told_event(&mut self, now: Instant, event: LegEvent, reason: &str) {
        match event {
            LegEvent::Played { call } => {
                let (d, by) = (Outcome::Answered, HangupBy::System);
                self.legs.end_alone(now, call, d, by, 200, reason);
            }
            other => self.legs.end_held(now, &other),
        }
    }

    fn handoff(&mut self, now: Instant, handoff: Handoff) {
        match handoff {
            Handoff::JoinQueue {
                call,
                number,
                priority,
            } => match self.queues.queue(&number) {
                Some(queue) => {
                    self.owners.insert(call, Owner::Queue);
                    self.queues
                        .join(cx!(self, now), call, queue, priority, true);
                }
                // A queue the office no longer has counts as empty.
                None => {
                    let exit = QueueExit::Empty;
                    self.scenarios.left_queue(cx!(self, now), call, exit);
                }
            },
            Handoff::QueuePlaced { call } => {
                self.owners.insert(call, Owner::Queue);
            }
            Handoff::LeftQueue { call, exit } => {
                self.owners.insert(call, Owner::Scenario);
                self.scenarios.left_queue(cx!(self, now), call, exit);
            }
            Handoff::LeaveMessage { call, mailbox } => {
                self.owners.insert(call, Owner::Voicemail);
                self.voicemail.leave_message(cx!(self, now), call, mailbox);
            }
            Handoff::Tell { call, reason } => {
                self.owners.insert(call, Owner::Told { reason });
            }
            Handoff::CallOut {
                call,
                trunk,
                number,
                shown,
            } => {
                let dial = self
                    .trunks
                    .setup(&trunk)
                    .map(|setup| trunk_dial(setup, &number, Some(shown), ""));
                if !dial.is_some_and(|d| self.legs.dial_trunks(now, call, vec![d], Side::A)) {
                    self.queues.callback_unreachable(cx!(self, now), call);
                }
            }
            Handoff::MailboxChanged(mailbox) => {
                let counts = self.voicemail.counts(&mailbox);
                self.mwi.mailbox_changed(cx!(self, now), &mailbox, counts);
            }
        }
    }
}

/// Which ringing call a phone picks up.
enum Pick<'a> {
    /// By a code: the oldest call ringing this extension's phones, or with none, one
    /// ringing the picker's pickup groups.
    Ringing(Option<&'a str>),
    /// By a busy lamp: the call whose Call-ID the phone's Replaces header names.
    Replacing(String),
}

/// The event package a SUBSCRIBE asks for (its Event header without parameters).
fn event_package(request: &rsip::Request) -> Option<&str> {
    let event = header_value(&request.headers, "Event")?;
    event.split(';').next().map(str::trim)
}

/// The office as routing sees it.
pub(super) struct OfficeDirectory<'a>(pub(super) &'a Pbx);

impl Directory for OfficeDirectory<'_> {
    fn blocked(&self, caller: &str) -> Option<(String, bool)> {
        self.0.office.blocked(caller)
    }

    fn queue(&self, number: &str) -> Option<QueueId> {
        self.0.queues.queue(number)
    }

    fn scenario(&self, number: &str) -> Option<Arc<Scenario>> {
        self.0.scenarios.inbound(|n| n == number)
    }

    fn scenario_named(&self, name: &str) -> Option<Arc<Scenario>> {
        self.0.scenarios.named(name)
    }

    fn is_mailbox(&self, number: &str) -> bool {
        self.0.is_mailbox(number)
    }

    fn is_extension(&self, number: &str) -> bool {
        self.0.legs.is_extension(number)
    }

    fn is_conference(&self, number: &str) -> bool {
        self.0.conferences.is_room(number)
    }

    fn emergency(&self, dialled: &str) -> Option<Dial> {
        self.0.outbound.emergency(dialled)
    }

    fn outbound(&self, dialled: &str) -> Option<Dial> {
        self.0.outbound.dial(dialled)
    }

    fn codes(&self) -> &crate::feature_codes::FeatureCodes {
        &self.0.office.codes
    }
}

/// `number` through the trunk of `setup`, shown as `shown`, else as the trunk's account,
/// else as `caller`.
fn trunk_dial(setup: &TrunkSetup, number: &str, shown: Option<String>, caller: &str) -> TrunkDial {
    let account = setup.link.account.clone();
    TrunkDial {
        trunk: setup.name.clone(),
        peer: setup.peer,
        domain: setup.link.domain.clone(),
        number: number.to_string(),
        caller_id: shown
            .or_else(|| account.as_ref().map(|a| a.user.clone()))
            .unwrap_or_else(|| caller.to_string()),
        credentials: account,
    }
}
