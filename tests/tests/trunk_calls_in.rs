//! A customer calls the office through its provider (Kamailio from apt playing one):
//! their phone is registered at the provider, not at Switchboard. The call follows the
//! office number's scenario into a queue, an agent answers, both hear each other, and
//! the record names the customer's number, the office number and the trunk.

use std::time::{Duration, Instant};

use switchboard_core::Direction;
use switchboard_e2e::audio::{self, heard};
use switchboard_e2e::baresip::{Baresip, PhoneSetup};
use switchboard_e2e::provider::{Provider, provider_password};
use switchboard_e2e::{FAST_REGISTRAR, Server, config};

/// The office: number +48 22 555 01 00 runs "Reception", which puts callers in queue
/// 600, answered by 101; registered to the provider as 48225550100.
fn office(provider: &Provider) -> String {
    format!(
        "{}[numbers]\ncountry_code = \"48\"\n\
         [[queues]]\nnumber = \"600\"\nname = \"Sales\"\nring_timeout = 10\n\
         [[queues.agents]]\nextension = \"101\"\n\
         [[scenarios]]\nname = \"Reception\"\nstart = \"sales\"\n\
         [scenarios.blocks.sales]\ntype = \"queue\"\nqueue = \"600\"\n\
         exits = {{ timeout = \"bye\", empty = \"bye\", full = \"bye\", key = \"bye\" }}\n\
         [scenarios.blocks.bye]\ntype = \"hang-up\"\n\
         [[inbound]]\nnumber = \"+48225550100\"\nscenario = \"Reception\"\n\
         [[trunks]]\nname = \"Provider\"\nhost = \"{}\"\n\
         [trunks.register]\nusername = \"48225550100\"\nauth_username = \"office\"\n\
         password = \"{}\"\n",
        config("", FAST_REGISTRAR),
        provider.addr,
        provider_password("office")
    )
}

fn wait_registered(server: &Server) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.health()["trunks"][0]["state"] != "registered" {
        assert!(Instant::now() < deadline, "{}", server.health()["trunks"]);
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_customer_of_the_provider_reaches_an_agent_through_the_office_number() {
    let provider = Provider::start();
    let server = Server::start(&office(&provider));
    wait_registered(&server);
    let dir = tempfile::tempdir().expect("tempdir");
    let (en, ru) = (dir.path().join("en.wav"), dir.path().join("ru.wav"));
    audio::speech("en", 40, &en);
    audio::speech("ru", 40, &ru);
    let mut agent = Baresip::start(server.sip, PhoneSetup::pcmu("101", &ru, true));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 1);
    let mut customer = Baresip::start_at_provider(
        provider.addr,
        PhoneSetup::pcmu("48601000000", &en, false),
        &provider_password("48601000000"),
    );
    provider.wait_for("registered sip:48601000000@", Duration::from_secs(10));

    customer.command("dial", &format!("sip:48225550100@{}", provider.addr));
    customer.wait_event("CALL_ESTABLISHED", Duration::from_secs(15));
    agent.wait_event("CALL_ESTABLISHED", Duration::from_secs(15));
    std::thread::sleep(Duration::from_secs(8));
    customer.command("hangup", "");
    agent.wait_event("CALL_CLOSED", Duration::from_secs(10));
    server.wait_metric("active_calls", Duration::from_secs(5), |c| c == 0);

    let (en_audio, _) = audio::read(&en);
    let (ru_audio, _) = audio::read(&ru);
    audio::assert_heard(
        "the customer hears the agent",
        heard(&ru_audio, &audio::read_at_call_rate(&customer.heard())),
    );
    audio::assert_heard(
        "the agent hears the customer",
        heard(&en_audio, &audio::read_at_call_rate(&agent.heard())),
    );
    let records = server.call_records();
    let call = records
        .iter()
        .find(|r| r.direction == Direction::Inbound)
        .unwrap_or_else(|| panic!("no inbound record in {records:#?}"));
    assert_eq!(
        (
            call.caller.as_str(),
            call.callee.as_str(),
            call.trunk.as_deref(),
            call.queue.as_deref(),
            call.answered_by.as_deref(),
            call.outcome.as_str(),
            call.hangup_by.as_str(),
        ),
        (
            "+48601000000",
            "+48225550100",
            Some("Provider"),
            Some("600"),
            Some("101"),
            "answered",
            "caller"
        ),
        "{call:#?}"
    );
}

#[test]
fn a_receptionist_calls_a_customer_out_through_the_provider_showing_the_office_number() {
    let provider = Provider::start();
    let office = format!(
        "{}[[routes]]\nname = \"National\"\npatterns = [\"0XXXXXXXXX\"]\nstrip = 1\nprepend = \"48\"\n\
         class = \"mobile\"\ntrunks = [\"Provider\"]\ncaller_id = \"48225550100\"\n",
        office(&provider)
    );
    let server = Server::start(&office);
    wait_registered(&server);
    let dir = tempfile::tempdir().expect("tempdir");
    let (en, ru) = (dir.path().join("en.wav"), dir.path().join("ru.wav"));
    audio::speech("en", 40, &en);
    audio::speech("ru", 40, &ru);
    let mut receptionist = Baresip::start(server.sip, PhoneSetup::pcmu("100", &en, false));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 1);
    let mut customer = Baresip::start_at_provider(
        provider.addr,
        PhoneSetup::pcmu("48601000000", &ru, true),
        &provider_password("48601000000"),
    );
    provider.wait_for("registered sip:48601000000@", Duration::from_secs(10));

    receptionist.command("dial", &format!("sip:0601000000@{}", server.sip));
    let incoming = customer.wait_event("CALL_ESTABLISHED", Duration::from_secs(15));
    assert!(
        incoming["peeruri"]
            .as_str()
            .is_some_and(|u| u.starts_with("sip:48225550100@")),
        "the customer sees the office's number: {incoming}"
    );
    receptionist.wait_event("CALL_ESTABLISHED", Duration::from_secs(15));
    std::thread::sleep(Duration::from_secs(8));
    receptionist.command("hangup", "");
    customer.wait_event("CALL_CLOSED", Duration::from_secs(10));
    server.wait_metric("active_calls", Duration::from_secs(5), |c| c == 0);

    let (en_audio, _) = audio::read(&en);
    let (ru_audio, _) = audio::read(&ru);
    audio::assert_heard(
        "the receptionist hears the customer",
        heard(&ru_audio, &audio::read_at_call_rate(&receptionist.heard())),
    );
    audio::assert_heard(
        "the customer hears the receptionist",
        heard(&en_audio, &audio::read_at_call_rate(&customer.heard())),
    );
    let records = server.call_records();
    let call = records
        .iter()
        .find(|r| r.direction == Direction::Outbound)
        .unwrap_or_else(|| panic!("no outbound record in {records:#?}"));
    assert_eq!(
        (
            call.caller.as_str(),
            call.callee.as_str(),
            call.trunk.as_deref(),
            call.outcome.as_str()
        ),
        ("100", "0601000000", Some("Provider"), "answered"),
        "{call:#?}"
    );
    provider.wait_for(
        "call from 48225550100 to 48601000000",
        Duration::from_secs(1),
    );
}
