//! A supervisor's phone joins an agent's call: `*90` and the agent's extension listens
//! (nobody hears the supervisor), `*91` whispers (the agent alone hears them), `*92`
//! barges in (both hear them). Only extensions the office names as supervisors may;
//! their phones have proved who they are with their SIP passwords. The agent's call
//! is split through a room for as long as anyone listens (see the media edge), and
//! its record tells who listened and how. From the wallboard the admin does the same
//! through any extension's phone: Switchboard rings it, and once answered it joins.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use switchboard_media::relay::{LegMedia, Side};

use super::Ctx;
use crate::legs::{LegEvent, NotPlaced, Placing, answered_media};
use crate::record::{HangupBy, Outcome};
use crate::vocabulary::{CallKey, MediaCommand, RoomPart};

/// How long a supervisor's phone rung from the panel rings.
const RINGS: Duration = Duration::from_secs(30);

/// How a supervisor takes part in an agent's call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    Listen,
    Whisper,
    Barge,
}

impl How {
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
    /// Supervisors' phones rung from the panel: the call each will join, the agent's
    /// side in it, and how.
    ringing: HashMap<CallKey, (CallKey, Side, How)>,
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

    /// Whether a supervisor listens to call `call`, or is being rung to.
    pub fn is_watched(&self, call: CallKey) -> bool {
        self.watching.values().any(|w| w.watched == call)
            || self
                .ringing
                .values()
                .any(|&(watched, _, _)| watched == call)
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
        if let Some(media) = cx.legs.caller_media(key) {
            self.join(cx, key, media, (watched, agent), how);
        }
    }

    /// Rings `extension`'s phones (for the admin, from the panel) to join call `watched`
    /// once one answers.
    pub fn ring(
        &mut self,
        cx: &mut Ctx<'_>,
        extension: &str,
        (watched, agent): (CallKey, Side),
        how: How,
    ) -> Result<CallKey, NotPlaced> {
        let placing = Placing {
            extension,
            caller: extension,
            display: "\"Switchboard\" ",
            callee: format!("{}{extension}", cx.office.codes.supervise_code(how)),
            seat: Side::A,
        };
        let key = cx.legs.place_call(cx.now, placing)?;
        cx.legs.ring_for(cx.now, key, RINGS);
        self.ringing.insert(key, (watched, agent, how));
        Ok(key)
    }

    /// Joins supervisor call `key`, whose phone's media is `media`, to `watched`.
    fn join(
        &mut self,
        cx: &mut Ctx<'_>,
        key: CallKey,
        media: LegMedia,
        (watched, agent): (CallKey, Side),
        how: How,
    ) {
        let Some(legs) = cx.legs.calls.get(&watched).and_then(|c| c.media) else {
            let (d, by) = (Outcome::Answered, HangupBy::System);
            return cx
                .legs
                .end_alone(cx.now, key, d, by, 200, "The call to listen to ended");
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
            LegEvent::Answered { call, fork, sdp } => self.answered(cx, call, fork, &sdp),
            LegEvent::Failed { call, .. } => {
                let rings = cx
                    .legs
                    .calls
                    .get(&call)
                    .map(|c| c.forks.iter().any(|f| f.is_pending()));
                if self.ringing.contains_key(&call) && rings == Some(false) {
                    self.ringing.remove(&call);
                    cx.legs.end_placed(cx.now, call, None);
                }
            }
            LegEvent::RingTimeout { call } if self.ringing.remove(&call).is_some() => {
                cx.legs.end_placed(cx.now, call, None);
            }
            LegEvent::Closed { call, .. } => self.closed(cx, call),
            LegEvent::Key { .. } | LegEvent::Played { .. } | LegEvent::Wake { .. } => {}
            other => cx.legs.end_held(cx.now, &other),
        }
    }

    /// A supervisor's phone rung from the panel answered: it sits on leg A and joins.
    fn answered(&mut self, cx: &mut Ctx<'_>, key: CallKey, fork: usize, sdp: &[u8]) {
        let Some((watched, agent, how)) = self.ringing.remove(&key) else {
            return;
        };
        let now = cx.now;
        let peer = cx.legs.fork_peer(key, fork);
        let media = peer.and_then(|(peer, k)| answered_media(sdp, peer, k).ok());
        let Some((_, media)) = media.filter(|_| cx.legs.seat_on_a(key, fork)) else {
            cx.legs.send_bye(now, key, Side::A, Some(fork));
            return cx.legs.end_placed(now, key, None);
        };
        cx.legs.cancel_forks(now, key, Some(fork));
        cx.legs.stop_ring_timer(key);
        cx.legs.mark_answered(now, key, Some(fork));
        self.join(cx, key, media, (watched, agent), how);
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
