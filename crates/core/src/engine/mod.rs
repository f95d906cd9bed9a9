//! The engine: the legs and every feature, composed. It is the one place that
//! dispatches: each input goes to the legs or a feature, and what they report (leg
//! events, handoffs between features) is carried out here until nothing is left.
//!
//! It follows the crate-wide loop: feed `handle_datagram` / `handle_timeout` / the other
//! `handle_*`, drain `poll_output` until `None`, sleep until `poll_timeout`.

mod dispatch;
mod route;
mod transfer;

pub use transfer::CallActionError;

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use switchboard_media::dtmf::Dtmf;
use switchboard_media::relay::Side;
use switchboard_queue::{AgentConfig, AgentStatus};
use switchboard_sip::registrar::BindingChange;
use switchboard_sip::service::Service;
use switchboard_sip::trunk_registration::Local;

use crate::feature_codes::FeatureCodes;
use crate::features::conference::{ConferenceRoom, Conferences};
use crate::features::consult::Consultations;
use crate::features::key_transfer::KeyTransfers;
use crate::features::lamps::Lamps;
use crate::features::mwi::Subscriptions;
use crate::features::park::Parking;
use crate::features::queue::{CallbackChange, PendingCallback, QueueSetup, Queues};
use crate::features::scenario::{ScenarioSetup, Scenarios};
use crate::features::supervise::{How as Supervise, Supervision};
use crate::features::transfer::Transfers;
use crate::features::voicemail::Voicemail;
use crate::features::{Handoff, Office};
use crate::legs::{Legs, NotPlaced, PbxConfig, Phase};
use crate::live_calls::{CallStage, LiveCall};
use crate::outbound::OutboundRules;
use crate::record::{CallRecord, VoicemailMessage};
use crate::trunks::{TrunkSetup, TrunkStatus, Trunks};
use crate::vocabulary::{CallKey, Clock, MessageCounts, Output, RecordLimits};

/// A feature's context over the engine's legs, office and handoffs, borrowed apart
/// from the features themselves.
macro_rules! cx {
    ($engine:ident, $now:expr) => {
        &mut $crate::features::Ctx {
            now: $now,
            legs: &mut $engine.legs,
            office: &$engine.office,
            handoffs: &mut $engine.handoffs,
        }
    };
}
use cx;

/// How long a call out rings before the caller hears "no answer": the provider and the
/// called phone usually give up sooner.
const CALL_OUT_RINGS: Duration = Duration::from_secs(120);

/// The office's pickup groups. An extension in none may pick up any call (a small
/// office needs no groups); one in any picks up its groups' calls only.
#[derive(Debug, Default)]
struct PickupGroups(Vec<Vec<String>>);

impl PickupGroups {
    fn may_pick(&self, picker: &str, rung: &str) -> bool {
        let mut mine = self
            .0
            .iter()
            .filter(|g| g.iter().any(|e| e == picker))
            .peekable();
        mine.peek().is_none() || mine.any(|g| g.iter().any(|e| e == rung))
    }
}

/// Which feature holds a call Switchboard answered or placed itself.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Owner {
    Queue,
    Scenario,
    Voicemail,
    /// Being put through to where a phone transferred it.
    Transfer,
    /// Waiting in a park slot.
    Parked,
    /// In a conference room, or on the way in.
    Conference,
    /// A supervisor's phone in an agent's call.
    Supervision,
    /// A call a phone consults a colleague from (once one of its parties left), or
    /// the colleague's call.
    Consultation,
    /// Being told something, then hung up on; the record gives `reason`.
    Told {
        reason: String,
    },
}

#[derive(Debug)]
pub struct Pbx {
    legs: Legs,
    office: Office,
    queues: Queues,
    scenarios: Scenarios,
    voicemail: Voicemail,
    transfers: Transfers,
    parking: Parking,
    conferences: Conferences,
    supervision: Supervision,
    consultations: Consultations,
    key_transfers: KeyTransfers,
    pickup_groups: PickupGroups,
    mwi: Subscriptions,
    lamps: Lamps,
    trunks: Trunks,
    outbound: OutboundRules,
    out_alerts: crate::outbound::OutAlerts,
    talk_out: crate::outbound::TalkOut,
    /// Calls out cut off when their caller's minutes for the day run out: how long
    /// each may talk.
    talk_limits: HashMap<CallKey, Duration>,
    owners: HashMap<CallKey, Owner>,
    handoffs: VecDeque<Handoff>,
}

impl Pbx {
    /// `secret` keys digest nonces and `seed` the tags, branches and Call-IDs: fresh
    /// random bytes at each start.
    pub fn new(config: PbxConfig, secret: [u8; 32], seed: [u8; 32], clock: Clock) -> Self {
        let mut legs = Legs::new(config, secret, seed, clock);
        let queues = Queues::new(legs.ids.random());
        Pbx {
            legs,
            office: Office::default(),
            queues,
            scenarios: Scenarios::default(),
            voicemail: Voicemail::default(),
            transfers: Transfers::default(),
            parking: Parking::default(),
            conferences: Conferences::default(),
            supervision: Supervision::default(),
            consultations: Consultations::default(),
            key_transfers: KeyTransfers::default(),
            pickup_groups: PickupGroups::default(),
            mwi: Subscriptions::default(),
            lamps: Lamps::default(),
            trunks: Trunks::default(),
            outbound: OutboundRules::default(),
            out_alerts: Default::default(),
            talk_out: Default::default(),
            talk_limits: HashMap::new(),
            owners: HashMap::new(),
            handoffs: VecDeque::new(),
        }
    }

    // --- getters

    /// The calls out kept from going out lately, newest first.
    pub fn out_alerts(&self) -> Vec<crate::OutAlert> {
        self.out_alerts.latest().cloned().collect()
    }

    pub fn service(&self) -> &Service {
        &self.legs.sip
    }

    /// The SIP endpoint, for accounts and restored registrations.
    pub fn service_mut(&mut self) -> &mut Service {
        &mut self.legs.sip
    }

    pub fn active_calls(&self) -> usize {
        self.legs.calls.len()
    }

    /// Phones watching an extension's busy lamp.
    pub fn lamp_subscriptions(&self) -> usize {
        self.lamps.subscriptions()
    }

    /// Every call not already being torn down, oldest first.
    pub fn live_calls(&self) -> Vec<LiveCall> {
        let parked = self.parking.taken(&self.office.codes);
        let mut calls: Vec<LiveCall> = self
            .legs
            .calls
            .iter()
            .filter_map(|(key, call)| {
                let stage = match (call.phase, self.owners.get(key)) {
                    (Phase::Ringing, _) | (Phase::Held | Phase::Placing, Some(Owner::Transfer)) => {
                        CallStage::Ringing
                    }
                    (Phase::Answered { .. }, _) => CallStage::Talking,
                    (Phase::Held, Some(Owner::Queue)) => CallStage::Queued,
                    (Phase::Held, Some(Owner::Scenario)) => CallStage::Menu,
                    (Phase::Held, Some(Owner::Voicemail)) => CallStage::Voicemail,
                    (Phase::Held, Some(Owner::Parked)) => CallStage::Parked,
                    (Phase::Held, Some(Owner::Conference)) => CallStage::Conference,
                    (Phase::Held | Phase::Placing, Some(Owner::Supervision)) => {
                        CallStage::Listening
                    }
                    (Phase::Held | Phase::Placing, Some(Owner::Consultation))
                        if call.answered.is_some() =>
                    {
                        CallStage::Talking
                    }
                    (Phase::Placing, Some(Owner::Consultation)) => CallStage::Ringing,
                    (Phase::Held, _) | (Phase::Announcing, _) => CallStage::Announcement,
                    (Phase::Placing, _) => CallStage::CallingBack,
                    (Phase::Ended, _) => return None,
                };
                let talking_to = (stage == CallStage::Talking).then(|| {
                    call.log
                        .answered_by
                        .clone()
                        .unwrap_or_else(|| call.callee.clone())
                });
                Some(LiveCall {
                    id: *key,
                    caller: call.caller.clone(),
                    callee: call.callee.clone(),
                    stage,
                    started: call.started_wall,
                    answered: call.answered,
                    queue: call.log.queue.clone(),
                    talking_to,
                    priority: call.log.priority,
                    parked_at: parked
                        .iter()
                        .find(|(_, k)| k == key)
                        .map(|(slot, _)| slot.clone()),
                })
            })
            .collect();
        calls.sort_by_key(|c| c.started);
        calls
    }

    /// What every agent does, for the wallboard.
    pub fn agent_boards(&self) -> Vec<switchboard_queue::AgentSnapshot> {
        self.queues.agent_boards()
    }

    /// The wallboard's picture of every queue, by number.
    pub fn queue_boards(&self, now: Instant) -> Vec<(String, switchboard_queue::QueueSnapshot)> {
        self.queues.queue_boards(now)
    }

    /// A box's messages, oldest first.
    pub fn voicemail_messages(&self, mailbox: &str) -> Vec<&VoicemailMessage> {
        self.voicemail.messages(mailbox)
    }

    pub fn voicemail_counts(&self, mailbox: &str) -> MessageCounts {
        self.voicemail.counts(mailbox)
    }

    /// Whether `number` has a box: every extension and every queue does.
    /// Every trunk's status, in the order the configuration lists them.
    pub fn trunk_statuses(&self) -> Vec<TrunkStatus> {
        self.trunks.statuses(|t| self.legs.wall(t))
    }

    pub fn is_mailbox(&self, number: &str) -> bool {
        self.legs.is_extension(number) || self.queues.queue(number).is_some()
    }

    // --- handle_*

    pub fn handle_datagram(
        &mut self,
        clock: Clock,
        peer: switchboard_sip::transaction::Peer,
        bytes: &[u8],
    ) {
        let now = self.legs.tick(clock);
        self.legs.sip.handle_datagram(now, peer, bytes);
        self.settle(now);
    }

    pub fn handle_timeout(&mut self, clock: Clock) {
        let now = self.legs.tick(clock);
        self.legs.sip.handle_timeout(now);
        self.queues.handle_timeout(cx!(self, now));
        self.mwi.expire(now);
        self.lamps.expire(now);
        self.legs.handle_timeout(now);
        self.settle(now);
    }

    /// The media edge could not open a call's sockets: something else holds those
    /// ports, so they leave the pool for good and the call ends with 503.
    pub fn handle_media_failed(&mut self, clock: Clock, call: CallKey) {
        let now = self.legs.tick(clock);
        self.legs.media_failed(now, call);
        self.settle(now);
    }

    /// What was played to a call (an announcement, prompts) has ended.
    pub fn handle_announcement_done(&mut self, clock: Clock, call: CallKey) {
        let now = self.legs.tick(clock);
        self.legs.finish_playback(now, call);
        self.settle(now);
    }

    /// A key pressed on `from`'s phone arrived as RFC 4733 or as tones.
    pub fn handle_dtmf(&mut self, clock: Clock, call: CallKey, from: Side, dtmf: Dtmf) {
        let now = self.legs.tick(clock);
        self.legs.handle_dtmf(now, call, from, dtmf);
        self.settle(now);
    }

    /// A key pressed on `from`'s phone went to the other phone as it was (both
    /// negotiated telephone events); features may watch for codes in it.
    pub fn handle_key_passed(&mut self, clock: Clock, call: CallKey, from: Side, dtmf: Dtmf) {
        let now = self.legs.tick(clock);
        self.legs.key_passed(call, from, dtmf);
        self.settle(now);
    }

    /// The media edge finished recording message `id` of call `key`: kept, lasting
    /// `duration`, or dropped (nobody spoke). The call may have ended already.
    pub fn handle_recorded(
        &mut self,
        clock: Clock,
        key: CallKey,
        id: i64,
        duration: Option<Duration>,
    ) {
        let now = self.legs.tick(clock);
        self.voicemail.recorded(cx!(self, now), key, id, duration);
        self.settle(now);
    }

    /// The media edge saved the greeting being recorded on call `key` (`kept`), or
    /// heard nothing worth keeping; the menu goes back to the messages.
    pub fn handle_greeting_recorded(&mut self, clock: Clock, key: CallKey, kept: bool) {
        let now = self.legs.tick(clock);
        self.voicemail.greeting_recorded(cx!(self, now), key, kept);
        self.settle(now);
    }

    // --- configuration and the panel's changes

    /// RTP ports (the even one of each pair) that another program on this PC holds:
    /// no call is given them.
    pub fn retire_ports(&mut self, ports: &[u16]) {
        self.legs.retire_ports(ports);
    }

    /// The media edge's hold on the RTP ports calls take (see [`crate::PortReserve`]).
    pub fn set_port_reserve(&mut self, reserve: Box<dyn crate::PortReserve>) {
        self.legs.set_port_reserve(reserve);
    }

    /// Replaces the number lists; `country_code` makes national numbers comparable with
    /// international ones (see [`crate::numbers::normalise`]).
    pub fn set_lists(
        &mut self,
        country_code: Option<String>,
        lists: Vec<crate::numbers::NumberList>,
    ) {
        (self.office.lists, self.office.country_code) = (lists, country_code);
    }

    /// Applies the queues and agents of the configuration, in place (see
    /// [`Queues::configure`]).
    pub fn set_queues(&mut self, clock: Clock, queues: Vec<QueueSetup>, agents: Vec<AgentConfig>) {
        let now = self.legs.tick(clock);
        self.queues.configure(cx!(self, now), queues, agents);
        self.settle(now);
    }

    /// The admin panel (or the agent's own) changes an agent's status, as *45 and *46
    /// do from the phone. False when `extension` answers no queue.
    pub fn set_agent_status(&mut self, clock: Clock, extension: &str, status: AgentStatus) -> bool {
        let now = self.legs.tick(clock);
        let known = self.queues.set_status(cx!(self, now), extension, status);
        self.settle(now);
        known
    }

    /// Replaces the scenarios, inbound numbers, schedules and contacts. Calls already in
    /// a scenario finish on the version they started with.
    /// The office's trunks: unchanged ones keep their registration, new ones register
    /// at once, removed ones unregister.
    pub fn set_trunks(&mut self, clock: Clock, setups: Vec<TrunkSetup>) {
        let now = self.legs.tick(clock);
        self.legs.trunk_media = setups
            .iter()
            .map(|s| (s.name.clone(), s.media.clone()))
            .collect();
        let setups = setups
            .into_iter()
            .map(|setup| {
                let local = Local {
                    addr: self.legs.local_for(setup.peer),
                    transport: setup.peer.transport,
                };
                (setup, local)
            })
            .collect();
        self.trunks.set(now, setups, &mut self.legs.ids);
        self.settle(now);
    }

    /// The outbound routes, emergency numbers and who may call what.
    pub fn set_outbound(&mut self, rules: OutboundRules) {
        self.outbound = rules;
    }

    /// What each extension talked out today before this start (from the call log).
    pub fn restore_talk_out(&mut self, clock: Clock, talked: Vec<(String, Duration)>) {
        let today = self.outbound.day_of(clock.wall);
        for (extension, talk) in talked {
            self.talk_out.add(today, &extension, talk);
        }
    }

    /// Callback requests kept from before this start (after the queues are set), oldest
    /// first: each waits in its queue again. A request for a queue the office no
    /// longer has is dropped.
    pub fn restore_callbacks(&mut self, clock: Clock, pending: Vec<PendingCallback>) {
        let now = self.legs.tick(clock);
        for request in pending {
            let call_id = request.call_id.clone();
            let key = self.legs.new_call_key();
            if !self.queues.restore_callback(cx!(self, now), key, request) {
                let gone = Output::Callback(CallbackChange::Done(call_id));
                self.legs.push(gone);
            }
        }
        self.settle(now);
    }

    fn count_talk_out(&mut self, record: &CallRecord) {
        let Some(answered) = record.answered else {
            return;
        };
        if record.direction == crate::Direction::Outbound {
            let talk = record.ended.duration_since(answered).unwrap_or_default();
            let day = self.outbound.day_of(record.ended);
            self.talk_out.add(day, &record.caller, talk);
        }
    }

    pub fn set_scenarios(&mut self, setup: ScenarioSetup) {
        self.scenarios.publish(setup, &self.office);
    }

    /// Loads the messages already left (the store's) and the office's limits.
    pub fn set_voicemail(&mut self, messages: Vec<VoicemailMessage>, limits: RecordLimits) {
        self.voicemail.load(messages, limits);
    }

    /// Changes the office's limits; messages being recorded keep theirs.
    pub fn set_record_limits(&mut self, limits: RecordLimits) {
        self.voicemail.set_limits(limits);
    }

    /// The office's conference rooms.
    pub fn set_conferences(&mut self, rooms: Vec<ConferenceRoom>) {
        self.conferences.set(rooms);
    }

    /// From the panel, `extension`'s phones ring to join call `key` as a supervisor's
    /// do with `*90`, `*91` or `*92`: the admin listens through their own phone.
    pub fn supervise_call(
        &mut self,
        clock: Clock,
        key: CallKey,
        extension: &str,
        how: Supervise,
    ) -> Result<(), CallActionError> {
        let now = self.legs.tick(clock);
        let agent = self
            .legs
            .office_side(key)
            .ok_or(CallActionError::NotTalking)?;
        if self.consultations.holds(key) {
            let why = "the call is being transferred".to_string();
            return Err(CallActionError::Refused(why));
        }
        let rung = self
            .supervision
            .ring(cx!(self, now), extension, (key, agent), how);
        let done = match rung {
            Ok(placed) => {
                self.owners.insert(placed, Owner::Supervision);
                Ok(())
            }
            Err(NotPlaced::NoPhones) => Err(CallActionError::Refused(format!(
                "no phone of {extension} is registered"
            ))),
            Err(NotPlaced::NoPorts) => {
                Err(CallActionError::Refused("every media port is taken".into()))
            }
        };
        self.settle(now);
        done
    }

    /// The codes an office phone types during a call to transfer it by its keys,
    /// blind (`##` unless set) or after talking to the colleague (`*2`); empty: off.
    pub fn set_transfer_codes(&mut self, blind: String, attended: String) {
        self.key_transfers.set_codes(blind, attended);
    }

    /// Which calls are recorded, and the code an office phone types during a call to
    /// start, pause and resume recording it (`*1` unless set; empty: off).
    pub fn set_recording(&mut self, rules: crate::RecordingRules, code: String) {
        self.legs.recording_rules = rules;
        self.key_transfers.set_record_code(code);
    }

    /// The codes office phones dial for features (the usual ones unless set).
    pub fn set_feature_codes(&mut self, codes: FeatureCodes) {
        self.office.codes = codes;
    }

    /// The office's pickup groups, each a list of extensions: `*8` picks up a call
    /// ringing a phone of the caller's groups only.
    pub fn set_pickup_groups(&mut self, groups: Vec<Vec<String>>) {
        self.pickup_groups = PickupGroups(groups);
    }

    /// The extensions whose phones may listen to, whisper to and barge into others'
    /// calls.
    pub fn set_supervisors(&mut self, extensions: Vec<String>) {
        self.supervision.set_supervisors(extensions);
    }

    /// PIN hashes of the boxes that have one (see [`crate::pin_hash`]).
    pub fn set_voicemail_pins(&mut self, pins: Vec<(String, String)>) {
        self.voicemail.set_pins(pins);
    }

    /// Marks a message heard or new; false when the box has no such message.
    pub fn mark_heard(&mut self, clock: Clock, mailbox: &str, id: i64, heard: bool) -> bool {
        let now = self.legs.tick(clock);
        let found = self
            .voicemail
            .mark_heard(cx!(self, now), mailbox, id, heard);
        self.settle(now);
        found
    }

    /// Deletes a message; false when the box has no such message.
    pub fn delete_message(&mut self, clock: Clock, mailbox: &str, id: i64) -> bool {
        let now = self.legs.tick(clock);
        let found = self.voicemail.delete(cx!(self, now), mailbox, id);
        self.settle(now);
        found
    }

    // --- poll_*

    pub fn poll_output(&mut self) -> Option<Output> {
        if let Some(o) = self.legs.poll_output() {
            if let Output::CallRecord { record, .. } = &o {
                self.count_talk_out(record);
            }
            return Some(o);
        }
        if let Some(t) = self.legs.sip.poll_transmit() {
            return Some(Output::Transmit(t));
        }
        let change = self.legs.sip.poll_binding_change()?;
        let aor = match &change {
            BindingChange::Upsert { aor, .. } | BindingChange::Remove { aor, .. } => aor.clone(),
        };
        let now = self.legs.now();
        self.queues.registration(cx!(self, now), &aor);
        self.settle(now);
        Some(Output::Binding(change))
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.legs.poll_timeout(),
            self.queues.poll_timeout(),
            self.trunks.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }
}
