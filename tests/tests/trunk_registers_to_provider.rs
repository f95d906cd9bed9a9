//! The office registers to its provider (Kamailio from apt playing one) as a trunk:
//! the provider's digest challenge answered, the registration in the trunk's status,
//! a wrong password shown with the provider's answer, the registration removed when
//! Switchboard stops, and made again after the provider restarts.

use std::time::{Duration, Instant};

use switchboard_e2e::provider::{Provider, provider_password};
use switchboard_e2e::{FAST_REGISTRAR, Server, config};

fn office_with_trunk(provider: &Provider, password: &str) -> String {
    format!(
        "{}[[trunks]]\nname = \"Provider\"\nhost = \"{}\"\nkeepalive = 10\n\
         [trunks.register]\nusername = \"48225550100\"\nauth_username = \"office\"\n\
         password = \"{password}\"\n",
        config("", FAST_REGISTRAR),
        provider.addr
    )
}

/// The trunk's entry in /health once `ok` holds for it.
fn wait_trunk(
    server: &Server,
    limit: Duration,
    ok: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + limit;
    loop {
        let trunk = server.health()["trunks"][0].clone();
        if ok(&trunk) {
            return trunk;
        }
        assert!(
            Instant::now() < deadline,
            "the trunk stayed {trunk} for {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_office_registers_to_its_provider_and_unregisters_when_it_stops() {
    let provider = Provider::start();
    let mut server = Server::start(&office_with_trunk(&provider, &provider_password("office")));
    let seen = provider.wait_for("provider: registered", Duration::from_secs(10));
    let expected_aor = format!("sip:48225550100@{}", provider.addr);
    assert!(
        seen[0].contains(&format!("registered {expected_aor} auth office")),
        "{seen:?}"
    );
    assert!(
        seen[0].contains(&format!("contact <sip:48225550100@{}>", server.sip)),
        "{seen:?}"
    );
    let trunk = wait_trunk(&server, Duration::from_secs(5), |t| {
        t["state"] == "registered"
    });
    assert_eq!(
        (trunk["name"].as_str(), trunk["expires"].as_u64()),
        (Some("Provider"), Some(300)),
        "{trunk}"
    );
    // The API never shows the password; a change that leaves it out keeps it, and the
    // registration with it.
    let token = server.admin_token();
    let (status, trunk) = server.api(Some(&token), "GET", "/api/trunks/Provider", None);
    assert_eq!(status, 200, "{trunk}");
    assert_eq!(trunk["register"]["username"], "48225550100");
    assert!(trunk["register"].get("password").is_none(), "{trunk}");
    let (_, config) = server.api(Some(&token), "GET", "/api/config", None);
    assert!(
        !config.to_string().contains(&provider_password("office")),
        "{config}"
    );
    let mut changed = trunk.clone();
    changed["keepalive"] = 10.into();
    let (status, answer) = server.api(Some(&token), "PUT", "/api/trunks/Provider", Some(&changed));
    assert_eq!(status, 200, "{answer}");
    assert!(answer["register"].get("password").is_none(), "{answer}");
    assert_eq!(
        server.health()["trunks"][0]["state"],
        "registered",
        "an unchanged trunk keeps its registration"
    );

    // The keep-alive (every 10 s) measures the round trip.
    let trunk = wait_trunk(&server, Duration::from_secs(15), |t| {
        t["round_trip_ms"].is_u64()
    });
    assert!(trunk["round_trip_ms"].as_u64().unwrap() < 1000, "{trunk}");

    server.stop();
    let goodbye = provider.wait_for("expires 0", Duration::from_secs(5));
    assert!(goodbye[0].contains(&expected_aor), "{goodbye:?}");
}

#[test]
fn a_wrong_trunk_password_shows_the_providers_refusal_and_waits_to_retry() {
    let provider = Provider::start();
    let server = Server::start(&office_with_trunk(&provider, "not-the-password"));
    let trunk = wait_trunk(&server, Duration::from_secs(10), |t| {
        t["state"] == "refused"
    });
    assert_eq!(trunk["refusal"], "401 Unauthorized", "{trunk}");
    let since = trunk["since"].as_i64().unwrap();
    let retry = trunk["retry_at"].as_i64().unwrap();
    assert!((29_000..=31_000).contains(&(retry - since)), "{trunk}");
    // One answered challenge, not a loop of them.
    std::thread::sleep(Duration::from_secs(2));
    assert!(provider.lines("provider: registered").is_empty());
    assert_eq!(server.health()["trunks"][0]["state"], "refused");
}

/// The provider goes down and comes back with no registration (Kamailio keeps them in
/// memory): the keep-alive finds it gone, the trunk says "unreachable", and once it
/// answers again the office registers anew, without waiting for its renewal.
#[test]
fn the_office_registers_again_after_the_provider_restarts() {
    let mut provider = Provider::start();
    // Transactions give up after 64 × T1: 6.4 s.
    let office = office_with_trunk(&provider, &provider_password("office")).replace(
        "realm = \"switchboard\"\n",
        "realm = \"switchboard\"\ntimer_t1_ms = 100\n",
    );
    let server = Server::start(&office);
    wait_trunk(&server, Duration::from_secs(10), |t| {
        t["state"] == "registered"
    });
    provider.restart(|| {
        wait_trunk(&server, Duration::from_secs(40), |t| {
            t["state"] == "unreachable"
        });
    });
    let trunk = wait_trunk(&server, Duration::from_secs(45), |t| {
        t["state"] == "registered"
    });
    assert_eq!(trunk["expires"].as_u64(), Some(300), "{trunk}");
    provider.wait_for(
        "provider: registered sip:48225550100@",
        Duration::from_secs(1),
    );
}
