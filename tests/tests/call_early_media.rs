//! A callee's phone that plays audio before it answers (a 183 with SDP: a greeting,
//! its own ringback tone): the caller hears it through Switchboard before the answer,
//! transcoded to the caller's codec, and the call then goes on as usual.

use std::time::{Duration, Instant};
use switchboard_core::unix_ms;
use switchboard_e2e::audio::{self, heard};
use switchboard_e2e::baresip::{Baresip, PhoneSetup};
use switchboard_e2e::*;

/// How long the SIPp phone plays before it answers (its scenario pauses 7 s).
const EARLY_SECONDS: u32 = 6;

#[test]
fn the_caller_hears_the_callees_early_media_before_the_answer() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let dir = tempfile::tempdir().expect("tempdir");
    let (speech_wav, pcap, quiet) = (
        dir.path().join("pl.wav"),
        dir.path().join("early.pcap"),
        dir.path().join("quiet.wav"),
    );
    audio::speech("pl", EARLY_SECONDS, &speech_wav);
    let (speech, _) = audio::read(&speech_wav);
    let speech = &speech[..(EARLY_SECONDS * audio::RATE) as usize];
    let pcm: Vec<i16> = speech.iter().map(|&s| (s * 32767.0) as i16).collect();
    switchboard_e2e::pcap::write_pcma(&pcm, &pcap);
    let template = std::fs::read_to_string(scenario("callee_early_media.xml")).expect("scenario");
    let phone_scenario = dir.path().join("callee_early_media.xml");
    std::fs::write(
        &phone_scenario,
        template.replace("PCAP_FILE", &pcap.display().to_string()),
    )
    .expect("write scenario");
    audio::silence(30, &quiet);

    let port = free_port();
    let registration = format!("101;{};300", password("101"));
    sipp_at(port, &server, "register_auth.xml", &[registration], &[]).expect(1, 0);
    let mut caller = Baresip::start(
        server.sip,
        PhoneSetup {
            extension: "100",
            source: &quiet,
            codecs: "PCMU",
            auto_answer: false,
        },
    );
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 2);
    let phone = std::thread::scope(|s| {
        let rows = vec![format!("101;{}", password("101"))];
        let media = free_port().to_string();
        let scenario = phone_scenario.display().to_string();
        let server = &server;
        let phone = s.spawn(move || sipp_at(port, server, &scenario, &rows, &["-mp", &media]));
        let dialled = Instant::now();
        caller.command("dial", &format!("sip:101@{}", server.sip));
        caller.wait_event("CALL_ESTABLISHED", Duration::from_secs(15));
        let waited = dialled.elapsed();
        assert!(
            waited >= Duration::from_secs(6),
            "answered after {waited:?}, before the early media could play"
        );
        std::thread::sleep(Duration::from_secs(1));
        caller.command("hangup", "");
        // baresip finishes its recording when the call has closed.
        caller.wait_event("CALL_CLOSED", Duration::from_secs(10));
        phone.join().expect("the phone's SIPp")
    });
    phone.expect(1, 0);
    server.wait_metric("active_calls", Duration::from_secs(5), |c| c == 0);

    let at_caller = audio::read_at_call_rate(&caller.heard());
    audio::assert_heard("the caller, the early media", heard(speech, &at_caller));
    let records = server.call_records();
    assert_eq!(records.len(), 1, "{records:#?}");
    let r = &records[0];
    assert_eq!(r.outcome.as_str(), "answered");
    assert_eq!(r.callee_codec.as_deref(), Some("PCMA"));
    assert_eq!(r.caller_codec.as_deref(), Some("PCMU"));
    let ringing = r.answered.map(unix_ms::from).expect("answered") - unix_ms::from(r.started);
    assert!(ringing >= 6_000, "answered {ringing} ms after the start");
}
