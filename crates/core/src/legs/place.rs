//! Calls Switchboard places itself: a queue callback ringing its agent first, a
//! supervisor's phone rung from the panel. The phones of one extension ring with every
//! codec Switchboard has (nobody has chosen yet); the feature that placed the call
//! hears of each answer and failure as for any call it holds.

use std::time::Instant;

use switchboard_media::relay::Side;
use switchboard_media::sdp::{AudioStream, Direction};
use switchboard_sip::dialog::Dialog;

use super::call::{Call, CallStart, Origin, Phase};
use super::{Legs, Ringing};
use crate::vocabulary::CallKey;

/// Who a placed call rings and how it shows.
pub(crate) struct Placing<'a> {
    /// The extension whose phones ring.
    pub extension: &'a str,
    /// Who the phones show as calling, and the record's caller.
    pub caller: &'a str,
    /// The caller's display name, quoted and followed by a space.
    pub display: &'a str,
    /// The record's callee.
    pub callee: String,
    /// The leg the phones become.
    pub seat: Side,
}

/// Why a call could not be placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotPlaced {
    /// Every RTP port is taken.
    NoPorts,
    /// The extension has no phone registered.
    NoPhones,
}

impl Legs {
    /// Places a call ringing `placing.extension`'s phones; it is [`Phase::Placing`]
    /// until a feature bridges or ends it.
    pub fn place_call(&mut self, now: Instant, placing: Placing<'_>) -> Result<CallKey, NotPlaced> {
        let phones = self.live_bindings(now, placing.extension);
        let ports = self.take_ports().ok_or(NotPlaced::NoPorts)?;
        let key = self.new_call_key();
        let everything = AudioStream {
            address: std::net::Ipv4Addr::UNSPECIFIED.into(),
            port: 0,
            formats: Vec::new(),
            direction: Direction::SendRecv,
            ptime: None,
            crypto: None,
        };
        let ring = Ringing {
            caller: placing.caller,
            display: placing.display,
            callee: placing.extension,
            max_forwards: 70,
            offer: &everything,
            port: ports[placing.seat as usize],
            seat: placing.seat,
        };
        let forks = self.fork_invites(now, key, &ring, phones, 0);
        let Some(first) = forks.first() else {
            self.give_back_ports(ports);
            return Err(NotPlaced::NoPhones);
        };
        let a_dialog = Dialog {
            call_id: format!("{}@switchboard", self.ids.token()),
            local: String::new(),
            local_tag: self.ids.token(),
            remote: String::new(),
            remote_target: String::new(),
            local_cseq: 1,
            peer: first.peer,
            route_set: Vec::new(),
        };
        let call = Call::new(CallStart {
            invite_id: None,
            invite: first.invite.clone(),
            a_peer: first.peer,
            a_dialog,
            caller: placing.caller.to_string(),
            callee: placing.callee,
            origin: Origin::Extension,
            offer: everything,
            ports,
            forks,
            phase: Phase::Placing,
            started_wall: self.wall(now),
            max_forwards: 70,
        });
        self.open_call(key, call);
        Ok(key)
    }
}
