//! Transfer by keys, for phones that cannot send REFER (analogue adapters, simple
//! phones): during a call an office phone types the transfer code (`##`, as most PBXs
//! have it), hears "transfer: dial the number, then the pound key" while the other
//! party hears music, then types the number and `#` (or stops typing for a few
//! seconds); the other party is put through as by a blind transfer. `*` before the
//! number is done gives up. Keys pass on to the other party as they are typed: they
//! are watched, not withheld.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use switchboard_media::relay::Side;

use super::Ctx;
use crate::vocabulary::{CallKey, MediaCommand, Word};

/// The code when the configuration does not say.
pub const DEFAULT_CODE: &str = "##";
/// Keys of a code typed further apart than this do not make it.
const BETWEEN_KEYS: Duration = Duration::from_secs(2);
/// The number is complete once no key has come for this long.
const NUMBER_DONE: Duration = Duration::from_secs(5);
/// The longest number read.
const MAX_NUMBER: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Typing {
    /// The first `n` keys of the code, the last at `at`.
    Code { n: usize, at: Instant },
    /// The code is typed: the number so far, the last key at `at`.
    Number { digits: String, at: Instant },
}

/// What the engine does after a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyStep {
    Nothing,
    /// Put the other party through to `number`, as `side`'s phone transferring.
    Transfer {
        side: Side,
        number: String,
    },
}

#[derive(Debug)]
pub(crate) struct KeyTransfers {
    /// Empty: off.
    code: String,
    typing: HashMap<(CallKey, Side), Typing>,
}

impl Default for KeyTransfers {
    fn default() -> Self {
        KeyTransfers {
            code: DEFAULT_CODE.to_string(),
            typing: HashMap::new(),
        }
    }
}

impl KeyTransfers {
    pub fn set_code(&mut self, code: String) {
        self.code = code;
        self.typing.clear();
    }

    pub fn is_typing(&self, call: CallKey) -> bool {
        self.typing.keys().any(|&(c, _)| c == call)
    }

    /// `side`'s phone (an office phone) of answered call `call` pressed `key`.
    pub fn pressed(&mut self, cx: &mut Ctx<'_>, call: CallKey, side: Side, key: char) -> KeyStep {
        if self.code.is_empty() {
            return KeyStep::Nothing;
        }
        let now = cx.now;
        let code: Vec<char> = self.code.chars().collect();
        let typing = self.typing.remove(&(call, side));
        match typing {
            Some(Typing::Number { mut digits, .. }) => {
                match key {
                    '#' if !digits.is_empty() => {
                        return KeyStep::Transfer {
                            side,
                            number: digits,
                        };
                    }
                    // Giving up goes back to the call as it was.
                    '*' if digits.is_empty() => return KeyStep::Nothing,
                    _ if digits.len() < MAX_NUMBER => digits.push(key),
                    _ => {}
                }
                self.typing
                    .insert((call, side), Typing::Number { digits, at: now });
                cx.legs.wake_at(call, now + NUMBER_DONE);
            }
            other => {
                let so_far = match other {
                    Some(Typing::Code { n, at }) if now.duration_since(at) <= BETWEEN_KEYS => n,
                    _ => 0,
                };
                // A key that breaks the code may start it again.
                let n = if code.get(so_far) == Some(&key) {
                    so_far + 1
                } else {
                    usize::from(code.first() == Some(&key))
                };
                if n == code.len() {
                    let digits = String::new();
                    self.typing
                        .insert((call, side), Typing::Number { digits, at: now });
                    cx.legs.media(MediaCommand::Say {
                        call,
                        to: side,
                        words: vec![Word::TransferTo],
                    });
                    cx.legs.wake_at(call, now + NUMBER_DONE);
                } else if n > 0 {
                    self.typing
                        .insert((call, side), Typing::Code { n, at: now });
                }
            }
        }
        KeyStep::Nothing
    }

    /// A wake-up for `call`: a number nobody ended with `#` is complete once its phone
    /// stopped typing; one never begun gives up.
    pub fn wake(&mut self, now: Instant, call: CallKey) -> KeyStep {
        let due = self.typing.iter().find_map(|(&(c, side), t)| match t {
            Typing::Number { digits, at } if c == call && now >= *at + NUMBER_DONE => {
                Some((side, digits.clone()))
            }
            _ => None,
        });
        let Some((side, number)) = due else {
            return KeyStep::Nothing;
        };
        self.typing.remove(&(call, side));
        if number.is_empty() {
            return KeyStep::Nothing;
        }
        KeyStep::Transfer { side, number }
    }

    /// The call is gone, or passed on.
    pub fn forget(&mut self, call: CallKey) {
        self.typing.retain(|&(c, _), _| c != call);
    }
}
