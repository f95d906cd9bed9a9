//! A customer calls the office through its provider (Kamailio from apt playing one):
//! their phone is registered at the provider, not at Switchboard. The call follows the
//! office number's scenario into a queue, an agent answers, both hear each other, and
//! the record names the customer's number, the office number and the trunk. And the
//! other way: a receptionist calls the customer out through the same provider. The
//! same over a trunk that requires encryption: SIP over TLS to the provider (its own
//! certificate, trusted through the trunk's `tls_ca`), the customer's audio in SRTP
//! and never in the clear on the wire; a customer calling in the clear is refused.

use std::path::Path;
use std::time::{Duration, Instant};

use switchboard_core::{CallRecord, Direction};
use switchboard_e2e::audio::{self, heard};
use switchboard_e2e::baresip::{Baresip, PhoneSetup};
use switchboard_e2e::pcap::{Capture, speech_in_the_clear};
use switchboard_e2e::provider::{
    CUSTOMER, OFFICE_NUMBER_TO_QUEUE, Provider, ROUTE_THROUGH_PROVIDER, customer_phone,
    dial_customer, provider_password,
};
use switchboard_e2e::{FAST_REGISTRAR, Server, config, sipp_to};

/// The office: number +48 22 555 01 00 runs "Reception", which puts callers in queue
/// 600, answered by 101; registered to the provider as 48225550100.
fn office(provider: &Provider) -> String {
    format!(
        "{}{OFFICE_NUMBER_TO_QUEUE}[[trunks]]\nname = \"Provider\"\nhost = \"{}\"\n\
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

/// The caller and the callee, each with the file it speaks, talk for 8 s; the caller
/// hangs up; each must have heard the other. Returns the call's record.
fn talk_and_compare(
    server: &Server,
    (caller, caller_said): (&mut Baresip, &Path),
    (callee, callee_said): (&mut Baresip, &Path),
    direction: Direction,
) -> CallRecord {
    std::thread::sleep(Duration::from_secs(8));
    caller.command("hangup", "");
    callee.wait_event("CALL_CLOSED", Duration::from_secs(10));
    server.wait_metric("active_calls", Duration::from_secs(5), |c| c == 0);
    let (caller_voice, _) = audio::read(caller_said);
    let (callee_voice, _) = audio::read(callee_said);
    audio::assert_heard(
        "the caller hears the callee",
        heard(&callee_voice, &audio::read_at_call_rate(&caller.heard())),
    );
    audio::assert_heard(
        "the callee hears the caller",
        heard(&caller_voice, &audio::read_at_call_rate(&callee.heard())),
    );
    let records = server.call_records();
    let record = records
        .into_iter()
        .find(|r| r.direction == direction)
        .unwrap_or_else(|| panic!("no {direction:?} record"));
    // The call log finds it by its direction and trunk, and no other call.
    let token = server.admin_token();
    let query = format!("/api/calls?direction={}&trunk=Provider", direction.as_str());
    let (status, found) = server.api(Some(&token), "GET", &query, None);
    assert_eq!(status, 200, "{found}");
    let ids: Vec<&str> = found
        .as_array()
        .expect("records")
        .iter()
        .filter_map(|r| r["call_id"].as_str())
        .collect();
    assert_eq!(ids, [record.call_id.as_str()], "{found}");
    record
}

#[test]
fn a_customer_of_the_provider_reaches_an_agent_through_the_office_number() {
    let provider = Provider::start();
    let call = customer_reaches_an_agent(&provider, &office(&provider));
    assert_eq!(
        call.caller_codec.as_deref(),
        Some("PCMU"),
        "the customer's first"
    );
}

/// The same over a trunk on TCP that prefers A-law: the office's connection to the
/// provider carries its registration, the provider's call comes over a connection it
/// opens, and the customer's PCMA is taken though PCMU came first (the agent's PCMU is
/// converted).
#[test]
fn a_customer_reaches_an_agent_over_a_tcp_trunk_in_its_codec() {
    let provider = Provider::start();
    let office = office(&provider).replace(
        "[trunks.register]",
        "transport = \"tcp\"\ncodecs = [\"PCMA\", \"PCMU\"]\n[trunks.register]",
    );
    let call = customer_reaches_an_agent(&provider, &office);
    assert_eq!(
        call.caller_codec.as_deref(),
        Some("PCMA"),
        "the trunk's first"
    );
    let registered = provider.lines("registered sip:48225550100@");
    assert!(
        registered.iter().all(|l| l.contains(";transport=tcp>")),
        "{registered:?}"
    );
}

fn customer_reaches_an_agent(provider: &Provider, office: &str) -> CallRecord {
    let server = Server::start(office);
    wait_registered(&server);
    let dir = tempfile::tempdir().expect("tempdir");
    let (en, ru) = (dir.path().join("en.wav"), dir.path().join("ru.wav"));
    audio::speech("en", 40, &en);
    audio::speech("ru", 40, &ru);
    let mut agent = Baresip::start(server.sip, PhoneSetup::pcmu("101", &ru, true));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 1);
    let mut customer = customer_phone(provider, &en, false, false);

    customer.command("dial", &format!("sip:48225550100@{}", provider.addr));
    customer.wait_event("CALL_ESTABLISHED", Duration::from_secs(15));
    agent.wait_event("CALL_ESTABLISHED", Duration::from_secs(15));
    let call = talk_and_compare(
        &server,
        (&mut customer, &en),
        (&mut agent, &ru),
        Direction::Inbound,
    );
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
    call
}

#[test]
fn a_receptionist_calls_a_customer_out_through_the_provider_showing_the_office_number() {
    let provider = Provider::start();
    let server = Server::start(&format!("{}{ROUTE_THROUGH_PROVIDER}", office(&provider)));
    wait_registered(&server);
    let dir = tempfile::tempdir().expect("tempdir");
    let (en, ru) = (dir.path().join("en.wav"), dir.path().join("ru.wav"));
    audio::speech("en", 40, &en);
    audio::speech("ru", 40, &ru);
    let mut receptionist = Baresip::start(server.sip, PhoneSetup::pcmu("100", &en, false));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 1);
    let mut customer = customer_phone(&provider, &ru, true, false);
    dial_customer(server.sip, &mut receptionist, &mut customer);
    receptionist.wait_event("CALL_ESTABLISHED", Duration::from_secs(15));
    let call = talk_and_compare(
        &server,
        (&mut receptionist, &en),
        (&mut customer, &ru),
        Direction::Outbound,
    );
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

/// The office of [`office`] and its route to mobiles, over a trunk that requires
/// encryption: TLS to the provider, trusting the provider's own certificate.
fn encrypting_office(provider: &Provider) -> String {
    let tls_addr = provider.tls_addr.expect("the provider takes TLS");
    let certificate = provider.certificate.as_deref().expect("its certificate");
    format!(
        "{}{OFFICE_NUMBER_TO_QUEUE}[[trunks]]\nname = \"Provider\"\nhost = \"{tls_addr}\"\n\
         transport = \"tls\"\nencryption = \"require\"\ntls_ca = \'\'\'\n{certificate}\'\'\'\n\
         [trunks.register]\nusername = \"48225550100\"\nauth_username = \"office\"\n\
         password = \"{}\"\n{ROUTE_THROUGH_PROVIDER}",
        config("", FAST_REGISTRAR),
        provider_password("office")
    )
}

/// Both ways over the encrypting trunk: the customer's phone encrypts its audio (SRTP
/// is mandatory for it), the office's phones do not.
fn encrypted_call(direction: Direction) {
    let provider = Provider::start_tls();
    let server = Server::start(&encrypting_office(&provider));
    wait_registered(&server);
    provider.wait_for("registered sip:48225550100@", Duration::from_secs(1));
    assert!(
        !provider.lines(";transport=tls").is_empty(),
        "the office registered over TLS: {:?}",
        provider.lines("registered sip:48225550100@")
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let (en, ru) = (dir.path().join("en.wav"), dir.path().join("ru.wav"));
    audio::speech("en", 40, &en);
    audio::speech("ru", 40, &ru);
    let inbound = direction == Direction::Inbound;
    let mut office_phone = match inbound {
        true => Baresip::start(server.sip, PhoneSetup::pcmu("101", &ru, true)),
        false => Baresip::start(server.sip, PhoneSetup::pcmu("100", &ru, false)),
    };
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 1);
    let mut customer = customer_phone(&provider, &en, !inbound, true);
    let capture = Capture::udp_ports(server.rtp.0, server.rtp.1);
    let call = if inbound {
        customer.command("dial", &format!("sip:48225550100@{}", provider.addr));
        customer.wait_event("CALL_ESTABLISHED", Duration::from_secs(15));
        office_phone.wait_event("CALL_ESTABLISHED", Duration::from_secs(15));
        talk_and_compare(
            &server,
            (&mut customer, &en),
            (&mut office_phone, &ru),
            direction,
        )
    } else {
        dial_customer(server.sip, &mut office_phone, &mut customer);
        office_phone.wait_event("CALL_ESTABLISHED", Duration::from_secs(15));
        talk_and_compare(
            &server,
            (&mut office_phone, &ru),
            (&mut customer, &en),
            direction,
        )
    };
    assert_eq!(
        (call.trunk.as_deref(), call.outcome.as_str()),
        (Some("Provider"), "answered"),
        "{call:#?}"
    );
    // Between Switchboard and the customer the audio is SRTP: a PCMU frame with its
    // 10-byte authentication tag (the office phone's leg carries bare 172-byte RTP).
    let (srtp, plain): (Vec<_>, Vec<_>) = capture
        .stop()
        .into_iter()
        .partition(|p| p.len() == 12 + 160 + 10);
    assert!(
        srtp.len() > 400,
        "{} SRTP packets on the customer's leg",
        srtp.len()
    );
    let clear = speech_in_the_clear(&srtp, &[&en, &ru]);
    assert!(
        clear < 0.5,
        "the customer's leg carried speech in the clear: {clear:.2}"
    );
    let office_leg = speech_in_the_clear(&plain, &[&en, &ru]);
    assert!(
        office_leg > 0.9,
        "the check hears plain speech: {office_leg:.2}"
    );
}

#[test]
fn a_customer_whose_phone_encrypts_calls_in_over_the_tls_trunk_and_both_hear_each_other() {
    encrypted_call(Direction::Inbound);
}

#[test]
fn a_receptionist_calls_a_customer_out_over_the_tls_trunk_in_srtp() {
    encrypted_call(Direction::Outbound);
}

/// A daily limit of one minute out: the receptionist's call to a customer is cut off
/// after a minute of talk; the next call out is refused with the reason said, and so is
/// one after a restart (the call log counts today's talk).
#[test]
fn the_days_minutes_out_cut_a_call_off_and_count_across_a_restart() {
    let provider = Provider::start();
    let office = format!(
        "{}{ROUTE_THROUGH_PROVIDER}[outbound]\nmax_minutes_per_day = 1\n",
        office(&provider)
    );
    let mut server = Server::start(&office);
    wait_registered(&server);
    let dir = tempfile::tempdir().expect("tempdir");
    let voice = dir.path().join("en.wav");
    audio::speech("en", 90, &voice);
    let mut receptionist = Baresip::start(server.sip, PhoneSetup::pcmu("100", &voice, false));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 1);
    let mut customer = customer_phone(&provider, &voice, true, false);
    dial_customer(server.sip, &mut receptionist, &mut customer);
    let answered = Instant::now();
    customer.wait_event("CALL_CLOSED", Duration::from_secs(70));
    let talked = answered.elapsed();
    assert!(
        (Duration::from_secs(58)..Duration::from_secs(63)).contains(&talked),
        "cut off after {talked:?}"
    );
    receptionist.wait_event("CALL_CLOSED", Duration::from_secs(5));
    server.wait_metric("active_calls", Duration::from_secs(5), |c| c == 0);
    let cut = server.call_records().remove(0);
    assert_eq!(
        cut.reason, "The minutes out for today are used up",
        "{cut:#?}"
    );
    let refused = |server: &Server, receptionist: &mut Baresip| {
        receptionist.command("dial", &format!("sip:0601000000@{}", server.sip));
        receptionist.wait_event("CALL_CLOSED", Duration::from_secs(20));
        let last = server.call_records().remove(0);
        assert!(
            last.reason.contains("talked its 1 minutes out for today"),
            "{last:#?}"
        );
    };
    refused(&server, &mut receptionist);
    server.stop();
    server.relaunch();
    wait_registered(&server);
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 1);
    refused(&server, &mut receptionist);
}

/// A customer calling from outside asks to be called back (key 1, while nobody staffs
/// the queue) and is let go; once the agent's phone is there, Switchboard rings it and
/// then calls the customer back out through the provider, showing the office number
/// they dialled, and the two hear each other.
#[test]
fn a_customer_who_presses_1_is_called_back_through_the_provider() {
    let provider = Provider::start();
    let office = office(&provider).replace(
        "[[queues.agents]]",
        "wrap_up = 0\n[queues.announcements]\nposition_on_join = false\nposition_every = 0\n\
         comfort_every = 0\n[queues.callback]\nattempts = 2\nretry_after = 10\n[[queues.agents]]",
    );
    let server = Server::start(&office);
    wait_registered(&server);
    let dir = tempfile::tempdir().expect("tempdir");
    let (en, ru) = (dir.path().join("en.wav"), dir.path().join("ru.wav"));
    audio::speech("en", 60, &en);
    audio::speech("ru", 60, &ru);
    // The customer's phone at the provider, which the callback will ring; they call in
    // from another phone of theirs (SIPp, which presses 1).
    let mut customer = customer_phone(&provider, &en, true, false);
    let rows = vec![format!(
        "{CUSTOMER};{};48225550100",
        provider_password(CUSTOMER)
    )];
    sipp_to(provider.addr, "caller_presses_1.xml", &rows, &[]).expect(1, 0);
    let asked = server.call_records();
    assert_eq!(
        (asked[0].reason.as_str(), asked[0].trunk.as_deref()),
        ("Callback requested", Some("Provider")),
        "{asked:#?}"
    );
    // Agent 101's phone registers: it rings, hears the whisper, then the customer's
    // phone rings through the provider.
    let mut agent = Baresip::start(server.sip, PhoneSetup::pcmu("101", &ru, true));
    let incoming = customer.wait_event("CALL_ESTABLISHED", Duration::from_secs(30));
    assert!(
        incoming["peeruri"]
            .as_str()
            .is_some_and(|u| u.starts_with("sip:+48225550100@")),
        "the customer sees the number they called: {incoming}"
    );
    std::thread::sleep(Duration::from_secs(8));
    agent.command("hangup", "");
    customer.wait_event("CALL_CLOSED", Duration::from_secs(10));
    let at_customer = audio::read_at_call_rate(&customer.heard());
    audio::assert_heard(
        "the customer, the agent",
        heard(&audio::read(&ru).0, &at_customer),
    );
    let rate = audio::RATE as usize;
    let at_agent = audio::read_at_call_rate(&agent.heard());
    let talking = &at_agent[at_agent.len().saturating_sub(5 * rate)..];
    audio::assert_heard(
        "the agent, the customer",
        heard(&audio::read(&en).0, talking),
    );
    provider.wait_for(
        "call from +48225550100 to 48601000000",
        Duration::from_secs(1),
    );
}
