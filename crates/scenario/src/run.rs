//! One call's way through a scenario, sans-IO: [`Run`] walks the blocks and says what
//! the call must do next ([`Step`]); whoever carries the call out (the PBX) reports
//! what happened ([`Event`]) and asks the office's facts through [`Office`]. Time is
//! passed in, so menus and digit timeouts run on any clock.
//!
//! A call keeps the version of the scenario it started on (an `Arc`), so publishing a
//! new one changes only calls that arrive afterwards.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::model::{Block, BlockId, BlockKind, RingMember, RingMode, Scenario};
use crate::schedule::ScheduleExit;

/// Blocks a call may pass without waiting for anything, in a row: validation refuses
/// loops of them, but "go to scenario" can still bounce between two scenarios.
const MAX_HOPS: usize = 64;
/// The longest internal number a caller may type; more digits are not collected.
pub const MAX_DIGITS: usize = 8;

/// What a scenario asks of the office while a call runs through it.
pub trait Office {
    /// The live version of another scenario, for "go to scenario".
    fn scenario(&self, name: &str) -> Option<Arc<Scenario>>;
    /// Which way a schedule sends a call now.
    fn schedule_exit(&self, schedule: &str) -> ScheduleExit;
    /// Whether `caller` is on the list named `list`.
    fn listed(&self, list: &str, caller: &str) -> bool;
    /// The extension responsible for `caller` in the contacts table.
    fn manager_of(&self, caller: &str) -> Option<String>;
    /// Whether an extension has a phone registered.
    fn is_online(&self, extension: &str) -> bool;
    /// Whether `number` is one of the office's extensions.
    fn is_extension(&self, number: &str) -> bool;
}

/// What the call does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Play a prompt to the caller; report [`Event::PromptDone`] at its end.
    Play { prompt: String },
    /// Stop the prompt: the caller has started typing.
    Silence,
    /// Ring these extensions' phones (all at once) for `ring`, or the office's usual
    /// ring time; bridge the first that answers, else report [`Event::NoAnswer`].
    Ring {
        extensions: Vec<String>,
        ring: Option<Duration>,
    },
    /// Put the caller in a queue with this priority; report how they left it.
    Queue { queue: String, priority: i32 },
    /// Let the caller leave a message in a voicemail box.
    Voicemail { mailbox: String },
    /// End the call; `reason` goes to the call record.
    HangUp { reason: String },
}

/// What happened to the call since the last step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    PromptDone,
    Key(char),
    /// Nobody answered (or every phone refused) the last [`Step::Ring`].
    NoAnswer,
    /// The caller left the queue without being answered.
    QueueLeft(QueueExit),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueExit {
    Timeout,
    Empty,
    Full,
    Key,
}

impl QueueExit {
    fn exit(self) -> &'static str {
        match self {
            QueueExit::Timeout => "timeout",
            QueueExit::Empty => "empty",
            QueueExit::Full => "full",
            QueueExit::Key => "key",
        }
    }
}

/// What the current block waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waiting {
    Prompt {
        barge_in: bool,
    },
    /// A menu's key; the timeout runs from the end of the prompt.
    Key {
        playing: bool,
    },
    /// An internal number, ended by '#', by the timeout or by its length.
    Digits {
        playing: bool,
    },
    /// Phones ringing; for "in order", the member after this one rings next.
    Ring {
        next_member: Option<usize>,
    },
    Queue,
    /// Voicemail or hang-up: the scenario is over for this call.
    Done,
}

/// One call's run through a scenario.
#[derive(Debug, Clone)]
pub struct Run {
    scenario: Arc<Scenario>,
    block: BlockId,
    waiting: Waiting,
    caller: String,
    priority: i32,
    /// Tries a menu or digit prompt has had beyond the first.
    retries_used: u32,
    digits: String,
    deadline: Option<Instant>,
    path: Vec<String>,
    notes: Vec<String>,
    rng: u64,
}

impl Run {
    /// A run for a call from `caller`; `seed` drives random ring groups.
    pub fn new(scenario: Arc<Scenario>, caller: &str, seed: u64) -> Run {
        Run {
            block: scenario.start.clone(),
            scenario,
            waiting: Waiting::Done,
            caller: caller.to_string(),
            priority: 0,
            retries_used: 0,
            digits: String::new(),
            deadline: None,
            path: Vec::new(),
            notes: Vec::new(),
            rng: seed | 1,
        }
    }

    /// The first step: the call enters the start block.
    pub fn start(&mut self, office: &dyn Office) -> Step {
        let start = self.scenario.start.clone();
        self.enter(start, office)
    }

    /// The blocks the call has passed, in order ("scenario/block" after a go-to).
    pub fn path(&self) -> &[String] {
        &self.path
    }

    /// Why blocks took their failure exits ("no trunk…"), for the call's log.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The caller's priority as "set priority" left it.
    pub fn priority(&self) -> i32 {
        self.priority
    }

    /// The typed digits so far, for a "dial extension" block.
    pub fn digits(&self) -> &str {
        &self.digits
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    /// Something happened to the call; the next step, or `None` when the call goes on
    /// as it is (a key nobody listens for, a report that came late).
    pub fn handle(&mut self, now: Instant, event: Event, office: &dyn Office) -> Option<Step> {
        match (self.waiting, event) {
            (Waiting::Prompt { .. }, Event::PromptDone) => Some(self.take("next", office)),
            (Waiting::Prompt { barge_in: true }, Event::Key(_)) => Some(self.take("next", office)),
            (Waiting::Key { playing: true }, Event::PromptDone) => {
                self.waiting = Waiting::Key { playing: false };
                self.deadline = Some(now + self.timeout());
                None
            }
            (Waiting::Key { .. }, Event::Key(key)) => Some(self.menu_key(key, office)),
            (Waiting::Digits { playing: true }, Event::PromptDone) => {
                self.waiting = Waiting::Digits { playing: false };
                self.deadline = Some(now + self.timeout());
                None
            }
            (Waiting::Digits { playing }, Event::Key(key)) => {
                if key == '#' {
                    return Some(self.digits_typed(office));
                }
                if !key.is_ascii_digit() {
                    return None;
                }
                self.digits.push(key);
                if self.digits.len() >= MAX_DIGITS {
                    return Some(self.digits_typed(office));
                }
                self.waiting = Waiting::Digits { playing: false };
                self.deadline = Some(now + self.timeout());
                playing.then_some(Step::Silence)
            }
            (Waiting::Ring { next_member }, Event::NoAnswer) => {
                Some(match (next_member, self.kind()) {
                    (Some(i), BlockKind::RingGroup { members, .. }) if i < members.len() => {
                        let member = members[i].clone();
                        self.waiting = Waiting::Ring {
                            next_member: Some(i + 1),
                        };
                        ring_one(&member)
                    }
                    _ => self.take("no-answer", office),
                })
            }
            (Waiting::Queue, Event::QueueLeft(exit)) => Some(self.take(exit.exit(), office)),
            _ => None,
        }
    }

    /// The menu or digit timeout has passed (if it was due).
    pub fn handle_timeout(&mut self, now: Instant, office: &dyn Office) -> Option<Step> {
        if self.deadline.is_none_or(|at| at > now) {
            return None;
        }
        self.deadline = None;
        match self.waiting {
            Waiting::Key { .. } => Some(self.again_or("timeout", office)),
            Waiting::Digits { .. } if self.digits.is_empty() => {
                Some(self.again_or("timeout", office))
            }
            Waiting::Digits { .. } => Some(self.digits_typed(office)),
            _ => None,
        }
    }

    fn kind(&self) -> &BlockKind {
        // Blocks exist: `enter` never stays on a missing one.
        &self.scenario.blocks[&self.block].kind
    }

    fn timeout(&self) -> Duration {
        match self.kind() {
            BlockKind::Menu { timeout, .. } | BlockKind::DialExtension { timeout, .. } => {
                Duration::from_secs((*timeout).into())
            }
            _ => Duration::ZERO,
        }
    }

    fn menu_key(&mut self, key: char, office: &dyn Office) -> Step {
        match self.kind() {
            BlockKind::Menu { keys, .. } if keys.contains(key) => {
                self.take(&key.to_string(), office)
            }
            _ => self.again_or("invalid", office),
        }
    }

    fn digits_typed(&mut self, office: &dyn Office) -> Step {
        self.deadline = None;
        let number = std::mem::take(&mut self.digits);
        if office.is_extension(&number) {
            self.waiting = Waiting::Ring { next_member: None };
            return Step::Ring {
                extensions: vec![number],
                ring: None,
            };
        }
        self.again_or("invalid", office)
    }

    /// A menu or digit prompt is played again while tries remain, else `exit`.
    fn again_or(&mut self, exit: &str, office: &dyn Office) -> Step {
        let retries = match self.kind() {
            BlockKind::Menu { retries, .. } => *retries,
            _ => 0,
        };
        if self.retries_used < retries {
            self.retries_used += 1;
            let block = self.block.clone();
            return self.prompt_block(&block);
        }
        self.take(exit, office)
    }

    /// Leaves the current block by `exit`.
    fn take(&mut self, exit: &str, office: &dyn Office) -> Step {
        match self.exit_target(exit) {
            Ok(next) => self.enter(next, office),
            Err(end) => end,
        }
    }

    /// Where the current block's `exit` leads, or the hang-up when it leads nowhere.
    fn exit_target(&mut self, exit: &str) -> Result<BlockId, Step> {
        match self.scenario.blocks[&self.block].exits.get(exit) {
            Some(next) => Ok(next.clone()),
            None => Err(self.end(format!(
                "exit {exit:?} of block {:?} leads nowhere",
                self.block
            ))),
        }
    }

    /// Runs blocks from `block` until one waits for something.
    fn enter(&mut self, mut block: BlockId, office: &dyn Office) -> Step {
        for _ in 0..MAX_HOPS {
            let Some(Block { kind, .. }) = self.scenario.blocks.get(&block) else {
                return self.end(format!("there is no block {block:?}"));
            };
            let kind = kind.clone();
            self.path.push(block.clone());
            self.block = block;
            self.retries_used = 0;
            self.digits.clear();
            self.deadline = None;
            let exit = match kind {
                BlockKind::PlayAudio { prompt, barge_in } => {
                    self.waiting = Waiting::Prompt { barge_in };
                    return Step::Play { prompt };
                }
                BlockKind::Menu { .. } | BlockKind::DialExtension { .. } => {
                    let block = self.block.clone();
                    return self.prompt_block(&block);
                }
                BlockKind::RingGroup { mode, members } => return self.ring_group(mode, &members),
                BlockKind::CallEmployee { extension } => {
                    self.waiting = Waiting::Ring { next_member: None };
                    return Step::Ring {
                        extensions: vec![extension],
                        ring: None,
                    };
                }
                BlockKind::CallManager => match office.manager_of(&self.caller) {
                    Some(owner) if office.is_online(&owner) => {
                        self.waiting = Waiting::Ring { next_member: None };
                        return Step::Ring {
                            extensions: vec![owner],
                            ring: None,
                        };
                    }
                    _ => "no-manager",
                },
                BlockKind::CallExternal { number } => {
                    self.notes.push(format!(
                        "{number} not called: no trunk to the telephone network is set up"
                    ));
                    "failed"
                }
                BlockKind::CallSipAddress { uri } => {
                    match sip_user(&uri).filter(|u| office.is_extension(u)) {
                        Some(extension) => {
                            self.waiting = Waiting::Ring { next_member: None };
                            return Step::Ring {
                                extensions: vec![extension.to_string()],
                                ring: None,
                            };
                        }
                        None => {
                            self.notes.push(format!(
                                "{uri} not called: only this office's extensions can be \
                                 reached by SIP address until trunks exist"
                            ));
                            "failed"
                        }
                    }
                }
                BlockKind::Schedule { schedule } => match office.schedule_exit(&schedule) {
                    ScheduleExit::Open => "open",
                    ScheduleExit::Closed => "closed",
                    ScheduleExit::Holiday => "holiday",
                },
                BlockKind::NumberCheck { list } => {
                    if office.listed(&list, &self.caller) {
                        "listed"
                    } else {
                        "not-listed"
                    }
                }
                BlockKind::Queue { queue } => {
                    self.waiting = Waiting::Queue;
                    return Step::Queue {
                        queue,
                        priority: self.priority,
                    };
                }
                BlockKind::Voicemail { mailbox } => {
                    self.waiting = Waiting::Done;
                    return Step::Voicemail { mailbox };
                }
                BlockKind::SetPriority { priority } => {
                    self.priority = priority;
                    "next"
                }
                BlockKind::GoTo { scenario } => match office.scenario(&scenario) {
                    Some(next) => {
                        block = next.start.clone();
                        self.scenario = next;
                        continue;
                    }
                    None => return self.end(format!("there is no scenario {scenario:?}")),
                },
                BlockKind::HangUp => {
                    let reason = format!("hung up by block {:?}", self.block);
                    return self.end(reason);
                }
            };
            block = match self.exit_target(exit) {
                Ok(next) => next,
                Err(end) => return end,
            };
        }
        self.end(format!(
            "the scenario passed {MAX_HOPS} blocks without waiting for the caller"
        ))
    }

    /// Plays a menu's or digit block's prompt (again).
    fn prompt_block(&mut self, block: &str) -> Step {
        let (prompt, waiting) = match &self.scenario.blocks[block].kind {
            BlockKind::Menu { prompt, .. } => (prompt, Waiting::Key { playing: true }),
            BlockKind::DialExtension { prompt, .. } => (prompt, Waiting::Digits { playing: true }),
            _ => return self.end(format!("block {block:?} asks nothing")),
        };
        let prompt = prompt.clone();
        self.waiting = waiting;
        self.digits.clear();
        self.deadline = None;
        Step::Play { prompt }
    }

    fn ring_group(&mut self, mode: RingMode, members: &[RingMember]) -> Step {
        let (step, next_member) = match mode {
            RingMode::AllAtOnce => (
                Step::Ring {
                    extensions: members.iter().map(|m| m.extension.clone()).collect(),
                    ring: members
                        .iter()
                        .map(|m| Duration::from_secs(m.ring.into()))
                        .max(),
                },
                None,
            ),
            RingMode::InOrder => match members.first() {
                Some(first) => (ring_one(first), Some(1)),
                None => (
                    Step::Ring {
                        extensions: Vec::new(),
                        ring: None,
                    },
                    None,
                ),
            },
            RingMode::Random => match self.pick_by_weight(members) {
                Some(member) => (ring_one(member), None),
                None => (
                    Step::Ring {
                        extensions: Vec::new(),
                        ring: None,
                    },
                    None,
                ),
            },
        };
        self.waiting = Waiting::Ring { next_member };
        step
    }

    fn pick_by_weight<'m>(&mut self, members: &'m [RingMember]) -> Option<&'m RingMember> {
        let total: u64 = members.iter().map(|m| u64::from(m.weight)).sum();
        if total == 0 {
            return members.first();
        }
        let mut roll = self.next_random() % total;
        members.iter().find(|m| {
            let weight = u64::from(m.weight);
            if roll < weight {
                return true;
            }
            roll -= weight;
            false
        })
    }

    /// xorshift64*: enough to spread calls by percentage, and repeatable in tests.
    fn next_random(&mut self) -> u64 {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn end(&mut self, reason: String) -> Step {
        self.waiting = Waiting::Done;
        self.deadline = None;
        Step::HangUp { reason }
    }
}

fn ring_one(member: &RingMember) -> Step {
    Step::Ring {
        extensions: vec![member.extension.clone()],
        ring: Some(Duration::from_secs(member.ring.into())),
    }
}

/// The user part of a `sip:` address.
fn sip_user(uri: &str) -> Option<&str> {
    let rest = uri.strip_prefix("sip:").unwrap_or(uri);
    rest.split_once('@').map(|(user, _)| user)
}

#[cfg(test)]
mod tests;
