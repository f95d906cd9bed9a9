//! The checks a draft passes before it is published: every setting names something the
//! office has, every exit leads to a block, every block can be reached, and no loop
//! spins without waiting for the caller. Each problem names the block and setting.

use std::collections::{BTreeSet, VecDeque};

use crate::SettingError;
use crate::model::{BlockId, BlockKind, RingMode, Scenario};

/// What a scenario may refer to, as the office has it set up.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    pub prompts: BTreeSet<String>,
    pub extensions: BTreeSet<String>,
    pub queues: BTreeSet<String>,
    pub lists: BTreeSet<String>,
    pub schedules: BTreeSet<String>,
    pub mailboxes: BTreeSet<String>,
    pub scenarios: BTreeSet<String>,
}

const MENU_KEYS: &str = "0123456789*#";

/// Every problem in `scenario`, in block order; none means it can be published.
pub fn validate(scenario: &Scenario, known: &Catalogue) -> Vec<SettingError> {
    let mut errors = Vec::new();
    if !scenario.blocks.contains_key(&scenario.start) {
        errors.push(SettingError::new(
            "start",
            format!("there is no block {:?}", scenario.start),
        ));
    }
    for (id, block) in &scenario.blocks {
        let at = |setting: &str| format!("blocks.{id}.{setting}");
        check_settings(&block.kind, known, &at, &mut errors);
        let exits = block.kind.exits();
        for exit in &exits {
            match block.exits.get(exit) {
                None => errors.push(SettingError::new(
                    at(&format!("exits.{exit}")),
                    "leads nowhere: connect it to a block",
                )),
                Some(target) if !scenario.blocks.contains_key(target) => {
                    errors.push(SettingError::new(
                        at(&format!("exits.{exit}")),
                        format!("leads to {target:?}, which does not exist"),
                    ))
                }
                Some(_) => {}
            }
        }
        for exit in block.exits.keys().filter(|e| !exits.contains(e)) {
            errors.push(SettingError::new(
                at(&format!("exits.{exit}")),
                "this block has no such exit",
            ));
        }
    }
    let reached = reachable(scenario);
    for id in scenario.blocks.keys().filter(|id| !reached.contains(*id)) {
        errors.push(SettingError::new(
            format!("blocks.{id}"),
            "no exit leads here: the block can never run",
        ));
    }
    for cycle in spinning_loops(scenario) {
        errors.push(SettingError::new(
            format!("blocks.{}", cycle[0]),
            format!(
                "the loop {} never waits for the caller: put a menu or a call in it",
                cycle.join(" → ")
            ),
        ));
    }
    errors
}

fn check_settings(
    kind: &BlockKind,
    known: &Catalogue,
    at: &dyn Fn(&str) -> String,
    errors: &mut Vec<SettingError>,
) {
    let mut need = |setting: &str, value: &str, set: &BTreeSet<String>, what: &str| {
        if !set.contains(value) {
            errors.push(SettingError::new(
                at(setting),
                format!("there is no {what} {value:?}"),
            ));
        }
    };
    match kind {
        BlockKind::PlayAudio { prompt, .. } | BlockKind::DialExtension { prompt, .. } => {
            need("prompt", prompt, &known.prompts, "prompt")
        }
        BlockKind::Menu { prompt, .. } => need("prompt", prompt, &known.prompts, "prompt"),
        BlockKind::CallEmployee { extension } => {
            need("extension", extension, &known.extensions, "extension")
        }
        BlockKind::RingGroup { members, .. } => {
            for (i, m) in members.iter().enumerate() {
                let setting = format!("members[{i}].extension");
                need(&setting, &m.extension, &known.extensions, "extension");
            }
        }
        BlockKind::Schedule { schedule } => {
            need("schedule", schedule, &known.schedules, "schedule")
        }
        BlockKind::NumberCheck { list } => need("list", list, &known.lists, "number list"),
        BlockKind::Queue { queue } => need("queue", queue, &known.queues, "queue"),
        BlockKind::Voicemail { mailbox } => {
            need("mailbox", mailbox, &known.mailboxes, "voicemail box")
        }
        BlockKind::GoTo { scenario } => need("scenario", scenario, &known.scenarios, "scenario"),
        _ => {}
    }
    let mut bad =
        |setting: &str, message: String| errors.push(SettingError::new(at(setting), message));
    match kind {
        BlockKind::Menu {
            keys,
            timeout,
            retries,
            ..
        } => {
            let mut seen = BTreeSet::new();
            if keys.is_empty()
                || keys
                    .chars()
                    .any(|k| !MENU_KEYS.contains(k) || !seen.insert(k))
            {
                bad(
                    "keys",
                    format!("use each of {MENU_KEYS} at most once, at least one"),
                );
            }
            if !(1..=60).contains(timeout) {
                bad("timeout", "seconds from 1 to 60".into());
            }
            if *retries > 5 {
                bad("retries", "at most 5".into());
            }
        }
        BlockKind::DialExtension { timeout, .. } if !(1..=60).contains(timeout) => {
            bad("timeout", "seconds from 1 to 60".into())
        }
        BlockKind::RingGroup { mode, members } => {
            if members.is_empty() {
                bad("members", "name at least one extension".into());
            }
            for (i, m) in members.iter().enumerate() {
                if !(5..=600).contains(&m.ring) {
                    bad(
                        &format!("members[{i}].ring"),
                        "seconds from 5 to 600".into(),
                    );
                }
            }
            let total: u32 = members.iter().map(|m| m.weight).sum();
            if *mode == RingMode::Random && !members.is_empty() && total != 100 {
                bad(
                    "members",
                    format!("the weights add up to {total}%, not 100%"),
                );
            }
        }
        BlockKind::SetPriority { priority } if !(0..=100).contains(priority) => {
            bad("priority", "from 0 to 100".into())
        }
        _ => {}
    }
}

fn reachable(scenario: &Scenario) -> BTreeSet<&BlockId> {
    let mut seen = BTreeSet::new();
    let mut next = VecDeque::from([&scenario.start]);
    while let Some(id) = next.pop_front() {
        let Some(block) = scenario.blocks.get(id) else {
            continue;
        };
        if seen.insert(id) {
            next.extend(block.exits.values());
        }
    }
    seen
}

/// Cycles made only of blocks that pass straight through.
fn spinning_loops(scenario: &Scenario) -> Vec<Vec<String>> {
    let mut finder = LoopFinder {
        scenario,
        path: Vec::new(),
        done: BTreeSet::new(),
        loops: Vec::new(),
    };
    for id in scenario.blocks.keys() {
        finder.walk(id);
    }
    finder.loops
}

/// A depth-first walk over pass-through blocks: a block met again on the current path
/// closes a loop.
struct LoopFinder<'a> {
    scenario: &'a Scenario,
    path: Vec<&'a BlockId>,
    done: BTreeSet<&'a BlockId>,
    loops: Vec<Vec<String>>,
}

impl<'a> LoopFinder<'a> {
    fn walk(&mut self, id: &'a BlockId) {
        let Some(block) = self.scenario.blocks.get(id) else {
            return;
        };
        if let Some(start) = self.path.iter().position(|b| *b == id) {
            let mut cycle: Vec<String> = self.path[start..].iter().map(|b| b.to_string()).collect();
            cycle.push(id.clone());
            self.loops.push(cycle);
            return;
        }
        if self.done.contains(id) || !block.kind.passes_through() {
            return;
        }
        self.path.push(id);
        for next in block.exits.values() {
            self.walk(next);
        }
        self.path.pop();
        self.done.insert(id);
    }
}

#[cfg(test)]
mod tests;
