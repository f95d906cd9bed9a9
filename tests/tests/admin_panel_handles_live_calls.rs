//! Calls in progress acted on from the panel, in Chromium. The admin, from the
//! wallboard: a number that is none is refused on the field, then 100's call with 101
//! is put through to 102 (whose phone answers and talks with the caller), and the
//! admin hangs it up. An agent (101), from their own panel, transfers their call. The
//! phones and the call log follow.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use switchboard_e2e::audio;
use switchboard_e2e::baresip::{Baresip, PhoneSetup, hang_up_and_listen};
use switchboard_e2e::*;

/// Runs tests/ui/admin_panel.mjs with `args` (then the artifacts folder); returns the
/// steps it printed.
fn panel(args: &[&str]) -> Vec<serde_json::Value> {
    require("node", "apt-get install nodejs npm, then npm ci in ui/");
    require("chromium", "apt-get install chromium");
    let output = Command::new("timeout")
        .args(["120", "node"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/admin_panel.mjs"))
        .args(args)
        .arg(artifacts())
        .output()
        .expect("run node");
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(output.status.success(), "the panel script failed: {text}");
    text.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// 100, 101 and 102 as baresip phones that listen only (101 and 102 answer by
/// themselves); 100 has called 101, who answered.
fn desk_answers_100(server: &Server, dir: &Path) -> (Baresip, Baresip, Baresip) {
    let silence = dir.join("silence.wav");
    audio::silence(60, &silence);
    let mut caller = Baresip::start(server.sip, PhoneSetup::pcmu("100", &silence, false));
    let mut desk = Baresip::start(server.sip, PhoneSetup::pcmu("101", &silence, true));
    let colleague = Baresip::start(server.sip, PhoneSetup::pcmu("102", &silence, true));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 3);
    caller.command("dial", &format!("sip:101@{}", server.sip));
    caller.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    desk.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    (caller, desk, colleague)
}

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-artifacts/live-calls");
    std::fs::create_dir_all(&dir).expect("artifacts dir");
    dir
}

#[test]
fn the_admin_transfers_and_hangs_up_a_call_from_the_wallboard() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let dir = tempfile::tempdir().unwrap();
    let (mut caller, mut desk, mut colleague) = desk_answers_100(&server, dir.path());

    let http = server.http.to_string();
    let steps = panel(&["live-call", &http, &server.admin_password(), "100", "102"]);
    let refused = steps.iter().find(|s| s["step"] == "transfer-refused");
    assert_eq!(
        refused.map(|s| s["message"].clone()),
        Some("may hold only digits, *, # and a leading +".into()),
        "{steps:?}"
    );
    assert!(steps.iter().any(|s| s["step"] == "hung-up"), "{steps:?}");

    // The desk was let go, 102 took the call, and the admin's hang-up ended it.
    desk.wait_event("CALL_CLOSED", Duration::from_secs(5));
    colleague.wait_event("CALL_ESTABLISHED", Duration::from_secs(5));
    colleague.wait_event("CALL_CLOSED", Duration::from_secs(10));
    caller.wait_event("CALL_CLOSED", Duration::from_secs(10));
    server.wait_metric("active_calls", Duration::from_secs(5), |c| c == 0);
    let r = server.call_records().remove(0);
    assert_eq!(
        (
            r.answered_by.as_deref(),
            r.hangup_by.as_str(),
            r.reason.as_str()
        ),
        (Some("102"), "system", "Hung up from the panel"),
        "{r:#?}"
    );
    assert!(
        r.history
            .as_deref()
            .is_some_and(|h| h.contains("101 transferred to 102")),
        "{r:#?}"
    );
}

#[test]
fn an_agent_transfers_their_own_call_from_their_panel() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let dir = tempfile::tempdir().unwrap();
    let (mut caller, mut desk, mut colleague) = desk_answers_100(&server, dir.path());
    let http = server.http.to_string();
    let steps = panel(&[
        "agent-transfer",
        &http,
        password("101"),
        "101",
        "100",
        "102",
    ]);
    assert!(
        steps.iter().any(|s| s["step"] == "agent-transferred"),
        "{steps:?}"
    );
    desk.wait_event("CALL_CLOSED", Duration::from_secs(5));
    colleague.wait_event("CALL_ESTABLISHED", Duration::from_secs(5));
    caller.command("hangup", "");
    colleague.wait_event("CALL_CLOSED", Duration::from_secs(10));
    server.wait_metric("active_calls", Duration::from_secs(5), |c| c == 0);
    let r = server.call_records().remove(0);
    assert_eq!(r.answered_by.as_deref(), Some("102"), "{r:#?}");
}

/// The admin listens to 100's call with 101 from the wallboard through 102's phone,
/// which rings and answers by itself: it hears both sides, and neither hears it. An
/// extension with no phone is refused on the field first. Each speaks in a turn of
/// their own, so each voice is scored apart.
#[test]
fn the_admin_listens_to_a_call_from_the_wallboard_through_a_phone() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let dir = tempfile::tempdir().unwrap();
    // The turns leave the panel 20 s to ring the listener in, loaded machines included.
    let (caller_said, caller_mic) = audio::turn(dir.path(), "en", 4.0, 20.0);
    let (desk_said, desk_mic) = audio::turn(dir.path(), "ru", 4.0, 25.0);
    let (listener_said, listener_mic) = audio::turn(dir.path(), "pl", 4.0, 4.0);
    let mut caller = Baresip::start(server.sip, PhoneSetup::pcmu("100", &caller_mic, false));
    let mut desk = Baresip::start(server.sip, PhoneSetup::pcmu("101", &desk_mic, true));
    let mut listener = Baresip::start(server.sip, PhoneSetup::pcmu("102", &listener_mic, true));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 3);
    caller.command("dial", &format!("sip:101@{}", server.sip));
    caller.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    desk.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    let talking = std::time::Instant::now();

    let http = server.http.to_string();
    let steps = panel(&["listen-in", &http, &server.admin_password(), "100", "102"]);
    let refused = steps.iter().find(|s| s["step"] == "listen-refused");
    assert_eq!(
        refused.map(|s| s["message"].clone()),
        Some("no phone of 103 is registered".into()),
        "{steps:?}"
    );
    assert!(steps.iter().any(|s| s["step"] == "listening"), "{steps:?}");
    listener.wait_event("CALL_ESTABLISHED", Duration::from_secs(5));
    let joined = talking.elapsed();
    assert!(
        joined < Duration::from_secs(19),
        "the listener joined {joined:?} into the call"
    );
    // The caller's and the desk's turns end by 29 s into their call.
    std::thread::sleep(Duration::from_secs(31).saturating_sub(joined));
    let heard = hang_up_and_listen(&server, &mut caller, &mut [&mut desk, &mut listener]);
    let [at_caller, at_desk, at_listener] = &heard[..] else {
        panic!("three phones");
    };
    audio::assert_heard(
        "the listener hears the caller",
        audio::heard_within(&caller_said, at_listener),
    );
    audio::assert_heard(
        "the listener hears the desk",
        audio::heard_within(&desk_said, at_listener),
    );
    audio::assert_heard(
        "the caller hears the desk",
        audio::heard_within(&desk_said, at_caller),
    );
    for (who, heard) in [("the caller", at_caller), ("the desk", at_desk)] {
        let leaked = audio::heard_within(&listener_said, heard);
        audio::assert_not_heard(&format!("{who} hears the listener"), leaked);
    }
    assert_history_tells(&server.call_records(), "100", "supervisor 102 listened");
}
