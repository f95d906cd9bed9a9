//! Transfer by keys, for phones that cannot send REFER (analogue adapters, simple
//! phones): during a call an office phone types a transfer code, hears "transfer: dial
//! the number, then the pound key" while the other party hears music, then types the
//! number and `#` (or stops typing for a few seconds). After the blind-transfer code
//! (`##`, as most PBXs have it) the other party is put through as by a blind transfer;
//! after the attended-transfer code (`*2`) the phone first talks to the number while
//! the other party waits (see [`super::consult`]). `*` before the number is done gives
//! up. The record code (`*1`) needs no number: it starts recording a call whose rules
//! allow it, and pauses and resumes it. Keys pass on to the other party as they are
//! typed: they are watched, not withheld.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use switchboard_media::relay::Side;

use super::Ctx;
use crate::vocabulary::{CallKey, MediaCommand, Word};

/// The blind-transfer code when the configuration does not say.
pub const DEFAULT_CODE: &str = "##";
/// The attended-transfer code when the configuration does not say.
pub const DEFAULT_ATTENDED_CODE: &str = "*2";
/// Keys of a code typed further apart than this do not make it.
const BETWEEN_KEYS: Duration = Duration::from_secs(2);
/// The number is complete once no key has come for this long.
const NUMBER_DONE: Duration = Duration::from_secs(5);
/// The longest number read.
const MAX_NUMBER: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Typing {
    /// The keys typed so far that may begin a code, the last at `at`.
    Code { keys: String, at: Instant },
    /// A code is typed: the number so far, the last key at `at`.
    Number {
        digits: String,
        attended: bool,
        at: Instant,
    },
}

/// What the engine does after a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyStep {
    Nothing,
    /// Put the other party through to `number`, as `side`'s phone transferring;
    /// `attended`: after talking to them.
    Transfer {
        side: Side,
        number: String,
        attended: bool,
    },
    /// `side`'s phone typed the record code: start, pause or go on recording.
    Record {
        side: Side,
    },
}

/// What a code typed during a call does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Code {
    Blind,
    Attended,
    Record,
}

#[derive(Debug)]
pub(crate) struct KeyTransfers {
    /// Empty: off.
    blind: String,
    attended: String,
    record: String,
    typing: HashMap<(CallKey, Side), Typing>,
}

impl Default for KeyTransfers {
    fn default() -> Self {
        KeyTransfers {
            blind: DEFAULT_CODE.to_string(),
            attended: DEFAULT_ATTENDED_CODE.to_string(),
            record: crate::recording::DEFAULT_RECORD_CODE.to_string(),
            typing: HashMap::new(),
        }
    }
}

impl KeyTransfers {
    /// The blind- and attended-transfer codes; an empty one is off.
    pub fn set_codes(&mut self, blind: String, attended: String) {
        (self.blind, self.attended) = (blind, attended);
        self.typing.clear();
    }

    /// The code that starts, pauses and resumes recording a call; empty: off.
    pub fn set_record_code(&mut self, code: String) {
        self.record = code;
        self.typing.clear();
    }

    pub fn is_typing(&self, call: CallKey) -> bool {
        self.typing.keys().any(|&(c, _)| c == call)
    }

    /// `side`'s phone (an office phone) of answered call `call` pressed `key`.
    pub fn pressed(&mut self, cx: &mut Ctx<'_>, call: CallKey, side: Side, key: char) -> KeyStep {
        let now = cx.now;
        let typing = self.typing.remove(&(call, side));
        match typing {
            Some(Typing::Number {
                mut digits,
                attended,
                ..
            }) => {
                match key {
                    '#' if !digits.is_empty() => {
                        return KeyStep::Transfer {
                            side,
                            number: digits,
                            attended,
                        };
                    }
                    // Giving up goes back to the call as it was.
                    '*' if digits.is_empty() => return KeyStep::Nothing,
                    _ if digits.len() < MAX_NUMBER => digits.push(key),
                    _ => {}
                }
                let typing = Typing::Number {
                    digits,
                    attended,
                    at: now,
                };
                self.typing.insert((call, side), typing);
                cx.legs.wake_at(call, now + NUMBER_DONE);
            }
            other => {
                let mut keys = match other {
                    Some(Typing::Code { keys, at }) if now.duration_since(at) <= BETWEEN_KEYS => {
                        keys
                    }
                    _ => String::new(),
                };
                keys.push(key);
                let codes = [
                    (&self.blind, Code::Blind),
                    (&self.attended, Code::Attended),
                    (&self.record, Code::Record),
                ];
                let codes = codes.into_iter().filter(|(c, _)| !c.is_empty());
                // The longest tail of the keys that is still the start of a code: a key
                // that breaks one code may start it, or another, again.
                let typed = (0..keys.len()).find_map(|from| {
                    let tail = &keys[from..];
                    let mut begun = codes.clone().filter(|(c, _)| c.starts_with(tail));
                    begun
                        .next()
                        .map(|(c, code)| (tail, c.len() == tail.len(), code))
                });
                match typed {
                    Some((_, true, Code::Record)) => return KeyStep::Record { side },
                    Some((_, true, code)) => {
                        let typing = Typing::Number {
                            digits: String::new(),
                            attended: code == Code::Attended,
                            at: now,
                        };
                        self.typing.insert((call, side), typing);
                        cx.legs.media(MediaCommand::Say {
                            call,
                            to: side,
                            words: vec![Word::TransferTo],
                        });
                        cx.legs.wake_at(call, now + NUMBER_DONE);
                    }
                    Some((tail, false, _)) => {
                        let keys = tail.to_string();
                        self.typing
                            .insert((call, side), Typing::Code { keys, at: now });
                    }
                    None => {}
                }
            }
        }
        KeyStep::Nothing
    }

    /// A wake-up for `call`: a number nobody ended with `#` is complete once its phone
    /// stopped typing; one never begun gives up.
    pub fn wake(&mut self, now: Instant, call: CallKey) -> KeyStep {
        let due = self.typing.iter().find_map(|(&(c, side), t)| match t {
            Typing::Number {
                digits,
                attended,
                at,
            } if c == call && now >= *at + NUMBER_DONE => Some((side, digits.clone(), *attended)),
            _ => None,
        });
        let Some((side, number, attended)) = due else {
            return KeyStep::Nothing;
        };
        self.typing.remove(&(call, side));
        if number.is_empty() {
            return KeyStep::Nothing;
        }
        KeyStep::Transfer {
            side,
            number,
            attended,
        }
    }

    /// The call is gone, or passed on.
    pub fn forget(&mut self, call: CallKey) {
        self.typing.retain(|&(c, _), _| c != call);
    }
}
