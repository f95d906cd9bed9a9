//! Attended transfer and three-way calls by keys: an office phone types the
//! attended-transfer code (`*2`) and a colleague's extension (or a number outside, as
//! the phone may call it) during a call. The other party waits with music while the
//! colleague's phones ring and the phone hears ringback; once the colleague answers, the two talk. Then the phone hangs up to put
//! the party waiting through, types `*3` to bring them in (a three-way call), or `*1`
//! to go back to them (the colleague is let go). A colleague who does not answer, or
//! hangs up, sends the phone back to the party waiting; a phone that hangs up before
//! the colleague answers leaves a blind transfer behind (the engine's to start).
//!
//! While it lasts, the call's two legs talk through a room (as a supervised call
//! does) and the colleague's call joins it: the party waiting is put aside in the room
//! rather than moved. Whoever leaves, the others go on; once only one is left, they
//! are hung up on.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use switchboard_media::relay::Side;

use super::Ctx;
use crate::legs::{LegEvent, NotPlaced, Placing, TrunkDial, answered_media};
use crate::record::{HangupBy, Outcome};
use crate::vocabulary::{CallKey, MediaCommand, RoomPart, Waiting, Word};

/// Back to the party waiting.
const BACK_CODE: &str = "*1";
/// The party waiting joins: a three-way call.
const THREE_WAY_CODE: &str = "*3";
/// Keys of a code typed further apart than this do not make it.
const BETWEEN_KEYS: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// The colleague's phones ring.
    Ringing,
    /// The phone talks to the colleague; the other party waits.
    Talking,
    /// All three talk.
    ThreeWay,
}

/// A consultation from call `call` (the key of the map holding it).
#[derive(Debug)]
struct Consultation {
    /// The consulting phone's leg in the call, and its extension.
    transferor: Side,
    by: String,
    number: String,
    /// The call that rings the colleague; they sit on its leg A.
    colleague: CallKey,
    stage: Stage,
    /// Once a party of the call left it: the one still in it, and their fork on B.
    staying: Option<(Side, Option<usize>)>,
    /// The consulting phone's last key and when it came.
    last_key: Option<(char, Instant)>,
}

/// What the engine carries out for the consultation feature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ConsultOutcome {
    Nothing,
    /// A party of `call` left and the other stays in the consultation: the engine now
    /// leaves the call's events to this feature.
    Left {
        call: CallKey,
    },
    /// The consulting phone hung up before the colleague answered: `call`'s party on
    /// `transferee` (their fork on B) is put through to `number` as by `by`'s blind
    /// transfer.
    Blind {
        call: CallKey,
        transferee: (Side, Option<usize>),
        by: String,
        number: String,
    },
}

#[derive(Debug, Default)]
pub(crate) struct Consultations {
    calls: HashMap<CallKey, Consultation>,
    /// The colleague's call, to the call it consults from.
    colleagues: HashMap<CallKey, CallKey>,
}

/// Whom a consultation rings.
#[derive(Debug)]
pub(crate) enum Colleague {
    /// An extension's phones.
    Phones,
    /// A number outside, through these trunks in turn, ringing this long.
    Out(Vec<TrunkDial>, Duration),
}

/// The room a consulting call's legs talk through.
fn room(call: CallKey) -> String {
    format!("consult-{call}")
}

impl Consultations {
    /// Whether `call` is one a phone consults from, or the colleague's.
    pub fn holds(&self, call: CallKey) -> bool {
        self.calls.contains_key(&call) || self.colleagues.contains_key(&call)
    }

    /// `by`'s phone, on leg `transferor` of answered call `call`, consults `number`
    /// (`whom` says how it is rung): the other party waits with music. Returns the
    /// call ringing the colleague.
    pub fn start(
        &mut self,
        cx: &mut Ctx<'_>,
        call: CallKey,
        (transferor, by): (Side, String),
        (number, whom): (String, Colleague),
    ) -> Result<CallKey, NotPlaced> {
        let Some(media) = cx.legs.calls.get(&call).and_then(|c| c.media) else {
            return Err(NotPlaced::NoPhones);
        };
        let (colleague, rings) = match whom {
            Colleague::Phones => {
                let placing = Placing {
                    extension: &number,
                    caller: &by,
                    display: "",
                    callee: number.clone(),
                    seat: Side::A,
                };
                let placed = cx.legs.place_call(cx.now, placing)?;
                (placed, cx.legs.config.ring_timeout)
            }
            Colleague::Out(dials, rings) => {
                let callee = number.clone();
                (cx.legs.place_call_out(cx.now, (&by, callee), dials)?, rings)
            }
        };
        cx.legs.ring_for(cx.now, colleague, rings);
        let room = room(call);
        cx.legs.media(MediaCommand::Monitor {
            call,
            room: room.clone(),
            a: media[0],
            b: media[1],
        });
        set_part(
            cx,
            call,
            transferor.other(),
            RoomPart::Waits(Waiting::Music),
        );
        set_part(cx, call, transferor, RoomPart::Waits(Waiting::Ringback));
        cx.legs.note(call, format!("{by} consulted {number}"));
        self.colleagues.insert(colleague, call);
        self.calls.insert(
            call,
            Consultation {
                transferor,
                by,
                number,
                colleague,
                stage: Stage::Ringing,
                staying: None,
                last_key: None,
            },
        );
        Ok(colleague)
    }

    /// Leg `side` of consulting call `call` hung up (the legs report it as the end of
    /// the call, which it is not yet).
    pub fn left(&mut self, cx: &mut Ctx<'_>, call: CallKey, side: Side) -> ConsultOutcome {
        let Some(c) = self.calls.get_mut(&call) else {
            return ConsultOutcome::Nothing;
        };
        let leaving = cx.legs.extension_on(call, side);
        let who = leaving.clone().unwrap_or_else(|| match side {
            Side::A => cx
                .legs
                .calls
                .get(&call)
                .map(|k| k.caller.clone())
                .unwrap_or_default(),
            Side::B => "the other party".to_string(),
        });
        let leaving = leaving.unwrap_or_default();
        if side == c.transferor && c.stage == Stage::Ringing {
            let (by, number, colleague) = (c.by.clone(), c.number.clone(), c.colleague);
            self.end_colleague(cx, colleague);
            self.finish(cx, call);
            let Some(transferee) = cx.legs.part_from(call, side, &leaving) else {
                return ConsultOutcome::Nothing;
            };
            return ConsultOutcome::Blind {
                call,
                transferee,
                by,
                number,
            };
        }
        let Some(staying) = cx.legs.part_from(call, side, &leaving) else {
            return ConsultOutcome::Nothing;
        };
        c.staying = Some(staying);
        let what = if side != c.transferor {
            format!("{who} hung up while {} consulted", c.by)
        } else if c.stage == Stage::ThreeWay {
            format!("{} left the three-way call", c.by)
        } else {
            format!("{} transferred to {} after talking to them", c.by, c.number)
        };
        cx.legs.note(call, what);
        set_part(cx, call, side.other(), RoomPart::Talks);
        ConsultOutcome::Left { call }
    }

    /// A key from leg `side` of consulting call `call`: the consulting phone's codes.
    pub fn pressed(&mut self, cx: &mut Ctx<'_>, call: CallKey, side: Side, key: char) {
        let now = cx.now;
        let Some(c) = self.calls.get_mut(&call).filter(|c| c.transferor == side) else {
            return;
        };
        let previous = c.last_key.replace((key, now));
        let Some((first, _)) = previous.filter(|(_, at)| now.duration_since(*at) <= BETWEEN_KEYS)
        else {
            return;
        };
        let code: String = [first, key].iter().collect();
        if code == THREE_WAY_CODE && c.stage == Stage::Talking && c.staying.is_none() {
            c.stage = Stage::ThreeWay;
            c.last_key = None;
            let what = format!("{} made a three-way call with {}", c.by, c.number);
            cx.legs.note(call, what);
            set_part(cx, call, side.other(), RoomPart::Talks);
        } else if code == BACK_CODE && c.stage != Stage::ThreeWay && c.staying.is_none() {
            let colleague = c.colleague;
            cx.legs
                .note(call, format!("{} went back to the call", c.by));
            self.end_colleague(cx, colleague);
            self.finish(cx, call);
        }
    }

    /// What the legs report about a consulting call once a party left it, or about
    /// a colleague's call.
    pub fn call_event(&mut self, cx: &mut Ctx<'_>, event: LegEvent) {
        let Some(key) = event.call() else {
            return;
        };
        if let Some(&call) = self.colleagues.get(&key) {
            return self.colleague_event(cx, call, event);
        }
        match event {
            // The last party of the call left: the colleague is alone.
            LegEvent::HungUp { call, side } => {
                let by = match side {
                    Side::A => HangupBy::Caller,
                    Side::B => HangupBy::Callee,
                };
                let ending = (Outcome::Answered, by);
                cx.legs
                    .end_waiting(cx.now, call, None, ending, 200, "Normal Clearing");
            }
            LegEvent::Broken { call, code, reason } => {
                let bye = self.calls.get(&call).and_then(|c| c.staying);
                let ending = (Outcome::Answered, HangupBy::System);
                cx.legs.end_waiting(cx.now, call, bye, ending, code, reason);
            }
            LegEvent::Closed { call, .. } => {
                if let Some(c) = self.calls.get(&call) {
                    let colleague = c.colleague;
                    self.end_colleague(cx, colleague);
                    self.finish(cx, call);
                }
            }
            _ => {}
        }
    }

    fn colleague_event(&mut self, cx: &mut Ctx<'_>, call: CallKey, event: LegEvent) {
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        let colleague = c.colleague;
        match event {
            LegEvent::Answered { fork, sdp, .. } if c.stage == Stage::Ringing => {
                self.answered(cx, call, fork, &sdp);
            }
            LegEvent::Failed { .. } => {
                let rings = cx.legs.calls.get(&colleague);
                if rings.is_some_and(|k| !k.forks.iter().any(|f| f.is_pending())) {
                    cx.legs.end_placed(cx.now, colleague, None);
                    self.colleague_gone(cx, call, "did not answer");
                }
            }
            LegEvent::RingTimeout { .. } => {
                cx.legs.end_placed(cx.now, colleague, None);
                self.colleague_gone(cx, call, "did not answer");
            }
            LegEvent::HungUp { .. } | LegEvent::Broken { .. } => {
                cx.legs.end_held(cx.now, &event);
                self.colleague_gone(cx, call, "hung up");
            }
            _ => {}
        }
    }

    /// The colleague's phone answered: it joins the room and talks to the consulting
    /// phone (or, if the party waiting hung up meanwhile, to it alone).
    fn answered(&mut self, cx: &mut Ctx<'_>, call: CallKey, fork: usize, sdp: &[u8]) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let (now, colleague) = (cx.now, c.colleague);
        let peer = cx.legs.fork_peer(colleague, fork);
        let media = peer.and_then(|(peer, k)| answered_media(sdp, peer, k).ok());
        let Some((_, media)) = media.filter(|_| cx.legs.seat_on_a(colleague, fork)) else {
            cx.legs.send_bye(now, colleague, Side::A, Some(fork));
            cx.legs.end_placed(now, colleague, None);
            return self.colleague_gone(cx, call, "could not talk");
        };
        c.stage = Stage::Talking;
        let transferor = c.transferor;
        let what = format!("{} answered {}", c.number, c.by);
        cx.legs.cancel_forks(now, colleague, Some(fork));
        cx.legs.stop_ring_timer(colleague);
        cx.legs.mark_answered(now, colleague, Some(fork));
        cx.legs.note(call, what);
        cx.legs.media(MediaCommand::Conference {
            call: colleague,
            room: room(call),
            media,
            part: RoomPart::Talks,
            announced: false,
        });
        set_part(cx, call, transferor, RoomPart::Talks);
    }

    /// The colleague is gone (`why`): a call whose two parties are still in it goes
    /// on as it was; a party left alone is hung up on.
    fn colleague_gone(&mut self, cx: &mut Ctx<'_>, call: CallKey, why: &str) {
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        let what = format!("{} {why}", c.number);
        let (staying, transferor) = (c.staying, c.transferor);
        cx.legs.note(call, what);
        self.finish(cx, call);
        if staying.is_some() {
            let bye = staying;
            let ending = (Outcome::Answered, HangupBy::System);
            cx.legs
                .end_waiting(cx.now, call, bye, ending, 200, "Normal Clearing");
        } else if why != "hung up" {
            cx.legs.media(MediaCommand::Say {
                call,
                to: transferor,
                words: vec![Word::TransferRefused],
            });
        }
    }

    /// The colleague's call ends, whatever stage it is at.
    fn end_colleague(&mut self, cx: &mut Ctx<'_>, colleague: CallKey) {
        self.colleagues.remove(&colleague);
        match cx.legs.calls.get(&colleague).map(|k| k.answered.is_some()) {
            Some(true) => {
                let (d, by) = (Outcome::Answered, HangupBy::System);
                cx.legs
                    .end_alone(cx.now, colleague, d, by, 200, "Normal Clearing");
            }
            Some(false) => cx.legs.end_placed(cx.now, colleague, None),
            None => {}
        }
    }

    /// The consultation is over (the colleague's call ends, or has): the call's legs
    /// talk straight to each other again (if both are still there) and the room
    /// empties.
    fn finish(&mut self, cx: &mut Ctx<'_>, call: CallKey) {
        if let Some(c) = self.calls.remove(&call) {
            self.colleagues.remove(&c.colleague);
            cx.legs.media(MediaCommand::Unmonitor {
                call,
                room: room(call),
            });
            cx.legs.media(MediaCommand::LeaveConference {
                call: c.colleague,
                room: room(call),
            });
        }
    }
}

/// Leg `side` of consulting call `call` takes `part` in its room.
fn set_part(cx: &mut Ctx<'_>, call: CallKey, side: Side, part: RoomPart) {
    cx.legs.media(MediaCommand::SetPart {
        room: room(call),
        call,
        side: Some(side),
        part,
    });
}
