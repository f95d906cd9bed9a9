//! Trunk links through the engine: requests go to the provider's address, its answers
//! come back to the right link, and configuration changes keep or end registrations.

use std::time::Duration;

use switchboard_sip::trunk_registration::{Account, LinkConfig, LinkState};

use super::harness::DESK;
use super::harness::{CALLER, Harness, header, in_dialog, peer, sdp, srtp_sdp, tls_peer};
use super::scenarios::{reception, reception_in};
use crate::{CallsIn, Direction, Outcome, TrunkSetup};

pub(super) const PROVIDER: &str = "203.0.113.5:5060";

pub(super) fn provider_trunk(password: &str) -> TrunkSetup {
    TrunkSetup {
        name: "provider".into(),
        link: LinkConfig {
            domain: "voip.example".into(),
            account: Some(Account {
                user: "48225550100".into(),
                auth_user: "office".into(),
                password: password.into(),
                expires: 120,
            }),
            keepalive: None,
        },
        peer: peer(PROVIDER),
        calls_in: CallsIn {
            hosts: vec![PROVIDER.parse().unwrap()],
            ..CallsIn::default()
        },
        media: Default::default(),
        max_calls_out: None,
    }
}

/// The provider's answer to `request`, with `extra` headers.
fn answer(request: &str, status: &str, extra: &str) -> String {
    format!(
        "SIP/2.0 {status}\r\nVia: {}\r\nFrom: {}\r\nTo: {};tag=p1\r\nCall-ID: {}\r\nCSeq: {}\r\n{extra}Content-Length: 0\r\n\r\n",
        header(request, "Via"),
        header(request, "From"),
        header(request, "To"),
        header(request, "Call-ID"),
        header(request, "CSeq"),
    )
}

const CHALLENGE: &str = "WWW-Authenticate: Digest realm=\"voip.example\", nonce=\"n1\", qop=\"auth\", algorithm=MD5\r\n";

#[test]
fn the_office_registers_to_its_provider_and_keeps_the_registration() {
    let mut h = Harness::new(&[]);
    h.pbx
        .set_trunks(h.clock(), vec![provider_trunk("secret-pass")]);
    h.collect();
    let first = h.expect(PROVIDER, "REGISTER sip:voip.example SIP/2.0");
    assert_eq!(
        header(&first, "Contact"),
        "<sip:48225550100@192.0.2.1:5060>"
    );
    h.send(PROVIDER, &answer(&first, "401 Unauthorized", CHALLENGE));
    let second = h.expect(PROVIDER, "REGISTER");
    assert!(header(&second, "Authorization").contains("username=\"office\""));
    let contact = header(&second, "Contact").to_string();
    h.send(
        PROVIDER,
        &answer(
            &second,
            "200 OK",
            &format!("Contact: {contact};expires=120\r\n"),
        ),
    );
    let status = &h.pbx.trunk_statuses()[0];
    assert_eq!(
        (status.name.as_str(), &status.state),
        ("provider", &LinkState::Registered { expires: 120 })
    );
    assert_eq!(status.since, h.wall);

    // The same configuration again (another section was edited) keeps it as it is.
    h.pbx
        .set_trunks(h.clock(), vec![provider_trunk("secret-pass")]);
    h.collect();
    assert!(h.take(PROVIDER).is_empty());

    // Renewed 30 s before the 120 s granted run out.
    h.advance(Duration::from_secs(89));
    let early = h.take(PROVIDER);
    assert!(early.is_empty(), "{early:#?}");
    h.advance(Duration::from_secs(1));
    let renewal = h.expect(PROVIDER, "REGISTER");
    assert_eq!(header(&renewal, "Call-ID"), header(&first, "Call-ID"));

    // The trunk is removed: it unregisters.
    h.pbx.set_trunks(h.clock(), Vec::new());
    h.collect();
    let goodbye = h.take(PROVIDER);
    assert!(
        goodbye
            .iter()
            .any(|m| m.starts_with("REGISTER") && m.contains("\r\nExpires: 0\r\n")),
        "{goodbye:#?}"
    );
    assert!(h.pbx.trunk_statuses().is_empty());
}

#[test]
fn a_refused_registration_shows_the_providers_answer() {
    let mut h = Harness::new(&[]);
    h.pbx
        .set_trunks(h.clock(), vec![provider_trunk("wrong-pass")]);
    h.collect();
    let first = h.expect(PROVIDER, "REGISTER");
    h.send(PROVIDER, &answer(&first, "401 Unauthorized", CHALLENGE));
    let second = h.expect(PROVIDER, "REGISTER");
    h.send(PROVIDER, &answer(&second, "403 Forbidden", ""));
    let status = &h.pbx.trunk_statuses()[0];
    assert_eq!(
        status.state,
        LinkState::Refused {
            code: 403,
            reason: "Forbidden".into()
        }
    );
    assert_eq!(status.retry_at, Some(h.wall + Duration::from_secs(30)));
}

/// A customer's INVITE as the provider delivers it: to the office number `to`, their
/// number asserted in P-Asserted-Identity, From as the customer's phone wrote it.
pub(super) fn customer_invite(to: &str, extra: &str) -> String {
    customer_invite_offering(to, extra, &sdp(7000, "8 101"))
}

fn customer_invite_offering(to: &str, extra: &str, body: &str) -> String {
    format!(
        "INVITE sip:{to}@192.0.2.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {PROVIDER};branch=z9hG4bKprov1\r\n\
         Max-Forwards: 69\r\nFrom: \"Jan\" <sip:0601000000@voip.example>;tag=cust1\r\n\
         To: <sip:{to}@voip.example>\r\nCall-ID: customer-call-1\r\nCSeq: 1 INVITE\r\n\
         Contact: <sip:gw@{PROVIDER}>\r\n{extra}Content-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

pub(super) const ASSERTED: &str = "P-Asserted-Identity: <sip:+48601000000@voip.example>\r\n";

/// Reception's office (800 runs its scenario) with the provider's trunk and Poland's
/// country code.
fn office_with_trunk() -> Harness {
    trunk_in(reception(&[]))
}

/// The customer's call to `to` from the provider, answered and acknowledged: returns
/// the 200 and the customer's side of the dialog (From).
pub(super) fn customer_calls_in(h: &mut Harness, to: &str) -> (String, &'static str) {
    h.send(PROVIDER, &customer_invite(to, ASSERTED));
    let ok = h.expect(PROVIDER, "SIP/2.0 200");
    let customer = "\"Jan\" <sip:0601000000@voip.example>;tag=cust1";
    let to = header(&ok, "To").to_string();
    h.send(
        PROVIDER,
        &in_dialog("ACK", PROVIDER, customer, &to, "customer-call-1", 1, ""),
    );
    (ok, customer)
}

pub(super) fn trunk_in(mut h: Harness) -> Harness {
    h.pbx.set_lists(Some("48".into()), Vec::new());
    h.pbx
        .set_trunks(h.clock(), vec![provider_trunk("secret-pass")]);
    h.collect();
    h.take(PROVIDER);
    h
}

#[test]
fn a_customers_call_from_the_provider_follows_the_office_numbers_scenario() {
    let mut h = office_with_trunk();
    let (ok, customer) = customer_calls_in(&mut h, "800");
    let to = header(&ok, "To").to_string();
    h.send(
        PROVIDER,
        &in_dialog("BYE", PROVIDER, customer, &to, "customer-call-1", 2, ""),
    );
    h.expect(PROVIDER, "SIP/2.0 200");
    let r = h.records.last().expect("a record");
    assert_eq!(
        (
            r.caller.as_str(),
            r.callee.as_str(),
            r.direction,
            r.trunk.as_deref()
        ),
        ("+48601000000", "800", Direction::Inbound, Some("provider"))
    );
    assert_eq!(r.outcome, Outcome::Answered);
    assert_eq!(
        r.scenario_path.as_deref().map(|p| p.starts_with("hours")),
        Some(true),
        "{r:?}"
    );
}

#[test]
fn a_call_from_the_provider_to_a_number_the_office_does_not_answer_is_not_found() {
    let mut h = office_with_trunk();
    // 101 is an extension, *45 an agent's code: neither is for customers.
    for (i, dialled) in ["555", "101", "*45"].into_iter().enumerate() {
        let invite = customer_invite(dialled, ASSERTED)
            .replace("z9hG4bKprov1", &format!("z9hG4bKprov-nf{i}"))
            .replace("customer-call-1", &format!("customer-nf{i}"));
        h.send(PROVIDER, &invite);
        h.expect(PROVIDER, "SIP/2.0 404");
    }
    assert!(h.records.iter().all(|r| r.direction == Direction::Inbound));
    assert!(h.take(super::harness::DESK).is_empty(), "no phone rang");
}

#[test]
fn the_same_call_from_anywhere_else_must_prove_it_is_an_extension() {
    let mut h = office_with_trunk();
    h.send(
        CALLER,
        &customer_invite("800", ASSERTED).replace(PROVIDER, CALLER),
    );
    h.expect(CALLER, "SIP/2.0 407");
    assert!(h.records.is_empty());
}

#[test]
fn a_number_the_provider_sends_without_its_plus_is_the_office_number_it_means() {
    let mut h = office_with_trunk();
    let mut setup = super::scenarios::setup(super::scenarios::RECEPTION);
    setup.inbound = vec![("+48 22 555 01 00".into(), "Reception".into())];
    h.pbx.set_scenarios(setup);
    for (i, sent) in ["48225550100", "+48225550100", "225550100", "0225550100"]
        .into_iter()
        .enumerate()
    {
        let invite = customer_invite(sent, ASSERTED)
            .replace("z9hG4bKprov1", &format!("z9hG4bKprov-plus{i}"))
            .replace("customer-call-1", &format!("customer-plus{i}"));
        h.send(PROVIDER, &invite);
        h.expect(PROVIDER, "SIP/2.0 200");
    }
}

#[test]
fn callers_who_withhold_their_number_can_be_turned_away_as_anonymous() {
    let mut h = office_with_trunk();
    let list = crate::numbers::NumberList {
        name: "Withheld".into(),
        kind: crate::numbers::ListKind::Block { tell: false },
        numbers: ["anonymous".to_string()].into(),
    };
    h.pbx.set_lists(Some("48".into()), vec![list]);
    h.send(PROVIDER, &customer_invite("800", "Privacy: id\r\n"));
    h.expect(PROVIDER, "SIP/2.0 603");
    assert_eq!(
        h.records.last().map(|r| r.caller.as_str()),
        Some("anonymous")
    );
    // A caller who shows their number is let in.
    let shown = customer_invite("800", ASSERTED)
        .replace("z9hG4bKprov1", "z9hG4bKprov-shown")
        .replace("customer-call-1", "customer-shown");
    h.send(PROVIDER, &shown);
    h.expect(PROVIDER, "SIP/2.0 200");
}

#[test]
fn behind_nat_the_provider_is_given_the_public_address_and_office_phones_the_local_one() {
    let mut h = trunk_in(reception_in(Harness::behind_nat(&[DESK]), &[]));
    // The registration's Via and Contact.
    h.pbx.set_trunks(h.clock(), Vec::new());
    h.collect();
    h.take(PROVIDER);
    h.pbx
        .set_trunks(h.clock(), vec![provider_trunk("secret-pass")]);
    h.collect();
    let register = h.expect(PROVIDER, "REGISTER");
    assert!(
        header(&register, "Via").contains(" 198.51.100.1:5060;"),
        "{register}"
    );
    assert_eq!(
        header(&register, "Contact"),
        "<sip:48225550100@198.51.100.1:5060>"
    );
    // A customer's call: Contact and SDP carry the public address.
    h.send(PROVIDER, &customer_invite("800", ASSERTED));
    let ok = h.expect(PROVIDER, "SIP/2.0 200");
    assert!(
        header(&ok, "Contact").contains("@198.51.100.1:5060"),
        "{ok}"
    );
    assert!(ok.contains("c=IN IP4 198.51.100.1"), "{ok}");
    // An office phone keeps hearing of the office's own address.
    h.call("101", &sdp(4000, "0 101"));
    let invite = h.expect(DESK, "INVITE");
    assert!(invite.contains("c=IN IP4 192.0.2.1"), "{invite}");
    assert!(
        header(&invite, "Via").contains(" 192.0.2.1:5060;"),
        "{invite}"
    );
}

const PROVIDER_TLS: &str = "203.0.113.5:5061";

/// The provider over TLS, its calls required in SRTP; its gateways in 198.51.100.0/24.
fn encrypted_trunk() -> TrunkSetup {
    let mut trunk = provider_trunk("secret-pass");
    trunk.peer = tls_peer(PROVIDER_TLS);
    trunk.calls_in.hosts = vec![PROVIDER_TLS.parse().unwrap()];
    trunk.calls_in.networks = vec!["198.51.100.0/24".parse().unwrap()];
    trunk.media.encrypted = true;
    trunk
}

#[test]
fn a_trunk_that_requires_encryption_takes_calls_over_tls_in_srtp_only() {
    let mut h = reception_in(Harness::with_tls(&[]), &[]);
    h.pbx.set_lists(Some("48".into()), Vec::new());
    h.pbx.set_trunks(h.clock(), vec![encrypted_trunk()]);
    h.collect();
    let register = h.expect(PROVIDER_TLS, "REGISTER");
    assert!(
        header(&register, "Via").starts_with("SIP/2.0/TLS 192.0.2.1:5061;"),
        "{register}"
    );
    assert_eq!(
        header(&register, "Contact"),
        "<sip:48225550100@192.0.2.1:5061;transport=tls>"
    );
    let over = |connection: &str, call: &str, body: &str| {
        customer_invite_offering("800", ASSERTED, body)
            .replace(&format!("UDP {PROVIDER}"), &format!("TLS {connection}"))
            .replace("z9hG4bKprov1", &format!("z9hG4bK{call}"))
            .replace("customer-call-1", call)
    };
    // From one of its gateways over UDP: refused, whatever it offers.
    const GATEWAY: &str = "198.51.100.7:5060";
    h.send(
        GATEWAY,
        &over(GATEWAY, "by-udp", &srtp_sdp(7000, "8 101")).replace("SIP/2.0/TLS", "SIP/2.0/UDP"),
    );
    assert!(
        h.expect(GATEWAY, "SIP/2.0 403")
            .contains("calls over TLS only")
    );
    // Over a TLS connection the provider opened (any port of its host): plain RTP is
    // refused, SRTP answered in SRTP with Switchboard's own key.
    const CONNECTION: &str = "203.0.113.5:40001";
    h.send_over(
        tls_peer(CONNECTION),
        &over(CONNECTION, "plain", &sdp(7000, "8 101")),
    );
    assert!(
        h.expect(CONNECTION, "SIP/2.0 488")
            .contains("must be encrypted (SRTP)")
    );
    h.send_over(
        tls_peer(CONNECTION),
        &over(CONNECTION, "secret", &srtp_sdp(7000, "8 101")),
    );
    let ok = h.expect(CONNECTION, "SIP/2.0 200");
    assert!(
        ok.contains("RTP/SAVP") && ok.contains("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"),
        "{ok}"
    );
    assert!(
        !ok.contains("WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"),
        "Switchboard keys its own direction"
    );
    assert!(
        header(&ok, "Contact").ends_with(":5061;transport=tls>"),
        "{ok}"
    );
    // Its hang-up: from the same host by UDP it must prove itself; over another of its
    // TLS connections it is the provider.
    let customer = "\"Jan\" <sip:0601000000@voip.example>;tag=cust1";
    let to = header(&ok, "To").to_string();
    let bye = in_dialog("BYE", PROVIDER, customer, &to, "secret", 2, "");
    h.send(PROVIDER, &bye);
    h.expect(PROVIDER, "SIP/2.0 407");
    assert_eq!(h.pbx.active_calls(), 1);
    const ANOTHER: &str = "203.0.113.5:40002";
    h.send_over(tls_peer(ANOTHER), &bye.replace(PROVIDER, ANOTHER));
    h.expect(ANOTHER, "SIP/2.0 200");
    let r = h.records.last().expect("a record");
    assert_eq!(
        (r.outcome, r.trunk.as_deref()),
        (Outcome::Answered, Some("provider")),
        "{r:?}"
    );
}

#[test]
fn a_customers_call_is_answered_in_the_trunks_first_codec() {
    let mut h = reception(&[]);
    h.pbx.set_lists(Some("48".into()), Vec::new());
    let mut trunk = provider_trunk("secret-pass");
    trunk.media.codecs = vec![switchboard_media::codec::Codec::Pcma];
    h.pbx.set_trunks(h.clock(), vec![trunk]);
    h.collect();
    h.take(PROVIDER);
    h.send(
        PROVIDER,
        &customer_invite_offering("800", ASSERTED, &sdp(7000, "0 8 101")),
    );
    let ok = h.expect(PROVIDER, "SIP/2.0 200");
    let m = ok.lines().find(|l| l.starts_with("m=audio ")).unwrap();
    assert!(
        m.contains(" RTP/AVP 8 "),
        "PCMA, though the provider offered PCMU first: {m}"
    );
    // A provider offering none of the trunk's codecs is refused.
    let none = customer_invite_offering("800", ASSERTED, &sdp(7002, "0 101"))
        .replace("z9hG4bKprov1", "z9hG4bKprov-pcmu")
        .replace("customer-call-1", "customer-call-2");
    h.send(PROVIDER, &none);
    h.expect(PROVIDER, "SIP/2.0 488");
}
