//! What the phone asks of the server: calls out, hang-ups, hold and resume, keys and
//! transfers, and what the server answers to each.

use std::time::Instant;

use rsip::{Header, Method};
use switchboard_media::dtmf::{Dtmf, event_code, info_body};
use switchboard_media::sdp::Direction as MediaDirection;
use switchboard_sip::dialog::{Dialog, build_request, cancel_for};
use switchboard_sip::header::CSeq;
use switchboard_sip::message::{header_value, request_bytes};
use switchboard_sip::transaction::ClientId;
use switchboard_sip::trunk_registration::{Account, answer_challenge};

use crate::call_audio::CallAudio;
use crate::line::{Direction, EndReason, Line, LineId, LineInfo, LineState, Party, Setup};
use crate::phone::{Phone, PhoneError, Sent};

impl Phone {
    // --- commands

    /// Calls `number` (an extension, a feature code or an outside number) on a free
    /// line; the call being talked on, if any, is held.
    pub fn dial(&mut self, now: Instant, number: &str) -> Result<LineId, PhoneError> {
        let number = number.trim();
        if !dialable(number) {
            return Err(PhoneError::BadNumber(number.to_string()));
        }
        let id = self.free_line().ok_or(PhoneError::NoFreeLine)?;
        if let Some(other) = self.talking_line() {
            let _ = self.hold(now, other);
        }
        let mut audio = CallAudio::new(
            now,
            self.config.media[id.0],
            &self.config.codecs,
            self.ids.random(),
        );
        let offer = audio.offer(MediaDirection::SendRecv);
        let domain = &self.config.domain;
        let uri = format!("sip:{}@{domain}", escape_user(number));
        let aor = format!("<sip:{}@{domain}>", self.config.user);
        let from = match &self.config.display_name {
            Some(name) => format!("\"{}\" {aor}", name.replace(['"', '\\'], "")),
            None => aor,
        };
        let mut headers = vec![
            Header::Via(self.via().into()),
            Header::MaxForwards("70".into()),
            Header::From(format!("{from};tag={}", self.ids.token()).into()),
            Header::To(format!("<{uri}>").into()),
            Header::CallId(self.ids.token().into()),
            Header::CSeq("1 INVITE".into()),
        ];
        headers.extend(self.common_headers());
        let Ok(invite) = build_request(
            Method::Invite,
            &uri,
            headers,
            Some(("application/sdp", offer)),
        ) else {
            return Err(PhoneError::BadNumber(number.to_string()));
        };
        let client = self
            .send_request(now, invite.clone(), Sent::Invite(id))
            .ok_or(PhoneError::NoFreeLine)?;
        self.lines[id.0] = Some(Line {
            info: LineInfo {
                line: id,
                state: LineState::Dialing,
                direction: Direction::Outgoing,
                party: Party {
                    number: number.to_string(),
                    name: None,
                },
                held_by_party: false,
                since: now,
            },
            setup: Setup::Outgoing {
                client,
                invite,
                challenged: false,
            },
            dialog: None,
            audio,
            invite_cseq: 1,
            reinvite: None,
            unacknowledged: None,
        });
        self.set_state(now, id, LineState::Dialing);
        Ok(id)
    }

    /// Ends the call on `id` whatever its state: hangs up, cancels our call, or
    /// rejects a ringing one.
    pub fn hang_up(&mut self, now: Instant, id: LineId) -> Result<(), PhoneError> {
        let line = self.line_mut(id).ok_or(PhoneError::NoCall(id))?;
        match &line.setup {
            Setup::Incoming { .. } => return self.reject(now, id),
            Setup::Outgoing { client, invite, .. } => {
                let (client, invite) = (*client, invite.clone());
                if let Ok(cancel) = cancel_for(&invite) {
                    self.send_request(now, cancel, Sent::Other);
                }
                self.sent.insert(client, Sent::Abandoned);
                self.abandoned.insert(client, invite);
            }
            Setup::Done => self.send_bye(now, id),
        }
        self.end(id, EndReason::HungUpHere);
        Ok(())
    }

    /// Puts the call on `id` on hold (a re-INVITE saying we only send, RFC 3264 §8.4).
    pub fn hold(&mut self, now: Instant, id: LineId) -> Result<(), PhoneError> {
        self.change_direction(
            now,
            id,
            LineState::Talking,
            MediaDirection::SendOnly,
            LineState::Held,
        )
    }

    /// Takes the call on `id` off hold; the call being talked on, if any, is held
    /// (two lines: swap).
    pub fn resume(&mut self, now: Instant, id: LineId) -> Result<(), PhoneError> {
        if let Some(other) = self.talking_line().filter(|&other| other != id) {
            let _ = self.hold(now, other);
        }
        self.change_direction(
            now,
            id,
            LineState::Held,
            MediaDirection::SendRecv,
            LineState::Talking,
        )
    }

    /// Presses `key` in the call on `id`: RFC 4733 events in the audio when the other
    /// end takes them, else a SIP INFO.
    pub fn send_key(&mut self, now: Instant, id: LineId, key: char) -> Result<(), PhoneError> {
        if event_code(key).is_none() {
            return Err(PhoneError::BadKey(key));
        }
        let line = self.line_mut(id).ok_or(PhoneError::NoCall(id))?;
        if line.info.state != LineState::Talking {
            return Err(PhoneError::WrongState(id));
        }
        if line.audio.takes_key_events() {
            line.audio.press(key);
            return Ok(());
        }
        let body = info_body(Dtmf {
            key,
            duration_ms: 100,
        });
        let via = self.via();
        let info = self
            .line_mut(id)
            .and_then(|l| l.dialog.as_mut())
            .and_then(|d| {
                d.request(
                    Method::Info,
                    &via,
                    Vec::new(),
                    Some(("application/dtmf-relay", body.into_bytes())),
                )
                .ok()
            });
        if let Some(info) = info {
            self.send_request(now, info, Sent::Other);
        }
        Ok(())
    }

    /// Hands the call on `id` to `target` (blind transfer, RFC 3515): the server rings
    /// the target and our part of the call ends when it reports success.
    pub fn transfer(&mut self, now: Instant, id: LineId, target: &str) -> Result<(), PhoneError> {
        let target = target.trim();
        if !dialable(target) {
            return Err(PhoneError::BadNumber(target.to_string()));
        }
        let line = self.line_mut(id).ok_or(PhoneError::NoCall(id))?;
        if !matches!(line.info.state, LineState::Talking | LineState::Held) {
            return Err(PhoneError::WrongState(id));
        }
        let domain = self.config.domain.clone();
        let referred_by = format!("<sip:{}@{domain}>", self.config.user);
        let via = self.via();
        let extra = vec![
            Header::Other(
                "Refer-To".into(),
                format!("<sip:{}@{domain}>", escape_user(target)),
            ),
            Header::Other("Referred-By".into(), referred_by),
            self.contact(),
        ];
        let refer = self
            .line_mut(id)
            .and_then(|l| l.dialog.as_mut())
            .and_then(|d| d.request(Method::Refer, &via, extra, None).ok());
        if let Some(refer) = refer {
            self.send_request(now, refer, Sent::Other);
        }
        Ok(())
    }

    // --- answers from the server

    pub(crate) fn invite_answered(
        &mut self,
        now: Instant,
        id: ClientId,
        line_id: LineId,
        response: &rsip::Response,
    ) {
        let code = response.status_code.code();
        match code {
            100 => {}
            101..=199 => {
                if let Some(line) = self.line_mut(line_id) {
                    if !response.body.is_empty() {
                        // Early media: the server's ringback or announcement.
                        let _ = line.audio.answered(&response.body);
                    }
                    if line.info.state == LineState::Dialing {
                        self.set_state(now, line_id, LineState::Alerting);
                    }
                }
            }
            200..=299 => self.call_answered(now, line_id, response),
            401 | 407 => self.challenged(now, id, line_id, response),
            _ => {
                self.sent.remove(&id);
                let reason = match code {
                    486 | 600 | 603 => EndReason::Busy,
                    _ => EndReason::Failed {
                        code,
                        reason: reason_phrase(response),
                    },
                };
                self.end(line_id, reason);
            }
        }
    }

    fn call_answered(&mut self, now: Instant, line_id: LineId, response: &rsip::Response) {
        let server = self.server();
        let via = self.via();
        let Some(line) = self.line_mut(line_id) else {
            return;
        };
        let cseq = line.invite_cseq;
        if let Setup::Outgoing { invite, .. } = &line.setup {
            let Ok(dialog) = Dialog::as_uac(invite, response, server) else {
                return;
            };
            line.dialog = Some(dialog);
            line.setup = Setup::Done;
            if !response.body.is_empty() {
                let _ = line.audio.answered(&response.body);
            }
        }
        // The first 2xx or one sent again because our ACK was lost: acknowledge it.
        let ack = line.dialog.as_ref().and_then(|d| d.ack(cseq, &via).ok());
        if let Some(ack) = ack {
            self.send_raw(request_bytes(&ack));
        }
        if self
            .line_mut(line_id)
            .is_some_and(|l| matches!(l.info.state, LineState::Dialing | LineState::Alerting))
        {
            self.set_state(now, line_id, LineState::Talking);
        }
    }

    /// Our INVITE was challenged: send it again once with our credentials.
    fn challenged(
        &mut self,
        now: Instant,
        id: ClientId,
        line_id: LineId,
        response: &rsip::Response,
    ) {
        self.sent.remove(&id);
        let account = Account {
            user: self.config.user.clone(),
            auth_user: self.config.user.clone(),
            password: self.config.password.clone(),
            expires: self.config.expires,
        };
        let cnonce = self.ids.token();
        let via = self.via();
        let Some(line) = self.line_mut(line_id) else {
            return;
        };
        let Setup::Outgoing {
            invite, challenged, ..
        } = &line.setup
        else {
            return;
        };
        let again = (!challenged)
            .then(|| {
                answer_challenge(
                    response,
                    "INVITE",
                    &invite.uri.to_string(),
                    &account,
                    &cnonce,
                )
            })
            .flatten()
            .map(|auth| {
                let mut again = invite.clone();
                line.invite_cseq += 1;
                let cseq = line.invite_cseq;
                again
                    .headers
                    .retain(|h| !matches!(h, Header::Via(_) | Header::CSeq(_)));
                again.headers.unique_push(Header::Via(via.into()));
                again
                    .headers
                    .push(Header::CSeq(format!("{cseq} INVITE").into()));
                again.headers.push(auth);
                again
            });
        let Some(again) = again else {
            return self.end(
                line_id,
                EndReason::Failed {
                    code: response.status_code.code(),
                    reason: reason_phrase(response),
                },
            );
        };
        match self.send_request(now, again.clone(), Sent::Invite(line_id)) {
            Some(client) => {
                if let Some(line) = self.line_mut(line_id) {
                    line.setup = Setup::Outgoing {
                        client,
                        invite: again,
                        challenged: true,
                    };
                }
            }
            None => self.end(
                line_id,
                EndReason::Failed {
                    code: 500,
                    reason: "Could not send".into(),
                },
            ),
        }
    }

    pub(crate) fn reinvite_answered(
        &mut self,
        id: ClientId,
        line_id: LineId,
        response: &rsip::Response,
    ) {
        let code = response.status_code.code();
        if code < 200 {
            return;
        }
        self.sent.remove(&id);
        let via = self.via();
        let Some(line) = self.line_mut(line_id) else {
            return;
        };
        line.reinvite = None;
        if code >= 300 {
            return;
        }
        if !response.body.is_empty() {
            let _ = line.audio.answered(&response.body);
        }
        let ack = line
            .dialog
            .as_ref()
            .and_then(|d| d.ack(line.invite_cseq, &via).ok());
        if let Some(ack) = ack {
            self.send_raw(request_bytes(&ack));
        }
    }

    /// A late 2xx to a call we cancelled: acknowledge it and hang up at once.
    pub(crate) fn abandoned_answered(
        &mut self,
        now: Instant,
        id: ClientId,
        response: &rsip::Response,
    ) {
        let code = response.status_code.code();
        if code < 200 {
            return;
        }
        self.sent.remove(&id);
        let Some(invite) = self.abandoned.remove(&id) else {
            return;
        };
        if code >= 300 {
            return;
        }
        let Ok(mut dialog) = Dialog::as_uac(&invite, response, self.server()) else {
            return;
        };
        let cseq = header_value(&invite.headers, "CSeq")
            .and_then(|c| CSeq::parse(c).ok())
            .map_or(1, |c| c.seq);
        let via = self.via();
        if let Ok(ack) = dialog.ack(cseq, &via) {
            self.send_raw(request_bytes(&ack));
        }
        let via = self.via();
        if let Ok(bye) = dialog.request(Method::Bye, &via, Vec::new(), None) {
            self.send_request(now, bye, Sent::Other);
        }
    }

    pub(crate) fn send_bye(&mut self, now: Instant, id: LineId) {
        let via = self.via();
        let bye = self
            .line_mut(id)
            .and_then(|l| l.dialog.as_mut())
            .and_then(|d| d.request(Method::Bye, &via, Vec::new(), None).ok());
        if let Some(bye) = bye {
            self.send_request(now, bye, Sent::Other);
        }
    }

    /// A re-INVITE moving the call on `id` from `from` to `to` with our audio now
    /// going `direction`.
    fn change_direction(
        &mut self,
        now: Instant,
        id: LineId,
        from: LineState,
        direction: MediaDirection,
        to: LineState,
    ) -> Result<(), PhoneError> {
        let via = self.via();
        let line = self.line_mut(id).ok_or(PhoneError::NoCall(id))?;
        if line.info.state != from || line.reinvite.is_some() {
            return Err(PhoneError::WrongState(id));
        }
        let sdp = line.audio.redescribe(direction);
        let Some(dialog) = line.dialog.as_mut() else {
            return Err(PhoneError::WrongState(id));
        };
        let Ok(reinvite) = dialog.request(
            Method::Invite,
            &via,
            Vec::new(),
            Some(("application/sdp", sdp)),
        ) else {
            return Err(PhoneError::WrongState(id));
        };
        line.invite_cseq = dialog.local_cseq;
        let contact = self.contact();
        let mut reinvite = reinvite;
        reinvite.headers.push(contact);
        let client = self.send_request(now, reinvite, Sent::ReInvite(id));
        if let Some(line) = self.line_mut(id) {
            line.reinvite = client;
        }
        self.set_state(now, id, to);
        Ok(())
    }
}

/// An extension, feature code or outside number the phone can put in a SIP URI.
fn dialable(number: &str) -> bool {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "*#+.-_".contains(c);
    !number.is_empty() && number.len() <= 64 && number.chars().all(allowed)
}

/// A number as the user part of a SIP URI: `#` is not allowed there (RFC 3261 §25.1).
fn escape_user(number: &str) -> String {
    number.replace('#', "%23")
}

fn reason_phrase(response: &rsip::Response) -> String {
    let status = response.status_code.to_string();
    status
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .trim()
        .to_string()
}
