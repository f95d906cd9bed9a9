//! Every command of the phone as one value, so that a shell (the desktop app) passes
//! the panel's clicks through one door instead of a function each.

use std::time::Instant;

use crate::{LineId, Phone, PhoneError};

#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(tag = "action", rename_all = "snake_case")
)]
pub enum Action {
    Dial {
        number: String,
    },
    Answer {
        line: LineId,
    },
    Reject {
        line: LineId,
    },
    HangUp {
        line: LineId,
    },
    Hold {
        line: LineId,
    },
    /// Takes a line off hold, holding the one being talked on (swap).
    Resume {
        line: LineId,
    },
    Key {
        line: LineId,
        key: char,
    },
    Transfer {
        line: LineId,
        target: String,
    },
    Mute {
        muted: bool,
    },
}

impl Phone {
    /// Carries out `action`; a call placed says on which line.
    pub fn act(&mut self, now: Instant, action: Action) -> Result<Option<LineId>, PhoneError> {
        match action {
            Action::Dial { number } => return self.dial(now, &number).map(Some),
            Action::Answer { line } => self.answer(now, line)?,
            Action::Reject { line } => self.reject(now, line)?,
            Action::HangUp { line } => self.hang_up(now, line)?,
            Action::Hold { line } => self.hold(now, line)?,
            Action::Resume { line } => self.resume(now, line)?,
            Action::Key { line, key } => self.send_key(now, line, key)?,
            Action::Transfer { line, target } => self.transfer(now, line, &target)?,
            Action::Mute { muted } => self.set_muted(muted),
        }
        Ok(None)
    }
}
