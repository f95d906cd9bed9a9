//! Calls a phone transferred to an extension or a number outside: the party left on
//! the line hears ringback while the target rings; the first phone to answer talks to
//! them. When nobody answers in time, the transferor's phones ring again so the call is
//! not lost; when they do not answer either, the call ends. (Transfers to a queue, a
//! scenario or a mailbox go to that feature instead.)

use std::collections::HashMap;
use std::time::{Duration, Instant};

use switchboard_media::relay::Side;

use super::Ctx;
use crate::legs::{LegEvent, Ringing, TrunkDial, answered_media, display_name};
use crate::record::{HangupBy, Outcome};
use crate::vocabulary::CallKey;

/// What a transfer rings.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    /// Every phone of an extension.
    Phones(String),
    /// A number outside, through these trunks in turn.
    Trunks(Vec<TrunkDial>),
}

/// A transfer going ahead: who is put through, by whom, to what.
#[derive(Debug, Clone)]
pub(crate) struct Transfer {
    /// The leg of the party being put through, and their fork when on B.
    pub transferee: (Side, Option<usize>),
    /// The extension that transferred them.
    pub by: String,
    /// The number dialled, as the record tells it.
    pub number: String,
    pub target: Target,
    /// How long the target rings before the transferor's phones ring again.
    pub rings: Duration,
}

#[derive(Debug, Default)]
pub(crate) struct Transfers {
    calls: HashMap<CallKey, Pending>,
}

/// A transfer's ringing: of the target, or of the transferor again.
#[derive(Debug)]
struct Pending {
    transfer: Transfer,
    back: bool,
    /// The first fork of this ringing: earlier ones belong to the call's past.
    first_fork: usize,
    until: Instant,
}

impl Transfers {
    /// Rings the transfer's target; with nothing to ring, rings the transferor back.
    pub fn start(&mut self, cx: &mut Ctx<'_>, key: CallKey, transfer: Transfer) {
        let target = transfer.target.clone();
        self.ring(cx, key, transfer, target, false);
    }

    /// Rings the transferor's phones straight away (a parked call waited too long);
    /// nobody answering ends the call.
    pub fn ring_back(&mut self, cx: &mut Ctx<'_>, key: CallKey, transfer: Transfer) {
        let target = Target::Phones(transfer.by.clone());
        self.ring(cx, key, transfer, target, true);
    }

    fn ring(
        &mut self,
        cx: &mut Ctx<'_>,
        key: CallKey,
        transfer: Transfer,
        what: Target,
        back: bool,
    ) {
        let now = cx.now;
        let Some(call) = cx.legs.calls.get(&key) else {
            return;
        };
        let first_fork = call.forks.len();
        let (side, _) = transfer.transferee;
        let seat = side.other();
        let rang = match &what {
            Target::Phones(extension) => {
                // The target sees who is being put through: the caller, or the party
                // the transferor had called.
                let (caller, display) = match side {
                    Side::A => (call.caller.clone(), display_name(&call.invite)),
                    Side::B => (call.callee.clone(), String::new()),
                };
                let (offer, port) = (call.offer.clone(), call.ports[seat as usize]);
                let ringing = Ringing {
                    caller: &caller,
                    display: &display,
                    callee: extension,
                    max_forwards: call.max_forwards.max(2),
                    offer: &offer,
                    port,
                    seat,
                };
                let bindings = cx.legs.live_bindings(now, extension);
                !cx.legs.ring(now, key, &ringing, bindings).is_empty()
            }
            Target::Trunks(dials) => cx.legs.dial_trunks(now, key, dials.clone(), Side::B),
        };
        let until = now
            + if back {
                cx.legs.config.ring_timeout
            } else {
                transfer.rings
            };
        self.calls.insert(
            key,
            Pending {
                transfer,
                back,
                first_fork,
                until,
            },
        );
        if rang {
            cx.legs.wake_at(key, until);
        } else {
            self.nobody_answered(cx, key);
        }
    }

    /// What the legs report about a call being transferred.
    pub fn call_event(&mut self, cx: &mut Ctx<'_>, event: LegEvent) {
        match event {
            LegEvent::Answered { call, fork, sdp } => self.answered(cx, call, fork, &sdp),
            LegEvent::Failed { call, .. } => {
                let pending = cx.legs.calls.get(&call).is_some_and(|c| {
                    let first = self.calls.get(&call).map_or(0, |r| r.first_fork);
                    c.forks[first..].iter().any(|f| f.is_pending())
                });
                if !pending {
                    self.nobody_answered(cx, call);
                }
            }
            LegEvent::Wake { call } if self.calls.get(&call).is_some_and(|r| r.until <= cx.now) => {
                cx.legs.cancel_forks(cx.now, call, None);
                self.nobody_answered(cx, call);
            }
            LegEvent::HungUp { call, side } => {
                let Some(ringing) = self.calls.remove(&call) else {
                    return;
                };
                // Only the party waiting can hang up: the transferor is gone already.
                if side == ringing.transfer.transferee.0 {
                    let by = match side {
                        Side::A => HangupBy::Caller,
                        Side::B => HangupBy::Callee,
                    };
                    let reason = "Hung up while being transferred";
                    cx.legs
                        .end_waiting(cx.now, call, None, (Outcome::Answered, by), 200, reason);
                } else {
                    self.calls.insert(call, ringing);
                }
            }
            LegEvent::Broken { call, code, reason } => {
                if let Some(ringing) = self.calls.remove(&call) {
                    let bye = Some(ringing.transfer.transferee);
                    let ending = (Outcome::Answered, HangupBy::System);
                    cx.legs.end_waiting(cx.now, call, bye, ending, code, reason);
                }
            }
            LegEvent::Closed { call, .. } | LegEvent::PickedUp { call } => {
                self.calls.remove(&call);
            }
            _ => {}
        }
    }

    /// A phone rung for the transfer answered: the first talks to the party waiting,
    /// the others stop ringing. A phone of an earlier ringing is not wanted.
    fn answered(&mut self, cx: &mut Ctx<'_>, key: CallKey, index: usize, sdp: &[u8]) {
        let now = cx.now;
        let Some(ringing) = self.calls.get(&key).filter(|r| index >= r.first_fork) else {
            let seat = cx.legs.calls.get(&key).map(|c| c.forks[index].seat);
            return cx
                .legs
                .send_bye(now, key, seat.unwrap_or(Side::B), Some(index));
        };
        let (side, transferee_fork) = ringing.transfer.transferee;
        let media = match side {
            // The caller waits: the target's phone is leg B.
            Side::A => cx
                .legs
                .negotiate(key, index, sdp)
                .ok()
                .map(|(_, a, b)| (index, a, b)),
            // The called party waits on B: the target's phone becomes leg A.
            Side::B => {
                let peer = cx.legs.fork_peer(key, index);
                let target = peer.and_then(|(peer, k)| answered_media(sdp, peer, k).ok());
                let waiting = cx.legs.calls.get(&key).and_then(|c| c.media);
                match (target, waiting, transferee_fork) {
                    (Some((_, a)), Some(m), Some(fork)) if cx.legs.seat_on_a(key, index) => {
                        Some((fork, a, m[1]))
                    }
                    _ => None,
                }
            }
        };
        let Some((winner, a, b)) = media else {
            // This phone cannot talk with the party waiting: as if it had not answered.
            cx.legs.send_bye(now, key, side.other(), Some(index));
            return self.call_event(
                cx,
                LegEvent::Failed {
                    call: key,
                    fork: index,
                    code: 488,
                },
            );
        };
        self.calls.remove(&key);
        cx.legs.cancel_forks(now, key, Some(index));
        cx.legs.bridge(now, key, winner, a, b);
        if let Some(who) = cx.legs.talks_for_office(key, index) {
            cx.legs.note(key, format!("{who} answered"));
        }
    }

    /// Nobody answered the target: the transferor's phones ring again; nobody answered
    /// them either: the call ends.
    fn nobody_answered(&mut self, cx: &mut Ctx<'_>, key: CallKey) {
        let Some(ringing) = self.calls.remove(&key) else {
            return;
        };
        let transfer = ringing.transfer;
        if !ringing.back {
            let by = transfer.by.clone();
            let what = format!("{} did not answer, {by} rung back", transfer.number);
            cx.legs.note(key, what);
            return self.ring(cx, key, transfer, Target::Phones(by), true);
        }
        let reason = format!(
            "Transferred to {} by {}; neither answered",
            transfer.number, transfer.by
        );
        let ending = (Outcome::Answered, HangupBy::System);
        let bye = Some(transfer.transferee);
        cx.legs.end_waiting(cx.now, key, bye, ending, 200, &reason);
    }
}
