//! A supervisor's phone joins an agent's call: `*90` and the agent's extension listens
//! (nobody hears the supervisor), `*91` whispers (the agent alone hears them), `*92`
//! barges in (both hear them). Only extensions the office names as supervisors may;
//! their phones have proved who they are with their SIP passwords. The agent's call
//! is split through a room for as long as anyone listens (see the media edge), and
//! its record tells who listened and how.

use std::collections::{HashMap, HashSet};

use switchboard_media::relay::Side;

use super::Ctx;
use crate::legs::LegEvent;
use crate::record::{HangupBy, Outcome};
use crate::vocabulary::{CallKey, MediaCommand, RoomPart};

/// How a supervisor takes part in an agent's call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum How {
    Listen,
    Whisper,
    Barge,
}

impl How {
    /// The feature code, then the extension: `*90101` listens to 101.
    pub fn from_number(dialled: &str) -> Option<(How, &str)> {
        let how = match dialled.get(..3)? {
            "*90" => How::Listen,
            "*91" => How::Whisper,
            "*92" => How::Barge,
            _ => return None,
        };
        let extension = &dialled[3..];
        (!extension.is_empty() && extension.bytes().all(|b| b.is_ascii_digit()))
            .then_some((how, extension))
    }

    fn done(self) -> &'static str {
        match self {
            How::Listen => "listened",
            How::Whisper => "whispered to the agent",
            How::Barge => "barged in",
        }
    }
}

/// A supervisor's call and the call it joined.
#[derive(Debug)]
struct Watching {
    watched: CallKey,
}

#[derive(Debug, Default)]
pub(crate) struct Supervision {
    supervisors: HashSet<String>,
    watching: HashMap<CallKey, Watching>,
}

/// The room a watched call's legs talk through.
fn room(watched: CallKey) -> String {
    format!("watched-{watched}")
}

impl Supervision {
    pub fn set_supervisors(&mut self, extensions: Vec<String>) {
        self.supervisors = extensions.into_iter().collect();
    }

    pub fn may_supervise(&self, extension: &str) -> bool {
        self.supervisors.contains(extension)
    }

    /// Answers supervisor call `key` and joins it to call `watched`, in which the agent
    /// is on `agent`'s side.
    pub fn start(
        &mut self,
        cx: &mut Ctx<'_>,
        key: CallKey,
        (watched, agent): (CallKey, Side),
        how: How,
    ) {
        if !cx.legs.answer_held(cx.now, key) {
            return;
        }
        let (Some(media), Some(legs)) = (
            cx.legs.caller_media(key),
            cx.legs.calls.get(&watched).and_then(|c| c.media),
        ) else {
            return;
        };
        let supervisor = cx.legs.calls.get(&key).map(|c| c.caller.clone());
        let supervisor = supervisor.unwrap_or_default();
        let room = room(watched);
        if !self.watching.values().any(|w| w.watched == watched) {
            cx.legs.media(MediaCommand::Monitor {
                call: watched,
                room: room.clone(),
                a: legs[0],
                b: legs[1],
            });
        }
        self.watching.insert(key, Watching { watched });
        let part = match how {
            How::Listen => RoomPart::Listens,
            How::Whisper => RoomPart::WhispersTo {
                call: watched,
                side: agent,
            },
            How::Barge => RoomPart::Talks,
        };
        cx.legs.media(MediaCommand::Conference {
            call: key,
            room,
            media,
            part,
            announced: false,
        });
        cx.legs
            .note(watched, format!("supervisor {supervisor} {}", how.done()));
    }

    pub fn call_event(&mut self, cx: &mut Ctx<'_>, event: LegEvent) {
        match event {
            LegEvent::Closed { call, .. } => self.closed(cx, call),
            LegEvent::Key { .. } | LegEvent::Played { .. } | LegEvent::Wake { .. } => {}
            other => cx.legs.end_held(cx.now, &other),
        }
    }

    /// A supervisor's call ended: it leaves, and the watched call is whole again once
    /// nobody watches it. A watched call ended: its supervisors are hung up on.
    fn closed(&mut self, cx: &mut Ctx<'_>, call: CallKey) {
        if let Some(Watching { watched }) = self.watching.remove(&call) {
            let room = room(watched);
            cx.legs.media(MediaCommand::LeaveConference {
                call,
                room: room.clone(),
            });
            let watched_still = self.watching.values().any(|w| w.watched == watched);
            if !watched_still && cx.legs.calls.contains_key(&watched) {
                cx.legs.media(MediaCommand::Unmonitor {
                    call: watched,
                    room,
                });
            }
            return;
        }
        let supervisors: Vec<CallKey> = self
            .watching
            .iter()
            .filter(|(_, w)| w.watched == call)
            .map(|(&k, _)| k)
            .collect();
        if supervisors.is_empty() {
            return;
        }
        cx.legs.media(MediaCommand::Unmonitor {
            call,
            room: room(call),
        });
        for supervisor in supervisors {
            let (d, by) = (Outcome::Answered, HangupBy::System);
            let why = "The call listened to ended";
            cx.legs.end_alone(cx.now, supervisor, d, by, 200, why);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_90_to_92_name_how_and_whom() {
        assert_eq!(How::from_number("*90101"), Some((How::Listen, "101")));
        assert_eq!(How::from_number("*91101"), Some((How::Whisper, "101")));
        assert_eq!(How::from_number("*92101"), Some((How::Barge, "101")));
        for not in ["*90", "*93101", "*9010a", "90101", "*97101", "*9"] {
            assert_eq!(How::from_number(not), None, "{not}");
        }
    }
}
