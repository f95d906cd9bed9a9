//! Two baresip phones call each other through Switchboard and hear each other: each
//! plays speech, each records what it hears, and each recording matches the other
//! side's speech. Once with a codec both share (relayed), once PCMA against PCMU
//! (transcoded). Every call leaves one record.

use std::time::Duration;
use switchboard_e2e::audio::{self, heard};
use switchboard_e2e::baresip::{Baresip, PhoneSetup};
use switchboard_e2e::*;
use switchboard_store::CallRecordRow;

/// Calls 101 from 100 with these codecs, checks each heard the other, and returns the
/// call's record.
fn call_and_compare(caller_codecs: &str, callee_codecs: &str) -> CallRecordRow {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let dir = tempfile::tempdir().expect("tempdir");
    let (en, ru) = (dir.path().join("en.wav"), dir.path().join("ru.wav"));
    audio::speech("en", 40, &en);
    audio::speech("ru", 40, &ru);
    let mut caller = Baresip::start(
        server.sip,
        PhoneSetup {
            extension: "100",
            source: &en,
            codecs: caller_codecs,
            auto_answer: false,
        },
    );
    let mut callee = Baresip::start(
        server.sip,
        PhoneSetup {
            extension: "101",
            source: &ru,
            codecs: callee_codecs,
            auto_answer: true,
        },
    );
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 2);
    caller.command("dial", &format!("sip:101@{}", server.sip));
    caller.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    callee.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    assert_eq!(server.metric("active_calls"), 1);
    std::thread::sleep(Duration::from_secs(8));
    caller.command("hangup", "");
    callee.wait_event("CALL_CLOSED", Duration::from_secs(10));
    server.wait_metric("active_calls", Duration::from_secs(5), |c| c == 0);

    let (en, _) = audio::read(&en);
    let (ru, _) = audio::read(&ru);
    let (at_caller, rate) = audio::read(&caller.heard());
    assert_eq!(rate, audio::RATE);
    let (at_callee, _) = audio::read(&callee.heard());
    let record = server.call_records().remove(0);
    let scores = (heard(&ru, &at_caller), heard(&en, &at_callee));
    eprintln!(
        "{caller_codecs}→{callee_codecs}: caller heard {:.3}, callee heard {:.3}",
        scores.0, scores.1
    );
    assert!(
        scores.0 >= 0.9,
        "caller heard the callee at {:.3}",
        scores.0
    );
    assert!(
        scores.1 >= 0.9,
        "callee heard the caller at {:.3}",
        scores.1
    );
    // The wrong source scores low: the check can fail.
    assert!(heard(&en, &at_caller) < 0.5, "the caller heard itself");
    record
}

#[test]
fn same_codec_is_relayed_and_both_hear_each_other() {
    let record = call_and_compare("PCMU", "PCMU");
    assert_eq!(record.disposition, "answered");
    assert_eq!(record.hangup_by, "caller");
    assert_eq!(
        (record.caller.as_str(), record.callee.as_str()),
        ("100", "101")
    );
    assert_eq!(record.caller_codec.as_deref(), Some("PCMU"));
    assert_eq!(record.callee_codec.as_deref(), Some("PCMU"));
    let talk = record.ended_at - record.answered_at.unwrap();
    assert!((7_000..15_000).contains(&talk), "talk time {talk} ms");
}

#[test]
fn pcma_caller_and_pcmu_callee_hear_each_other_through_transcoding() {
    let record = call_and_compare("PCMA", "PCMU");
    assert_eq!(record.caller_codec.as_deref(), Some("PCMA"));
    assert_eq!(record.callee_codec.as_deref(), Some("PCMU"));
}
