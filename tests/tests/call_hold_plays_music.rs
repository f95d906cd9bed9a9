//! A caller puts the call on hold (pjsua2 re-INVITE with sendonly) and the callee, a
//! baresip phone recording what it hears, hears Switchboard's music on hold until the
//! caller resumes; the call then ends normally and leaves one answered record.

use std::time::Duration;
use switchboard_e2e::audio::{self, heard};
use switchboard_e2e::baresip::{Baresip, PhoneSetup};
use switchboard_e2e::*;

#[test]
fn the_held_party_hears_music_until_the_call_resumes() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let dir = tempfile::tempdir().unwrap();
    let silence = dir.path().join("silence.wav");
    audio::silence(40, &silence);
    let mut callee = Baresip::start(
        server.sip,
        PhoneSetup {
            extension: "101",
            source: &silence,
            codecs: "PCMA",
            auto_answer: true,
        },
    );
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 1);
    let sip = server.sip.to_string();
    let holder = pjsua2_peer(
        "pjsua2_call.py",
        &["holder", &sip, "100", password("100"), "101", "5"],
    );
    callee.wait_event("CALL_ESTABLISHED", Duration::from_secs(15));
    callee.wait_event("CALL_CLOSED", Duration::from_secs(30));
    let said = json_lines(holder);
    assert!(said.iter().any(|e| e["hold"] == true), "{said:?}");
    assert!(said.iter().any(|e| e["resume"] == true), "{said:?}");

    let (music, _) = audio::read(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../sounds/music/hold.wav"),
    );
    let (recording, _) = audio::read(&callee.heard());
    audio::assert_heard("the held callee, the music", heard(&music, &recording));
    // Music only while held: about five of the recording's seconds carry it.
    let loud_seconds = audio::seconds_with_sound(&recording);
    assert!((3..=7).contains(&loud_seconds), "{loud_seconds} s of sound");
    let record = server.call_records().remove(0);
    assert_eq!(
        (record.outcome.as_str(), record.hangup_by.as_str()),
        ("answered", "caller")
    );
}
