//! Calls to an inbound number run that number's scenario. Switchboard answers the
//! caller, then carries out what the call's [`Run`] decides: prompts played to the
//! caller (keys from RFC 4733 or SIP INFO go back to it), phones rung while the caller
//! hears music (the first to answer is bridged), a queue joined with the scenario's
//! priority (leaving it goes back to the scenario by the matching exit), a hang-up.
//!
//! Each call holds the scenario version it started on; publishing replaces the office's
//! scenarios for calls that arrive afterwards only.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use switchboard_media::relay::Side;
use switchboard_queue::LeaveReason;
use switchboard_scenario::model::Scenario;
use switchboard_scenario::run::{Event, Office, QueueExit, Run, Step};
use switchboard_scenario::schedule::{Schedule, ScheduleExit};

use crate::call::Phase;
use crate::numbers::normalise;
use crate::pbx::{CallKey, CallTimer, MediaCommand, Output, Pbx};
use crate::setup::{Ringing, display_name};
use crate::voicemail::Sound;

/// The office's published scenarios and what they refer to.
#[derive(Debug, Clone, Default)]
pub struct ScenarioSetup {
    pub scenarios: Vec<Scenario>,
    /// Called number (DID) → the scenario's name.
    pub inbound: Vec<(String, String)>,
    pub schedules: Vec<(String, Schedule)>,
    /// Caller number → the extension responsible for them ("call manager").
    pub contacts: Vec<(String, String)>,
}

/// The scenarios as calls use them.
#[derive(Debug, Default)]
pub(crate) struct Scenarios {
    by_name: HashMap<String, Arc<Scenario>>,
    inbound: HashMap<String, String>,
    schedules: HashMap<String, Schedule>,
    /// By normalised caller number.
    contacts: HashMap<String, String>,
}

/// The office's facts as a scenario asks for them, at one moment.
struct OfficeNow<'a> {
    pbx: &'a Pbx,
    now: Instant,
}

impl Office for OfficeNow<'_> {
    fn scenario(&self, name: &str) -> Option<Arc<Scenario>> {
        self.pbx.scenarios.by_name.get(name).cloned()
    }

    fn schedule_exit(&self, schedule: &str) -> ScheduleExit {
        let Some(schedule) = self.pbx.scenarios.schedules.get(schedule) else {
            return ScheduleExit::Closed;
        };
        let wall = self.pbx.wall(self.now);
        match jiff::Timestamp::try_from(wall) {
            Ok(at) => schedule.exit_at(at),
            Err(_) => ScheduleExit::Closed,
        }
    }

    fn listed(&self, list: &str, caller: &str) -> bool {
        self.pbx.lists_of(caller).iter().any(|l| l.name == list)
    }

    fn manager_of(&self, caller: &str) -> Option<String> {
        let number = normalise(caller, self.pbx.country_code.as_deref()).ok()?;
        self.pbx.scenarios.contacts.get(&number).cloned()
    }

    fn is_online(&self, extension: &str) -> bool {
        !self.pbx.live_bindings(self.now, extension).is_empty()
    }

    fn is_extension(&self, number: &str) -> bool {
        self.pbx.sip.account(number).is_some()
    }
}

impl Pbx {
    /// Replaces the scenarios, inbound numbers, schedules and contacts. Calls already in
    /// a scenario finish on the version they started with.
    pub fn set_scenarios(&mut self, setup: ScenarioSetup) {
        let country = self.country_code.clone();
        self.scenarios = Scenarios {
            by_name: setup
                .scenarios
                .into_iter()
                .map(|s| (s.name.clone(), Arc::new(s)))
                .collect(),
            inbound: setup.inbound.into_iter().collect(),
            schedules: setup.schedules.into_iter().collect(),
            contacts: setup
                .contacts
                .into_iter()
                .filter_map(|(number, owner)| {
                    Some((normalise(&number, country.as_deref()).ok()?, owner))
                })
                .collect(),
        };
    }

    /// The scenario calls to `number` run, if it is an inbound number.
    pub(crate) fn inbound_scenario(&self, number: &str) -> Option<Arc<Scenario>> {
        let name = self.scenarios.inbound.get(number)?;
        self.scenarios.by_name.get(name).cloned()
    }

    /// Answers the caller and starts the scenario.
    pub(crate) fn start_scenario(&mut self, now: Instant, key: CallKey, scenario: Arc<Scenario>) {
        if self.answer_alone(now, key).is_none() {
            return self.end_alone(now, key, 488, "The caller's offer cannot be answered");
        }
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        call.answered = Some(now);
        let mut run = Run::new(scenario, &call.caller, self.ids.next());
        let step = run.start(&OfficeNow { pbx: self, now });
        self.carry_out(now, key, run, Some(step));
    }

    /// Something happened to a call in a scenario: the run decides what comes next.
    pub(crate) fn scenario_event(&mut self, now: Instant, key: CallKey, event: Event) {
        let Some(mut run) = self.calls.get_mut(&key).and_then(|c| c.run.take()) else {
            return;
        };
        let step = run.handle(now, event, &OfficeNow { pbx: self, now });
        self.carry_out(now, key, run, step);
    }

    /// A scenario's timer: phones rang long enough, or a menu waited long enough.
    pub(crate) fn scenario_timeout(&mut self, now: Instant, key: CallKey) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if call.scenario_ring.is_some_and(|at| at <= now) {
            call.scenario_ring = None;
            let forks = call.forks.len();
            for i in 0..forks {
                self.cancel_fork(now, key, i);
            }
            return self.scenario_event(now, key, Event::NoAnswer);
        }
        let Some(mut run) = call.run.take() else {
            return;
        };
        let step = run.handle_timeout(now, &OfficeNow { pbx: self, now });
        self.carry_out(now, key, run, step);
    }

    /// Puts the run back on its call and carries out `step`.
    fn carry_out(&mut self, now: Instant, key: CallKey, run: Run, step: Option<Step>) {
        let deadline = run.poll_timeout();
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        call.run = Some(run);
        if let Some(at) = deadline {
            self.timers.insert((at, key, CallTimer::Scenario));
        }
        match step {
            None => {}
            Some(Step::Play { prompt }) => self.play_to_caller(key, vec![Sound::Named(prompt)]),
            Some(Step::Silence) => self.play_to_caller(key, Vec::new()),
            Some(Step::Ring { extensions, ring }) => {
                let ring = ring.unwrap_or(self.config.ring_timeout);
                self.ring_extensions(now, key, &extensions, ring)
            }
            Some(Step::Queue { queue, priority }) => {
                self.scenario_queue(now, key, &queue, priority)
            }
            Some(Step::Voicemail { mailbox }) => self.leave_message(key, &mailbox),
            Some(Step::HangUp { reason }) => self.hang_up_answered(now, key, &reason),
        }
    }

    /// Rings every phone of `extensions` for `ring` while the caller hears music; with
    /// none registered, nobody answers at once.
    fn ring_extensions(
        &mut self,
        now: Instant,
        key: CallKey,
        extensions: &[String],
        ring: Duration,
    ) {
        let Some(caller_media) = self.caller_media(key) else {
            return;
        };
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        let (caller, display, offer) = (
            call.caller.clone(),
            display_name(&call.invite),
            call.offer.clone(),
        );
        let (max_forwards, port) = (call.max_forwards, call.ports[1]);
        let mut forks = Vec::new();
        let mut first = call.forks.len();
        for extension in extensions {
            let ringing = Ringing {
                caller: &caller,
                display: &display,
                callee: extension,
                max_forwards,
                offer: &offer,
                port,
                seat: Side::B,
            };
            let bindings = self.live_bindings(now, extension);
            let new = self.fork_invites(now, key, &ringing, bindings, first, None);
            first += new.len();
            forks.extend(new);
        }
        if forks.is_empty() {
            return self.scenario_event(now, key, Event::NoAnswer);
        }
        self.outputs.push_back(Output::Media(MediaCommand::Wait {
            call: key,
            side: Side::A,
            media: caller_media,
            hears: crate::pbx::Waiting::Ringback,
        }));
        if let Some(call) = self.calls.get_mut(&key) {
            call.forks.extend(forks);
            call.scenario_ring = Some(now + ring);
        }
        self.timers.insert((now + ring, key, CallTimer::Scenario));
    }

    /// A phone a scenario rang answered: the first is bridged to the caller, the
    /// others stop ringing; one answering after the ringing ended is hung up on.
    pub(crate) fn scenario_fork_answered(
        &mut self,
        now: Instant,
        key: CallKey,
        index: usize,
        sdp: &[u8],
    ) {
        let ringing = self
            .calls
            .get(&key)
            .is_some_and(|c| c.scenario_ring.is_some());
        if !ringing {
            return self.send_bye(now, key, Side::B, Some(index));
        }
        let (_, a_media, b_media) = match self.negotiate(key, index, sdp) {
            Ok(n) => n,
            Err(_) => {
                // This phone cannot talk with the caller: as if it had not answered.
                self.send_bye(now, key, Side::B, Some(index));
                return self.scenario_fork_failed(now, key);
            }
        };
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        call.scenario_ring = None;
        call.phase = Phase::Answered { winner: index };
        call.media = Some([a_media, b_media]);
        // The extension rung is the To of its INVITE (the request URI is the phone's).
        call.answered_by = Some(call.forks[index].extension.clone());
        let (forks, callee) = (call.forks.len(), call.forks[index].extension.clone());
        self.mark_busy(now, key, &callee);
        self.outputs.push_back(Output::Media(MediaCommand::Bridge {
            call: key,
            a: a_media,
            b: b_media,
        }));
        for i in (0..forks).filter(|&i| i != index) {
            self.cancel_fork(now, key, i);
        }
    }

    /// A phone a scenario rang refused or failed; when none rings any more, nobody
    /// answered.
    pub(crate) fn scenario_fork_failed(&mut self, now: Instant, key: CallKey) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if call.scenario_ring.is_none() || call.forks.iter().any(|f| f.is_pending()) {
            return;
        }
        call.scenario_ring = None;
        self.scenario_event(now, key, Event::NoAnswer);
    }

    /// Waits in the queue whose number is `number`; a queue the office no longer has
    /// counts as empty.
    fn scenario_queue(&mut self, now: Instant, key: CallKey, number: &str, priority: i32) {
        let Some(&queue) = self.queue_numbers.get(number) else {
            return self.scenario_event(now, key, Event::QueueLeft(QueueExit::Empty));
        };
        if let Some(call) = self.calls.get_mut(&key) {
            call.phase = Phase::Queued;
            call.queue = Some(queue);
        }
        self.join_queue(now, key, queue, priority);
    }

    /// The queue sent a scenario's caller on: back to the scenario by the exit.
    pub(crate) fn scenario_left_queue(&mut self, now: Instant, key: CallKey, reason: LeaveReason) {
        if let Some(call) = self.calls.get_mut(&key) {
            call.phase = Phase::Scenario;
            call.queue = None;
        }
        let exit = match reason {
            LeaveReason::Full => QueueExit::Full,
            LeaveReason::Empty => QueueExit::Empty,
            LeaveReason::Timeout => QueueExit::Timeout,
            LeaveReason::Key(_) => QueueExit::Key,
        };
        self.scenario_event(now, key, Event::QueueLeft(exit));
    }
}
