//! One call: the caller's leg (A), the forks towards the callee's phones (B), and what
//! the relay needs to know.

use std::time::{Duration, Instant, SystemTime};

use switchboard_media::relay::LegMedia;
use switchboard_media::sdp::{AudioStream, LocalDescription};
use switchboard_sip::dialog::Dialog;
use switchboard_sip::transaction::{ClientId, Peer, ServerId};

#[derive(Debug)]
pub(crate) struct Call {
    /// The caller's INVITE transaction; none for a call Switchboard places (a callback).
    pub invite_id: Option<ServerId>,
    pub invite: rsip::Request,
    pub a_peer: Peer,
    /// For a callback, the customer's dialog once they answer; until then only its
    /// Call-ID, which names the call in its record.
    pub a_dialog: Dialog,
    pub caller: String,
    pub callee: String,
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
    pub music_to: Option<switchboard_media::relay::Side>,
    /// The media edge could not bind `ports`: they are not returned to the pool.
    pub ports_taken_elsewhere: bool,
    /// The final answer the caller gets once the announcement has played.
    pub pending_failure: Option<PendingFailure>,
    /// The queue the caller dialled.
    pub queue: Option<switchboard_queue::QueueId>,
    /// The caller's Max-Forwards, for the INVITEs to agents offered later.
    pub max_forwards: u32,
    /// The fork whose agent just answered, and its SDP, until the queue puts it through.
    pub connecting: Option<(usize, Vec<u8>)>,
    /// The agent (extension) the queue put the caller through to.
    pub answered_by: Option<String>,
    /// The caller's priority in the queue.
    pub priority: i32,
    /// The queue callback request this call places.
    pub callback: Option<Callback>,
    /// Put on hold while its agent took a VIP call.
    pub preempted: bool,
    /// The call's way through its inbound number's scenario.
    pub run: Option<switchboard_scenario::run::Run>,
    /// Until when the phones a scenario rings may answer.
    pub scenario_ring: Option<Instant>,
    /// Why the call ends once what it is being told has been said.
    pub told_reason: Option<String>,
    /// The box the caller is leaving a message in, and how far they are.
    pub leaving: Option<(String, crate::voicemail::Leaving)>,
    /// The voicemail menu the caller is in.
    pub menu: Option<crate::voicemail_menu::Menu>,
    /// Extensions this call keeps busy for the queues: its caller from the start, a
    /// callee that answers outside a queue.
    pub busy: Vec<String>,
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
    pub offer: AudioStream,
    pub ports: [u16; 2],
    pub forks: Vec<Fork>,
    pub phase: Phase,
    pub started_wall: SystemTime,
    pub queue: Option<switchboard_queue::QueueId>,
    pub max_forwards: u32,
}

impl Call {
    pub fn new(start: CallStart) -> Call {
        Call {
            invite_id: start.invite_id,
            invite: start.invite,
            a_peer: start.a_peer,
            a_dialog: start.a_dialog,
            caller: start.caller,
            callee: start.callee,
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
            queue: start.queue,
            max_forwards: start.max_forwards,
            connecting: None,
            answered_by: None,
            priority: 0,
            callback: None,
            preempted: false,
            run: None,
            scenario_ring: None,
            told_reason: None,
            leaving: None,
            menu: None,
            busy: Vec::new(),
        }
    }
}

/// A callback Switchboard places: its agent (leg B) is rung first, then the customer
/// (leg A).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Callback {
    pub request: switchboard_queue::CallId,
    /// The agent's media, once their phone answered.
    pub agent: Option<LegMedia>,
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
    pub disposition: crate::record::Disposition,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Forks are out; the caller hears ringing.
    Ringing,
    /// Fork `winner` answered; both legs are bridged.
    Answered { winner: usize },
    /// The call failed and the caller hears why (early media) before the final answer.
    Announcing,
    /// The caller waits in a queue (answered, hearing music) while agents are offered.
    Queued,
    /// Answered to be told something (a feature code's outcome), then hung up on.
    Telling,
    /// Answered by Switchboard and following its inbound number's scenario: hearing
    /// prompts, typing keys, or hearing music while the scenario rings phones.
    Scenario,
    /// Answered by Switchboard to leave a voicemail message.
    Voicemail,
    /// A callback rings its agent, then (once fork `agent` answered) the customer.
    CallingBack { agent: Option<usize> },
    /// The call is being torn down: BYEs or CANCELs are out.
    Ended,
}

/// One INVITE towards one of the callee's registered phones.
#[derive(Debug)]
pub(crate) struct Fork {
    pub client: ClientId,
    pub invite: rsip::Request,
    pub peer: Peer,
    /// The extension whose phone this is.
    pub extension: String,
    pub state: ForkState,
    /// The dialog once the phone answered.
    pub dialog: Option<Dialog>,
    /// CANCEL is sent only after a provisional response (RFC 3261 §9.1).
    pub cancel_on_provisional: bool,
    pub cancel_sent: bool,
    /// The queue offer this fork rings an agent for.
    pub offer: Option<switchboard_queue::OfferId>,
    /// The leg this phone becomes when it answers: B, or A for a callback's customer.
    pub seat: switchboard_media::relay::Side,
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
