//! One call on one of the phone's lines: where it stands, who is on the other end, and
//! the SIP state that carries it.

use std::time::Instant;

use switchboard_sip::dialog::Dialog;
use switchboard_sip::header::NameAddr;
use switchboard_sip::transaction::{ClientId, ServerId};

use crate::call_audio::CallAudio;

/// A line of the phone, numbered from 0; a line is free again once its call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LineId(pub usize);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "snake_case")
)]
pub enum Direction {
    Incoming,
    Outgoing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "snake_case")
)]
pub enum LineState {
    /// A call for us rings; answer or reject it.
    Ringing,
    /// Our call is on its way and nothing rings yet.
    Dialing,
    /// Our call rings at the other end.
    Alerting,
    Talking,
    /// We put the call on hold.
    Held,
}

/// The other end of a call, as its From or To named it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Party {
    /// The number (the URI's user part), or the whole URI when it has none.
    pub number: String,
    pub name: Option<String>,
}

impl Party {
    pub(crate) fn from_header(value: &str) -> Party {
        match NameAddr::parse(value, "From") {
            Ok(addr) => Party {
                number: addr.user().unwrap_or(&addr.uri).to_string(),
                name: addr.display.filter(|d| !d.is_empty()),
            },
            Err(_) => Party {
                number: value.to_string(),
                name: None,
            },
        }
    }
}

/// What the panel shows of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct LineInfo {
    pub line: LineId,
    pub state: LineState,
    pub direction: Direction,
    pub party: Party,
    /// The other end put us on hold.
    pub held_by_party: bool,
    /// When the line reached its state.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub since: Instant,
}

/// A call the phone had, for the panel's recent and missed calls.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct RecentCall {
    pub party: Party,
    pub direction: Direction,
    /// Someone answered; an incoming call never answered here was missed.
    pub answered: bool,
}

/// Why a call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(tag = "why", rename_all = "snake_case")
)]
pub enum EndReason {
    /// We hung up, cancelled our call or rejected theirs.
    HungUpHere,
    HungUpThere,
    /// The caller gave up, or another phone took the call, before we answered.
    Cancelled,
    /// The other end is busy or declined.
    Busy,
    /// The call could not be made: the server's status and reason.
    Failed {
        code: u16,
        reason: String,
    },
}

/// The SIP side of a call that is not answered yet.
#[derive(Debug)]
pub(crate) enum Setup {
    /// Their INVITE, waiting for our answer.
    Incoming {
        server: ServerId,
        invite: rsip::Request,
        /// Our answer to its offer, made when it rang (an offer we cannot answer is
        /// refused at once rather than after someone picked up).
        answer: Vec<u8>,
    },
    /// Our INVITE, in its client transaction; `challenged` once we answered a
    /// challenge (a second one means the password is wrong).
    Outgoing {
        client: ClientId,
        invite: rsip::Request,
        challenged: bool,
    },
    /// Answered: the dialog carries it.
    Done,
}

/// An answer of ours to an INVITE, sent again until the ACK comes (RFC 3261 §13.3.1.4).
#[derive(Debug)]
pub(crate) struct Unacknowledged {
    pub bytes: Vec<u8>,
    pub next: Instant,
    pub interval: std::time::Duration,
    pub give_up: Instant,
}

#[derive(Debug)]
pub(crate) struct Line {
    pub info: LineInfo,
    pub setup: Setup,
    pub dialog: Option<Dialog>,
    pub audio: CallAudio,
    /// The CSeq of our last INVITE in the dialog, for the ACK to its 2xx.
    pub invite_cseq: u32,
    /// Our re-INVITE (hold or resume) on its way: one at a time.
    pub reinvite: Option<ClientId>,
    pub unacknowledged: Option<Unacknowledged>,
}

impl Line {
    /// Whether `call_id`, `local_tag` and `remote_tag` name this line's dialog.
    pub(crate) fn is_dialog(&self, call_id: &str, local_tag: Option<&str>, remote: &str) -> bool {
        let Some(dialog) = &self.dialog else {
            return false;
        };
        let remote_tag = NameAddr::parse(&dialog.remote, "To")
            .ok()
            .and_then(|r| r.tag().map(str::to_string));
        dialog.call_id == call_id
            && local_tag == Some(dialog.local_tag.as_str())
            && remote_tag.as_deref()
                == NameAddr::parse(remote, "From")
                    .ok()
                    .as_ref()
                    .and_then(NameAddr::tag)
    }
}
