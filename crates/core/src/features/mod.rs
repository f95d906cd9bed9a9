//! What Switchboard does with calls beyond ringing phones: queues (with callbacks, VIP
//! preemption and agents' feature codes), scenarios, voicemail and its menu, message
//! waiting, transfers. Each feature owns its per-call state and acts on calls through the legs'
//! verbs; when a call passes from one feature to another it says so with a
//! [`Handoff`], which the engine carries out. No feature knows the engine.

use switchboard_queue::Priority;
pub(crate) mod conference;
pub(crate) mod consult;
pub(crate) mod events;
pub(crate) mod key_transfer;
pub(crate) mod lamps;
pub(crate) mod mwi;
pub(crate) mod park;
pub(crate) mod queue;
pub(crate) mod scenario;
pub(crate) mod supervise;
pub(crate) mod transfer;
pub(crate) mod voicemail;

use std::collections::VecDeque;
use std::time::Instant;

use switchboard_scenario::run::QueueExit;

use crate::feature_codes::FeatureCodes;
use crate::legs::Legs;
use crate::numbers::{ListKind, NumberList, normalise};
use crate::vocabulary::CallKey;

/// What a feature works with while handling one input.
pub(crate) struct Ctx<'a> {
    pub now: Instant,
    pub legs: &'a mut Legs,
    pub office: &'a Office,
    pub handoffs: &'a mut VecDeque<Handoff>,
}

impl Ctx<'_> {
    pub fn hand_off(&mut self, handoff: Handoff) {
        self.handoffs.push_back(handoff);
    }
}

/// A call (or a fact) passing from one feature to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Handoff {
    /// The caller waits in the queue dialled as `number`, with at least `priority`.
    JoinQueue {
        call: CallKey,
        number: String,
        priority: Priority,
    },
    /// The queues placed a call of their own (a callback): its events are theirs.
    QueuePlaced { call: CallKey },
    /// The queue sent a scenario's caller back to the scenario by `exit`.
    LeftQueue { call: CallKey, exit: QueueExit },
    /// The caller leaves a message in `mailbox`.
    LeaveMessage { call: CallKey, mailbox: String },
    /// The caller is being told something (already playing); once it is said,
    /// Switchboard hangs up and the record gives `reason`.
    Tell { call: CallKey, reason: String },
    /// A box's messages changed.
    MailboxChanged(String),
    /// A call the feature placed rings `number` out through `trunk` on side A, shown
    /// as `shown` (a callback's customer, who called in through that trunk).
    CallOut {
        call: CallKey,
        trunk: String,
        number: String,
        shown: String,
    },
}

/// The office's number lists, as calls are checked against them, and its feature codes.
#[derive(Debug, Default)]
pub(crate) struct Office {
    pub lists: Vec<NumberList>,
    /// Makes national numbers comparable with international ones.
    pub country_code: Option<String>,
    pub codes: FeatureCodes,
}

impl Office {
    /// `number` in the form lists keep, if it is a number.
    pub fn normalise(&self, number: &str) -> Option<String> {
        normalise(number, self.country_code.as_deref()).ok()
    }

    /// The lists `number` is on.
    pub fn lists_of(&self, number: &str) -> Vec<&NumberList> {
        let Some(number) = self.normalise(number) else {
            return Vec::new();
        };
        self.lists
            .iter()
            .filter(|l| l.numbers.contains(&number))
            .collect()
    }

    /// Why `caller` is blocked, and whether they are told before being declined.
    pub fn blocked(&self, caller: &str) -> Option<(String, bool)> {
        self.lists_of(caller)
            .into_iter()
            .find_map(|l| match l.kind {
                ListKind::Block { tell } => Some((
                    format!("Decline (the caller is on the list {:?})", l.name),
                    tell,
                )),
                _ => None,
            })
    }

    /// The highest priority a VIP list gives `caller`; 0 on none.
    pub fn vip_priority(&self, caller: &str) -> Priority {
        self.lists_of(caller)
            .iter()
            .filter_map(|l| match l.kind {
                ListKind::Vip { priority } => Some(priority),
                _ => None,
            })
            .max()
            .unwrap_or_default()
    }
}
