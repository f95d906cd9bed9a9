//! Call pickup: a phone that dials a pickup code answers a call ringing other phones.
//! Its INVITE is answered from the ringing call itself, on the call's port facing the
//! phones, so the picking phone becomes the call's answered leg B, and the phones that
//! rang stop. The caller is answered if they were not yet.

use std::time::Instant;

use switchboard_media::relay::Side;
use switchboard_media::sdp::{
    AudioStream, Direction, LocalDescription, SessionDescription, formats_to_answer,
};
use switchboard_sip::dialog::Dialog;
use switchboard_sip::transaction::{Peer, ServerId};

use super::call::{Call, Fork, ForkState, ForkTarget, Origin, Phase};
use super::{DialogRoute, LegEvent, Legs, leg_media};
use crate::vocabulary::CallKey;

impl Legs {
    /// The calls whose phones ring for `extension` (for any extension when none),
    /// oldest first; not those `picker` makes.
    pub fn ringing_calls(&self, extension: Option<&str>, picker: &str) -> Vec<CallKey> {
        let mut keys: Vec<(CallKey, std::time::SystemTime)> = self
            .calls
            .iter()
            .filter(|(_, c)| matches!(c.phase, Phase::Ringing | Phase::Held))
            .filter(|(_, c)| c.caller != picker)
            .filter(|(_, c)| {
                c.forks.iter().any(|f| {
                    f.is_pending()
                        && f.seat == Side::B
                        && f.target
                            .extension()
                            .is_some_and(|e| extension.is_none_or(|wanted| e == wanted))
                })
            })
            .map(|(k, c)| (*k, c.started_wall))
            .collect();
        keys.sort_by_key(|&(k, started)| (started, k));
        keys.into_iter().map(|(k, _)| k).collect()
    }

    /// The answered call `extension`'s phone talks in, and the side it is on.
    pub fn talking_call_of(&self, extension: &str) -> Option<(CallKey, Side)> {
        let mut talking: Vec<(CallKey, Side)> = self
            .calls
            .iter()
            .filter_map(|(&key, c)| {
                let (side, _) = office_parties(c)
                    .into_iter()
                    .find(|(_, e)| *e == extension)?;
                Some((key, side))
            })
            .collect();
        talking.sort_by_key(|&(key, _)| key);
        talking.into_iter().next()
    }

    /// The extension talking on `side` of answered call `key`, if an office phone does.
    pub fn extension_on(&self, key: CallKey, side: Side) -> Option<String> {
        let parties = office_parties(self.calls.get(&key)?);
        let (_, extension) = parties.into_iter().find(|(s, _)| *s == side)?;
        Some(extension.to_string())
    }

    /// The side of answered call `key` the office talks on: the answering phone's when
    /// it is an extension's (an agent), else the caller's when that is one.
    pub fn office_side(&self, key: CallKey) -> Option<Side> {
        let (side, _) = *office_parties(self.calls.get(&key)?).first()?;
        Some(side)
    }

    /// `picker`'s phone (INVITE `id`, from `peer`) answers call `key`, which rings other
    /// phones. Returns false when its offer cannot be answered (then it is told so).
    pub fn pick_up(
        &mut self,
        now: Instant,
        id: ServerId,
        invite: &rsip::Request,
        peer: Peer,
        picker: &str,
        key: CallKey,
    ) -> bool {
        let offer = match SessionDescription::parse(&invite.body).and_then(|s| s.audio()) {
            Ok(offer) => offer,
            Err(e) => {
                self.reply(now, id, invite, 488, &e.to_string());
                return false;
            }
        };
        let Some((answer, caller_local)) = self.pickup_answers(key, &offer, peer) else {
            self.reply(now, id, invite, 488, "Not Acceptable Here");
            return false;
        };
        let tag = self.ids.token();
        let Ok(dialog) = Dialog::as_uas(invite, &tag, peer) else {
            self.reply(now, id, invite, 400, "Contact is missing");
            return false;
        };
        let Some(call) = self.calls.get_mut(&key) else {
            return false;
        };
        let (caller_waits, a_peer) = (call.phase == Phase::Ringing, call.a_peer);
        let caller_media = leg_media(&call.offer, &caller_local, a_peer);
        let picker_media = leg_media(&offer, &answer, peer);
        let index = call.forks.len();
        call.forks.push(Fork {
            client: None,
            invite: invite.clone(),
            peer,
            target: ForkTarget::Phone {
                extension: picker.to_string(),
            },
            state: ForkState::Answered,
            dialog: Some(dialog.clone()),
            cancel_on_provisional: false,
            cancel_sent: false,
            seat: Side::B,
            sdp: answer.clone(),
        });
        call.local_sdp = [Some(caller_local.clone()), Some(answer.clone())];
        self.by_dialog.insert(
            (dialog.call_id, tag.clone()),
            DialogRoute {
                call: key,
                side: Side::B,
                peer,
                extension: Some(picker.to_string()),
            },
        );
        let caller = self
            .calls
            .get(&key)
            .map_or(String::new(), |c| c.caller.clone());
        let ok = self.response_with_sdp(invite, 200, "OK", &tag, &caller, peer, &answer);
        self.sip.respond(now, id, &ok);
        self.await_ack(now, key, Side::B, &ok, peer);
        if caller_waits {
            self.answer_caller(now, key, 200, "OK", &caller_local);
        }
        self.cancel_forks(now, key, Some(index));
        self.bridge(now, key, index, caller_media, picker_media);
        self.talks_for_office(key, index);
        self.emit(LegEvent::PickedUp { call: key });
        true
    }

    /// Switchboard's answer to the picking phone's `offer` on the call's port facing
    /// the phones, and the caller's answer (the one given already, or a new one), both
    /// in one codec where the two have one in common.
    fn pickup_answers(
        &mut self,
        key: CallKey,
        offer: &AudioStream,
        peer: Peer,
    ) -> Option<(LocalDescription, LocalDescription)> {
        let call = self.calls.get(&key)?;
        let common = offer
            .formats
            .iter()
            .copied()
            .filter(|f| f.codec.is_audio())
            .find(|f| call.offer.format_for(f.codec).is_some())
            .or_else(|| offer.first_audio())?
            .codec;
        let (port, given) = (call.ports[Side::B as usize], call.local_sdp[0].clone());
        let caller_formats = formats_to_answer(&call.offer, common).ok()?;
        let answer = LocalDescription {
            session_id: self.ids.random() >> 1,
            version: 1,
            address: self.local_ip(peer),
            port,
            formats: formats_to_answer(offer, common).ok()?,
            direction: offer.direction.answer(),
            ptime: 20,
            crypto: self.answer_crypto(offer),
        };
        let caller = match given {
            Some(given) => given,
            None => self.caller_answer(key, caller_formats, Direction::SendRecv)?,
        };
        Some((answer, caller))
    }
}

/// The office's extensions talking in an answered call and their sides: the answering
/// phone's first, then the caller's.
pub(super) fn office_parties(call: &Call) -> Vec<(Side, &str)> {
    let Phase::Answered { winner } = call.phase else {
        return Vec::new();
    };
    let Some(fork) = call.forks.get(winner) else {
        return Vec::new();
    };
    let mut parties = Vec::new();
    if let Some(extension) = fork.target.extension() {
        parties.push((fork.seat, extension));
    }
    if call.origin == Origin::Extension && fork.seat == Side::B {
        parties.push((Side::A, call.caller.as_str()));
    }
    parties
}
