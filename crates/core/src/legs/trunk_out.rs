//! Legs out through trunks: a number called at the provider, the provider's digest
//! challenge answered once with the trunk's credentials, and on no answer or a 5xx the
//! next trunk of the route tried. Ringing, early media, the answer and failures then
//! go as for any fork.

use std::time::Instant;

use rsip::{Header, Method};
use switchboard_media::relay::Side;
use switchboard_media::sdp::prefer_codecs;
use switchboard_sip::dialog::build_request;
use switchboard_sip::header::NameAddr;
use switchboard_sip::message::header_value;
use switchboard_sip::service::{ALLOW, SERVER};
use switchboard_sip::trunk_registration::answer_challenge;

use super::Legs;
use super::call::{Fork, ForkState, ForkTarget, TrunkDial, TrunkLeg};
use crate::vocabulary::CallKey;

/// A trunk failing with these is passed over for the next: it did not answer, or
/// could not take the call. A callee's busy, refusal or unknown number is final.
fn fails_over(code: u16) -> bool {
    code == 408 || (500..600).contains(&code)
}

impl Legs {
    /// Calls `dials[0]` for call `key` (the called party on side `seat`), the rest kept
    /// to try in turn; false when no INVITE could go out through any of them.
    pub fn dial_trunks(
        &mut self,
        now: Instant,
        key: CallKey,
        mut dials: Vec<TrunkDial>,
        seat: Side,
    ) -> bool {
        while !dials.is_empty() {
            let dial = dials.remove(0);
            let leg = Box::new(TrunkLeg {
                dial,
                challenged: false,
                then: std::mem::take(&mut dials),
                seat,
            });
            match self.trunk_fork(now, key, leg, None) {
                Ok(()) => return true,
                Err(leg) => dials = leg.then,
            }
        }
        false
    }

    /// Sends the INVITE of `leg` as a new fork of call `key` (CSeq 1), or as fork
    /// `again` answering the provider's challenge; gives the leg back when it could not.
    fn trunk_fork(
        &mut self,
        now: Instant,
        key: CallKey,
        leg: Box<TrunkLeg>,
        again: Option<(usize, &rsip::Response)>,
    ) -> Result<(), Box<TrunkLeg>> {
        let Some(call) = self.calls.get(&key) else {
            return Err(leg);
        };
        // The port of the side the called party becomes.
        let port = call.ports[leg.seat as usize];
        let (offer, max_forwards) = (call.offer.clone(), call.max_forwards);
        let challenged_fork = again.and_then(|(index, _)| call.forks.get(index));
        let previous = challenged_fork.map(|f| (f.invite.clone(), f.sdp.clone()));
        let dial = leg.dial.clone();
        let peer = dial.peer;
        let uri = format!("sip:{}@{}", dial.number, dial.domain);
        let (previous, sdp) = match previous {
            Some((invite, sdp)) => (Some(invite), sdp),
            None => {
                let media = self
                    .trunk_media
                    .get(&dial.trunk)
                    .cloned()
                    .unwrap_or_default();
                let mut sdp = self.offer_to(peer, &offer, port, media.encrypted);
                sdp.formats = prefer_codecs(&sdp.formats, &media.codecs);
                (None, sdp)
            }
        };
        // A challenge is answered in the same dialog-to-be: Call-ID and From tag kept,
        // CSeq one up (RFC 3261 §22.2).
        let (call_id, from_tag, cseq) = match &previous {
            Some(invite) => (
                header_value(&invite.headers, "Call-ID")
                    .unwrap_or_default()
                    .to_string(),
                header_value(&invite.headers, "From")
                    .and_then(|f| NameAddr::parse(f, "From").ok())
                    .and_then(|f| f.tag().map(str::to_string))
                    .unwrap_or_default(),
                2,
            ),
            None => (
                format!("{}@switchboard", self.ids.token()),
                self.ids.token(),
                1,
            ),
        };
        let from = format!("<sip:{}@{}>", dial.caller_id, dial.domain);
        let mut headers = vec![
            Header::Via(self.via(peer).into()),
            Header::MaxForwards(max_forwards.saturating_sub(1).to_string().into()),
            Header::From(format!("{from};tag={from_tag}").into()),
            Header::To(format!("<{uri}>").into()),
            Header::CallId(call_id.into()),
            Header::CSeq(format!("{cseq} INVITE").into()),
            Header::Contact(self.contact(&dial.caller_id, peer).into()),
            Header::Other("P-Asserted-Identity".into(), from),
            Header::Allow(ALLOW.into()),
            Header::UserAgent(SERVER.into()),
        ];
        if let Some((_, challenge)) = again {
            let answer = dial.credentials.as_ref().and_then(|account| {
                answer_challenge(challenge, "INVITE", &uri, account, &self.ids.token())
            });
            let Some(answer) = answer else {
                return Err(leg);
            };
            headers.push(answer);
        }
        let Ok(request) = build_request(
            Method::Invite,
            &uri,
            headers,
            Some(("application/sdp", sdp.to_bytes())),
        ) else {
            return Err(leg);
        };
        let Some(client) = self.sip.send_request(now, request.clone(), peer) else {
            return Err(leg);
        };
        let Some(call) = self.calls.get_mut(&key) else {
            return Err(leg);
        };
        let fork = Fork {
            client: Some(client),
            invite: request,
            peer,
            target: ForkTarget::Trunk(Box::new(TrunkLeg {
                challenged: again.is_some(),
                ..*leg
            })),
            state: ForkState::Calling,
            dialog: None,
            cancel_on_provisional: false,
            cancel_sent: false,
            seat: leg.seat,
            sdp,
        };
        let index = match again {
            Some((index, _)) => {
                call.forks[index] = fork;
                index
            }
            None => {
                call.forks.push(fork);
                call.forks.len() - 1
            }
        };
        self.by_fork.insert(client, (key, index));
        Ok(())
    }

    /// A trunk fork was challenged (401/407): answered once with the trunk's
    /// credentials; true when the new INVITE went out.
    pub(super) fn trunk_challenged(
        &mut self,
        now: Instant,
        key: CallKey,
        index: usize,
        challenge: &rsip::Response,
    ) -> bool {
        let Some(leg) = self
            .calls
            .get(&key)
            .and_then(|c| c.forks.get(index))
            .filter(|f| f.is_pending() && !f.cancel_sent && !f.cancel_on_provisional)
            .and_then(|f| f.target.trunk())
            .filter(|leg| !leg.challenged && leg.dial.credentials.is_some())
            .map(|leg| Box::new(leg.clone()))
        else {
            return false;
        };
        self.trunk_fork(now, key, leg, Some((index, challenge)))
            .is_ok()
    }

    /// A trunk fork failed with `code`: the next trunk of its route is called instead
    /// when the failure is the provider's; true when it was.
    pub(super) fn trunk_failed_over(
        &mut self,
        now: Instant,
        key: CallKey,
        index: usize,
        code: u16,
    ) -> bool {
        let Some((then, seat)) = self
            .calls
            .get_mut(&key)
            .and_then(|c| c.forks.get_mut(index))
            .filter(|f| !f.cancel_sent && !f.cancel_on_provisional)
            .and_then(|f| match &mut f.target {
                ForkTarget::Trunk(leg) if fails_over(code) => {
                    Some((std::mem::take(&mut leg.then), leg.seat))
                }
                _ => None,
            })
        else {
            return false;
        };
        !then.is_empty() && self.dial_trunks(now, key, then, seat)
    }
}
