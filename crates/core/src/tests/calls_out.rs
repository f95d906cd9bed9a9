//! Calls out from extensions through trunks: the route's number and caller ID, the
//! provider's challenge answered, failover to the next trunk on a 503 but not on a busy
//! callee, and the toll-fraud guard (classes, calls at once).

use std::time::Duration;

use switchboard_sip::trunk_registration::{Account, LinkConfig};

use super::harness::{CALLER, Harness, header, peer, respond, sdp};
use crate::outbound::{CallClass, OutboundRoute, OutboundRules};
use crate::vocabulary::Announcement;
use crate::{CallsIn, Direction, Outcome, TrunkSetup};
use switchboard_media::codec::Codec;

pub(super) const PROVIDER: &str = "203.0.113.5:5060";
const BACKUP: &str = "203.0.113.9:5060";

pub(super) fn trunk(name: &str, at: &str, account: bool) -> TrunkSetup {
    TrunkSetup {
        name: name.into(),
        link: LinkConfig {
            domain: "voip.example".into(),
            account: account.then(|| Account {
                user: "48225550100".into(),
                auth_user: "office".into(),
                password: "secret-pass".into(),
                expires: 300,
            }),
            keepalive: None,
        },
        peer: peer(at),
        calls_in: CallsIn::default(),
        media: Default::default(),
        max_calls_out: None,
    }
}

/// Mobiles ("0" and nine digits) go out as +48… through `trunks`, shown as the office's
/// number; extensions may call mobiles, one call out at a time.
pub(super) fn office(trunks: &[&str]) -> Harness {
    let mut h = Harness::new(&[]);
    h.pbx.set_trunks(
        h.clock(),
        vec![
            trunk("Backup", BACKUP, false),
            trunk("Provider", PROVIDER, true),
        ],
    );
    h.collect();
    h.take(PROVIDER);
    h.take(BACKUP);
    h.pbx.set_outbound(rules(trunks));
    h
}

pub(super) fn rules(trunks: &[&str]) -> OutboundRules {
    OutboundRules {
        routes: vec![OutboundRoute {
            name: "Mobiles".into(),
            patterns: vec!["0[5-8]XXXXXXXX".parse().unwrap()],
            strip: 1,
            prepend: "+48".into(),
            class: CallClass::Mobile,
            trunks: trunks.iter().map(|t| t.to_string()).collect(),
            caller_id: Some("+48225550100".into()),
        }],
        emergency: vec!["112".into()],
        all_trunks: vec!["Provider".into()],
        default_classes: [CallClass::Local, CallClass::Mobile].into(),
        classes: Default::default(),
        max_calls_per_extension: 1,
        ..OutboundRules::default()
    }
}

const CHALLENGE: &str = "Proxy-Authenticate: Digest realm=\"voip.example\", nonce=\"n7\", qop=\"auth\", algorithm=MD5\r\n";

fn with_header(response: String, extra: &str) -> String {
    response.replacen("Content-Length", &format!("{extra}Content-Length"), 1)
}

#[test]
fn a_mobile_number_goes_out_through_the_provider_with_the_offices_number_shown() {
    let mut h = office(&["Provider"]);
    h.call("0601000000", &sdp(4000, "0 101"));
    let first = h.expect(PROVIDER, "INVITE sip:+48601000000@voip.example SIP/2.0");
    assert!(header(&first, "From").starts_with("<sip:+48225550100@voip.example>;tag="));
    assert_eq!(header(&first, "To"), "<sip:+48601000000@voip.example>");
    h.send(
        PROVIDER,
        &with_header(
            respond(&first, 407, "Proxy Authentication Required", "p1", ""),
            CHALLENGE,
        ),
    );
    let second = h.expect(PROVIDER, "INVITE sip:+48601000000@voip.example");
    assert!(header(&second, "Proxy-Authorization").contains("username=\"office\""));
    assert_eq!(header(&second, "Call-ID"), header(&first, "Call-ID"));
    assert_eq!(header(&second, "CSeq"), "2 INVITE");
    h.send(
        PROVIDER,
        &respond(&second, 200, "OK", "p2", &sdp(9000, "0 101")),
    );
    h.expect(CALLER, "SIP/2.0 200");
    assert_eq!(h.pbx.active_calls(), 1);
}

#[test]
fn a_provider_that_cannot_take_the_call_passes_it_to_the_next_trunk_but_a_busy_callee_does_not() {
    let mut h = office(&["Backup", "Provider"]);
    h.call("0601000000", &sdp(4000, "0 101"));
    let first = h.expect(BACKUP, "INVITE sip:+48601000000@voip.example");
    h.send(
        BACKUP,
        &respond(&first, 503, "Service Unavailable", "b1", ""),
    );
    let next = h.expect(PROVIDER, "INVITE sip:+48601000000@voip.example");
    h.send(PROVIDER, &respond(&next, 486, "Busy Here", "p1", ""));
    h.announcement_plays(Announcement::Busy);
    h.expect(CALLER, "SIP/2.0 486");
    let r = h.records.last().unwrap();
    assert_eq!(
        (
            r.direction,
            r.trunk.as_deref(),
            r.outcome,
            r.callee.as_str()
        ),
        (
            Direction::Outbound,
            Some("Provider"),
            Outcome::Busy,
            "0601000000"
        )
    );
}

#[test]
fn the_toll_fraud_guard_refuses_what_an_extension_may_not_call_and_says_why() {
    let mut h = office(&["Provider"]);
    // International: not in the default classes.
    let mut rules = rules(&["Provider"]);
    rules.routes.push(OutboundRoute {
        name: "Abroad".into(),
        patterns: vec!["00.".parse().unwrap()],
        strip: 2,
        prepend: "+".into(),
        class: CallClass::International,
        trunks: vec!["Provider".into()],
        caller_id: None,
    });
    h.pbx.set_outbound(rules);
    h.call("0044207946001", &sdp(4000, "0 101"));
    h.announcement_plays(Announcement::NotAllowed);
    h.expect(CALLER, "SIP/2.0 403");
    assert!(h.take(PROVIDER).is_empty(), "nothing went out");
    let r = h.records.last().unwrap();
    assert!(r.reason.contains("may not call International"), "{r:?}");
    assert_eq!(
        (r.direction, r.trunk.as_deref()),
        (Direction::Outbound, None),
        "a refused call out is still a call out"
    );
    let alert = &h.pbx.out_alerts()[0];
    assert_eq!(
        (
            alert.caller.as_str(),
            alert.number.as_str(),
            alert.reason.as_str()
        ),
        ("100", "0044207946001", r.reason.as_str()),
        "shown on the wallboard"
    );
}

#[test]
fn one_call_out_at_a_time_and_emergency_calls_whatever_the_limit() {
    let mut h = office(&["Provider"]);
    h.call("0601000000", &sdp(4000, "0 101"));
    h.expect(PROVIDER, "INVITE");
    h.another_call("0601000001", &sdp(4002, "0 101"), "call-2");
    h.announcement_plays_on(2, Announcement::NotAllowed);
    h.advance(Duration::from_millis(10));
    h.another_call("112", &sdp(4004, "0 101"), "call-3");
    h.expect(PROVIDER, "INVITE sip:112@voip.example");
}

#[test]
fn a_trunk_that_requires_encryption_is_called_over_tls_in_srtp() {
    let mut h = Harness::with_tls(&[]);
    let mut provider = trunk("Provider", "203.0.113.5:5061", false);
    provider.peer = super::harness::tls_peer("203.0.113.5:5061");
    provider.media.encrypted = true;
    h.pbx.set_trunks(h.clock(), vec![provider]);
    h.pbx.set_outbound(rules(&["Provider"]));
    h.collect();
    h.call("0601000000", &sdp(4000, "0 101"));
    let invite = h.expect("203.0.113.5:5061", "INVITE sip:+48601000000@voip.example");
    assert!(
        header(&invite, "Via").starts_with("SIP/2.0/TLS "),
        "{invite}"
    );
    assert!(
        header(&invite, "Contact").ends_with(";transport=tls>"),
        "{invite}"
    );
    assert!(
        invite.contains("m=audio ")
            && invite.contains(" RTP/SAVP ")
            && invite.contains("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"),
        "{invite}"
    );
}

#[test]
fn a_trunk_with_all_the_calls_out_it_may_is_passed_over_and_the_refusal_shown() {
    let mut h = office(&["Provider"]);
    let mut provider = trunk("Provider", PROVIDER, true);
    provider.max_calls_out = Some(1);
    h.pbx.set_trunks(h.clock(), vec![provider]);
    h.pbx.set_outbound(OutboundRules {
        max_calls_per_extension: 3,
        ..rules(&["Provider"])
    });
    h.collect();
    h.take(PROVIDER);
    h.call("0601000000", &sdp(4000, "0 101"));
    h.expect(PROVIDER, "INVITE sip:+48601000000@voip.example");
    h.another_call("0601000001", &sdp(4002, "0 101"), "call-2");
    h.announcement_plays_on(2, Announcement::Unavailable);
    assert!(
        h.take(PROVIDER).is_empty(),
        "the second call does not go out"
    );
    let alerts = h.pbx.out_alerts();
    assert_eq!(
        (
            alerts.len(),
            alerts[0].caller.as_str(),
            alerts[0].number.as_str()
        ),
        (1, "100", "0601000001")
    );
    assert!(alerts[0].reason.contains("Mobiles"), "{alerts:?}");
    // An emergency call goes out all the same.
    h.another_call("112", &sdp(4004, "0 101"), "call-3");
    h.expect(PROVIDER, "INVITE sip:112@voip.example");
}

#[test]
fn a_call_out_is_cut_off_when_the_days_minutes_run_out_and_the_next_one_refused() {
    let mut h = office(&["Provider"]);
    h.pbx.set_outbound(OutboundRules {
        minutes_per_day: 1,
        ..rules(&["Provider"])
    });
    // 20 seconds were talked out earlier today (before a restart).
    h.pbx
        .restore_talk_out(h.clock(), vec![("100".into(), Duration::from_secs(20))]);
    h.call("0601000000", &sdp(4000, "0 101"));
    let invite = h.expect(PROVIDER, "INVITE sip:+48601000000@voip.example");
    h.advance(Duration::from_secs(5));
    h.send(
        PROVIDER,
        &respond(&invite, 200, "OK", "p1", &sdp(9000, "0 101")),
    );
    let ok = h.expect(CALLER, "SIP/2.0 200");
    h.send(CALLER, &super::harness::from_caller(&ok, "ACK", 2));
    h.advance(Duration::from_secs(39));
    assert_eq!(h.pbx.active_calls(), 1, "39 s of talk: 1 s is left");
    h.advance(Duration::from_secs(1));
    h.expect(PROVIDER, "BYE");
    h.expect(CALLER, "BYE");
    let r = h.records.last().unwrap();
    assert_eq!(r.reason, "The minutes out for today are used up", "{r:?}");
    // The day's minute is gone: the next call out is refused, and shown.
    h.another_call("0601000001", &sdp(4002, "0 101"), "call-2");
    h.announcement_plays_on(2, Announcement::NotAllowed);
    assert!(
        h.take(PROVIDER).iter().all(|m| !m.starts_with("INVITE")),
        "nothing went out"
    );
    assert!(
        h.pbx.out_alerts()[0]
            .reason
            .contains("talked its 1 minutes out for today"),
        "{:?}",
        h.pbx.out_alerts()
    );
    // Emergency numbers go out all the same, and tomorrow the minute is back.
    h.another_call("112", &sdp(4004, "0 101"), "call-3");
    h.expect(PROVIDER, "INVITE sip:112@voip.example");
    h.advance(Duration::from_secs(24 * 3600));
    h.another_call("0601000002", &sdp(4006, "0 101"), "call-4");
    h.expect(PROVIDER, "INVITE sip:+48601000002@voip.example");
}

#[test]
fn a_trunk_is_offered_its_codecs_in_its_order() {
    let mut h = office(&["Provider"]);
    let mut provider = trunk("Provider", PROVIDER, true);
    provider.media.codecs = vec![Codec::Pcma, Codec::G722];
    h.pbx.set_trunks(h.clock(), vec![provider]);
    h.collect();
    h.take(PROVIDER);
    h.call("0601000000", &sdp(4000, "0 101"));
    let invite = h.expect(PROVIDER, "INVITE sip:+48601000000@voip.example");
    let m = invite.lines().find(|l| l.starts_with("m=audio ")).unwrap();
    assert!(m.ends_with(" RTP/AVP 8 9 101"), "{m}");
}

#[test]
fn the_providers_early_media_reaches_the_caller() {
    let mut h = office(&["Provider"]);
    h.call("0601000000", &sdp(4000, "0 8 101"));
    let invite = h.expect(PROVIDER, "INVITE sip:+48601000000@voip.example");
    // The network plays its own ringback or an announcement before the answer.
    h.send(
        PROVIDER,
        &respond(&invite, 183, "Session Progress", "p1", &sdp(9000, "8")),
    );
    h.early_media_relayed(9000);
}
