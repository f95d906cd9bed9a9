//! Calls to an inbound number run that number's scenario. Switchboard answers the
//! caller, then carries out what the call's [`Run`] decides: prompts played to the
//! caller (their keys go back to it), phones rung while the caller hears ringback (the
//! first to answer is bridged), a queue joined with the scenario's priority (leaving it
//! comes back here by the matching exit), a mailbox, a hang-up.
//!
//! Each call holds the scenario version it started on; publishing replaces the office's
//! scenarios for calls that arrive afterwards only.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchboard_queue::Priority;

use switchboard_media::relay::Side;
use switchboard_scenario::model::Scenario;
use switchboard_scenario::run::{Event, QueueExit, Run, Step};
use switchboard_scenario::schedule::{Schedule, ScheduleExit};

use super::{Ctx, Handoff, Office};
use crate::legs::{LegEvent, Legs, Ringing, display_name};
use crate::record::{HangupBy, Outcome};
use crate::vocabulary::{CallKey, MediaCommand, Sound, Waiting};

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

/// The scenarios as calls use them, and the calls running one.
#[derive(Debug, Default)]
pub(crate) struct Scenarios {
    published: Published,
    runs: HashMap<CallKey, ScenarioCall>,
}

#[derive(Debug, Default)]
struct Published {
    by_name: HashMap<String, Arc<Scenario>>,
    inbound: HashMap<String, String>,
    schedules: HashMap<String, Schedule>,
    /// By normalised caller number.
    contacts: HashMap<String, String>,
}

#[derive(Debug)]
struct ScenarioCall {
    run: Run,
    /// Until when the phones the scenario rings may answer.
    ringing_until: Option<Instant>,
}

/// The office's facts as a scenario asks for them, at one moment.
struct OfficeNow<'a> {
    published: &'a Published,
    legs: &'a Legs,
    office: &'a Office,
    now: Instant,
}

impl switchboard_scenario::run::Office for OfficeNow<'_> {
    fn scenario(&self, name: &str) -> Option<Arc<Scenario>> {
        self.published.by_name.get(name).cloned()
    }

    fn schedule_exit(&self, schedule: &str) -> ScheduleExit {
        let Some(schedule) = self.published.schedules.get(schedule) else {
            return ScheduleExit::Closed;
        };
        match jiff::Timestamp::try_from(self.legs.wall(self.now)) {
            Ok(at) => schedule.exit_at(at),
            Err(_) => ScheduleExit::Closed,
        }
    }

    fn listed(&self, list: &str, caller: &str) -> bool {
        self.office.lists_of(caller).iter().any(|l| l.name == list)
    }

    fn manager_of(&self, caller: &str) -> Option<String> {
        let number = self.office.normalise(caller)?;
        self.published.contacts.get(&number).cloned()
    }

    fn is_online(&self, extension: &str) -> bool {
        !self.legs.live_bindings(self.now, extension).is_empty()
    }

    fn is_extension(&self, number: &str) -> bool {
        self.legs.is_extension(number)
    }
}

impl Scenarios {
    /// Replaces the scenarios, inbound numbers, schedules and contacts. Calls already in
    /// a scenario finish on the version they started with.
    pub fn publish(&mut self, setup: ScenarioSetup, office: &Office) {
        self.published = Published {
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
                .filter_map(|(number, owner)| Some((office.normalise(&number)?, owner)))
                .collect(),
        };
    }

    /// The scenario calls to an inbound number run, the first number `dialled`
    /// accepts.
    pub fn inbound(&self, dialled: impl Fn(&str) -> bool) -> Option<Arc<Scenario>> {
        let number = self.inbound_number(dialled)?;
        self.named(self.published.inbound.get(number)?)
    }

    /// The first inbound number, as the office wrote it, that `dialled` accepts.
    pub fn inbound_number(&self, dialled: impl Fn(&str) -> bool) -> Option<&str> {
        self.published
            .inbound
            .keys()
            .find(|n| dialled(n))
            .map(String::as_str)
    }

    /// The published scenario called `name`.
    pub fn named(&self, name: &str) -> Option<Arc<Scenario>> {
        self.published.by_name.get(name).cloned()
    }

    /// Answers the caller and starts the scenario.
    pub fn start(&mut self, cx: &mut Ctx<'_>, key: CallKey, scenario: Arc<Scenario>) {
        let now = cx.now;
        if !cx.legs.answer_held(now, key) {
            return;
        }
        let Some(call) = cx.legs.calls.get(&key) else {
            return;
        };
        let caller = call.caller.clone();
        let mut run = Run::new(scenario, &caller, cx.legs.ids.random());
        let step = run.start(&self.office_now(cx));
        self.carry_out(cx, key, run, Some(step));
    }

    /// What the legs report about a call in a scenario.
    pub fn call_event(&mut self, cx: &mut Ctx<'_>, event: LegEvent) {
        match event {
            LegEvent::Key { call, key } => self.event(cx, call, Event::Key(key)),
            LegEvent::Played { call } => self.event(cx, call, Event::PromptDone),
            LegEvent::Wake { call } => self.timeout(cx, call),
            LegEvent::Answered { call, fork, sdp } => self.fork_answered(cx, call, fork, &sdp),
            LegEvent::Failed { call, .. } => self.fork_failed(cx, call),
            // A phone picked the call up: the ringing is over.
            LegEvent::PickedUp { call } => {
                if let Some(scenario_call) = self.runs.get_mut(&call) {
                    scenario_call.ringing_until = None;
                }
            }
            LegEvent::Closed { call, .. } => {
                self.runs.remove(&call);
            }
            other => cx.legs.end_held(cx.now, &other),
        }
    }

    /// The queue sent the caller back by `exit`.
    pub fn left_queue(&mut self, cx: &mut Ctx<'_>, key: CallKey, exit: QueueExit) {
        self.event(cx, key, Event::QueueLeft(exit));
    }

    fn office_now<'a>(&'a self, cx: &'a Ctx<'_>) -> OfficeNow<'a> {
        OfficeNow {
            published: &self.published,
            legs: cx.legs,
            office: cx.office,
            now: cx.now,
        }
    }

    /// Something happened to a call in a scenario: the run decides what comes next.
    fn event(&mut self, cx: &mut Ctx<'_>, key: CallKey, event: Event) {
        let Some(mut scenario_call) = self.runs.remove(&key) else {
            return;
        };
        let step = scenario_call
            .run
            .handle(cx.now, event, &self.office_now(cx));
        self.runs.insert(key, scenario_call);
        self.carry_out_step(cx, key, step);
    }

    /// A scenario's timer: phones rang long enough, or a menu waited long enough.
    fn timeout(&mut self, cx: &mut Ctx<'_>, key: CallKey) {
        let Some(scenario_call) = self.runs.get_mut(&key) else {
            return;
        };
        if scenario_call.ringing_until.is_some_and(|at| at <= cx.now) {
            scenario_call.ringing_until = None;
            cx.legs.cancel_forks(cx.now, key, None);
            return self.event(cx, key, Event::NoAnswer);
        }
        let Some(mut scenario_call) = self.runs.remove(&key) else {
            return;
        };
        let step = scenario_call
            .run
            .handle_timeout(cx.now, &self.office_now(cx));
        self.runs.insert(key, scenario_call);
        self.carry_out_step(cx, key, step);
    }

    /// Keeps the run for its call and carries out `step`.
    fn carry_out(&mut self, cx: &mut Ctx<'_>, key: CallKey, run: Run, step: Option<Step>) {
        self.runs.insert(
            key,
            ScenarioCall {
                run,
                ringing_until: None,
            },
        );
        self.carry_out_step(cx, key, step);
    }

    fn carry_out_step(&mut self, cx: &mut Ctx<'_>, key: CallKey, step: Option<Step>) {
        let now = cx.now;
        let Some(scenario_call) = self.runs.get(&key) else {
            return;
        };
        let run = &scenario_call.run;
        if let Some(at) = run.poll_timeout() {
            cx.legs.wake_at(key, at);
        }
        let Some(call) = cx.legs.calls.get_mut(&key) else {
            return;
        };
        let mut path = run.path().join(" → ");
        for note in run.notes() {
            path.push_str(&format!(" ({note})"));
        }
        call.log.scenario_path = Some(path);
        match step {
            None => {}
            Some(Step::Play { prompt }) => cx.legs.play(key, vec![Sound::Named(prompt)]),
            Some(Step::Silence) => cx.legs.play(key, Vec::new()),
            Some(Step::Ring { extensions, ring }) => {
                let ring = ring.unwrap_or(cx.legs.config.ring_timeout);
                self.ring_extensions(cx, key, &extensions, ring)
            }
            Some(Step::Queue { queue, priority }) => cx.hand_off(Handoff::JoinQueue {
                call: key,
                number: queue,
                priority: Priority(priority),
            }),
            Some(Step::Voicemail { mailbox }) => {
                cx.hand_off(Handoff::LeaveMessage { call: key, mailbox })
            }
            Some(Step::HangUp { reason }) => {
                let (d, by) = (Outcome::Answered, HangupBy::System);
                cx.legs.end_alone(now, key, d, by, 200, &reason);
            }
        }
    }

    /// Rings every phone of `extensions` for `ring` while the caller hears ringback;
    /// with none registered, nobody answers at once.
    fn ring_extensions(
        &mut self,
        cx: &mut Ctx<'_>,
        key: CallKey,
        extensions: &[String],
        ring: Duration,
    ) {
        let now = cx.now;
        let Some(caller_media) = cx.legs.caller_media(key) else {
            return;
        };
        let Some(call) = cx.legs.calls.get(&key) else {
            return;
        };
        let (caller, display, offer) = (
            call.caller.clone(),
            display_name(&call.invite),
            call.offer.clone(),
        );
        let (max_forwards, port) = (call.max_forwards, call.ports[1]);
        let mut rung = 0;
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
            let bindings = cx.legs.live_bindings(now, extension);
            rung += cx.legs.ring(now, key, &ringing, bindings).len();
        }
        if rung == 0 {
            return self.event(cx, key, Event::NoAnswer);
        }
        cx.legs.media(MediaCommand::Wait {
            call: key,
            side: Side::A,
            media: caller_media,
            hears: Waiting::Ringback,
        });
        if let Some(scenario_call) = self.runs.get_mut(&key) {
            scenario_call.ringing_until = Some(now + ring);
        }
        cx.legs.wake_at(key, now + ring);
    }

    /// A phone the scenario rang answered: the first is bridged to the caller, the
    /// others stop ringing; one answering after the ringing ended is hung up on.
    fn fork_answered(&mut self, cx: &mut Ctx<'_>, key: CallKey, index: usize, sdp: &[u8]) {
        let now = cx.now;
        let ringing = self
            .runs
            .get(&key)
            .is_some_and(|c| c.ringing_until.is_some());
        if !ringing {
            return cx.legs.send_bye(now, key, Side::B, Some(index));
        }
        let (_, a_media, b_media) = match cx.legs.negotiate(key, index, sdp) {
            Ok(n) => n,
            Err(_) => {
                // This phone cannot talk with the caller: as if it had not answered.
                cx.legs.send_bye(now, key, Side::B, Some(index));
                return self.fork_failed(cx, key);
            }
        };
        if let Some(scenario_call) = self.runs.get_mut(&key) {
            scenario_call.ringing_until = None;
        }
        cx.legs.bridge(now, key, index, a_media, b_media);
        cx.legs.talks_for_office(key, index);
        cx.legs.cancel_forks(now, key, Some(index));
    }

    /// A phone the scenario rang refused or failed; when none rings any more, nobody
    /// answered.
    fn fork_failed(&mut self, cx: &mut Ctx<'_>, key: CallKey) {
        let pending = cx
            .legs
            .calls
            .get(&key)
            .is_some_and(|c| c.forks.iter().any(|f| f.is_pending()));
        let Some(scenario_call) = self.runs.get_mut(&key) else {
            return;
        };
        if scenario_call.ringing_until.is_none() || pending {
            return;
        }
        scenario_call.ringing_until = None;
        self.event(cx, key, Event::NoAnswer);
    }
}
