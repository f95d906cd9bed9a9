//! One call as the legs see it: the caller's leg (A), the forks towards phones (B, or A
//! for a call Switchboard places), and what the relay needs to know. What a feature
//! does with the call lives in that feature.

use std::time::{Duration, Instant, SystemTime};
use switchboard_queue::Priority;

use switchboard_media::relay::{LegMedia, Side};
use switchboard_media::sdp::{AudioStream, LocalDescription};
use switchboard_sip::dialog::Dialog;
use switchboard_sip::transaction::{ClientId, Peer, ServerId};

use crate::record::Outcome;

#[derive(Debug)]
pub(crate) struct Call {
    /// The caller's INVITE transaction; none for a call Switchboard places.
    pub invite_id: Option<ServerId>,
    pub invite: rsip::Request,
    pub a_peer: Peer,
    /// For a placed call, the dialog of the phone that answered on leg A; until then
    /// only its Call-ID, which names the call in its record.
    pub a_dialog: Dialog,
    /// The Call-ID that names the call in its record and the webhooks: its caller's, kept
    /// when leg A changes hands in a transfer by the called party (for a call
    /// Switchboard placed, its customer's once they answer).
    pub call_id: String,
    pub caller: String,
    pub callee: String,
    /// Whose leg A is.
    pub origin: Origin,
    pub offer: AudioStream,
    /// RTP ports facing A and B.
    pub ports: [u16; 2],
    pub forks: Vec<Fork>,
    pub phase: Phase,
    pub started_wall: SystemTime,
    pub answered: Option<Instant>,
    pub ringing_sent: bool,
    /// The fork whose early media (an 18x with SDP) the caller hears, and that SDP.
    pub early_media: Option<EarlyMedia>,
    /// What Switchboard last told each leg, re-sent with a new version on changes.
    pub local_sdp: [Option<LocalDescription>; 2],
    pub media: Option<[LegMedia; 2]>,
    /// A 2xx waiting for its ACK on each leg (RFC 3261 §13.3.1.4).
    pub awaiting_ack: [Option<AckWait>; 2],
    /// The leg hearing music on hold because the other one holds.
    pub music_to: Option<Side>,
    /// The media edge could not bind `ports`: they are not returned to the pool.
    pub ports_taken_elsewhere: bool,
    /// The final answer the caller gets once the announcement has played.
    pub pending_failure: Option<PendingFailure>,
    /// Who hung up an answered call and why, while the features hear of it.
    pub ending: Option<(crate::record::HangupBy, String)>,
    /// The caller's Max-Forwards, for INVITEs sent on their behalf later.
    pub max_forwards: u32,
    /// Extensions this call keeps busy: its caller from the start, a callee that
    /// answers for itself (not a queue's agent, whom the queue keeps track of).
    pub busy: Vec<String>,
    /// What the call's record will say beyond the legs' own facts, written by the
    /// features as the call goes.
    pub log: CallLog,
    /// A transfer one of its phones asked for, until it is settled.
    pub transfer: Option<super::transfer::Referral>,
    /// The number dialled goes out through a trunk (even when no trunk was tried: the
    /// toll-fraud guard refused it, or none could take it).
    pub dials_out: bool,
    pub recording: Recording,
}

/// Whether a call is recorded, decided when it is answered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Recording {
    #[default]
    Undecided,
    /// Its rules say never.
    Never,
    /// Not yet: the record code starts it.
    OnDemand,
    /// Into this file (named under the recordings' folder); `paused` by the record code.
    On { file: String, paused: bool },
}

/// What a call's record says about the features it went through.
#[derive(Debug, Clone, Default)]
pub(crate) struct CallLog {
    /// The queue (its number) the caller waited in.
    pub queue: Option<String>,
    /// The extension that talks to the caller for the office (a queue's agent, the
    /// phone a scenario rang).
    pub answered_by: Option<String>,
    /// The caller's priority in the queue.
    pub priority: Priority,
    /// Put on hold while its agent took a VIP call.
    pub preempted: bool,
    /// The blocks passed in a scenario, and why any failed.
    pub scenario_path: Option<String>,
    /// Transfers and answers after them, each "m:ss what".
    pub history: Vec<String>,
    /// Who the store was last told answered (None inside: Switchboard itself, a menu
    /// or a room); told again only when another party answers.
    pub told_answered: Option<Option<String>>,
}

/// Whose leg the caller's is: one of the office's extensions, or a customer's through
/// a trunk (named).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Origin {
    #[default]
    Extension,
    Trunk(String),
}

impl Origin {
    pub fn trunk(&self) -> Option<&str> {
        match self {
            Origin::Extension => None,
            Origin::Trunk(name) => Some(name),
        }
    }

    pub fn direction(&self) -> crate::record::Direction {
        match self {
            Origin::Extension => crate::record::Direction::Internal,
            Origin::Trunk(_) => crate::record::Direction::Inbound,
        }
    }
}

/// What a new call starts from: its caller's leg, where it goes and its first forks;
/// everything else starts empty.
pub(crate) struct CallStart {
    pub invite_id: Option<ServerId>,
    pub invite: rsip::Request,
    pub a_peer: Peer,
    pub a_dialog: Dialog,
    pub caller: String,
    pub callee: String,
    pub origin: Origin,
    pub offer: AudioStream,
    pub ports: [u16; 2],
    pub forks: Vec<Fork>,
    pub phase: Phase,
    pub started_wall: SystemTime,
    pub max_forwards: u32,
}

impl Call {
    pub fn new(start: CallStart) -> Call {
        Call {
            invite_id: start.invite_id,
            invite: start.invite,
            a_peer: start.a_peer,
            call_id: start.a_dialog.call_id.clone(),
            a_dialog: start.a_dialog,
            caller: start.caller,
            callee: start.callee,
            origin: start.origin,
            offer: start.offer,
            ports: start.ports,
            forks: start.forks,
            phase: start.phase,
            started_wall: start.started_wall,
            answered: None,
            ringing_sent: false,
            early_media: None,
            local_sdp: [None, None],
            media: None,
            awaiting_ack: [None, None],
            music_to: None,
            ports_taken_elsewhere: false,
            pending_failure: None,
            ending: None,
            max_forwards: start.max_forwards,
            busy: Vec::new(),
            log: CallLog::default(),
            transfer: None,
            dials_out: false,
            recording: Recording::Undecided,
        }
    }

    /// In from a trunk, out through one, or between the office's phones.
    pub fn direction(&self) -> crate::record::Direction {
        match (&self.origin, self.trunk()) {
            (Origin::Extension, Some(_)) => crate::record::Direction::Outbound,
            (Origin::Extension, None) if self.dials_out => crate::record::Direction::Outbound,
            (origin, _) => origin.direction(),
        }
    }

    /// The trunk the call came in from, or went out through (the one that answered,
    /// else the last tried).
    pub fn trunk(&self) -> Option<&str> {
        fn out(f: &Fork) -> Option<&str> {
            f.target.trunk().map(|leg| leg.dial.trunk.as_str())
        }
        self.origin.trunk().or_else(|| {
            self.forks
                .iter()
                .find(|f| f.state == ForkState::Answered)
                .and_then(out)
                .or_else(|| self.forks.iter().rev().find_map(out))
        })
    }

    /// Leg A's dialog, or the dialog of fork `fork` on leg B.
    pub fn dialog_mut(&mut self, side: Side, fork: Option<usize>) -> Option<&mut Dialog> {
        match (side, fork) {
            (Side::A, _) => Some(&mut self.a_dialog),
            (Side::B, Some(i)) => self.forks.get_mut(i)?.dialog.as_mut(),
            (Side::B, None) => None,
        }
    }

    /// The codes the forks `which` chooses failed with.
    pub fn failure_codes(&self, which: impl Fn(&Fork) -> bool) -> Vec<u16> {
        self.forks
            .iter()
            .filter(|f| which(f))
            .filter_map(|f| match f.state {
                ForkState::Failed(c) => Some(c),
                _ => None,
            })
            .collect()
    }

    /// Forks other than `index`.
    pub fn other_forks(&self, index: usize) -> Vec<usize> {
        (0..self.forks.len()).filter(|&i| i != index).collect()
    }
}

#[derive(Debug, Clone)]
pub(crate) struct EarlyMedia {
    pub fork: usize,
    pub sdp: Vec<u8>,
}

#[derive(Debug, Clone)]
pub(crate) struct PendingFailure {
    pub code: u16,
    pub reason: String,
    pub outcome: Outcome,
}

/// Where a call is, as its legs see it. What a call held for a feature is doing
/// (waiting in a queue, in a scenario, leaving a message) is the feature's to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// A call to an extension: its phones ring and the first to answer is bridged.
    Ringing,
    /// Fork `winner` answered; both legs are bridged.
    Answered { winner: usize },
    /// The call failed and the caller hears why (early media) before the final answer.
    Announcing,
    /// Switchboard holds the caller for a feature: answered (or about to be) and
    /// hearing what the feature plays, while phones it rings answer to the feature.
    Held,
    /// Switchboard places the call for a feature (a queue callback): every phone's
    /// answer goes to the feature.
    Placing,
    /// The call is being torn down: BYEs or CANCELs are out.
    Ended,
}

impl Phase {
    /// Whether the call belongs to a feature, whose decisions its events wait for.
    pub fn is_featured(self) -> bool {
        matches!(self, Phase::Held | Phase::Placing)
    }
}

/// One INVITE towards one phone, or the INVITE of a phone that picked the call up.
#[derive(Debug)]
pub(crate) struct Fork {
    /// Our INVITE's transaction; none for a phone that picked the call up (its INVITE
    /// came to Switchboard, and is `invite`).
    pub client: Option<ClientId>,
    pub invite: rsip::Request,
    pub peer: Peer,
    /// Whose phone this is, or the trunk it goes out through.
    pub target: ForkTarget,
    pub state: ForkState,
    /// The dialog once the phone answered.
    pub dialog: Option<Dialog>,
    /// CANCEL is sent only after a provisional response (RFC 3261 §9.1).
    pub cancel_on_provisional: bool,
    pub cancel_sent: bool,
    /// The leg this phone becomes when it answers: B, or A for a placed call's callee.
    pub seat: Side,
    /// What Switchboard offered it.
    pub sdp: LocalDescription,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ForkState {
    Calling,
    Proceeding,
    Answered,
    Failed(u16),
}

/// Where a fork rings: one of an extension's phones, or a number out through a trunk.
#[derive(Debug, Clone)]
pub(crate) enum ForkTarget {
    Phone { extension: String },
    Trunk(Box<TrunkLeg>),
}

/// A call out through a trunk, and where it goes next should this trunk fail.
#[derive(Debug, Clone)]
pub(crate) struct TrunkLeg {
    pub dial: TrunkDial,
    /// The provider's challenge was answered once already.
    pub challenged: bool,
    /// The trunks to try next, in order, on no answer or a 5xx.
    pub then: Vec<TrunkDial>,
    /// The side of the call the called party becomes: B, or A for a call Switchboard
    /// placed whose other side answered first (a callback's customer).
    pub seat: Side,
}

/// A number to call through one trunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrunkDial {
    pub trunk: String,
    pub peer: Peer,
    /// The provider's domain, the host of the Request-URI, From and To.
    pub domain: String,
    pub number: String,
    /// The number the called party is shown.
    pub caller_id: String,
    /// What the provider's challenges are answered with.
    pub credentials: Option<switchboard_sip::trunk_registration::Account>,
}

impl ForkTarget {
    /// The extension, for a fork to a phone.
    pub fn extension(&self) -> Option<&str> {
        match self {
            ForkTarget::Phone { extension } => Some(extension),
            ForkTarget::Trunk(_) => None,
        }
    }

    /// Who answers this fork: the extension rung, or the number called out.
    pub fn party(&self) -> &str {
        match self {
            ForkTarget::Phone { extension } => extension,
            ForkTarget::Trunk(leg) => &leg.dial.number,
        }
    }

    pub fn trunk(&self) -> Option<&TrunkLeg> {
        match self {
            ForkTarget::Phone { .. } => None,
            ForkTarget::Trunk(leg) => Some(leg),
        }
    }
}

impl Fork {
    pub fn is_pending(&self) -> bool {
        matches!(self.state, ForkState::Calling | ForkState::Proceeding)
    }
}

/// A 2xx retransmitted with doubling intervals until the ACK comes.
#[derive(Debug, Clone)]
pub(crate) struct AckWait {
    pub bytes: Vec<u8>,
    pub peer: Peer,
    pub next: Instant,
    pub interval: Duration,
    pub give_up: Instant,
}
