//! Two baresip phones call each other through Switchboard and hear each other: each
//! plays speech, each records what it hears, and each recording matches the other
//! side's speech. Once with a codec both share (relayed), then with codecs that differ
//! (transcoded): PCMA against PCMU, G.722 against PCMU, Opus against G.722. Every call
//! leaves one record.

use std::time::Duration;
use switchboard_core::CallRecord;
use switchboard_core::unix_ms;
use switchboard_e2e::audio::{self, heard};
use switchboard_e2e::baresip::{Baresip, PhoneSetup};
use switchboard_e2e::*;

/// Calls 101 from 100 with these codecs, checks each heard the other, and returns the
/// call's record.
fn call_and_compare(caller_codecs: &str, callee_codecs: &str) -> CallRecord {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let dir = tempfile::tempdir().expect("tempdir");
    let (en, ru) = (dir.path().join("en.wav"), dir.path().join("ru.wav"));
    audio::speech("en", 40, &en);
    audio::speech("ru", 40, &ru);
    let mut caller = Baresip::start(
        server.sip,
        PhoneSetup {
            extension: "100",
            source: &audio::microphone(&en, caller_codecs),
            codecs: caller_codecs,
            auto_answer: false,
        },
    );
    let mut callee = Baresip::start(
        server.sip,
        PhoneSetup {
            extension: "101",
            source: &audio::microphone(&ru, callee_codecs),
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
    let at_caller = audio::read_at_call_rate(&caller.heard());
    let at_callee = audio::read_at_call_rate(&callee.heard());
    let record = server.call_records().remove(0);
    let pair = format!("{caller_codecs}→{callee_codecs}");
    audio::assert_heard(&format!("{pair}, the caller"), heard(&ru, &at_caller));
    audio::assert_heard(&format!("{pair}, the callee"), heard(&en, &at_callee));
    // The wrong source scores low: the check can fail.
    assert!(heard(&en, &at_caller) < 0.5, "the caller heard itself");
    record
}

#[test]
fn same_codec_is_relayed_and_both_hear_each_other() {
    let record = call_and_compare("PCMU", "PCMU");
    assert_eq!(record.outcome.as_str(), "answered");
    assert_eq!(record.hangup_by.as_str(), "caller");
    assert_eq!(
        (record.caller.as_str(), record.callee.as_str()),
        ("100", "101")
    );
    assert_eq!(record.caller_codec.as_deref(), Some("PCMU"));
    assert_eq!(record.callee_codec.as_deref(), Some("PCMU"));
    let talk = unix_ms::from(record.ended) - record.answered.map(unix_ms::from).unwrap();
    assert!((7_000..15_000).contains(&talk), "talk time {talk} ms");
}

#[test]
fn pcma_caller_and_pcmu_callee_hear_each_other_through_transcoding() {
    let record = call_and_compare("PCMA", "PCMU");
    assert_eq!(record.caller_codec.as_deref(), Some("PCMA"));
    assert_eq!(record.callee_codec.as_deref(), Some("PCMU"));
}

#[test]
fn wideband_g722_caller_and_pcmu_callee_hear_each_other() {
    let record = call_and_compare("G722/16000/1", "PCMU");
    assert_eq!(record.caller_codec.as_deref(), Some("G722"));
    assert_eq!(record.callee_codec.as_deref(), Some("PCMU"));
}

#[test]
fn opus_caller_and_g722_callee_hear_each_other() {
    let record = call_and_compare("opus/48000/2", "G722/16000/1");
    assert_eq!(record.caller_codec.as_deref(), Some("opus"));
    assert_eq!(record.callee_codec.as_deref(), Some("G722"));
}
