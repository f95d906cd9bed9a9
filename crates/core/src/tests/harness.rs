//! The engine on a simulated clock, as the tests drive it: phones are plain SIP text at
//! fixed addresses, and every output is collected.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use switchboard_sip::auth::{AccountSecrets, authorization};
use switchboard_sip::registrar::Binding;
use switchboard_sip::service::{Account, ServiceConfig};
use switchboard_sip::transaction::{Peer, Transport};

use crate::*;

pub(crate) const CALLER: &str = "192.0.2.10:5060";
pub(crate) const DESK: &str = "192.0.2.20:5060";
pub(crate) const MOBILE: &str = "192.0.2.21:5060";
pub(crate) const PASSWORD: &str = "pw-0123456789";

pub(crate) fn peer(addr: &str) -> Peer {
    Peer {
        transport: Transport::Udp,
        addr: addr.parse().unwrap(),
    }
}

pub(crate) fn tls_peer(addr: &str) -> Peer {
    Peer {
        transport: Transport::Tls,
        ..peer(addr)
    }
}

/// [`sdp`] with its audio in SRTP, keyed as RFC 4568's example.
pub(crate) fn srtp_sdp(port: u16, payload_types: &str) -> String {
    sdp(port, payload_types).replace("RTP/AVP", "RTP/SAVP")
        + "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n"
}

pub(crate) struct Harness {
    pub(crate) pbx: Pbx,
    pub(crate) now: Instant,
    /// The wall-clock time at `now`.
    pub(crate) wall: SystemTime,
    pub(crate) inbox: HashMap<SocketAddr, Vec<String>>,
    pub(crate) media: Vec<MediaCommand>,
    pub(crate) records: Vec<CallRecord>,
    pub(crate) callbacks: Vec<CallbackChange>,
    /// Calls opened whose record is not written yet.
    pub(crate) opened: Vec<crate::record::CallOpened>,
    /// The calls told answered (Call-ID) and by whom, in order.
    pub(crate) answered: Vec<(String, Option<String>)>,
    pub(crate) queue_events: Vec<crate::QueueEventRecord>,
    pub(crate) voicemail: Vec<VoicemailChange>,
    pub(crate) branch: u32,
}

impl Harness {
    /// 100 calls 101; 101 has a phone at each of `phones`.
    pub(crate) fn new(phones: &[&str]) -> Self {
        Self::ringing_for(phones, Duration::from_secs(30))
    }

    pub(crate) fn ringing_for(phones: &[&str], ring_timeout: Duration) -> Self {
        Self::configured(phones, |c| c.ring_timeout = ring_timeout)
    }

    /// The office listens for SIP over TLS on port 5061 too.
    pub(crate) fn with_tls(phones: &[&str]) -> Self {
        Self::configured(phones, |c| c.tls_port = Some(5061))
    }

    /// The office's network is 192.0.2.0/24 behind a NAT whose public address is
    /// 198.51.100.1.
    pub(crate) fn behind_nat(phones: &[&str]) -> Self {
        Self::configured(phones, |c| {
            c.public_ip = Some("198.51.100.1".parse().unwrap());
            c.local_networks = vec!["192.0.2.0/24".parse().unwrap()];
        })
    }

    fn configured(phones: &[&str], configure: impl FnOnce(&mut PbxConfig)) -> Self {
        let now = Instant::now();
        let mut config = PbxConfig {
            sip: ServiceConfig::default(),
            sip_port: 5060,
            tls_port: None,
            advertise_ip: "192.0.2.1".parse().unwrap(),
            public_ip: None,
            local_networks: Vec::new(),
            media_ports: (20000, 20099),
            ring_timeout: Duration::from_secs(30),
        };
        configure(&mut config);
        let wall = SystemTime::UNIX_EPOCH;
        let mut pbx = Pbx::new(config, [7; 32], [42; 32], Clock { mono: now, wall });
        let account = |user: &str| Account {
            encryption: Default::default(),
            secrets: AccountSecrets::from_password(user, "switchboard", PASSWORD),
            enabled: true,
        };
        pbx.service_mut().set_accounts(
            ["100", "101", "102"]
                .into_iter()
                .map(|u| (u.to_string(), account(u)))
                .collect(),
        );
        for (i, phone) in phones.iter().enumerate() {
            let binding = Binding {
                uri: format!("sip:101@{phone}"),
                call_id: format!("reg{i}"),
                cseq: 1,
                expires_at: now,
                source: peer(phone),
                user_agent: None,
            };
            pbx.service_mut().registrar_mut().restore(
                now,
                "101",
                binding,
                Duration::from_secs(3600),
            );
        }
        let mut h = Harness {
            pbx,
            now,
            wall,
            inbox: HashMap::new(),
            media: Vec::new(),
            records: Vec::new(),
            callbacks: Vec::new(),
            opened: Vec::new(),
            answered: Vec::new(),
            queue_events: Vec::new(),
            voicemail: Vec::new(),
            branch: 0,
        };
        h.collect();
        h
    }

    /// A phone for `user` at `addr`, as if it had registered.
    pub(crate) fn register(&mut self, user: &str, addr: &str) {
        let binding = Binding {
            uri: format!("sip:{user}@{addr}"),
            call_id: format!("reg-{user}-{addr}"),
            cseq: 1,
            expires_at: self.now,
            source: peer(addr),
            user_agent: None,
        };
        self.pbx.service_mut().registrar_mut().restore(
            self.now,
            user,
            binding,
            Duration::from_secs(3600),
        );
    }

    /// The ports opened for `call`: the one facing A, then B (drawn at random).
    pub(crate) fn ports(&self, call: CallKey) -> [u16; 2] {
        self.media
            .iter()
            .find_map(|m| match m {
                MediaCommand::Open { call: c, ports } if *c == call => Some(*ports),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no ports opened for call {call}: {:?}", self.media))
    }

    /// The ports of the call opened last.
    pub(crate) fn newest_ports(&self) -> [u16; 2] {
        self.media
            .iter()
            .rev()
            .find_map(|m| match m {
                MediaCommand::Open { ports, .. } => Some(*ports),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no ports opened: {:?}", self.media))
    }

    pub(crate) fn collect(&mut self) {
        while let Some(o) = self.pbx.poll_output() {
            match o {
                Output::Transmit(t) => self
                    .inbox
                    .entry(t.peer.addr)
                    .or_default()
                    .push(String::from_utf8(t.bytes).unwrap()),
                Output::Media(m) => self.media.push(m),
                Output::CallOpened(c) => self.opened.push(c),
                Output::CallAnswered(a) => {
                    let last = self.answered.iter().rev().find(|(id, _)| *id == a.call_id);
                    assert!(
                        last.is_none_or(|(_, by)| *by != a.answered_by),
                        "{a:?} is told answered twice by the same party"
                    );
                    self.answered.push((a.call_id, a.answered_by));
                }
                Output::CallRecord { record: r, opened } => {
                    // Every answered call was told answered as it was.
                    if r.answered.is_some() {
                        assert!(
                            self.answered.iter().any(|(id, _)| *id == r.call_id),
                            "{r:?} was never told answered"
                        );
                    }
                    if let Some(key) = opened {
                        let open = self.opened.iter().position(|c| c.call == key);
                        assert!(open.is_some(), "{r:?} closes no call that was opened");
                        let opened = self.opened.remove(open.unwrap_or_default());
                        assert_eq!(opened.started, r.started);
                    }
                    self.records.push(*r)
                }
                Output::Binding(_) => {}
                Output::QueueEvent(e) => self.queue_events.push(e),
                Output::Voicemail(v) => self.voicemail.push(v),
                Output::Callback(c) => self.callbacks.push(c),
            }
        }
    }

    pub(crate) fn send(&mut self, from: &str, text: &str) {
        self.send_over(peer(from), text);
    }

    /// `text` from `from` over its transport (a TCP or TLS connection's).
    pub(crate) fn send_over(&mut self, from: Peer, text: &str) {
        self.pbx
            .handle_datagram(self.clock(), from, text.as_bytes());
        self.collect();
    }

    pub(crate) fn clock(&self) -> Clock {
        Clock {
            mono: self.now,
            wall: self.wall,
        }
    }

    pub(crate) fn advance(&mut self, by: Duration) {
        let until = self.now + by;
        while let Some(at) = self.pbx.poll_timeout().filter(|at| *at <= until) {
            let step = at.saturating_duration_since(self.now);
            self.now += step;
            self.wall += step;
            self.pbx.handle_timeout(self.clock());
            self.collect();
        }
        self.wall += until - self.now;
        self.now = until;
    }

    /// The PC sleeps for `by`: the wall clock goes on, the monotonic one does not.
    pub(crate) fn sleep(&mut self, by: Duration) {
        self.wall += by;
    }

    pub(crate) fn take(&mut self, addr: &str) -> Vec<String> {
        self.inbox
            .remove(&addr.parse().unwrap())
            .unwrap_or_default()
    }

    /// The one message waiting at `addr` that starts with `start` (retransmitted
    /// copies count once).
    pub(crate) fn expect(&mut self, addr: &str, start: &str) -> String {
        let all = self.take(addr);
        let mut found: Vec<_> = all.iter().filter(|m| m.starts_with(start)).collect();
        found.dedup();
        assert_eq!(
            found.len(),
            1,
            "expected one {start:?} at {addr}, got {all:#?}"
        );
        found[0].clone()
    }

    /// The caller was sent 183 with Switchboard's media and `what` is announced to
    /// it; the media edge reports the end.
    pub(crate) fn announcement_plays(&mut self, what: Announcement) {
        self.announcement_plays_on(1, what)
    }

    /// [`Harness::announcement_plays`] to call `call` of the caller's.
    pub(crate) fn announcement_plays_on(&mut self, call: CallKey, what: Announcement) {
        let progress = self.expect(CALLER, "SIP/2.0 183 Session Progress");
        assert!(
            body(&progress).contains(&format!("m=audio {} RTP/AVP ", self.newest_ports()[0])),
            "{progress}"
        );
        assert!(
            matches!(self.media.last(), Some(MediaCommand::Announce { what: w, .. }) if *w == what),
            "{:?}",
            self.media
        );
        let recorded = self.records.len();
        self.pbx.handle_announcement_done(self.clock(), call);
        self.collect();
        assert!(
            self.records.len() > recorded,
            "the outcome waited for the announcement"
        );
    }

    /// The callee's 183 with early media in PCMA from `port` reached the caller, and
    /// the relay sends it on; returns the caller's 183.
    pub(crate) fn early_media_relayed(&mut self, port: u16) -> String {
        let progress = self.expect(CALLER, "SIP/2.0 183 Session Progress");
        assert!(
            body(&progress).contains(&format!("m=audio {} RTP/AVP 8 101\r\n", self.ports(1)[0])),
            "{progress}"
        );
        let Some(MediaCommand::Bridge { b, .. }) = self.media.last().cloned() else {
            panic!("{:?}", self.media);
        };
        assert_eq!((b.remote.port(), b.audio.payload_type), (port, 8));
        progress
    }

    pub(crate) fn fresh_branch(&mut self) -> String {
        self.branch += 1;
        format!("z9hG4bKph{}", self.branch)
    }

    /// The caller's INVITE through the digest challenge; returns the INVITE that got in.
    pub(crate) fn call(&mut self, to: &str, sdp: &str) -> String {
        self.another_call(to, sdp, "call-1")
    }

    /// [`Harness::call`] with its own Call-ID: the same phone's next call.
    pub(crate) fn another_call(&mut self, to: &str, sdp: &str, call_id: &str) -> String {
        let first = invite(&self.fresh_branch(), 1, to, sdp, None, 70)
            .replace("Call-ID: call-1\r\n", &format!("Call-ID: {call_id}\r\n"));
        self.send(CALLER, &first);
        let challenge = self.expect(CALLER, "SIP/2.0 407");
        let mut h = challenge
            .lines()
            .find_map(|l| l.strip_prefix("Proxy-Authenticate: "))
            .unwrap()
            .to_string();
        h = authorization(
            &h,
            "INVITE",
            &format!("sip:{to}@192.0.2.1"),
            "100",
            PASSWORD,
            1,
            "c1",
        )
        .unwrap();
        self.send(
            CALLER,
            &format!(
                "ACK sip:{to}@192.0.2.1 SIP/2.0\r\n{}",
                &first[first.find("Via").unwrap()..]
            )
            .replace("1 INVITE", "1 ACK"),
        );
        let second = invite(&self.fresh_branch(), 2, to, sdp, Some(&h), 70)
            .replace("Call-ID: call-1\r\n", &format!("Call-ID: {call_id}\r\n"));
        self.send(CALLER, &second);
        second
    }
}

pub(crate) fn sdp(port: u16, payload_types: &str) -> String {
    let mut s = format!(
        "v=0\r\no=- 1 1 IN IP4 192.0.2.99\r\ns=-\r\nc=IN IP4 192.0.2.99\r\nt=0 0\r\nm=audio {port} RTP/AVP {payload_types}\r\n"
    );
    for pt in payload_types.split(' ') {
        match pt {
            "0" => s += "a=rtpmap:0 PCMU/8000\r\n",
            "8" => s += "a=rtpmap:8 PCMA/8000\r\n",
            "101" => s += "a=rtpmap:101 telephone-event/8000\r\n",
            _ => {}
        }
    }
    s
}

pub(crate) fn invite(
    branch: &str,
    cseq: u32,
    to: &str,
    body: &str,
    auth: Option<&str>,
    max_forwards: u32,
) -> String {
    let auth = auth
        .map(|a| format!("Proxy-Authorization: {a}\r\n"))
        .unwrap_or_default();
    let content = if body.is_empty() {
        String::new()
    } else {
        "Content-Type: application/sdp\r\n".into()
    };
    format!(
        "INVITE sip:{to}@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP {CALLER};branch={branch}\r\n\
         Max-Forwards: {max_forwards}\r\nFrom: \"Anna\" <sip:100@192.0.2.1>;tag=caller1\r\nTo: <sip:{to}@192.0.2.1>\r\n\
         Call-ID: call-1\r\nCSeq: {cseq} INVITE\r\nContact: <sip:100@{CALLER}>\r\n{auth}{content}\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// The caller's CANCEL for its authorised INVITE (same branch and CSeq number).
pub(crate) fn cancel_of(invite: &str) -> String {
    invite
        .replacen("INVITE sip", "CANCEL sip", 1)
        .replace("2 INVITE", "2 CANCEL")
        .split("Proxy-Authorization")
        .next()
        .unwrap()
        .to_string()
        + "Content-Length: 0\r\n\r\n"
}

pub(crate) fn header<'a>(message: &'a str, name: &str) -> &'a str {
    message
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no {name} in {message}"))
}

/// A phone's response to a request it received.
pub(crate) fn respond(request: &str, code: u16, reason: &str, tag: &str, body: &str) -> String {
    let to = header(request, "To");
    let to = if to.contains("tag=") {
        to.to_string()
    } else {
        format!("{to};tag={tag}")
    };
    let contact_host = header(request, "Via")
        .split_whitespace()
        .nth(1)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let content = if body.is_empty() {
        String::new()
    } else {
        "Content-Type: application/sdp\r\n".into()
    };
    format!(
        "SIP/2.0 {code} {reason}\r\nVia: {}\r\nFrom: {}\r\nTo: {to}\r\nCall-ID: {}\r\nCSeq: {}\r\n\
         Contact: <sip:phone@{contact_host}>\r\n{content}Content-Length: {}\r\n\r\n{body}",
        header(request, "Via"),
        header(request, "From"),
        header(request, "Call-ID"),
        header(request, "CSeq"),
        body.len()
    )
    .replace(
        &format!("<sip:phone@{contact_host}>"),
        "<sip:101@192.0.2.20:5060>",
    )
}

/// An in-dialog request from a phone: To carries the dialog's remote tag.
pub(crate) fn in_dialog(
    method: &str,
    from_addr: &str,
    from: &str,
    to: &str,
    call_id: &str,
    cseq: u32,
    body: &str,
) -> String {
    let content = if body.is_empty() {
        String::new()
    } else {
        "Content-Type: application/sdp\r\n".into()
    };
    format!(
        "{method} sip:switchboard@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP {from_addr};branch=z9hG4bKd{cseq}{method}\r\n\
         Max-Forwards: 70\r\nFrom: {from}\r\nTo: {to}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} {method}\r\n\
         Contact: <sip:x@{from_addr}>\r\n{content}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// A request from the caller inside the dialog the queue's 200 opened.
pub(crate) fn from_caller(ok: &str, method: &str, cseq: u32) -> String {
    let from = "\"Anna\" <sip:100@192.0.2.1>;tag=caller1";
    in_dialog(
        method,
        CALLER,
        from,
        header(ok, "To"),
        header(ok, "Call-ID"),
        cseq,
        "",
    )
}

pub(crate) fn kinds(h: &Harness) -> Vec<switchboard_queue::EventKind> {
    h.queue_events.iter().map(|e| e.kind.clone()).collect()
}

pub(crate) fn body(message: &str) -> &str {
    message.split("\r\n\r\n").nth(1).unwrap_or("")
}

/// Rings 101's desk phone and answers; returns the caller's 200 and the desk's INVITE.
pub(crate) fn answered_call(h: &mut Harness, caller_sdp: &str, desk_sdp: &str) -> (String, String) {
    h.call("101", caller_sdp);
    h.expect(CALLER, "SIP/2.0 100");
    let b_invite = h.expect(DESK, "INVITE sip:101@192.0.2.20:5060 SIP/2.0");
    h.send(DESK, &respond(&b_invite, 180, "Ringing", "desk1", ""));
    h.expect(CALLER, "SIP/2.0 180");
    assert_eq!(live_stages(h), [(CallStage::Ringing, None)]);
    h.send(DESK, &respond(&b_invite, 200, "OK", "desk1", desk_sdp));
    h.expect(DESK, "ACK sip:101@192.0.2.20:5060");
    assert_eq!(live_stages(h), [(CallStage::Talking, Some("101".into()))]);
    (h.expect(CALLER, "SIP/2.0 200"), b_invite)
}

/// The wallboard's calls: where each is and who talks to the caller.
pub(crate) fn live_stages(h: &Harness) -> Vec<(CallStage, Option<String>)> {
    h.pbx
        .live_calls()
        .into_iter()
        .map(|c| (c.stage, c.talking_to))
        .collect()
}

/// A SUBSCRIBE to `mailbox`'s `event` package from 101's desk phone, through the digest
/// challenge; returns the answer.
pub(crate) fn subscribe(h: &mut Harness, mailbox: &str, event: &str, expires: u32) -> String {
    let request = |branch: &str, cseq: u32, auth: &str| {
        format!(
            "SUBSCRIBE sip:{mailbox}@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP {DESK};branch={branch}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:101@192.0.2.1>;tag=desk1\r\nTo: <sip:{mailbox}@192.0.2.1>\r\n\
             Call-ID: mwi-1\r\nCSeq: {cseq} SUBSCRIBE\r\nContact: <sip:101@{DESK}>\r\n\
             Event: {event}\r\nExpires: {expires}\r\n{auth}Content-Length: 0\r\n\r\n"
        )
    };
    let first = request(&h.fresh_branch(), 1, "");
    h.send(DESK, &first);
    let challenge = h.expect(DESK, "SIP/2.0 407");
    let auth = authorization(
        header(&challenge, "Proxy-Authenticate"),
        "SUBSCRIBE",
        &format!("sip:{mailbox}@192.0.2.1"),
        "101",
        PASSWORD,
        1,
        "c1",
    )
    .unwrap();
    let second = request(
        &h.fresh_branch(),
        2,
        &format!("Proxy-Authorization: {auth}\r\n"),
    );
    h.send(DESK, &second);
    let all = h.take(DESK);
    let answer = all.iter().find(|m| m.starts_with("SIP/2.0")).unwrap();
    // What else arrived (the first NOTIFY) goes back for the test to read.
    h.inbox.insert(
        DESK.parse().unwrap(),
        all.iter()
            .filter(|m| !m.starts_with("SIP/2.0"))
            .cloned()
            .collect(),
    );
    answer.clone()
}

/// `user`'s phone at `addr` calls `to` itself, through the digest challenge; returns
/// its authorised INVITE.
pub(crate) fn phone_calls(
    h: &mut Harness,
    (addr, user): (&str, &str),
    to: &str,
    call_id: &str,
    offer: &str,
) -> String {
    phone_calls_with(h, (addr, user), to, (call_id, ""), offer)
}

/// [`phone_calls`] with `extra` headers (each ending in CRLF) in the INVITE.
pub(crate) fn phone_calls_with(
    h: &mut Harness,
    (addr, user): (&str, &str),
    to: &str,
    (call_id, extra): (&str, &str),
    offer: &str,
) -> String {
    let from_phone = |text: String| {
        text.replacen("Content-Type:", &format!("{extra}Content-Type:"), 1)
            .replace("Call-ID: call-1\r\n", &format!("Call-ID: {call_id}\r\n"))
            .replace(CALLER, addr)
            .replace(
                "\"Anna\" <sip:100@192.0.2.1>;tag=caller1",
                &format!("<sip:{user}@192.0.2.1>;tag={user}out"),
            )
            .replace("<sip:100@", &format!("<sip:{user}@"))
    };
    let first = from_phone(invite(&h.fresh_branch(), 1, to, offer, None, 70));
    h.send(addr, &first);
    let challenge = h.expect(addr, "SIP/2.0 407");
    let asked = header(&challenge, "Proxy-Authenticate").to_string();
    let uri = format!("sip:{to}@192.0.2.1");
    let auth = authorization(&asked, "INVITE", &uri, user, PASSWORD, 1, "p1").unwrap();
    let second = from_phone(invite(&h.fresh_branch(), 2, to, offer, Some(&auth), 70));
    h.send(addr, &second);
    second
}

/// Where the relay last sent call `call`'s audio: leg A's address, leg B's.
pub(crate) fn bridged(h: &Harness, call: CallKey) -> (SocketAddr, SocketAddr) {
    h.media
        .iter()
        .rev()
        .find_map(|m| match m {
            MediaCommand::Bridge { call: c, a, b } if *c == call => Some((a.remote, b.remote)),
            _ => None,
        })
        .unwrap_or_else(|| panic!("call {call} was never bridged: {:?}", h.media))
}

/// The address a test phone's SDP (see [`sdp`]) sends audio from at `port`.
pub(crate) fn phone_audio(port: u16) -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 99], port))
}

/// A request from the desk phone in the dialog its answered INVITE `b_invite` opened.
pub(crate) fn from_desk(b_invite: &str, method: &str, cseq: u32) -> String {
    in_dialog(
        method,
        DESK,
        &format!("{};tag=desk1", header(b_invite, "To")),
        header(b_invite, "From"),
        header(b_invite, "Call-ID"),
        cseq,
        "",
    )
}
