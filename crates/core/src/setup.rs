//! A new call: checks on the caller's INVITE, then one INVITE to every registered
//! phone of the callee.

use std::time::Instant;

use rsip::{Header, Method};
use switchboard_media::sdp::{AudioStream, LocalDescription, SessionDescription, formats_to_offer};
use switchboard_queue::OfferId;
use switchboard_sip::dialog::{Dialog, build_request};
use switchboard_sip::header::{NameAddr, uri_user};
use switchboard_sip::message::{header_value, vias};
use switchboard_sip::registrar::Binding;
use switchboard_sip::service::{ALLOW, SERVER};
use switchboard_sip::transaction::{Peer, ServerId};

use crate::call::{Call, CallStart, Fork, ForkState, Phase};
use crate::in_dialog::DialogRoute;
use crate::numbers::ListKind;
use crate::pbx::{Announcement, CallKey, CallTimer, MediaCommand, Output, Pbx};
use crate::queue_calls::FeatureCode;
use crate::record::{CallRecord, Disposition, HangupBy};

/// Who is rung and with what: the caller's identity and offer, Switchboard's port
/// facing the phones.
pub(crate) struct Ringing<'a> {
    pub caller: &'a str,
    /// The caller's display name, quoted and followed by a space, or empty.
    pub display: &'a str,
    /// The extension whose phones ring.
    pub callee: &'a str,
    pub max_forwards: u32,
    pub offer: &'a AudioStream,
    pub port: u16,
    /// The leg the phones become: B, or A for a callback's customer.
    pub seat: switchboard_media::relay::Side,
}

/// The caller's display name as the From of a forked INVITE carries it.
pub(crate) fn display_name(invite: &rsip::Request) -> String {
    header_value(&invite.headers, "From")
        .and_then(|f| NameAddr::parse(f, "From").ok())
        .and_then(|f| f.display)
        .map(|d| format!("\"{d}\" "))
        .unwrap_or_default()
}

/// A call that ends before any phone rings: the answer to the caller and its record.
struct Refusal {
    code: u16,
    reason: String,
}

fn refuse(code: u16, reason: impl Into<String>) -> Refusal {
    Refusal {
        code,
        reason: reason.into(),
    }
}

impl Pbx {
    pub(crate) fn handle_invite(
        &mut self,
        now: Instant,
        id: ServerId,
        invite: rsip::Request,
        peer: Peer,
    ) {
        let max_forwards = header_value(&invite.headers, "Max-Forwards")
            .and_then(|v| v.trim().parse::<u32>().ok())
            .unwrap_or(70);
        if max_forwards == 0 {
            return self.reply(now, id, &invite, 483, "Too Many Hops");
        }
        // Our own branch in the Via path means the INVITE came back to us.
        if vias(&invite.headers)
            .iter()
            .any(|v| v.branch().is_some_and(|b| b.starts_with("z9hG4bKsb")))
        {
            return self.reply(now, id, &invite, 482, "Loop Detected");
        }
        let caller = match self.sip.authenticate(now, &invite, peer) {
            Ok(user) => user,
            Err(challenge) => return self.sip.respond(now, id, &challenge),
        };
        let from_user = header_value(&invite.headers, "From")
            .and_then(|f| NameAddr::parse(f, "From").ok())
            .and_then(|f| f.user().map(str::to_string));
        if from_user.as_deref() != Some(caller.as_str()) {
            return self.reply(now, id, &invite, 403, "From does not match credentials");
        }
        let callee = uri_user(&invite.uri.to_string())
            .unwrap_or_default()
            .to_string();
        match self.start_call(now, id, &invite, peer, &caller, &callee, max_forwards) {
            Ok(()) => {}
            Err(refusal) => {
                let tag = self.ids.token();
                let mut r = self
                    .sip
                    .response(&invite, refusal.code, &refusal.reason, &tag);
                if refusal.code == 488 {
                    r.headers.push(Header::Warning(
                        format!("399 switchboard \"{}\"", refusal.reason.replace('"', "'")).into(),
                    ));
                }
                self.sip.respond(now, id, &r);
                let wall = self.wall(now);
                self.outputs.push_back(Output::CallRecord(CallRecord {
                    call_id: header_value(&invite.headers, "Call-ID")
                        .unwrap_or_default()
                        .to_string(),
                    caller,
                    callee,
                    started: wall,
                    answered: None,
                    ended: wall,
                    disposition: Disposition::Failed,
                    hangup_by: HangupBy::System,
                    caller_codec: None,
                    callee_codec: None,
                    sip_code: refusal.code,
                    reason: refusal.reason,
                    queue: None,
                    answered_by: None,
                    priority: 0,
                    preempted: false,
                    scenario_path: None,
                    opened: None,
                }));
            }
        }
    }

    /// INVITEs from `ring.caller` to each of `bindings` (an extension's phones), as
    /// forks `first_index`… of call `key`; `offer` marks them as one queue offer.
    pub(crate) fn fork_invites(
        &mut self,
        now: Instant,
        key: CallKey,
        ring: &Ringing<'_>,
        bindings: Vec<Binding>,
        first_index: usize,
        offer: Option<OfferId>,
    ) -> Vec<Fork> {
        let mut forks = Vec::new();
        for binding in bindings {
            let b_peer = binding.source;
            let sdp = LocalDescription {
                session_id: self.ids.next() >> 1,
                version: 1,
                address: self.local_ip(b_peer),
                port: ring.port,
                formats: formats_to_offer(ring.offer),
                direction: ring.offer.direction,
                ptime: 20,
                // A callee is offered SRTP when its extension requires it, plain RTP
                // otherwise (an encrypting caller's audio is decrypted here, and a
                // callee that cannot do SRTP still answers).
                crypto: self
                    .requires_encryption(ring.callee)
                    .then(|| self.fresh_key(1)),
            };
            let local_ip = self.local_ip(b_peer);
            let port = self.config.sip_port;
            let (caller, callee, display) = (ring.caller, ring.callee, ring.display);
            let headers = vec![
                Header::Via(self.via(b_peer).into()),
                Header::MaxForwards((ring.max_forwards - 1).to_string().into()),
                Header::From(
                    format!(
                        "{display}<sip:{caller}@{local_ip}:{port}>;tag={}",
                        self.ids.token()
                    )
                    .into(),
                ),
                Header::To(format!("<sip:{callee}@{local_ip}:{port}>").into()),
                Header::CallId(format!("{}@switchboard", self.ids.token()).into()),
                Header::CSeq("1 INVITE".into()),
                Header::Contact(self.contact(caller, b_peer).into()),
                Header::Allow(ALLOW.into()),
                Header::UserAgent(SERVER.into()),
            ];
            let Ok(request) = build_request(
                Method::Invite,
                &binding.uri,
                headers,
                Some(("application/sdp", sdp.to_bytes())),
            ) else {
                continue;
            };
            if let Some(client) = self.sip.send_request(now, request.clone(), b_peer) {
                self.by_fork
                    .insert(client, (key, first_index + forks.len()));
                forks.push(Fork {
                    client,
                    invite: request,
                    peer: b_peer,
                    extension: ring.callee.to_string(),
                    state: ForkState::Calling,
                    dialog: None,
                    cancel_on_provisional: false,
                    cancel_sent: false,
                    offer,
                    seat: ring.seat,
                    sdp,
                });
            }
        }
        forks
    }

    /// The live bindings of an extension.
    pub(crate) fn live_bindings(&self, now: Instant, extension: &str) -> Vec<Binding> {
        self.sip
            .registrar()
            .bindings(extension)
            .iter()
            .filter(|b| b.remaining(now) > std::time::Duration::ZERO)
            .cloned()
            .collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn start_call(
        &mut self,
        now: Instant,
        id: ServerId,
        invite: &rsip::Request,
        peer: Peer,
        caller: &str,
        callee: &str,
        max_forwards: u32,
    ) -> Result<(), Refusal> {
        // A blocked caller is declined at once, or told first when the list says so.
        let blocked = self
            .lists_of(caller)
            .into_iter()
            .find_map(|l| match l.kind {
                ListKind::Block { tell } => Some((
                    format!("Decline (the caller is on the list {:?})", l.name),
                    tell,
                )),
                _ => None,
            });
        let told_blocked = match blocked {
            Some((reason, false)) => return Err(refuse(603, reason)),
            Some((reason, true)) => Some(reason),
            None => None,
        };
        let is_sdp = header_value(&invite.headers, "Content-Type")
            .is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("application/sdp"));
        if invite.body.is_empty() || !is_sdp {
            return Err(refuse(488, "An SDP offer is required in the INVITE"));
        }
        let offer = SessionDescription::parse(&invite.body)
            .and_then(|sdp| sdp.audio())
            .map_err(|e| refuse(488, e.to_string()))?;
        if offer.first_audio().is_none() {
            return Err(refuse(
                488,
                switchboard_media::sdp::SdpError::NoCommonCodec.to_string(),
            ));
        }
        // An extension that must encrypt calls over TLS with its audio in SRTP.
        if self.requires_encryption(caller) {
            if peer.transport != switchboard_sip::transaction::Transport::Tls {
                return Err(refuse(403, "This extension calls over TLS only"));
            }
            if offer.crypto.is_none() {
                return Err(refuse(
                    488,
                    "This extension's audio must be encrypted (SRTP)",
                ));
            }
        }
        let known = self.sip.account(callee).is_some();
        let bindings = self.live_bindings(now, callee);
        let a_tag = self.ids.token();
        let a_dialog =
            Dialog::as_uas(invite, &a_tag, peer).map_err(|e| refuse(400, e.to_string()))?;
        let Some([a_port, b_port]) = self.ports.take_pair(self.ids.next()) else {
            return Err(refuse(503, "No free media ports"));
        };
        let key = self.new_call_key();
        let trying = self.sip.response(invite, 100, "Trying", &a_tag);
        self.sip.respond(now, id, &trying);

        let display = display_name(invite);
        let ring = Ringing {
            caller,
            display: &display,
            callee,
            max_forwards,
            offer: &offer,
            port: b_port,
            seat: switchboard_media::relay::Side::B,
        };
        // A blocked caller reaches nothing: they are told, then declined.
        let queue = self
            .queue_numbers
            .get(callee)
            .copied()
            .filter(|_| told_blocked.is_none());
        let feature = FeatureCode::from_number(callee).filter(|_| told_blocked.is_none());
        let scenario = self
            .inbound_scenario(callee)
            .filter(|_| told_blocked.is_none() && queue.is_none() && feature.is_none());
        let mailbox = self
            .dialled_mailbox(callee, caller)
            .filter(|_| told_blocked.is_none());
        let elsewhere =
            queue.is_some() || feature.is_some() || scenario.is_some() || mailbox.is_some();
        let forks = if elsewhere || told_blocked.is_some() {
            Vec::new()
        } else {
            self.fork_invites(now, key, &ring, bindings, 0, None)
        };
        self.outputs.push_back(Output::Media(MediaCommand::Open {
            call: key,
            ports: [a_port, b_port],
        }));
        self.by_invite.insert(id, key);
        self.by_dialog.insert(
            (a_dialog.call_id.clone(), a_tag),
            DialogRoute {
                call: key,
                side: switchboard_media::relay::Side::A,
                peer,
                extension: Some(caller.to_string()),
            },
        );
        let nobody_rings = forks.is_empty() && !elsewhere;
        self.open_call(
            now,
            key,
            Call::new(CallStart {
                invite_id: Some(id),
                invite: invite.clone(),
                a_peer: peer,
                a_dialog,
                caller: caller.to_string(),
                callee: callee.to_string(),
                offer,
                ports: [a_port, b_port],
                forks,
                phase: match (queue, &scenario) {
                    (Some(_), _) => Phase::Queued,
                    (None, Some(_)) => Phase::Scenario,
                    (None, None) => Phase::Ringing,
                },
                started_wall: self.wall(now),
                queue,
                max_forwards,
            }),
        );
        if let Some(reason) = told_blocked {
            let what = Announcement::Blocked;
            self.announce_failure(now, key, 603, &reason, Disposition::Failed, what);
            return Ok(());
        }
        if let Some(queue) = queue {
            self.join_queue(now, key, queue, 0);
            return Ok(());
        }
        if let Some(scenario) = scenario {
            self.start_scenario(now, key, scenario);
            return Ok(());
        }
        if let Some(code) = feature {
            self.feature_code(now, key, code);
            return Ok(());
        }
        if let Some(mailbox) = mailbox {
            self.open_mailbox(now, key, mailbox);
            return Ok(());
        }
        if nobody_rings {
            // The caller hears why, then gets the failure.
            let (code, reason, what) = if known {
                (480, "Temporarily Unavailable", Announcement::Unavailable)
            } else {
                (404, "Not Found", Announcement::NoSuchNumber)
            };
            self.announce_failure(now, key, code, reason, Disposition::Failed, what);
        } else {
            self.timers
                .insert((now + self.config.ring_timeout, key, CallTimer::RingTimeout));
        }
        Ok(())
    }
}
