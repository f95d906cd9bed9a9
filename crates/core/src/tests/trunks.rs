//! Trunk links through the engine: requests go to the provider's address, its answers
//! come back to the right link, and configuration changes keep or end registrations.

use std::time::Duration;

use switchboard_sip::trunk_registration::{Account, LinkConfig, LinkState};

use super::harness::{Harness, header, peer};
use crate::TrunkSetup;

const PROVIDER: &str = "203.0.113.5:5060";

fn provider_trunk(password: &str) -> TrunkSetup {
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
