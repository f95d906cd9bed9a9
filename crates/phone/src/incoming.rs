//! What the server asks of the phone: calls that ring it, their cancellation, hang-ups
//! and re-INVITEs inside calls, keep-alives and transfer progress; and the commands
//! that answer a ringing call or reject it.
//!
//! Only the office's Switchboard may talk to the phone: a request from any other
//! address is refused, so nobody else on the network can ring it or end its calls.

use std::time::Instant;

use rsip::{Header, Method};
use switchboard_sip::dialog::Dialog;
use switchboard_sip::header::NameAddr;
use switchboard_sip::message::{header_value, response_bytes, response_to};
use switchboard_sip::service::ALLOW;
use switchboard_sip::transaction::{Peer, ServerId};

use crate::call_audio::CallAudio;
use crate::line::{
    Direction, EndReason, Line, LineId, LineInfo, LineState, Party, Setup, Unacknowledged,
};
use crate::phone::{Phone, PhoneError, PhoneEvent};

impl Phone {
    // --- commands

    /// Answers the call ringing on `id`; the call being talked on, if any, is held.
    pub fn answer(&mut self, now: Instant, id: LineId) -> Result<(), PhoneError> {
        let line = self.line_mut(id).ok_or(PhoneError::NoCall(id))?;
        let Setup::Incoming {
            server,
            invite,
            answer,
        } = std::mem::replace(&mut line.setup, Setup::Done)
        else {
            return Err(PhoneError::WrongState(id));
        };
        if let Some(other) = self.talking_line() {
            let _ = self.hold(now, other);
        }
        let Some(line) = self.line_mut(id) else {
            return Err(PhoneError::NoCall(id));
        };
        let tag = line
            .dialog
            .as_ref()
            .map(|d| d.local_tag.clone())
            .unwrap_or_default();
        let mut response = response_to(&invite, 200, "OK", &tag);
        response.headers.extend(self.common_headers());
        with_sdp(&mut response, answer);
        self.layer.respond(now, server, &response);
        let wait = self.ack_wait();
        let t1 = self.timers.t1;
        if let Some(line) = self.line_mut(id) {
            line.unacknowledged = Some(Unacknowledged {
                bytes: response_bytes(&response),
                next: now + t1,
                interval: t1,
                give_up: now + wait,
            });
        }
        self.set_state(now, id, LineState::Talking);
        Ok(())
    }

    /// Refuses the call ringing on `id` (486 Busy Here: a queue offers it to the next
    /// agent).
    pub fn reject(&mut self, now: Instant, id: LineId) -> Result<(), PhoneError> {
        let line = self.line_mut(id).ok_or(PhoneError::NoCall(id))?;
        let Setup::Incoming { server, invite, .. } = &line.setup else {
            return Err(PhoneError::WrongState(id));
        };
        let tag = line
            .dialog
            .as_ref()
            .map(|d| d.local_tag.clone())
            .unwrap_or_default();
        let response = response_to(invite, 486, "Busy Here", &tag);
        let server = *server;
        self.layer.respond(now, server, &response);
        self.end(id, EndReason::HungUpHere);
        Ok(())
    }

    // --- requests from the server

    pub(crate) fn request(
        &mut self,
        now: Instant,
        id: ServerId,
        request: rsip::Request,
        peer: Peer,
    ) {
        if peer.addr != self.config.server {
            return self.respond(
                now,
                id,
                &request,
                403,
                "Only the office's Switchboard may call this phone",
            );
        }
        let in_dialog = header_value(&request.headers, "To")
            .and_then(|to| NameAddr::parse(to, "To").ok())
            .is_some_and(|to| to.tag().is_some());
        match request.method {
            Method::Invite if in_dialog => self.reinvite(now, id, request),
            Method::Invite => self.ring(now, id, request, peer),
            Method::Cancel => self.cancel(now, id, &request),
            Method::Bye => match self.dialog_line(&request) {
                Some(line) => {
                    self.respond(now, id, &request, 200, "OK");
                    self.end(line, EndReason::HungUpThere);
                }
                None => self.respond(now, id, &request, 481, "Call/Transaction Does Not Exist"),
            },
            Method::Notify => self.notified(now, id, &request),
            Method::Options | Method::Info => self.respond(now, id, &request, 200, "OK"),
            _ => {
                let mut response =
                    response_to(&request, 405, "Method Not Allowed", &self.ids.token());
                response.headers.push(Header::Allow(ALLOW.into()));
                self.layer.respond(now, id, &response);
            }
        }
    }

    /// An ACK to our 2xx: stop sending it.
    pub(crate) fn ack(&mut self, request: &rsip::Request, peer: Peer) {
        if peer.addr != self.config.server {
            return;
        }
        if let Some(id) = self.dialog_line(request)
            && let Some(line) = self.line_mut(id)
        {
            line.unacknowledged = None;
        }
    }

    fn ring(&mut self, now: Instant, id: ServerId, invite: rsip::Request, peer: Peer) {
        let Some(line_id) = self.free_line() else {
            return self.respond(now, id, &invite, 486, "Busy Here");
        };
        let mut audio = CallAudio::new(
            now,
            self.config.media[line_id.0],
            &self.config.codecs,
            self.ids.random(),
        );
        let answer = match audio.answer(&invite.body, false) {
            Ok(answer) => answer,
            // A call without an offer (late offer) or with none of our codecs.
            Err(_) => return self.respond(now, id, &invite, 488, "Not Acceptable Here"),
        };
        let tag = self.ids.token();
        let Ok(dialog) = Dialog::as_uas(&invite, &tag, peer) else {
            return self.respond(now, id, &invite, 400, "Bad Request");
        };
        let mut ringing = response_to(&invite, 180, "Ringing", &tag);
        ringing.headers.push(self.contact());
        self.layer.respond(now, id, &ringing);
        let party = Party::from_header(header_value(&invite.headers, "From").unwrap_or_default());
        self.lines[line_id.0] = Some(Line {
            info: LineInfo {
                line: line_id,
                state: LineState::Ringing,
                direction: Direction::Incoming,
                party,
                held_by_party: false,
                since: now,
            },
            setup: Setup::Incoming {
                server: id,
                invite,
                answer,
            },
            dialog: Some(dialog),
            audio,
            invite_cseq: 0,
            reinvite: None,
            unacknowledged: None,
        });
        self.set_state(now, line_id, LineState::Ringing);
    }

    fn cancel(&mut self, now: Instant, id: ServerId, cancel: &rsip::Request) {
        let Some(invite) = self.layer.invite_cancelled_by(cancel) else {
            return self.respond(now, id, cancel, 481, "Call/Transaction Does Not Exist");
        };
        self.respond(now, id, cancel, 200, "OK");
        let ringing = self.lines.iter().flatten().find_map(|l| match &l.setup {
            Setup::Incoming {
                server,
                invite: request,
                ..
            } if *server == invite => {
                let tag = l
                    .dialog
                    .as_ref()
                    .map(|d| d.local_tag.clone())
                    .unwrap_or_default();
                Some((
                    l.info.line,
                    response_to(request, 487, "Request Terminated", &tag),
                ))
            }
            _ => None,
        });
        if let Some((line, terminated)) = ringing {
            self.layer.respond(now, invite, &terminated);
            self.end(line, EndReason::Cancelled);
        }
    }

    /// A new offer inside a call: the other end held or resumed us, or the server
    /// moved the call's audio.
    fn reinvite(&mut self, now: Instant, id: ServerId, request: rsip::Request) {
        let Some(line_id) = self.dialog_line(&request) else {
            return self.respond(now, id, &request, 481, "Call/Transaction Does Not Exist");
        };
        let wait = self.ack_wait();
        let t1 = self.timers.t1;
        let contact = self.common_headers();
        let Some(line) = self.line_mut(line_id) else {
            return;
        };
        let holding = line.info.state == LineState::Held;
        let Ok(answer) = line.audio.answer(&request.body, holding) else {
            return self.respond(now, id, &request, 488, "Not Acceptable Here");
        };
        let tag = line
            .dialog
            .as_ref()
            .map(|d| d.local_tag.clone())
            .unwrap_or_default();
        let mut response = response_to(&request, 200, "OK", &tag);
        response.headers.extend(contact);
        with_sdp(&mut response, answer);
        line.unacknowledged = Some(Unacknowledged {
            bytes: response_bytes(&response),
            next: now + t1,
            interval: t1,
            give_up: now + wait,
        });
        let state = line.info.state;
        self.layer.respond(now, id, &response);
        self.set_state(now, line_id, state);
    }

    /// A NOTIFY: the progress of a transfer we asked for (RFC 3515 §2.4.5). A 2xx
    /// means the other end now talks to the target, so our part of the call ends.
    fn notified(&mut self, now: Instant, id: ServerId, request: &rsip::Request) {
        self.respond(now, id, request, 200, "OK");
        let Some(line) = self.dialog_line(request) else {
            return;
        };
        let is_refer = header_value(&request.headers, "Event")
            .is_some_and(|e| e.trim().to_ascii_lowercase().starts_with("refer"));
        let status = std::str::from_utf8(&request.body)
            .ok()
            .and_then(|frag| frag.strip_prefix("SIP/2.0 "))
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse::<u16>().ok());
        match status {
            Some(200..=299) if is_refer => {
                let _ = self.hang_up(now, line);
            }
            Some(code @ 300..) if is_refer => {
                self.events
                    .push_back(PhoneEvent::TransferFailed { line, code });
            }
            _ => {}
        }
    }

    /// The line whose dialog `request` belongs to (its To tag is ours).
    pub(crate) fn dialog_line(&self, request: &rsip::Request) -> Option<LineId> {
        let call_id = header_value(&request.headers, "Call-ID")?;
        let local_tag = header_value(&request.headers, "To")
            .and_then(|to| NameAddr::parse(to, "To").ok())
            .and_then(|to| to.tag().map(str::to_string));
        let from = header_value(&request.headers, "From")?;
        self.lines
            .iter()
            .flatten()
            .find(|l| l.is_dialog(call_id, local_tag.as_deref(), from))
            .map(|l| l.info.line)
    }

    fn respond(
        &mut self,
        now: Instant,
        id: ServerId,
        request: &rsip::Request,
        code: u16,
        reason: &str,
    ) {
        let tag = self.ids.token();
        let response = response_to(request, code, reason, &tag);
        self.layer.respond(now, id, &response);
    }
}

/// Puts an SDP body on `response`.
pub(crate) fn with_sdp(response: &mut rsip::Response, sdp: Vec<u8>) {
    response
        .headers
        .push(Header::ContentType("application/sdp".into()));
    response.body = sdp;
}
