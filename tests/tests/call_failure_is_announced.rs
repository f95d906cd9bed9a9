//! A caller whose call cannot go through hears why, in the office's language, before
//! the failure: baresip calls an extension with no phone registered and records the
//! early media Switchboard plays.

use std::time::Duration;
use switchboard_e2e::audio::{self, heard};
use switchboard_e2e::baresip::{Baresip, PhoneSetup};
use switchboard_e2e::*;

/// 100 (baresip) calls `number` and stays on until Switchboard ends the call; returns
/// what it heard.
fn caller_hears(server: &Server, number: &str) -> Vec<f32> {
    let dir = tempfile::tempdir().expect("tempdir");
    let silence = dir.path().join("silence.wav");
    audio::silence(40, &silence);
    let mut caller = Baresip::start(
        server.sip,
        PhoneSetup {
            extension: "100",
            source: &silence,
            codecs: "",
            auto_answer: false,
        },
    );
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 1);
    caller.command("dial", &format!("sip:{number}@{}", server.sip));
    caller.wait_event("CALL_CLOSED", Duration::from_secs(30));
    audio::read(&caller.heard()).0
}

#[test]
fn calling_an_offline_extension_plays_unavailable_in_polish() {
    let server = Server::start(&(config("", FAST_REGISTRAR) + "[calls]\nlanguage = \"pl\"\n"));
    let recording = caller_hears(&server, "102");

    let prompt =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../sounds/pl/unavailable.wav");
    let (expected, _) = audio::read(&prompt);
    audio::assert_heard("the Polish announcement", heard(&expected, &recording));
    let english =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../sounds/en/unavailable.wav");
    assert!(
        heard(&audio::read(&english).0, &recording) < 0.5,
        "not the English one"
    );
    let record = server.call_records().remove(0);
    assert_eq!(
        (
            record.outcome.as_str(),
            record.sip_code,
            record.callee.as_str()
        ),
        ("failed", 480, "102")
    );
}

#[test]
fn a_block_list_that_tells_its_callers_says_so_before_declining() {
    let lists = "[[lists]]\nname = \"Nuisance\"\nkind = \"block\"\ntell = true\n\
                 numbers = [\"100\"]\n";
    let server = Server::start(&format!("{}{lists}", config("", FAST_REGISTRAR)));
    let recording = caller_hears(&server, "101");
    let prompt = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../sounds/en/blocked.wav");
    let (expected, _) = audio::read(&prompt);
    audio::assert_heard("the block list's message", heard(&expected, &recording));
    let record = server.call_records().remove(0);
    assert_eq!((record.outcome.as_str(), record.sip_code), ("failed", 603));
    assert!(record.reason.contains("Nuisance"), "{}", record.reason);
}
