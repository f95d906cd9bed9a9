//! Requests inside a call: CANCEL before an answer, ACK, BYE from either side, INFO,
//! and re-INVITEs (hold, resume, a moved address).

use std::time::Instant;

use rsip::Method;
use switchboard_media::dtmf::{self, Dtmf};
use switchboard_media::relay::Side;
use switchboard_media::sdp::{Direction, LocalDescription, SessionDescription};
use switchboard_sip::header::NameAddr;
use switchboard_sip::message::header_value;
use switchboard_sip::transaction::{Peer, ServerId};

use crate::call::Phase;
use crate::outcome::leg_media;
use crate::pbx::{CallKey, MediaCommand, Output, Pbx};
use crate::record::{Disposition, HangupBy};

impl Pbx {
    /// A CANCEL cannot be challenged (RFC 3261 §22.1): one from another host than the
    /// caller's matches nothing.
    pub(crate) fn handle_cancel(
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
        let disposition = match call.phase {
            Phase::Ringing => Disposition::Cancelled,
            Phase::Announcing => call
                .pending_failure
                .take()
                .map_or(Disposition::Cancelled, |p| p.disposition),
            _ => return,
        };
        self.fail(now, key, 487, "Request Terminated", disposition);
    }

    /// An ACK cannot be challenged (RFC 3261 §22.1): one from another host than the
    /// leg's is ignored.
    pub(crate) fn handle_ack(&mut self, _now: Instant, ack: &rsip::Request, peer: Peer) {
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

    pub(crate) fn handle_in_dialog(
        &mut self,
        now: Instant,
        id: ServerId,
        request: rsip::Request,
        peer: Peer,
    ) {
        let Some(route) = self.dialog_of(&request).cloned() else {
            return self.reply(now, id, &request, 481, "Call/Transaction Does Not Exist");
        };
        if route.peer != peer && !self.leg_moved(now, id, &request, &route, peer) {
            return;
        }
        let (key, side) = (route.call, route.side);
        match request.method {
            Method::Bye => {
                self.reply(now, id, &request, 200, "OK");
                match self.calls.get(&key).map(|c| c.phase) {
                    Some(Phase::Answered { .. }) => {
                        let by = match side {
                            Side::A => HangupBy::Caller,
                            Side::B => HangupBy::Callee,
                        };
                        self.hang_up(now, key, by, "Normal Clearing");
                    }
                    // A caller that hangs up before the answer with BYE instead of CANCEL.
                    Some(Phase::Ringing) if side == Side::A => {
                        self.fail(now, key, 487, "Request Terminated", Disposition::Cancelled)
                    }
                    Some(Phase::Queued) if side == Side::A => self.abandon_queue(now, key),
                    Some(Phase::Telling | Phase::Scenario | Phase::Voicemail)
                        if side == Side::A =>
                    {
                        self.end_unbridged(
                            now,
                            key,
                            Disposition::Answered,
                            HangupBy::Caller,
                            200,
                            "Normal Clearing",
                        )
                    }
                    Some(Phase::CallingBack { .. }) if side == Side::B => self.callback_failed(
                        now,
                        key,
                        switchboard_queue::CallbackResult::AgentMissed,
                        487,
                        "The agent hung up before the customer answered",
                    ),
                    _ => {}
                }
            }
            Method::Info => self.relay_info(now, id, key, side, &request),
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
            // A key from a caller Switchboard answered is for what they are in.
            Some((Phase::Queued | Phase::Scenario | Phase::Voicemail, _)) if side == Side::A => {
                self.reply(now, id, info, 200, "OK");
                if let Some(dtmf) = dtmf {
                    self.key_from_caller_alone(now, key, dtmf.key);
                }
                return;
            }
            _ => return self.reply(now, id, info, 481, "Call/Transaction Does Not Exist"),
        };
        self.reply(now, id, info, 200, "OK");
        let other = side.other();
        match dtmf {
            Some(dtmf) if media[other as usize].events.is_some() => {
                self.outputs
                    .push_back(Output::Media(MediaCommand::SendDtmf {
                        call: key,
                        to: other,
                        dtmf,
                    }));
            }
            _ => {
                let content_type = content_type.to_string();
                let body =
                    (!content_type.is_empty()).then(|| (content_type.as_str(), info.body.clone()));
                self.send_in_dialog(now, key, other, Some(winner), Method::Info, body);
            }
        }
    }

    /// Sends a key to `to` by SIP INFO (`application/dtmf-relay`).
    pub(crate) fn send_info_dtmf(&mut self, now: Instant, key: CallKey, to: Side, dtmf: Dtmf) {
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
            Some(("application/dtmf-relay", body)),
        );
    }

    /// A new request in the dialog of leg `side` (fork `fork` on B).
    pub(crate) fn send_in_dialog(
        &mut self,
        now: Instant,
        key: CallKey,
        side: Side,
        fork: Option<usize>,
        method: Method,
        body: switchboard_sip::dialog::Body<'_>,
    ) {
        let Some(peer) = self.dialog_mut(key, side, fork).map(|d| d.peer) else {
            return;
        };
        let via = self.via(peer);
        let Some(dialog) = self.dialog_mut(key, side, fork) else {
            return;
        };
        if let Ok(request) = dialog.request(method, &via, Vec::new(), body) {
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
        self.outputs.push_back(Output::Media(MediaCommand::Update {
            call: key,
            side,
            media: leg,
        }));
        if let Some((to, on)) = music {
            self.outputs
                .push_back(Output::Media(MediaCommand::Music { call: key, to, on }));
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

    fn local_tag(&self, key: CallKey, side: Side) -> String {
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
}

/// Where an in-dialog request goes, and who may send it.
#[derive(Debug, Clone)]
pub(crate) struct DialogRoute {
    pub call: CallKey,
    pub side: Side,
    /// The leg's transport address as learned: requests from elsewhere must prove they
    /// come from `extension`.
    pub peer: Peer,
    /// The extension whose phone is this leg.
    pub extension: Option<String>,
}

/// A request's Call-ID and the tag Switchboard gave its dialog (in To): the key of
/// `by_dialog`.
fn dialog_key(request: &rsip::Request) -> Option<(String, String)> {
    let call_id = header_value(&request.headers, "Call-ID")?;
    let to = NameAddr::parse(header_value(&request.headers, "To")?, "To").ok()?;
    Some((call_id.to_string(), to.tag()?.to_string()))
}
