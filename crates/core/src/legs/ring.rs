//! New calls: the checks every caller's INVITE passes, the call taken up with its
//! media ports, and INVITEs to every registered phone of an extension (one fork each).

use std::time::Instant;
use switchboard_queue::Priority;

use rsip::{Header, Method};
use switchboard_media::relay::Side;
use switchboard_media::sdp::{AudioStream, LocalDescription, SessionDescription, formats_to_offer};
use switchboard_sip::dialog::{Dialog, build_request};
use switchboard_sip::header::NameAddr;
use switchboard_sip::message::{header_value, vias};
use switchboard_sip::registrar::Binding;
use switchboard_sip::service::{ALLOW, SERVER};
use switchboard_sip::transaction::{Peer, ServerId, Transport};

use super::call::{Call, CallStart, Fork, ForkState, ForkTarget, Origin, Phase};
use super::{DialogRoute, Legs};
use crate::record::{CallRecord, HangupBy, Outcome};
use crate::vocabulary::{Announcement, CallKey, Output};

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
    /// The leg the phones become: B, or A for a placed call's callee.
    pub seat: Side,
}

/// The caller's display name as the From of a forked INVITE carries it.
pub(crate) fn display_name(invite: &rsip::Request) -> String {
    header_value(&invite.headers, "From")
        .and_then(|f| NameAddr::parse(f, "From").ok())
        .and_then(|f| f.display)
        .map(|d| format!("\"{d}\" "))
        .unwrap_or_default()
}

/// Why a new call is refused before anything rings: the caller's answer and record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub code: u16,
    pub reason: String,
}

impl Refusal {
    pub fn new(code: u16, reason: impl Into<String>) -> Refusal {
        Refusal {
            code,
            reason: reason.into(),
        }
    }
}

impl Legs {
    /// The caller of a new INVITE once it passed the checks every call passes (hops,
    /// loops, digest, a From that matches the credentials); none when it has been
    /// answered already.
    pub fn admit_caller(
        &mut self,
        now: Instant,
        id: ServerId,
        invite: &rsip::Request,
        peer: Peer,
    ) -> Option<String> {
        if !self.admit(now, id, invite) {
            return None;
        }
        let caller = match self.sip.authenticate(now, invite, peer) {
            Ok(user) => user,
            Err(challenge) => {
                self.sip.respond(now, id, &challenge);
                return None;
            }
        };
        let from_user = header_value(&invite.headers, "From")
            .and_then(|f| NameAddr::parse(f, "From").ok())
            .and_then(|f| f.user().map(str::to_string));
        if from_user.as_deref() != Some(caller.as_str()) {
            self.reply(now, id, invite, 403, "From does not match credentials");
            return None;
        }
        Some(caller)
    }

    /// Whether a new INVITE may be taken up at all: not out of hops, not come back to
    /// us in a loop. Answered when not.
    pub fn admit(&mut self, now: Instant, id: ServerId, invite: &rsip::Request) -> bool {
        if max_forwards(invite) == 0 {
            self.reply(now, id, invite, 483, "Too Many Hops");
            return false;
        }
        // Our own branch in the Via path means the INVITE came back to us.
        if vias(&invite.headers)
            .iter()
            .any(|v| v.branch().is_some_and(|b| b.starts_with("z9hG4bKsb")))
        {
            self.reply(now, id, invite, 482, "Loop Detected");
            return false;
        }
        true
    }

    /// Refuses a new call with `refusal`, and records it.
    pub fn refuse(
        &mut self,
        now: Instant,
        id: ServerId,
        invite: &rsip::Request,
        (caller, callee, origin): (String, String, Origin),
        refusal: Refusal,
    ) {
        let tag = self.ids.token();
        let mut r = self
            .sip
            .response(invite, refusal.code, &refusal.reason, &tag);
        if refusal.code == 488 {
            r.headers.push(Header::Warning(
                format!("399 switchboard \"{}\"", refusal.reason.replace('"', "'")).into(),
            ));
        }
        self.sip.respond(now, id, &r);
        let wall = self.wall(now);
        let record = Box::new(CallRecord {
            call_id: header_value(&invite.headers, "Call-ID")
                .unwrap_or_default()
                .to_string(),
            caller,
            callee,
            direction: origin.direction(),
            trunk: origin.trunk().map(str::to_string),
            started: wall,
            answered: None,
            ended: wall,
            outcome: Outcome::Failed,
            hangup_by: HangupBy::System,
            caller_codec: None,
            callee_codec: None,
            sip_code: refusal.code,
            reason: refusal.reason,
            queue: None,
            answered_by: None,
            priority: Priority::default(),
            preempted: false,
            scenario_path: None,
            history: None,
            recording: None,
        });
        self.push(Output::CallRecord {
            record,
            opened: None,
        });
    }

    /// Takes up the call an admitted INVITE asks for: its offer checked, its dialog
    /// and media ports, "100 Trying". No phone rings yet; `phase` says whether the
    /// legs ring the callee ([`Phase::Ringing`]) or a feature holds the call.
    #[allow(clippy::too_many_arguments)]
    pub fn take_call(
        &mut self,
        now: Instant,
        id: ServerId,
        invite: &rsip::Request,
        peer: Peer,
        caller: &str,
        callee: &str,
        origin: Origin,
        phase: Phase,
    ) -> Result<CallKey, Refusal> {
        let is_sdp = header_value(&invite.headers, "Content-Type")
            .is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("application/sdp"));
        if invite.body.is_empty() || !is_sdp {
            return Err(Refusal::new(488, "An SDP offer is required in the INVITE"));
        }
        let mut offer = SessionDescription::parse(&invite.body)
            .and_then(|sdp| sdp.audio())
            .map_err(|e| Refusal::new(488, e.to_string()))?;
        // A trunk's codecs are the ones taken from it, in its order of preference.
        if let Origin::Trunk(trunk) = &origin
            && let Some(media) = self.trunk_media.get(trunk)
        {
            offer.formats = switchboard_media::sdp::prefer_codecs(&offer.formats, &media.codecs);
        }
        if offer.first_audio().is_none() {
            return Err(Refusal::new(
                488,
                switchboard_media::sdp::SdpError::NoCommonCodec.to_string(),
            ));
        }
        // An extension or trunk that must encrypt calls over TLS with audio in SRTP.
        if self.origin_requires_encryption(&origin, caller) {
            let who = match origin {
                Origin::Extension => "extension",
                Origin::Trunk(_) => "trunk",
            };
            if peer.transport != Transport::Tls {
                return Err(Refusal::new(403, format!("This {who} calls over TLS only")));
            }
            if offer.crypto.is_none() {
                return Err(Refusal::new(
                    488,
                    format!("This {who}'s audio must be encrypted (SRTP)"),
                ));
            }
        }
        let a_tag = self.ids.token();
        let a_dialog =
            Dialog::as_uas(invite, &a_tag, peer).map_err(|e| Refusal::new(400, e.to_string()))?;
        let Some(ports) = self.take_ports() else {
            return Err(Refusal::new(503, "No free media ports"));
        };
        let key = self.new_call_key();
        let trying = self.sip.response(invite, 100, "Trying", &a_tag);
        self.sip.respond(now, id, &trying);
        self.by_invite.insert(id, key);
        self.by_dialog.insert(
            (a_dialog.call_id.clone(), a_tag),
            DialogRoute {
                call: key,
                side: Side::A,
                peer,
                extension: (origin == Origin::Extension).then(|| caller.to_string()),
            },
        );
        let call = Call::new(CallStart {
            invite_id: Some(id),
            invite: invite.clone(),
            a_peer: peer,
            a_dialog,
            caller: caller.to_string(),
            callee: callee.to_string(),
            origin,
            offer,
            ports,
            forks: Vec::new(),
            phase,
            started_wall: self.wall(now),
            max_forwards: max_forwards(invite),
        });
        self.open_call(key, call);
        Ok(key)
    }

    /// Rings every phone of the dialled extension; the caller hears why when none
    /// can ring.
    pub fn ring_extension(&mut self, now: Instant, key: CallKey) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        let (caller, callee, display) = (
            call.caller.clone(),
            call.callee.clone(),
            display_name(&call.invite),
        );
        let (offer, max_forwards, port) = (call.offer.clone(), call.max_forwards, call.ports[1]);
        let ring = Ringing {
            caller: &caller,
            display: &display,
            callee: &callee,
            max_forwards,
            offer: &offer,
            port,
            seat: Side::B,
        };
        let bindings = self.live_bindings(now, &callee);
        if !self.ring(now, key, &ring, bindings).is_empty() {
            let timeout = self.config.ring_timeout;
            return self.ring_for(now, key, timeout);
        }
        // The caller hears why, then gets the failure.
        let (code, reason, what) = if self.is_extension(&callee) {
            (480, "Temporarily Unavailable", Announcement::Unavailable)
        } else {
            (404, "Not Found", Announcement::NoSuchNumber)
        };
        self.announce_failure(now, key, code, reason, Outcome::Failed, what);
    }

    /// Rings `bindings` (phones of `ring.callee`) for call `key`; returns the new
    /// forks' indices, none when no INVITE could go out.
    pub fn ring(
        &mut self,
        now: Instant,
        key: CallKey,
        ring: &Ringing<'_>,
        bindings: Vec<Binding>,
    ) -> Vec<usize> {
        let Some(first) = self.calls.get(&key).map(|c| c.forks.len()) else {
            return Vec::new();
        };
        let forks = self.fork_invites(now, key, ring, bindings, first);
        let indices = (first..first + forks.len()).collect();
        if let Some(call) = self.calls.get_mut(&key) {
            call.forks.extend(forks);
        }
        indices
    }

    /// INVITEs from `ring.caller` to each of `bindings`, as forks `first_index`… of
    /// call `key` (which may not be taken up yet).
    pub fn fork_invites(
        &mut self,
        now: Instant,
        key: CallKey,
        ring: &Ringing<'_>,
        bindings: Vec<Binding>,
        first_index: usize,
    ) -> Vec<Fork> {
        let mut forks = Vec::new();
        for binding in bindings {
            let b_peer = binding.source;
            // A callee is offered SRTP when its extension requires it, plain RTP
            // otherwise (an encrypting caller's audio is decrypted here, and a callee
            // that cannot do SRTP still answers).
            let encrypt = self.requires_encryption(ring.callee);
            let sdp = self.offer_to(b_peer, ring.offer, ring.port, encrypt);
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
                    client: Some(client),
                    invite: request,
                    peer: b_peer,
                    target: ForkTarget::Phone {
                        extension: ring.callee.to_string(),
                    },
                    state: ForkState::Calling,
                    dialog: None,
                    cancel_on_provisional: false,
                    cancel_sent: false,
                    seat: ring.seat,
                    sdp,
                });
            }
        }
        forks
    }

    /// What Switchboard offers the peer at `peer` for the caller's `offer`, on `port`.
    pub fn offer_to(
        &mut self,
        peer: Peer,
        offer: &AudioStream,
        port: u16,
        encrypt: bool,
    ) -> LocalDescription {
        LocalDescription {
            session_id: self.ids.random() >> 1,
            version: 1,
            address: self.local_ip(peer),
            port,
            formats: formats_to_offer(offer),
            direction: offer.direction,
            ptime: 20,
            crypto: encrypt.then(|| self.fresh_key(1)),
        }
    }

    /// A pair of RTP ports for a new call's two legs.
    pub fn take_ports(&mut self) -> Option<[u16; 2]> {
        let ids = &mut self.ids;
        self.ports.take_pair(|| ids.random())
    }

    pub fn give_back_ports(&mut self, ports: [u16; 2]) {
        self.ports.give_back(ports);
    }
}

fn max_forwards(invite: &rsip::Request) -> u32 {
    header_value(&invite.headers, "Max-Forwards")
        .and_then(|v| v.trim().parse::<u32>().ok())
        .unwrap_or(70)
}
