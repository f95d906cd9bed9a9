//! A scenario: blocks, each with typed settings and named exits that lead to other
//! blocks, starting at one of them. Read and written with serde and kept in versions:
//! the office edits a draft and publishes it once [`crate::validate()`] finds nothing
//! wrong.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A block's id within its scenario ("menu", "sales-queue"…), chosen by the editor.
pub type BlockId = String;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    pub start: BlockId,
    pub blocks: BTreeMap<BlockId, Block>,
}

// Unknown fields are refused by the block's kind: serde cannot refuse them here too
// because of the flattening.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Block {
    #[serde(flatten)]
    pub kind: BlockKind,
    /// Where each of the block's exits leads.
    #[serde(default)]
    pub exits: BTreeMap<String, BlockId>,
}

/// What a block does, with its settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum BlockKind {
    /// Plays a prompt (built-in or uploaded); with `barge_in` a key press moves on.
    PlayAudio {
        prompt: String,
        #[serde(default)]
        barge_in: bool,
    },
    /// Plays a prompt and branches on the key pressed: one exit per key in `keys`,
    /// "timeout" and "invalid" after `retries` more tries.
    Menu {
        prompt: String,
        keys: String,
        timeout: u32,
        #[serde(default)]
        retries: u32,
    },
    /// The caller types an internal number and is put through to it.
    DialExtension {
        prompt: String,
        timeout: u32,
    },
    RingGroup {
        mode: RingMode,
        members: Vec<RingMember>,
    },
    CallEmployee {
        extension: String,
    },
    /// The owner of the caller's number in the contacts table.
    CallManager,
    /// Through a trunk (none exist yet: takes "failed" with the reason).
    CallExternal {
        number: String,
    },
    CallSipAddress {
        uri: String,
    },
    Schedule {
        schedule: String,
    },
    /// Whether the caller's number is on a named list.
    NumberCheck {
        list: String,
    },
    Queue {
        queue: String,
    },
    Voicemail {
        mailbox: String,
    },
    SetPriority {
        priority: i32,
    },
    /// Continues at the start of another scenario.
    GoTo {
        scenario: String,
    },
    HangUp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum RingMode {
    AllAtOnce,
    InOrder,
    /// One member, picked by the members' weights (percentages).
    Random,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RingMember {
    pub extension: String,
    /// Seconds this member rings (in order) or the group rings (all at once).
    #[serde(default = "default_ring")]
    pub ring: u32,
    /// For random: the share of calls, in percent.
    #[serde(default)]
    pub weight: u32,
}

fn default_ring() -> u32 {
    20
}

impl BlockKind {
    /// The exits this block can take; each must lead somewhere.
    pub fn exits(&self) -> Vec<String> {
        let named = |names: &[&str]| names.iter().map(|n| n.to_string()).collect();
        match self {
            BlockKind::PlayAudio { .. } | BlockKind::SetPriority { .. } => named(&["next"]),
            BlockKind::Menu { keys, .. } => {
                let mut exits: Vec<String> = keys.chars().map(String::from).collect();
                exits.extend(named(&["timeout", "invalid"]));
                exits
            }
            BlockKind::DialExtension { .. } => named(&["timeout", "invalid", "no-answer"]),
            BlockKind::RingGroup { .. } | BlockKind::CallEmployee { .. } => named(&["no-answer"]),
            BlockKind::CallManager => named(&["no-answer", "no-manager"]),
            BlockKind::CallExternal { .. } | BlockKind::CallSipAddress { .. } => {
                named(&["no-answer", "failed"])
            }
            BlockKind::Schedule { .. } => named(&["open", "closed", "holiday"]),
            BlockKind::NumberCheck { .. } => named(&["listed", "not-listed"]),
            BlockKind::Queue { .. } => named(&["timeout", "empty", "full", "key"]),
            BlockKind::Voicemail { .. } | BlockKind::GoTo { .. } | BlockKind::HangUp => Vec::new(),
        }
    }

    /// The prompt the block plays, if it plays one.
    pub fn prompt(&self) -> Option<&str> {
        match self {
            BlockKind::PlayAudio { prompt, .. }
            | BlockKind::Menu { prompt, .. }
            | BlockKind::DialExtension { prompt, .. } => Some(prompt),
            _ => None,
        }
    }

    /// Whether the block takes no time and waits for nothing: a loop made only of
    /// such blocks (and prompts) would spin for ever.
    pub fn passes_through(&self) -> bool {
        matches!(
            self,
            BlockKind::PlayAudio { .. }
                | BlockKind::SetPriority { .. }
                | BlockKind::Schedule { .. }
                | BlockKind::NumberCheck { .. }
        )
    }
}
