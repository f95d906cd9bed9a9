//! The B2BUA on a simulated clock: phones are plain SIP text at fixed addresses.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use switchboard_sip::auth::authorization;
use switchboard_sip::service::Account;

use crate::*;

mod harness;
use harness::*;

#[test]
fn a_call_is_answered_bridged_and_hung_up_by_the_caller() {
    let mut h = Harness::new(&[DESK]);
    let (ok, b_invite) = answered_call(&mut h, &sdp(4000, "0 8 101"), &sdp(6000, "0 101"));
    // The callee was offered Switchboard's own address, the caller's codecs first,
    // then the wideband ones Switchboard transcodes.
    assert!(
        body(&b_invite).contains("c=IN IP4 192.0.2.1\r\n"),
        "{b_invite}"
    );
    assert!(
        body(&b_invite).contains(&format!(
            "m=audio {} RTP/AVP 0 8 9 111 101\r\n",
            h.ports(1)[1]
        )),
        "{b_invite}"
    );
    assert!(
        header(&b_invite, "From").starts_with("\"Anna\" <sip:100@"),
        "{b_invite}"
    );
    assert_eq!(header(&b_invite, "Max-Forwards"), "69");
    // The caller hears back from Switchboard's other port, in its own codec.
    assert!(
        body(&ok).contains(&format!("m=audio {} RTP/AVP 0 101\r\n", h.ports(1)[0])),
        "{ok}"
    );
    let MediaCommand::Bridge { a, b, .. } = h.media[1] else {
        panic!("{:?}", h.media);
    };
    assert!(
        matches!(h.media[0], MediaCommand::Open { call: 1, .. }),
        "{:?}",
        h.media
    );
    assert_eq!(a.remote, "192.0.2.99:4000".parse().unwrap());
    assert_eq!(b.remote, "192.0.2.99:6000".parse().unwrap());
    assert_eq!(a.events.unwrap().payload_type, 101);

    let a_tag = header(&ok, "To").rsplit("tag=").next().unwrap().to_string();
    let to = format!("<sip:101@192.0.2.1>;tag={a_tag}");
    let from = "\"Anna\" <sip:100@192.0.2.1>;tag=caller1";
    h.send(
        CALLER,
        &in_dialog("ACK", CALLER, from, &to, "call-1", 2, ""),
    );
    h.advance(Duration::from_secs(10));
    h.take(CALLER);
    h.advance(Duration::from_secs(50));
    h.send(
        CALLER,
        &in_dialog("BYE", CALLER, from, &to, "call-1", 3, ""),
    );
    h.expect(CALLER, "SIP/2.0 200 OK");
    let bye = h.expect(DESK, "BYE sip:101@192.0.2.20:5060 SIP/2.0");
    assert!(header(&bye, "To").ends_with("tag=desk1"));
    h.send(DESK, &respond(&bye, 200, "OK", "", ""));
    assert_eq!(live_stages(&h), [], "an ended call leaves the wallboard");

    let r = &h.records[0];
    assert_eq!(
        (
            r.outcome,
            r.hangup_by,
            r.sip_code,
            r.caller.as_str(),
            r.callee.as_str()
        ),
        (Outcome::Answered, HangupBy::Caller, 200, "100", "101")
    );
    assert_eq!(
        (r.caller_codec.as_deref(), r.callee_codec.as_deref()),
        (Some("PCMU"), Some("PCMU"))
    );
    assert_eq!(
        r.ended.duration_since(r.answered.unwrap()).unwrap(),
        Duration::from_secs(60)
    );
    assert_eq!(h.media.last(), Some(&MediaCommand::Close { call: 1 }));
    assert_eq!(h.pbx.active_calls(), 0);
}

#[test]
fn the_callee_hangs_up() {
    let mut h = Harness::new(&[DESK]);
    let (ok, b_invite) = answered_call(&mut h, &sdp(4000, "0"), &sdp(6000, "0"));
    let a_tag = header(&ok, "To").rsplit("tag=").next().unwrap().to_string();
    // BYE from the desk phone: From is its To, To is Switchboard's From with our tag.
    let bye = from_desk(&b_invite, "BYE", 1);
    h.send(DESK, &bye);
    h.expect(DESK, "SIP/2.0 200 OK");
    let to_caller = h.expect(CALLER, "BYE sip:100@192.0.2.10:5060 SIP/2.0");
    assert!(header(&to_caller, "From").ends_with(&format!("tag={a_tag}")));
    assert!(header(&to_caller, "To").ends_with("tag=caller1"));
    assert_eq!(h.records[0].hangup_by, HangupBy::Callee);
}

#[test]
fn a_request_inside_the_dialog_from_elsewhere_must_prove_it_is_the_legs_phone() {
    const STRANGER: &str = "192.0.2.66:5060";
    let mut h = Harness::new(&[DESK]);
    let (_, b_invite) = answered_call(&mut h, &sdp(4000, "0"), &sdp(6000, "0"));
    let bye = |addr: &str, cseq: u32| {
        in_dialog(
            "BYE",
            addr,
            &format!("{};tag=desk1", header(&b_invite, "To")),
            header(&b_invite, "From"),
            header(&b_invite, "Call-ID"),
            cseq,
            "",
        )
    };
    let proved = |challenge: &str, user: &str, cseq: u32| {
        let proxy = challenge
            .lines()
            .find_map(|l| l.strip_prefix("Proxy-Authenticate: "))
            .unwrap();
        let credentials = authorization(
            proxy,
            "BYE",
            "sip:switchboard@192.0.2.1",
            user,
            PASSWORD,
            cseq,
            "c9",
        )
        .unwrap();
        bye(STRANGER, cseq).replace(
            "Content-Length: 0",
            &format!("Proxy-Authorization: {credentials}\r\nContent-Length: 0"),
        )
    };
    // Knowing the identifiers is not enough: the stranger is challenged.
    h.send(STRANGER, &bye(STRANGER, 5));
    let challenge = h.expect(STRANGER, "SIP/2.0 407");
    assert_eq!(h.pbx.active_calls(), 1);
    // Another extension's password does not make it the desk phone.
    h.send(STRANGER, &proved(&challenge, "102", 6));
    h.expect(STRANGER, "SIP/2.0 403");
    assert_eq!(h.pbx.active_calls(), 1);
    assert!(h.take(CALLER).is_empty(), "the caller hears nothing of it");
    // The desk phone itself, moved to a new address, proves 101 and is followed there.
    h.send(STRANGER, &proved(&challenge, "101", 7));
    h.expect(STRANGER, "SIP/2.0 200 OK");
    h.expect(CALLER, "BYE sip:100@192.0.2.10:5060 SIP/2.0");
    assert_eq!(h.records[0].hangup_by, HangupBy::Callee);
}

#[test]
fn an_extension_that_must_encrypt_calls_over_tls_only() {
    let mut h = Harness::new(&[DESK]);
    let mut caller = h.pbx.service().account("100").cloned().unwrap();
    caller.encryption = switchboard_sip::service::Encryption::Require;
    let mut accounts: HashMap<String, Account> = ["101", "102"]
        .iter()
        .map(|u| (u.to_string(), h.pbx.service().account(u).cloned().unwrap()))
        .collect();
    accounts.insert("100".into(), caller);
    h.pbx.service_mut().set_accounts(accounts);
    h.call("101", &sdp(4000, "0"));
    h.expect(CALLER, "SIP/2.0 403 This extension calls over TLS only");
    assert!(h.take(DESK).is_empty());
}

#[test]
fn a_cancel_from_another_host_cancels_nothing() {
    let mut h = Harness::new(&[DESK]);
    let second = h.call("101", &sdp(4000, "0"));
    h.expect(DESK, "INVITE");
    h.send("192.0.2.66:5060", &cancel_of(&second));
    h.expect("192.0.2.66:5060", "SIP/2.0 481");
    assert_eq!(h.pbx.active_calls(), 1);
    assert!(h.records.is_empty());
}

#[test]
fn different_codecs_on_each_leg_are_bridged_for_transcoding() {
    let mut h = Harness::new(&[DESK]);
    let (ok, _) = answered_call(&mut h, &sdp(4000, "8"), &sdp(6000, "0"));
    assert!(
        body(&ok).contains(&format!("m=audio {} RTP/AVP 8\r\n", h.ports(1)[0])),
        "{ok}"
    );
    let MediaCommand::Bridge { a, b, .. } = h.media[1] else {
        panic!()
    };
    assert_eq!(a.audio.payload_type, 8);
    assert_eq!(b.audio.payload_type, 0);
}

#[test]
fn the_callees_early_media_reaches_the_caller_and_the_answer_keeps_it() {
    let mut h = Harness::new(&[DESK]);
    h.call("101", &sdp(4000, "0 8 101"));
    h.expect(CALLER, "SIP/2.0 100");
    let desk = h.expect(DESK, "INVITE");
    // The desk phone plays something before answering, in PCMA.
    h.send(
        DESK,
        &respond(&desk, 183, "Session Progress", "d", &sdp(6000, "8")),
    );
    let progress = h.early_media_relayed(6000);
    // A 180 after it does not take the caller back to local ringback.
    h.send(DESK, &respond(&desk, 180, "Ringing", "d", ""));
    assert!(h.take(CALLER).is_empty());
    // The answer repeats what the 183 said, with no SDP of its own.
    h.send(DESK, &respond(&desk, 200, "OK", "d", ""));
    h.expect(DESK, "ACK");
    let ok = h.expect(CALLER, "SIP/2.0 200");
    assert_eq!(body(&ok), body(&progress), "one answer for the whole call");
    assert!(
        matches!(
            h.media.last(),
            Some(MediaCommand::Update { side: switchboard_media::relay::Side::B, media, .. })
                if media.remote.port() == 6000
        ),
        "{:?}",
        h.media
    );
}

#[test]
fn a_callee_that_fails_after_early_media_is_announced_on_the_same_stream() {
    let mut h = Harness::new(&[DESK]);
    h.call("101", &sdp(4000, "0"));
    let desk = h.expect(DESK, "INVITE");
    h.send(
        DESK,
        &respond(&desk, 183, "Session Progress", "d", &sdp(6000, "0")),
    );
    let early = h.expect(CALLER, "SIP/2.0 183");
    h.send(DESK, &respond(&desk, 486, "Busy Here", "d", ""));
    h.expect(DESK, "ACK");
    let progress = h.take(CALLER);
    assert_eq!(progress.len(), 1, "{progress:?}");
    assert_eq!(body(&progress[0]), body(&early), "the same answer again");
    h.pbx.handle_announcement_done(h.clock(), 1);
    h.collect();
    h.expect(CALLER, "SIP/2.0 486 Busy Here");
    assert_eq!(h.records[0].outcome, Outcome::Busy);
}

#[test]
fn every_phone_rings_and_the_first_answer_wins() {
    let mut h = Harness::new(&[DESK, MOBILE]);
    h.call("101", &sdp(4000, "0"));
    let desk = h.expect(DESK, "INVITE");
    let mobile = h.expect(MOBILE, "INVITE");
    h.send(DESK, &respond(&desk, 180, "Ringing", "d", ""));
    h.send(MOBILE, &respond(&mobile, 180, "Ringing", "m", ""));
    assert_eq!(
        h.take(CALLER)
            .iter()
            .filter(|m| m.starts_with("SIP/2.0 180"))
            .count(),
        1
    );
    h.send(MOBILE, &respond(&mobile, 200, "OK", "m", &sdp(7000, "0")));
    h.expect(CALLER, "SIP/2.0 200");
    let cancel = h.expect(DESK, "CANCEL");
    assert_eq!(header(&cancel, "Via"), header(&desk, "Via"));
    h.send(DESK, &respond(&cancel, 200, "OK", "d", ""));
    h.send(DESK, &respond(&desk, 487, "Request Terminated", "d", ""));
    h.expect(DESK, "ACK");
    assert!(h.take(CALLER).is_empty());
    assert!(h.records.is_empty(), "the call is still up");
}

#[test]
fn a_late_second_answer_is_acknowledged_and_hung_up() {
    let mut h = Harness::new(&[DESK, MOBILE]);
    h.call("101", &sdp(4000, "0"));
    let desk = h.expect(DESK, "INVITE");
    let mobile = h.expect(MOBILE, "INVITE");
    h.send(DESK, &respond(&desk, 200, "OK", "d", &sdp(6000, "0")));
    h.send(MOBILE, &respond(&mobile, 200, "OK", "m", &sdp(7000, "0")));
    let mobile_msgs = h.take(MOBILE);
    assert!(
        mobile_msgs.iter().any(|m| m.starts_with("ACK")),
        "{mobile_msgs:?}"
    );
    assert!(
        mobile_msgs.iter().any(|m| m.starts_with("BYE")),
        "{mobile_msgs:?}"
    );
    assert_eq!(
        h.take(CALLER)
            .iter()
            .filter(|m| m.starts_with("SIP/2.0 200"))
            .count(),
        1
    );
}

#[test]
fn the_caller_cancels_while_it_rings() {
    let mut h = Harness::new(&[DESK]);
    let second = h.call("101", &sdp(4000, "0"));
    let desk = h.expect(DESK, "INVITE");
    h.send(DESK, &respond(&desk, 180, "Ringing", "d", ""));
    h.take(CALLER);
    let cancel = cancel_of(&second);
    h.send(CALLER, &cancel);
    let to_caller = h.take(CALLER);
    assert!(
        to_caller
            .iter()
            .any(|m| m.starts_with("SIP/2.0 200 OK") && m.contains("CANCEL")),
        "{to_caller:?}"
    );
    assert!(
        to_caller.iter().any(|m| m.starts_with("SIP/2.0 487")),
        "{to_caller:?}"
    );
    h.expect(DESK, "CANCEL");
    let r = &h.records[0];
    assert_eq!(
        (r.outcome, r.hangup_by, r.sip_code),
        (Outcome::Cancelled, HangupBy::Caller, 487)
    );
}

#[test]
fn busy_callee() {
    let mut h = Harness::new(&[DESK]);
    h.call("101", &sdp(4000, "0"));
    let desk = h.expect(DESK, "INVITE");
    h.send(DESK, &respond(&desk, 486, "Busy Here", "d", ""));
    h.expect(DESK, "ACK");
    h.announcement_plays(Announcement::Busy);
    h.expect(CALLER, "SIP/2.0 486 Busy Here");
    let r = &h.records[0];
    assert_eq!(
        (r.outcome, r.hangup_by, r.sip_code),
        (Outcome::Busy, HangupBy::Callee, 486)
    );
    assert_eq!(h.media.last(), Some(&MediaCommand::Close { call: 1 }));
}

#[test]
fn nobody_answers_before_the_ring_timeout() {
    let mut h = Harness::new(&[DESK]);
    h.call("101", &sdp(4000, "0"));
    let desk = h.expect(DESK, "INVITE");
    h.send(DESK, &respond(&desk, 180, "Ringing", "d", ""));
    h.take(CALLER);
    h.advance(Duration::from_secs(29));
    assert!(h.records.is_empty());
    h.advance(Duration::from_secs(1));
    h.expect(DESK, "CANCEL");
    h.announcement_plays(Announcement::Unavailable);
    let no_answer = h.expect(CALLER, "SIP/2.0 480 No Answer");
    assert!(
        no_answer.contains("Reason: SIP;cause=480;text=\"No Answer\"\r\n"),
        "{no_answer}"
    );
    assert_eq!(h.records[0].outcome, Outcome::NoAnswer);
}

#[test]
fn a_phone_that_never_answers_at_all_times_out_as_no_answer() {
    let mut h = Harness::ringing_for(&[DESK], Duration::from_secs(3600));
    h.call("101", &sdp(4000, "0"));
    h.expect(DESK, "INVITE");
    // Timer B (64·T1 = 32 s): the phone is gone.
    h.advance(Duration::from_secs(31));
    assert!(h.records.is_empty());
    h.advance(Duration::from_secs(2));
    h.announcement_plays(Announcement::Unavailable);
    h.expect(CALLER, "SIP/2.0 480 No Answer");
    assert_eq!(h.records[0].outcome, Outcome::NoAnswer);
}

#[test]
fn calls_that_cannot_start_are_refused_with_the_reason_and_recorded() {
    for (to, what) in [
        ("999", Announcement::NoSuchNumber),
        ("102", Announcement::Unavailable),
    ] {
        let mut h = Harness::new(&[DESK]);
        h.call(to, &sdp(4000, "0"));
        h.announcement_plays(what);
        let code = if to == "999" { 404 } else { 480 };
        h.expect(CALLER, &format!("SIP/2.0 {code} "));
        assert!(h.take(DESK).is_empty());
        assert_eq!(
            (h.records[0].outcome, h.records[0].sip_code),
            (Outcome::Failed, code)
        );
        assert_eq!(h.pbx.active_calls(), 0);
    }
    for (to, offer, status) in [
        (
            "101",
            "v=0\r\nc=IN IP4 nonsense\r\n".to_string(),
            "SIP/2.0 488 SDP line 2: bad c= line",
        ),
        ("101", sdp(4000, "18"), "SIP/2.0 488 no codec in common"),
        ("101", String::new(), "SIP/2.0 488 An SDP offer is required"),
    ] {
        let mut h = Harness::new(&[DESK]);
        h.call(to, &offer);
        let refusal = h.expect(CALLER, status);
        if status.contains("488") {
            assert!(refusal.contains("Warning: 399 switchboard \""), "{refusal}");
        }
        assert!(h.take(DESK).is_empty());
        assert_eq!(h.records.len(), 1, "{to} {offer}");
        assert_eq!(h.records[0].outcome, Outcome::Failed);
    }
}

#[test]
fn max_forwards_zero_and_loops_are_refused() {
    let mut h = Harness::new(&[DESK]);
    h.send(
        CALLER,
        &invite("z9hG4bKm", 1, "101", &sdp(4000, "0"), None, 0),
    );
    h.expect(CALLER, "SIP/2.0 483 Too Many Hops");
    let looped = invite("z9hG4bKl", 1, "101", &sdp(4000, "0"), None, 70).replacen(
        "Via: ",
        "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKsb1234\r\nVia: ",
        1,
    );
    h.send(CALLER, &looped);
    h.expect(CALLER, "SIP/2.0 482 Loop Detected");
}

#[test]
fn the_answer_is_retransmitted_until_the_caller_acknowledges_it() {
    let mut h = Harness::new(&[DESK]);
    let (ok, _) = answered_call(&mut h, &sdp(4000, "0"), &sdp(6000, "0"));
    h.advance(Duration::from_millis(600));
    // T1 then 2·T1: two copies by 1.5 s.
    assert_eq!(h.take(CALLER).iter().filter(|m| **m == ok).count(), 1);
    h.advance(Duration::from_secs(1));
    assert_eq!(h.take(CALLER).iter().filter(|m| **m == ok).count(), 1);
    let a_tag = header(&ok, "To").rsplit("tag=").next().unwrap().to_string();
    h.send(
        CALLER,
        &in_dialog(
            "ACK",
            CALLER,
            "<sip:100@192.0.2.1>;tag=caller1",
            &format!("<sip:101@192.0.2.1>;tag={a_tag}"),
            "call-1",
            2,
            "",
        ),
    );
    h.advance(Duration::from_secs(10));
    assert!(h.take(CALLER).is_empty());
    assert!(h.records.is_empty());
}

#[test]
fn an_answer_never_acknowledged_ends_the_call() {
    let mut h = Harness::new(&[DESK]);
    answered_call(&mut h, &sdp(4000, "0"), &sdp(6000, "0"));
    h.advance(Duration::from_secs(33));
    h.expect(DESK, "BYE");
    assert_eq!(h.records[0].hangup_by, HangupBy::System);
}

#[test]
fn hold_and_resume_by_reinvite() {
    let mut h = Harness::new(&[DESK]);
    let (ok, _) = answered_call(&mut h, &sdp(4000, "0 101"), &sdp(6000, "0"));
    let a_tag = header(&ok, "To").rsplit("tag=").next().unwrap().to_string();
    let from = "<sip:100@192.0.2.1>;tag=caller1";
    let to = format!("<sip:101@192.0.2.1>;tag={a_tag}");
    let hold = sdp(4002, "0 101") + "a=sendonly\r\n";
    h.send(
        CALLER,
        &in_dialog("INVITE", CALLER, from, &to, "call-1", 3, &hold),
    );
    let answer = h.expect(CALLER, "SIP/2.0 200 OK");
    assert!(body(&answer).contains("a=recvonly\r\n"), "{answer}");
    assert!(
        body(&answer).contains("o=switchboard ") && body(&answer).contains(" 2 IN IP4"),
        "version bumped: {answer}"
    );
    assert!(
        body(&answer).contains(&format!("m=audio {} ", h.ports(1)[0])),
        "same port: {answer}"
    );
    let n = h.media.len();
    let (
        MediaCommand::Update { side, media, .. },
        MediaCommand::Music {
            to: heard_by, on, ..
        },
    ) = (&h.media[n - 2], &h.media[n - 1])
    else {
        panic!("{:?}", h.media)
    };
    assert_eq!(
        (*side, media.remote),
        (
            switchboard_media::relay::Side::A,
            "192.0.2.99:4002".parse().unwrap()
        )
    );
    assert_eq!(
        (*heard_by, *on),
        (switchboard_media::relay::Side::B, true),
        "the held callee hears music"
    );
    let resume = sdp(4002, "0 101");
    h.send(
        CALLER,
        &in_dialog("INVITE", CALLER, from, &to, "call-1", 4, &resume),
    );
    let answer = h.expect(CALLER, "SIP/2.0 200 OK");
    assert!(body(&answer).contains("a=sendrecv\r\n"), "{answer}");
    assert!(
        matches!(h.media.last(), Some(MediaCommand::Music { on: false, .. })),
        "{:?}",
        h.media
    );
    assert!(
        h.take(DESK).is_empty(),
        "the other leg is untouched: Switchboard plays the music"
    );
}

#[test]
fn info_is_passed_to_the_other_leg_and_strangers_get_481() {
    let mut h = Harness::new(&[DESK]);
    let (ok, _) = answered_call(&mut h, &sdp(4000, "0"), &sdp(6000, "0"));
    let a_tag = header(&ok, "To").rsplit("tag=").next().unwrap().to_string();
    let info = in_dialog("INFO", CALLER, "<sip:100@192.0.2.1>;tag=caller1", &format!("<sip:101@192.0.2.1>;tag={a_tag}"), "call-1", 3, "")
        .replace("Content-Length: 0\r\n\r\n", "Content-Type: application/dtmf-relay\r\nContent-Length: 24\r\n\r\nSignal=5\r\nDuration=160\r\n");
    h.send(CALLER, &info);
    h.expect(CALLER, "SIP/2.0 200 OK");
    let forwarded = h.expect(DESK, "INFO sip:101@192.0.2.20:5060");
    assert!(forwarded.contains("Content-Type: application/dtmf-relay\r\n"));
    assert!(forwarded.ends_with("Signal=5\r\nDuration=160\r\n"));
    h.send(
        CALLER,
        &in_dialog(
            "BYE",
            CALLER,
            "<sip:100@x>;tag=zz",
            "<sip:101@x>;tag=nope",
            "other",
            1,
            "",
        ),
    );
    h.expect(CALLER, "SIP/2.0 481");
}

#[test]
fn an_info_key_reaches_a_phone_with_telephone_events_as_rtp() {
    let mut h = Harness::new(&[DESK]);
    let (ok, _) = answered_call(&mut h, &sdp(4000, "0"), &sdp(6000, "0 101"));
    let a_tag = header(&ok, "To").rsplit("tag=").next().unwrap().to_string();
    let info = in_dialog("INFO", CALLER, "<sip:100@192.0.2.1>;tag=caller1", &format!("<sip:101@192.0.2.1>;tag={a_tag}"), "call-1", 3, "")
        .replace("Content-Length: 0\r\n\r\n", "Content-Type: application/dtmf-relay\r\nContent-Length: 24\r\n\r\nSignal=#\r\nDuration=250\r\n");
    h.send(CALLER, &info);
    h.expect(CALLER, "SIP/2.0 200 OK");
    assert!(
        h.take(DESK).is_empty(),
        "no INFO to a phone that takes telephone events"
    );
    assert_eq!(
        h.media.last(),
        Some(&MediaCommand::SendDtmf {
            call: 1,
            to: switchboard_media::relay::Side::B,
            dtmf: switchboard_media::dtmf::Dtmf {
                key: '#',
                duration_ms: 250
            }
        })
    );
}

#[test]
fn a_telephone_event_for_a_phone_without_them_goes_as_info() {
    let mut h = Harness::new(&[DESK]);
    answered_call(&mut h, &sdp(4000, "0 101"), &sdp(6000, "0"));
    let dtmf = switchboard_media::dtmf::Dtmf {
        key: '9',
        duration_ms: 160,
    };
    h.pbx
        .handle_dtmf(h.clock(), 1, switchboard_media::relay::Side::A, dtmf);
    h.collect();
    let info = h.expect(DESK, "INFO sip:101@192.0.2.20:5060");
    assert!(
        info.contains("Content-Type: application/dtmf-relay\r\n"),
        "{info}"
    );
    assert!(
        info.ends_with("\r\n\r\nSignal=9\r\nDuration=160\r\n"),
        "{info}"
    );
}

#[test]
fn ports_that_cannot_be_opened_fail_the_call_and_leave_the_pool() {
    let mut h = Harness::new(&[DESK]);
    h.call("101", &sdp(4000, "0"));
    let desk = h.expect(DESK, "INVITE");
    assert!(
        matches!(h.media[0], MediaCommand::Open { call: 1, .. }),
        "{:?}",
        h.media
    );
    let failed = h.ports(1);
    h.pbx.handle_media_failed(h.clock(), 1);
    h.collect();
    h.expect(CALLER, "SIP/2.0 503 Media ports unavailable");
    h.send(DESK, &respond(&desk, 487, "Request Terminated", "d", ""));
    assert_eq!(h.records[0].sip_code, 503);
    assert_eq!(h.pbx.active_calls(), 0);
    // The next call is given other ports.
    h.call("101", &sdp(4000, "0"));
    let opened: Vec<_> = h
        .media
        .iter()
        .filter(|m| matches!(m, MediaCommand::Open { .. }))
        .collect();
    assert_eq!(opened.len(), 2, "{:?}", h.media);
    let MediaCommand::Open { call: 2, ports } = opened[1] else {
        panic!("{opened:?}");
    };
    assert!(
        ports.iter().all(|p| !failed.contains(p)),
        "{ports:?} after {failed:?} failed"
    );
}

#[test]
fn a_caller_who_hangs_up_during_the_announcement_keeps_the_outcome() {
    let mut h = Harness::new(&[DESK]);
    let second = h.call("101", &sdp(4000, "0"));
    let desk = h.expect(DESK, "INVITE");
    h.send(DESK, &respond(&desk, 486, "Busy Here", "d", ""));
    h.expect(CALLER, "SIP/2.0 183");
    let cancel = cancel_of(&second);
    h.send(CALLER, &cancel);
    assert!(h.take(CALLER).iter().any(|m| m.starts_with("SIP/2.0 487")));
    assert_eq!(
        (h.records[0].outcome, h.records[0].sip_code),
        (Outcome::Busy, 487)
    );
}

#[test]
fn an_announcement_that_never_reports_its_end_still_ends_the_call() {
    let mut h = Harness::new(&[DESK]);
    h.call("555", &sdp(4000, "0"));
    h.expect(CALLER, "SIP/2.0 183");
    h.advance(Duration::from_secs(19));
    assert!(h.records.is_empty());
    h.advance(Duration::from_secs(1));
    h.expect(CALLER, "SIP/2.0 404 Not Found");
}

mod callbacks;
mod calls_out;
mod conference;
mod consult;
mod key_transfer;
mod lamps;
mod lists;
mod park;
mod pickup;
mod queues;
mod recording;
mod scenarios;
mod supervise;
mod transfers;
mod trunks;
mod vip;
mod voicemail;
