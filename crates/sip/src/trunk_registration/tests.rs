//! The link against a provider made of this crate's own digest server, on a simulated
//! clock.

use std::time::{Duration, Instant};

use super::*;
use crate::auth::{AccountSecrets, AuthConfig, DigestAuthenticator, Verdict};
use crate::message::{header_value, response_to};
use rsip::headers::UntypedHeader;

const LOCAL: &str = "192.168.1.20:5060";

fn account(password: &str) -> Account {
    Account {
        user: "48225550100".into(),
        auth_user: "office".into(),
        password: password.into(),
        expires: 300,
    }
}

fn link(now: Instant, account: Option<Account>) -> TrunkLink {
    TrunkLink::new(
        now,
        LinkConfig {
            domain: "voip.example".into(),
            account,
            keepalive: Some(Duration::from_secs(30)),
        },
        LinkIds {
            call_id: "reg-call".into(),
            from_tag: "reg-tag".into(),
        },
        Local {
            addr: LOCAL.parse().unwrap(),
            transport: Transport::Udp,
        },
    )
}

/// Tokens a test can predict.
fn counter() -> impl FnMut() -> String {
    let mut n = 0;
    move || {
        n += 1;
        format!("t{n}")
    }
}

/// A provider with one account ("office", password "right-password") and the
/// algorithms it challenges with.
struct Provider {
    auth: DigestAuthenticator,
    secrets: AccountSecrets,
    /// What the provider stamps on the top Via: the address it sees us at.
    seen_at: Option<SocketAddr>,
    grant: Option<u32>,
}

impl Provider {
    fn new(epoch: Instant, algorithms: Vec<crate::auth::Algorithm>) -> Self {
        Provider {
            auth: DigestAuthenticator::new(
                "voip.example",
                [7; 32],
                epoch,
                AuthConfig {
                    nonce_lifetime: Duration::from_secs(300),
                    algorithms,
                },
            ),
            secrets: AccountSecrets::from_password("office", "voip.example", "right-password"),
            seen_at: None,
            grant: None,
        }
    }

    fn answer(&mut self, now: Instant, request: &rsip::Request) -> rsip::Response {
        let mut response = match header_value(&request.headers, "Authorization") {
            None => self.challenge(now, request, false),
            Some(credentials) => {
                let secrets = self.secrets.clone();
                match self.auth.verify(now, "REGISTER", credentials, |user| {
                    (user == "office").then_some(&secrets)
                }) {
                    Verdict::Authenticated { .. } => {
                        let mut ok = response_to(request, 200, "OK", "p1");
                        let contact = header_value(&request.headers, "Contact").unwrap();
                        let expires = self.grant.unwrap_or(300);
                        ok.headers.push(Header::Contact(
                            format!("{contact};expires={expires}").into(),
                        ));
                        ok
                    }
                    Verdict::Stale => self.challenge(now, request, true),
                    Verdict::Rejected(_) => self.challenge(now, request, false),
                }
            }
        };
        if let Some(seen) = self.seen_at {
            stamp(&mut response, seen);
        }
        response
    }

    fn challenge(&self, now: Instant, request: &rsip::Request, stale: bool) -> rsip::Response {
        let mut r = response_to(request, 401, "Unauthorized", "p1");
        let id = crate::message::request_bytes(request);
        for c in self.auth.challenge(now, stale, &id) {
            r.headers.push(Header::WwwAuthenticate(c.into()));
        }
        r
    }
}

/// The provider's `received` and `rport` on the top Via.
fn stamp(response: &mut rsip::Response, seen: SocketAddr) {
    let headers: Vec<Header> = response
        .headers
        .iter()
        .map(|h| match h {
            Header::Via(v) => Header::Via(
                v.value()
                    .replace(
                        ";rport",
                        &format!(";received={};rport={}", seen.ip(), seen.port()),
                    )
                    .into(),
            ),
            other => other.clone(),
        })
        .collect();
    response.headers = headers.into();
}

/// Sends what is due and lets the provider answer, until nothing is due at `now`.
fn exchange(
    link: &mut TrunkLink,
    provider: &mut Provider,
    now: Instant,
    tokens: &mut dyn FnMut() -> String,
) -> Vec<rsip::Request> {
    let mut sent = Vec::new();
    while let Some((request, purpose)) = link.poll_request(now, tokens) {
        let response = match purpose {
            Purpose::KeepAlive { .. } => response_to(&request, 200, "OK", "p1"),
            _ => provider.answer(now, &request),
        };
        link.handle_response(now, purpose, &response);
        sent.push(request);
    }
    sent
}

fn header<'a>(request: &'a rsip::Request, name: &'a str) -> &'a str {
    header_value(&request.headers, name).unwrap_or_else(|| panic!("no {name} in {request}"))
}

#[test]
fn a_challenge_is_answered_and_the_registration_renewed_before_it_runs_out() {
    let t0 = Instant::now();
    let mut provider = Provider::new(t0, vec![crate::auth::Algorithm::Md5]);
    let mut link = link(t0, Some(account("right-password")));
    let mut tokens = counter();
    let sent = exchange(&mut link, &mut provider, t0, &mut tokens);
    assert_eq!(
        sent.len(),
        2,
        "a REGISTER, then one answering the challenge"
    );
    assert_eq!(sent[0].uri.to_string(), "sip:voip.example");
    assert_eq!(
        header(&sent[0], "From"),
        "<sip:48225550100@voip.example>;tag=reg-tag"
    );
    assert_eq!(
        header(&sent[0], "Contact"),
        "<sip:48225550100@192.168.1.20:5060>"
    );
    assert_eq!(header(&sent[0], "Expires"), "300");
    assert!(header(&sent[1], "Authorization").contains("username=\"office\""));
    assert_eq!(header(&sent[1], "Call-ID"), header(&sent[0], "Call-ID"));
    assert_eq!(
        (header(&sent[0], "CSeq"), header(&sent[1], "CSeq")),
        ("1 REGISTER", "2 REGISTER")
    );
    assert_eq!(link.status().state, LinkState::Registered { expires: 300 });
    assert_eq!(link.status().since, t0);

    // Renewed at 85 % of the 300 s, with the same Call-ID and the nonce used again.
    let renew = t0 + Duration::from_secs(255);
    assert!(
        exchange(
            &mut link,
            &mut provider,
            renew - Duration::from_secs(1),
            &mut tokens
        )
        .iter()
        .all(|r| r.method == Method::Options)
    );
    let sent = exchange(&mut link, &mut provider, renew, &mut tokens);
    let registers: Vec<_> = sent
        .iter()
        .filter(|r| r.method == Method::Register)
        .collect();
    assert!(!registers.is_empty(), "{sent:?}");
    assert_eq!(header(registers[0], "Call-ID"), "reg-call");
    assert!(header(registers[0], "Authorization").contains("nc=00000002"));
    assert!(matches!(link.status().state, LinkState::Registered { .. }));
}

#[test]
fn sha_256_is_chosen_when_the_provider_offers_it() {
    let t0 = Instant::now();
    let mut provider = Provider::new(
        t0,
        vec![crate::auth::Algorithm::Sha256, crate::auth::Algorithm::Md5],
    );
    let mut link = link(t0, Some(account("right-password")));
    let sent = exchange(&mut link, &mut provider, t0, &mut counter());
    assert!(header(&sent[1], "Authorization").contains("algorithm=SHA-256"));
    assert_eq!(link.status().state, LinkState::Registered { expires: 300 });
}

#[test]
fn a_wrong_password_shows_the_providers_answer_and_retries_back_off() {
    let t0 = Instant::now();
    let mut provider = Provider::new(t0, vec![crate::auth::Algorithm::Md5]);
    let mut link = link(t0, Some(account("wrong-password")));
    let mut tokens = counter();
    let sent = exchange(&mut link, &mut provider, t0, &mut tokens);
    assert_eq!(
        sent.len(),
        2,
        "the challenge is answered once, not in a loop"
    );
    assert_eq!(
        link.status().state,
        LinkState::Refused {
            code: 401,
            reason: "Unauthorized".into()
        }
    );
    let mut pauses = Vec::new();
    let mut now = t0;
    for _ in 0..8 {
        let next = link.poll_timeout().expect("a retry is planned");
        assert_eq!(link.status().retry_at, Some(next));
        pauses.push((next - now).as_secs());
        now = next;
        assert_eq!(
            exchange(&mut link, &mut provider, now, &mut tokens).len(),
            2
        );
    }
    assert_eq!(pauses, [30, 60, 120, 240, 480, 960, 1800, 1800]);

    // The password is put right (the office edits the trunk): a new link registers.
    let mut fixed = self::link(now, Some(account("right-password")));
    exchange(&mut fixed, &mut provider, now, &mut tokens);
    assert_eq!(fixed.status().state, LinkState::Registered { expires: 300 });
}

#[test]
fn a_silent_provider_is_unreachable_until_it_answers_again() {
    let t0 = Instant::now();
    let mut provider = Provider::new(t0, vec![crate::auth::Algorithm::Md5]);
    let mut link = link(t0, Some(account("right-password")));
    let mut tokens = counter();
    let (_, purpose) = link.poll_request(t0, &mut tokens).unwrap();
    let timed_out = t0 + Duration::from_secs(32);
    link.handle_no_answer(timed_out, purpose);
    assert_eq!(link.status().state, LinkState::Unreachable);
    assert_eq!(
        link.poll_timeout(),
        Some(timed_out + Duration::from_secs(30))
    );
    assert!(
        link.poll_request(timed_out, &mut tokens).is_none(),
        "nothing before the retry"
    );
    exchange(
        &mut link,
        &mut provider,
        timed_out + Duration::from_secs(30),
        &mut tokens,
    );
    assert_eq!(link.status().state, LinkState::Registered { expires: 300 });
    assert_eq!(link.status().retry_at, None);
}

#[test]
fn the_address_the_provider_sees_becomes_the_contact() {
    let t0 = Instant::now();
    let mut provider = Provider::new(t0, vec![crate::auth::Algorithm::Md5]);
    let public: SocketAddr = "203.0.113.9:41000".parse().unwrap();
    provider.seen_at = Some(public);
    let mut link = link(t0, Some(account("right-password")));
    let sent = exchange(&mut link, &mut provider, t0, &mut counter());
    let last = sent.last().unwrap();
    assert_eq!(
        header(last, "Contact"),
        "<sip:48225550100@203.0.113.9:41000>"
    );
    assert_eq!(
        crate::message::header_values(&last.headers, "Contact").collect::<Vec<_>>(),
        [
            "<sip:48225550100@203.0.113.9:41000>",
            "<sip:48225550100@192.168.1.20:5060>;expires=0"
        ],
        "the Contact first registered is taken back"
    );
    assert_eq!(link.status().public, Some(public));
    assert_eq!(link.status().state, LinkState::Registered { expires: 300 });
    assert!(
        sent.len() <= 4,
        "re-registered once, not in a loop: {sent:?}"
    );
}

#[test]
fn over_tls_the_port_the_provider_sees_is_the_connections_and_not_registered() {
    let t0 = Instant::now();
    let mut provider = Provider::new(t0, vec![crate::auth::Algorithm::Md5]);
    provider.seen_at = Some("203.0.113.9:41000".parse().unwrap());
    let mut link = link(t0, Some(account("right-password")));
    link.local.transport = Transport::Tls;
    let sent = exchange(&mut link, &mut provider, t0, &mut counter());
    assert_eq!(sent.len(), 2, "no second registration: {sent:?}");
    assert_eq!(
        header(&sent[1], "Contact"),
        "<sip:48225550100@192.168.1.20:5060;transport=tls>"
    );
    assert_eq!(link.status().state, LinkState::Registered { expires: 300 });
}

#[test]
fn the_lifetime_the_provider_grants_is_the_one_kept() {
    let t0 = Instant::now();
    let mut provider = Provider::new(t0, vec![crate::auth::Algorithm::Md5]);
    provider.grant = Some(60);
    let mut link = link(t0, Some(account("right-password")));
    exchange(&mut link, &mut provider, t0, &mut counter());
    assert_eq!(link.status().state, LinkState::Registered { expires: 60 });
    assert_eq!(
        link.poll_timeout(),
        Some(t0 + Duration::from_secs(30)),
        "keep-alive first"
    );
    let mut l = link;
    let mut tokens = counter();
    l.poll_request(t0 + Duration::from_secs(30), &mut tokens);
    assert_eq!(
        l.poll_timeout(),
        Some(t0 + Duration::from_secs(30)),
        "renewal due at 30 s of 60 too"
    );
}

#[test]
fn interval_too_brief_raises_the_lifetime_asked() {
    let t0 = Instant::now();
    let mut link = link(t0, Some(account("right-password")));
    let mut tokens = counter();
    let (request, purpose) = link.poll_request(t0, &mut tokens).unwrap();
    let mut brief = response_to(&request, 423, "Interval Too Brief", "p1");
    brief
        .headers
        .push(Header::Other("Min-Expires".into(), "3600".into()));
    link.handle_response(t0, purpose, &brief);
    let (again, _) = link.poll_request(t0, &mut tokens).unwrap();
    assert_eq!(header(&again, "Expires"), "3600");
}

#[test]
fn a_trunk_without_registration_is_reachable_while_it_answers_options() {
    let t0 = Instant::now();
    let mut link = link(t0, None);
    let mut tokens = counter();
    let (options, purpose) = link.poll_request(t0, &mut tokens).unwrap();
    assert_eq!(options.method, Method::Options);
    let answered = t0 + Duration::from_millis(42);
    link.handle_response(answered, purpose, &response_to(&options, 200, "OK", "p"));
    assert_eq!(link.status().state, LinkState::Reachable);
    assert_eq!(link.status().round_trip, Some(Duration::from_millis(42)));
    let next = link.poll_timeout().unwrap();
    assert_eq!(next, answered + Duration::from_secs(30));
    let (_, purpose) = link.poll_request(next, &mut tokens).unwrap();
    link.handle_no_answer(next + Duration::from_secs(32), purpose);
    assert_eq!(link.status().state, LinkState::Unreachable);
}

#[test]
fn a_trunk_neither_registered_nor_watched_says_so_and_sends_nothing() {
    let t0 = Instant::now();
    let unwatched = TrunkLink::new(
        t0,
        LinkConfig {
            domain: "gateway.example".into(),
            account: None,
            keepalive: None,
        },
        LinkIds {
            call_id: "c".into(),
            from_tag: "t".into(),
        },
        Local {
            addr: LOCAL.parse().unwrap(),
            transport: Transport::Udp,
        },
    );
    assert_eq!(unwatched.status().state, LinkState::Unwatched);
    assert_eq!(unwatched.poll_timeout(), None);
}

#[test]
fn stopping_a_registered_link_unregisters_it() {
    let t0 = Instant::now();
    let mut provider = Provider::new(t0, vec![crate::auth::Algorithm::Md5]);
    let mut link = link(t0, Some(account("right-password")));
    let mut tokens = counter();
    exchange(&mut link, &mut provider, t0, &mut tokens);
    link.stop(t0);
    let (request, purpose) = link.poll_request(t0, &mut tokens).unwrap();
    assert_eq!(
        (purpose, header(&request, "Expires")),
        (Purpose::Unregister, "0")
    );
    assert!(header(&request, "Authorization").contains("nc=00000002"));
    assert_eq!(link.status().state, LinkState::Stopped);
    assert_eq!(link.poll_timeout(), None);
}

#[test]
fn challenge_parameters_are_read_quoted_or_not() {
    let c = "Digest realm=\"a, b\", nonce=\"n1\", stale=TRUE, algorithm=MD5";
    assert_eq!(challenge_param(c, "realm"), Some("a, b"));
    assert_eq!(challenge_param(c, "nonce"), Some("n1"));
    assert_eq!(challenge_param(c, "stale"), Some("TRUE"));
    assert_eq!(challenge_param(c, "algorithm"), Some("MD5"));
    assert_eq!(challenge_param(c, "qop"), None);
}
