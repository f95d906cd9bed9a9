//! Requests inside a call: CANCEL before an answer, ACK, BYE from either side, INFO,
//! REFER (see [`super::transfer`]), re-INVITEs (hold, resume, a moved address); and what the legs send inside their
//! dialogs: 2xx until the ACK, ACK, BYE, INFO, and the re-INVITE moving an answered
//! phone to another call.

use std::time::Instant;

use rsip::{Header, Method};
use switchboard_media::dtmf::{self, Dtmf};
use switchboard_media::relay::{LegMedia, Side};
use switchboard_media::sdp::{Direction, LocalDescription, SessionDescription};
use switchboard_sip::dialog::Dialog;
use switchboard_sip::header::NameAddr;
use switchboard_sip::message::{Message, header_value, response_bytes, to_bytes};
use switchboard_sip::transaction::{Peer, ServerId, Transmit};

use super::call::{AckWait, Fork, ForkState, Phase};
use super::{LegEvent, LegTimer, Legs, leg_media};
use crate::record::{HangupBy, Outcome};
use crate::vocabulary::{CallKey, MediaCommand};

impl Legs {
    /// A CANCEL cannot be challenged (RFC 3261 §22.1): one from another host than the
    /// caller's matches nothing.
    pub fn handle_cancel(
        &mut self,
        now: Instant,
        id: ServerId,
        cancel: &rsip::Request,
        peer: Peer,
    ) {
        let key = self
            .sip
            .invite_cancelled_by(cancel)
            .and_then(|invite| self.by_invite.get(&invite).copied())
            .filter(|key| {
                self.calls
                    .get(key)
                    .is_some_and(|c| c.a_peer.addr.ip() == peer.addr.ip())
            });
        let Some(key) = key else {
            return self.reply(now, id, cancel, 481, "Call/Transaction Does Not Exist");
        };
        self.reply(now, id, cancel, 200, "OK");
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        // A caller who hangs up during the announcement keeps the call's outcome.
        let outcome = match call.phase {
            Phase::Ringing => Outcome::Cancelled,
            Phase::Announcing => call
                .pending_failure
                .take()
                .map_or(Outcome::Cancelled, |p| p.outcome),
            _ => return,
        };
        self.fail(now, key, 487, "Request Terminated", outcome);
    }

    /// An ACK cannot be challenged (RFC 3261 §22.1): one from another host than the
    /// leg's is ignored.
    pub fn handle_ack(&mut self, ack: &rsip::Request, peer: Peer) {
        let leg = self
            .dialog_of(ack)
            .filter(|route| route.peer.addr.ip() == peer.addr.ip())
            .map(|route| (route.call, route.side));
        if let Some((key, side)) = leg
            && let Some(call) = self.calls.get_mut(&key)
        {
            call.awaiting_ack[side as usize] = None;
        }
    }

    pub fn handle_in_dialog(
        &mut self,
        now: Instant,
        id: ServerId,
        request: rsip::Request,
        peer: Peer,
    ) {
        let Some(route) = self.dialog_of(&request).cloned() else {
            return self.reply(now, id, &request, 481, "Call/Transaction Does Not Exist");
        };
        if route.peer != peer
            && !same_provider(&route, peer)
            && !self.leg_moved(now, id, &request, &route, peer)
        {
            return;
        }
        let (key, side) = (route.call, route.side);
        match request.method {
            Method::Bye => {
                self.reply(now, id, &request, 200, "OK");
                match self.phase(key) {
                    Some(Phase::Answered { .. }) => {
                        let by = match side {
                            Side::A => HangupBy::Caller,
                            Side::B => HangupBy::Callee,
                        };
                        self.hang_up(key, by, "Normal Clearing");
                    }
                    // A caller that hangs up before the answer with BYE instead of CANCEL.
                    Some(Phase::Ringing) if side == Side::A => {
                        self.fail(now, key, 487, "Request Terminated", Outcome::Cancelled)
                    }
                    Some(Phase::Held | Phase::Placing) => {
                        self.emit(LegEvent::HungUp { call: key, side })
                    }
                    _ => {}
                }
            }
            Method::Info => self.relay_info(now, id, key, side, &request),
            Method::Refer => self.handle_refer(now, id, &route, &request),
            _ => self.reinvite(now, id, key, side, &request, peer),
        }
    }

    /// INFO carrying a key goes to the other leg the way it negotiated: as telephone
    /// events when it can take them, else as INFO. Other INFO is passed on as is.
    fn relay_info(
        &mut self,
        now: Instant,
        id: ServerId,
        key: CallKey,
        side: Side,
        info: &rsip::Request,
    ) {
        let content_type = header_value(&info.headers, "Content-Type").unwrap_or_default();
        let dtmf = std::str::from_utf8(&info.body)
            .ok()
            .and_then(|body| dtmf::parse_info(content_type, body));
        let (winner, media) = match self.calls.get(&key).map(|c| (c.phase, c.media)) {
            Some((Phase::Answered { winner }, Some(media))) => (winner, media),
            // A key from a caller Switchboard holds is for the feature holding them.
            Some((Phase::Held, _)) if side == Side::A => {
                self.reply(now, id, info, 200, "OK");
                if let Some(dtmf) = dtmf {
                    self.emit(LegEvent::Key {
                        call: key,
                        key: dtmf.key,
                    });
                }
                return;
            }
            _ => return self.reply(now, id, info, 481, "Call/Transaction Does Not Exist"),
        };
        self.reply(now, id, info, 200, "OK");
        if let Some(dtmf) = dtmf {
            self.key_passed(key, side, dtmf);
        }
        let other = side.other();
        match dtmf {
            Some(dtmf) if media[other as usize].events.is_some() => {
                self.media(MediaCommand::SendDtmf {
                    call: key,
                    to: other,
                    dtmf,
                });
            }
            _ => {
                let content_type = content_type.to_string();
                let body =
                    (!content_type.is_empty()).then(|| (content_type.as_str(), info.body.clone()));
                self.send_in_dialog(now, key, other, Some(winner), Method::Info, vec![], body);
            }
        }
    }

    /// A key pressed on `from`'s phone arrived as RFC 4733 (or as tones): a caller
    /// Switchboard holds pressed it for the feature holding them; otherwise the other
    /// leg, which did not negotiate telephone events, is sent it as SIP INFO.
    pub fn handle_dtmf(&mut self, now: Instant, key: CallKey, from: Side, dtmf: Dtmf) {
        if from == Side::A && self.phase(key) == Some(Phase::Held) {
            return self.emit(LegEvent::Key {
                call: key,
                key: dtmf.key,
            });
        }
        self.send_info_dtmf(now, key, from.other(), dtmf);
        self.key_passed(key, from, dtmf);
    }

    /// A key of an answered call went on to the other leg: features may watch for
    /// codes in them.
    pub fn key_passed(&mut self, key: CallKey, from: Side, dtmf: Dtmf) {
        if matches!(self.phase(key), Some(Phase::Answered { .. })) {
            self.emit(LegEvent::Pressed {
                call: key,
                side: from,
                key: dtmf.key,
            });
        }
    }

    /// Sends a key to `to` by SIP INFO (`application/dtmf-relay`).
    fn send_info_dtmf(&mut self, now: Instant, key: CallKey, to: Side, dtmf: Dtmf) {
        let Some(Phase::Answered { winner }) = self.calls.get(&key).map(|c| c.phase) else {
            return;
        };
        let body = dtmf::info_body(dtmf).into_bytes();
        self.send_in_dialog(
            now,
            key,
            to,
            Some(winner),
            Method::Info,
            Vec::new(),
            Some(("application/dtmf-relay", body)),
        );
    }

    /// A new request in the dialog of leg `side` (fork `fork` on B), with `extra`
    /// headers.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn send_in_dialog(
        &mut self,
        now: Instant,
        key: CallKey,
        side: Side,
        fork: Option<usize>,
        method: Method,
        extra: Vec<Header>,
        body: switchboard_sip::dialog::Body<'_>,
    ) {
        fn dialog_of(
            legs: &mut Legs,
            key: CallKey,
            side: Side,
            fork: Option<usize>,
        ) -> Option<&mut Dialog> {
            legs.calls.get_mut(&key)?.dialog_mut(side, fork)
        }
        let Some(peer) = dialog_of(self, key, side, fork).map(|d| d.peer) else {
            return;
        };
        let via = self.via(peer);
        let Some(dialog) = dialog_of(self, key, side, fork) else {
            return;
        };
        if let Ok(request) = dialog.request(method, &via, extra, body) {
            self.sip.send_request(now, request, peer);
        }
    }

    /// A re-INVITE from one leg is answered by Switchboard itself: the relay follows the
    /// leg's new address and the answer mirrors its direction (hold is `sendonly` →
    /// `recvonly`). The other leg keeps its session; while one side holds, the other
    /// simply receives nothing.
    fn reinvite(
        &mut self,
        now: Instant,
        id: ServerId,
        key: CallKey,
        side: Side,
        invite: &rsip::Request,
        peer: Peer,
    ) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        let (Phase::Answered { .. }, Some(media), Some(previous)) = (
            call.phase,
            call.media,
            call.local_sdp[side as usize].clone().or_else(|| {
                call.media.map(|m| LocalDescription {
                    session_id: 1,
                    version: 1,
                    address: self.local_ip(peer),
                    port: call.ports[side as usize],
                    formats: [Some(m[side as usize].audio), m[side as usize].events]
                        .into_iter()
                        .flatten()
                        .collect(),
                    direction: Default::default(),
                    ptime: 20,
                    crypto: m[side as usize].srtp.map(|keys| keys.ours),
                })
            }),
        ) else {
            return self.reply(now, id, invite, 491, "Request Pending");
        };
        let offer = match SessionDescription::parse(&invite.body).and_then(|s| s.audio()) {
            Ok(offer) => offer,
            // A re-INVITE without SDP asks for our offer; repeat the current one.
            Err(_) if invite.body.is_empty() => {
                let (tag, local) = (self.local_tag(key, side), previous);
                return self.answer_reinvite(now, id, key, side, invite, &tag, local, peer);
            }
            Err(e) => return self.reply(now, id, invite, 488, &e.to_string()),
        };
        let current = media[side as usize].audio;
        let Some(audio) = offer
            .format_for(current.codec)
            .or_else(|| offer.first_audio())
        else {
            return self.reply(now, id, invite, 488, "Not Acceptable Here");
        };
        let mut formats = vec![audio];
        formats.extend(offer.telephone_event());
        let local = LocalDescription {
            version: previous.version + 1,
            formats,
            direction: offer.direction.answer(),
            ..previous
        };
        let leg = leg_media(&offer, &local, peer);
        // Holding (sending only, or nothing) puts the other party on music.
        let holding = matches!(offer.direction, Direction::SendOnly | Direction::Inactive);
        let mut music = None;
        if let Some(call) = self.calls.get_mut(&key) {
            if let Some(m) = call.media.as_mut() {
                m[side as usize] = leg;
            }
            let music_to = holding.then_some(side.other());
            if call.music_to != music_to {
                music = Some(match (call.music_to, music_to) {
                    (_, Some(to)) => (to, true),
                    (Some(was), None) => (was, false),
                    (None, None) => (side.other(), false),
                });
                call.music_to = music_to;
            }
        }
        self.media(MediaCommand::Update {
            call: key,
            side,
            media: leg,
        });
        if let Some((to, on)) = music {
            self.media(MediaCommand::Music { call: key, to, on });
        }
        let tag = self.local_tag(key, side);
        self.answer_reinvite(now, id, key, side, invite, &tag, local, peer);
    }

    #[allow(clippy::too_many_arguments)]
    fn answer_reinvite(
        &mut self,
        now: Instant,
        id: ServerId,
        key: CallKey,
        side: Side,
        invite: &rsip::Request,
        tag: &str,
        local: LocalDescription,
        peer: Peer,
    ) {
        let user = self.calls.get(&key).map_or(String::new(), |c| match side {
            Side::A => c.callee.clone(),
            Side::B => c.caller.clone(),
        });
        let ok = self.response_with_sdp(invite, 200, "OK", tag, &user, peer, &local);
        if let Some(call) = self.calls.get_mut(&key) {
            call.local_sdp[side as usize] = Some(local);
        }
        self.sip.respond(now, id, &ok);
        self.await_ack(now, key, side, &ok, peer);
    }

    pub(super) fn local_tag(&self, key: CallKey, side: Side) -> String {
        let Some(call) = self.calls.get(&key) else {
            return String::new();
        };
        match (side, call.phase) {
            (Side::B, Phase::Answered { winner }) => call.forks[winner]
                .dialog
                .as_ref()
                .map_or(String::new(), |d| d.local_tag.clone()),
            _ => call.a_dialog.local_tag.clone(),
        }
    }

    /// The call and leg an in-dialog request belongs to: Call-ID plus our tag, which
    /// the phone puts in To.
    fn dialog_of(&self, request: &rsip::Request) -> Option<&DialogRoute> {
        self.by_dialog.get(&dialog_key(request)?)
    }

    /// A request inside a dialog from somewhere other than the leg's phone: the phone
    /// may have moved (a new address, a new TCP connection), so it must prove it is the
    /// leg's extension, and is then followed there. True when the request may go on;
    /// otherwise it has been answered.
    fn leg_moved(
        &mut self,
        now: Instant,
        id: ServerId,
        request: &rsip::Request,
        route: &DialogRoute,
        peer: Peer,
    ) -> bool {
        let proved = match self.sip.authenticate(now, request, peer) {
            Ok(user) => user,
            Err(challenge) => {
                self.sip.respond(now, id, &challenge);
                return false;
            }
        };
        if route.extension.as_deref() != Some(proved.as_str()) {
            self.reply(now, id, request, 403, "Not a party to this call");
            return false;
        }
        let Some(key) = dialog_key(request) else {
            return false;
        };
        if let Some(route) = self.by_dialog.get_mut(&key) {
            route.peer = peer;
        }
        if let Some(call) = self.calls.get_mut(&route.call) {
            let dialogs = std::iter::once(&mut call.a_dialog)
                .chain(call.forks.iter_mut().filter_map(|f| f.dialog.as_mut()));
            for dialog in dialogs {
                if dialog.call_id == key.0 && dialog.local_tag == key.1 {
                    dialog.peer = peer;
                }
            }
            if route.side == Side::A {
                call.a_peer = peer;
            }
        }
        true
    }

    pub fn send_bye(&mut self, now: Instant, key: CallKey, side: Side, fork: Option<usize>) {
        self.send_in_dialog(now, key, side, fork, Method::Bye, Vec::new(), None);
    }

    pub(super) fn send_ack(&mut self, dialog: &Dialog, cseq: u32) {
        let via = self.via(dialog.peer);
        if let Ok(ack) = dialog.ack(cseq, &via) {
            self.sip
                .send_raw(dialog.peer, to_bytes(&Message::Request(ack)));
        }
    }

    /// Answers the caller's INVITE with `code` and Switchboard's description `local`;
    /// a 2xx is re-sent until the caller acknowledges it.
    pub(super) fn answer_caller(
        &mut self,
        now: Instant,
        key: CallKey,
        code: u16,
        reason: &str,
        local: &LocalDescription,
    ) {
        let Some((call, id)) = self.calls.get(&key).and_then(|c| Some((c, c.invite_id?))) else {
            return;
        };
        let (invite, a_peer) = (call.invite.clone(), call.a_peer);
        let (tag, callee) = (call.a_dialog.local_tag.clone(), call.callee.clone());
        let r = self.response_with_sdp(&invite, code, reason, &tag, &callee, a_peer, local);
        self.sip.respond(now, id, &r);
        if (200..300).contains(&code) {
            self.await_ack(now, key, Side::A, &r, a_peer);
        }
    }

    /// Sends a 2xx we answered on a leg and keeps re-sending it until the ACK.
    pub(super) fn await_ack(
        &mut self,
        now: Instant,
        key: CallKey,
        side: Side,
        response: &rsip::Response,
        peer: Peer,
    ) {
        if peer.transport.is_reliable() {
            return;
        }
        let t1 = self.config.sip.timers.t1;
        let wait = AckWait {
            bytes: response_bytes(response),
            peer,
            next: now + t1,
            interval: t1,
            give_up: now + 64 * t1,
        };
        if let Some(call) = self.calls.get_mut(&key) {
            call.awaiting_ack[side as usize] = Some(wait);
            self.timers.insert((now + t1, key, LegTimer::Retransmit2xx));
        }
    }

    pub(super) fn retransmit_2xx(&mut self, now: Instant, key: CallKey) {
        let t2 = self.config.sip.timers.t2;
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let mut resend = Vec::new();
        let mut gave_up = false;
        for slot in call.awaiting_ack.iter_mut() {
            let Some(wait) = slot else { continue };
            if now >= wait.give_up {
                *slot = None;
                gave_up = true;
            } else if now >= wait.next {
                resend.push(Transmit {
                    peer: wait.peer,
                    bytes: wait.bytes.clone(),
                });
                wait.interval = (wait.interval * 2).min(t2);
                wait.next = (now + wait.interval).min(wait.give_up);
            }
        }
        let next = call.awaiting_ack.iter().flatten().map(|w| w.next).min();
        for t in resend {
            self.sip.send_raw(t.peer, t.bytes);
        }
        if let Some(at) = next {
            self.timers.insert((at, key, LegTimer::Retransmit2xx));
        }
        if gave_up {
            // RFC 3261 §13.3.1.4: no ACK means the session is not up; end it.
            self.abort(now, key, 408, "ACK never arrived");
        }
    }

    /// Moves the answered phone on leg B of call `from` to call `to`, on `to`'s leg
    /// `seat` (B, or A in place of `to`'s caller, whose leg must be gone): its dialog
    /// now belongs to `to`, and a re-INVITE points the phone's audio at `to`'s port for
    /// that leg. The phone stays in one call all along. Returns the phone's fork index
    /// in `to` and its media; `from` keeps its caller, whose call goes on as the caller
    /// of it decides.
    pub fn move_answered_leg(
        &mut self,
        now: Instant,
        (from, to): (CallKey, CallKey),
        seat: Side,
    ) -> Option<(usize, LegMedia)> {
        let port = self.calls.get(&to)?.ports[seat as usize];
        let user = self.calls.get(&to)?.caller.clone();
        let call = self.calls.get_mut(&from)?;
        let Phase::Answered { winner } = call.phase else {
            return None;
        };
        let media = call.media?[1];
        call.awaiting_ack[1] = None;
        let fork = &mut call.forks[winner];
        let dialog = fork.dialog.take()?;
        let sdp = LocalDescription {
            version: fork.sdp.version + 1,
            port,
            formats: [Some(media.audio), media.events]
                .into_iter()
                .flatten()
                .collect(),
            ..fork.sdp.clone()
        };
        let moved = Fork {
            client: fork.client,
            invite: fork.invite.clone(),
            peer: fork.peer,
            target: fork.target.clone(),
            state: ForkState::Answered,
            dialog: Some(dialog.clone()),
            cancel_on_provisional: false,
            cancel_sent: false,
            seat,
            sdp: sdp.clone(),
        };
        self.by_dialog.insert(
            (dialog.call_id.clone(), dialog.local_tag.clone()),
            DialogRoute {
                call: to,
                side: seat,
                peer: dialog.peer,
                extension: fork.target.extension().map(str::to_string),
            },
        );
        let peer = dialog.peer;
        let contact = Header::Contact(self.contact(&user, peer).into());
        let via = self.via(peer);
        let to_call = self.calls.get_mut(&to)?;
        to_call.forks.push(moved);
        to_call.local_sdp[seat as usize] = Some(sdp.clone());
        let index = to_call.forks.len() - 1;
        let dialog = to_call.forks[index].dialog.as_mut()?;
        let reinvite = dialog.request(
            Method::Invite,
            &via,
            vec![contact],
            Some(("application/sdp", sdp.to_bytes())),
        );
        let snapshot = dialog.clone();
        if let Ok(reinvite) = reinvite
            && let Some(client) = self.sip.send_request(now, reinvite, peer)
        {
            self.reinvites.insert(client, snapshot);
        }
        if seat == Side::A {
            self.seat_on_a(to, index);
        }
        Some((index, media))
    }
}

/// Where an in-dialog request goes, and who may send it.
#[derive(Debug, Clone)]
pub(crate) struct DialogRoute {
    pub call: CallKey,
    pub side: Side,
    /// The leg's transport address as learned: requests from elsewhere must prove they
    /// come from `extension`.
    pub peer: Peer,
    /// The extension whose phone is this leg; none for a trunk's.
    pub extension: Option<String>,
}

/// Whether `peer` is the provider of trunk leg `route` on another connection: a
/// provider over TCP or TLS opens connections as it likes (reusing Switchboard's is
/// rare, RFC 5923), so its host speaks for it whatever the port.
fn same_provider(route: &DialogRoute, peer: Peer) -> bool {
    route.extension.is_none()
        && peer.transport.is_reliable()
        && peer.transport == route.peer.transport
        && peer.addr.ip() == route.peer.addr.ip()
}

/// A request's Call-ID and the tag Switchboard gave its dialog (in To): the key of
/// `by_dialog`.
fn dialog_key(request: &rsip::Request) -> Option<(String, String)> {
    let call_id = header_value(&request.headers, "Call-ID")?;
    let to = NameAddr::parse(header_value(&request.headers, "To")?, "To").ok()?;
    Some((call_id.to_string(), to.tag()?.to_string()))
}
