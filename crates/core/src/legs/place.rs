//! Calls Switchboard places itself: a queue callback ringing its agent first, a
//! supervisor's phone rung from the panel, a colleague consulted by keys (an extension's
//! phones, or a number outside through trunks). The phones ring with every codec
//! Switchboard has (nobody has chosen yet); the feature that placed the call hears of
//! each answer and failure as for any call it holds.

use std::time::Instant;

use switchboard_media::relay::Side;
use switchboard_media::sdp::{AudioStream, Direction};
use switchboard_sip::dialog::Dialog;

use super::call::{Call, CallStart, Origin, Phase};
use super::{Legs, Ringing, TrunkDial};
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
    /// Nothing to ring: the extension has no phone registered, or no trunk could take
    /// the call out.
    NoPhones,
}

impl Legs {
    /// Places a call ringing `placing.extension`'s phones; it is [`Phase::Placing`]
    /// until a feature bridges or ends it.
    pub fn place_call(&mut self, now: Instant, placing: Placing<'_>) -> Result<CallKey, NotPlaced> {
        let phones = self.live_bindings(now, placing.extension);
        let ports = self.take_ports().ok_or(NotPlaced::NoPorts)?;
        let key = self.new_call_key();
        let offer = everything();
        let ring = Ringing {
            caller: placing.caller,
            display: placing.display,
            callee: placing.extension,
            max_forwards: 70,
            offer: &offer,
            port: ports[placing.seat as usize],
            seat: placing.seat,
        };
        let forks = self.fork_invites(now, key, &ring, phones, 0);
        let Some(first) = forks.first() else {
            self.give_back_ports(ports);
            return Err(NotPlaced::NoPhones);
        };
        let leg_a = (first.invite.clone(), first.peer);
        let names = (placing.caller.to_string(), placing.callee);
        self.open_placed(now, key, names, ports, (forks, leg_a));
        Ok(key)
    }

    /// Places a call from `caller` to `callee` out through `dials` in turn, the called
    /// party becoming leg A; it is [`Phase::Placing`] until a feature bridges or ends it.
    pub fn place_call_out(
        &mut self,
        now: Instant,
        (caller, callee): (&str, String),
        dials: Vec<TrunkDial>,
    ) -> Result<CallKey, NotPlaced> {
        let Some(peer) = dials.first().map(|d| d.peer) else {
            return Err(NotPlaced::NoPhones);
        };
        let ports = self.take_ports().ok_or(NotPlaced::NoPorts)?;
        let key = self.new_call_key();
        // Leg A's INVITE and peer until the called party answers (the trunk's fork
        // then becomes leg A).
        let placeholder = rsip::Request {
            method: rsip::Method::Invite,
            uri: rsip::Uri::default(),
            version: rsip::Version::default(),
            headers: rsip::Headers::default(),
            body: Vec::new(),
        };
        let names = (caller.to_string(), callee);
        self.open_placed(now, key, names, ports, (Vec::new(), (placeholder, peer)));
        if let Some(call) = self.calls.get_mut(&key) {
            call.dials_out = true;
        }
        if !self.dial_trunks(now, key, dials, Side::A) {
            self.end_placed(now, key, None);
            return Err(NotPlaced::NoPhones);
        }
        Ok(key)
    }

    /// Opens placed call `key` between `caller` and `callee` with its first `forks`,
    /// leg A starting as the INVITE and peer given.
    fn open_placed(
        &mut self,
        now: Instant,
        key: CallKey,
        (caller, callee): (String, String),
        ports: [u16; 2],
        (forks, (invite, peer)): (
            Vec<super::call::Fork>,
            (rsip::Request, switchboard_sip::transaction::Peer),
        ),
    ) {
        let a_dialog = Dialog {
            call_id: format!("{}@switchboard", self.ids.token()),
            local: String::new(),
            local_tag: self.ids.token(),
            remote: String::new(),
            remote_target: String::new(),
            local_cseq: 1,
            peer,
            route_set: Vec::new(),
        };
        let call = Call::new(CallStart {
            invite_id: None,
            invite,
            a_peer: peer,
            a_dialog,
            caller,
            callee,
            origin: Origin::Extension,
            offer: everything(),
            ports,
            forks,
            phase: Phase::Placing,
            started_wall: self.wall(now),
            max_forwards: 70,
        });
        self.open_call(key, call);
    }
}

/// An offer of every codec Switchboard has: nobody has chosen yet.
fn everything() -> AudioStream {
    AudioStream {
        address: std::net::Ipv4Addr::UNSPECIFIED.into(),
        port: 0,
        formats: Vec::new(),
        direction: Direction::SendRecv,
        ptime: None,
        crypto: None,
    }
}
