//! Conference rooms: an office phone dials a room's number and talks with everyone in
//! it. A room with a PIN asks for it first (three tries); a full room says so and
//! hangs up; the first one in hears that they are alone, then waits for the others.
//! The media edge mixes the room (see `switchboard_media::conference`): each member
//! hears the others in their own codec, never themself, and a chime when someone joins
//! or leaves.

use std::collections::HashMap;
use std::time::Duration;

use super::Ctx;
use crate::legs::LegEvent;
use crate::record::{HangupBy, Outcome};
use crate::vocabulary::{CallKey, MediaCommand, RoomPart, Sound};

/// Wrong PINs before Switchboard hangs up.
const PIN_TRIES: u8 = 3;
/// The longest PIN read; more digits count as a wrong PIN.
const MAX_PIN: usize = 12;
/// How long a caller asked for the PIN may take to type it.
const PIN_WAIT: Duration = Duration::from_secs(20);

/// A room as the configuration gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConferenceRoom {
    pub number: String,
    pub name: String,
    /// Digits a caller types (then `#`) to get in; none: any office phone gets in.
    pub pin: Option<String>,
    /// The most callers in at once.
    pub max_members: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Stage {
    /// Asked for the PIN (or told it was wrong and asked again).
    Pin {
        typed: String,
        wrong: u8,
    },
    /// Told they are the first one in; they join once it is said.
    Alone,
    In,
    /// Told why they cannot join, then hung up on with `reason`.
    Leaving {
        reason: String,
    },
}

#[derive(Debug)]
struct Caller {
    room: String,
    stage: Stage,
}

#[derive(Debug, Default)]
pub(crate) struct Conferences {
    rooms: HashMap<String, ConferenceRoom>,
    /// Who is in each room, in the order they joined.
    members: HashMap<String, Vec<CallKey>>,
    callers: HashMap<CallKey, Caller>,
}

impl Conferences {
    /// The office's rooms; people in a room that is gone stay until they hang up.
    pub fn set(&mut self, rooms: Vec<ConferenceRoom>) {
        self.rooms = rooms.into_iter().map(|r| (r.number.clone(), r)).collect();
    }

    pub fn is_room(&self, number: &str) -> bool {
        self.rooms.contains_key(number)
    }

    /// Who is in room `number`, in the order they joined.
    pub fn members(&self, number: &str) -> &[CallKey] {
        self.members.get(number).map_or(&[], Vec::as_slice)
    }

    /// Whether room `number` has as many in it (or about to be, told they are the
    /// first) as it takes.
    pub fn is_full(&self, number: &str) -> bool {
        let max = self.rooms.get(number).map_or(0, |r| r.max_members);
        self.occupants(number) >= max
    }

    /// Those in room `number` and the one being told they are the first.
    fn occupants(&self, number: &str) -> usize {
        let first = self
            .callers
            .values()
            .filter(|c| c.room == number && c.stage == Stage::Alone)
            .count();
        self.members(number).len() + first
    }

    /// Answers the caller who dialled room `number`; one `vouched` for (transferred
    /// in by an office phone) is not asked the PIN.
    pub fn open(&mut self, cx: &mut Ctx<'_>, key: CallKey, number: &str, vouched: bool) {
        let Some(room) = self.rooms.get(number) else {
            return;
        };
        if !cx.legs.answer_held(cx.now, key) {
            return;
        }
        let stage = if room.pin.is_some() && !vouched {
            Stage::Pin {
                typed: String::new(),
                wrong: 0,
            }
        } else {
            Stage::In
        };
        let asks = stage != Stage::In;
        self.callers.insert(
            key,
            Caller {
                room: number.to_string(),
                stage,
            },
        );
        if asks {
            cx.legs.play(key, vec![named("conf_enter_pin")]);
        } else {
            self.enter(cx, key);
        }
    }

    pub fn call_event(&mut self, cx: &mut Ctx<'_>, event: LegEvent) {
        match event {
            LegEvent::Key { call, key } => self.key(cx, call, key),
            LegEvent::Played { call } => self.played(cx, call),
            LegEvent::Wake { call } => {
                if let Some(Stage::Pin { .. }) = self.callers.get(&call).map(|c| &c.stage) {
                    self.wrong_pin(cx, call);
                }
            }
            LegEvent::Closed { call, .. } => self.closed(cx, call),
            other => cx.legs.end_held(cx.now, &other),
        }
    }

    fn key(&mut self, cx: &mut Ctx<'_>, key: CallKey, pressed: char) {
        let Some(caller) = self.callers.get_mut(&key) else {
            return;
        };
        let Stage::Pin { typed, .. } = &mut caller.stage else {
            return;
        };
        if pressed == '#' {
            let typed = std::mem::take(typed);
            let right = self
                .rooms
                .get(&caller.room)
                .and_then(|r| r.pin.as_deref())
                .is_some_and(|pin| pin == typed);
            if right {
                return self.enter(cx, key);
            }
            return self.wrong_pin(cx, key);
        }
        if pressed.is_ascii_digit() {
            typed.push(pressed);
            if typed.len() > MAX_PIN {
                typed.clear();
                self.wrong_pin(cx, key);
            } else {
                cx.legs.wake_at(key, cx.now + PIN_WAIT);
            }
        }
    }

    fn wrong_pin(&mut self, cx: &mut Ctx<'_>, key: CallKey) {
        let Some(caller) = self.callers.get_mut(&key) else {
            return;
        };
        let Stage::Pin { wrong, typed } = &mut caller.stage else {
            return;
        };
        *wrong += 1;
        typed.clear();
        if *wrong >= PIN_TRIES {
            let reason = format!("Conference {}: wrong PIN {PIN_TRIES} times", caller.room);
            return self.refuse(cx, key, reason, "vm_wrong_pin");
        }
        cx.legs
            .play(key, vec![named("vm_wrong_pin"), named("conf_enter_pin")]);
    }

    /// Puts the caller in their room, unless it is full; the first one in is told
    /// they are alone before joining.
    fn enter(&mut self, cx: &mut Ctx<'_>, key: CallKey) {
        let Some(caller) = self.callers.get_mut(&key) else {
            return;
        };
        let number = caller.room.clone();
        // The first one in kept their place while they were told so.
        let was_first = caller.stage == Stage::Alone;
        if !was_first {
            if self.is_full(&number) {
                let reason = format!("Conference {number} is full");
                return self.refuse(cx, key, reason, "conf_full");
            }
            if self.occupants(&number) == 0 {
                if let Some(caller) = self.callers.get_mut(&key) {
                    caller.stage = Stage::Alone;
                }
                return cx.legs.play(key, vec![named("conf_alone")]);
            }
        }
        let Some(caller) = self.callers.get_mut(&key) else {
            return;
        };
        let Some(media) = cx.legs.caller_media(key) else {
            return;
        };
        caller.stage = Stage::In;
        self.members.entry(number.clone()).or_default().push(key);
        cx.legs.note(key, format!("joined conference {number}"));
        cx.legs.media(MediaCommand::Conference {
            call: key,
            room: number,
            media,
            part: RoomPart::Talks,
            announced: true,
        });
    }

    fn played(&mut self, cx: &mut Ctx<'_>, key: CallKey) {
        let Some(caller) = self.callers.get(&key) else {
            return;
        };
        match &caller.stage {
            Stage::Pin { .. } => cx.legs.wake_at(key, cx.now + PIN_WAIT),
            Stage::Alone => self.enter(cx, key),
            Stage::Leaving { reason } => {
                let reason = reason.clone();
                let (d, by) = (Outcome::Answered, HangupBy::System);
                cx.legs.end_alone(cx.now, key, d, by, 200, &reason);
            }
            Stage::In => {}
        }
    }

    /// Says why the caller cannot join, then goodbye; the record gives `reason`.
    fn refuse(&mut self, cx: &mut Ctx<'_>, key: CallKey, reason: String, said: &str) {
        if let Some(caller) = self.callers.get_mut(&key) {
            caller.stage = Stage::Leaving { reason };
        }
        cx.legs.play(key, vec![named(said), named("goodbye")]);
    }

    fn closed(&mut self, cx: &mut Ctx<'_>, key: CallKey) {
        let Some(caller) = self.callers.remove(&key) else {
            return;
        };
        if caller.stage != Stage::In {
            return;
        }
        if let Some(members) = self.members.get_mut(&caller.room) {
            members.retain(|&k| k != key);
            if members.is_empty() {
                self.members.remove(&caller.room);
            }
        }
        cx.legs.media(MediaCommand::LeaveConference {
            call: key,
            room: caller.room,
        });
    }
}

fn named(prompt: &str) -> Sound {
    Sound::Named(prompt.into())
}
