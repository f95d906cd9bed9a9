//! Voicemail with real phones: a caller (baresip) sent to a box by the office's
//! scenario hears the greeting, speaks after the beep and stops; the message is kept
//! with its audio intact, 101's pjsua2 phone is told by MWI NOTIFY that a message
//! waits and again once it is heard, 101 lists, downloads, marks and deletes it
//! through the API with its SIP password, and hears it by phone (*97 and its PIN); the
//! admin panel's sessions open the box too (the admin's, and 101's own but not 102's).

use std::path::Path;
use std::time::Duration;

use switchboard_e2e::audio::{self, heard, heard_within};
use switchboard_e2e::baresip::{Baresip, PhoneSetup};
use switchboard_e2e::*;

const OFFICE: &str = r#"
[voicemail]
max_message_seconds = 60
silence_seconds = 2
boxes = [{ number = "101", pin = "4821" }]

[[scenarios]]
name = "After hours"
start = "box"

[scenarios.blocks.box]
type = "voicemail"
mailbox = "101"

[[inbound]]
number = "800"
scenario = "After hours"
"#;

fn greeting_seconds() -> f32 {
    let greeting = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sounds/en/vm_greeting.wav");
    audio::read_at_call_rate(&greeting).len() as f32 / audio::RATE as f32
}

/// 100 (baresip, saying the WAV `says`) calls 800, which sends it to 101's box, and
/// stays on until Switchboard hangs up; fails unless it heard `greeting` first.
/// `phones` counts the phones registered once 100's is.
fn call_the_box(server: &Server, says: &Path, phones: u64, greeting: &[f32], what: &str) {
    let mut caller = Baresip::start(server.sip, PhoneSetup::pcmu("100", says, false));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == phones);
    caller.command("dial", &format!("sip:800@{}", server.sip));
    caller.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    caller.wait_event("CALL_CLOSED", Duration::from_secs(60));
    let at_caller = audio::read_at_call_rate(&caller.heard());
    let opening = &at_caller[..at_caller.len().min(greeting.len() + 8000)];
    audio::assert_heard(what, heard(greeting, opening));
}

#[test]
fn a_message_is_left_kept_intact_notified_and_managed_through_the_api() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&(config("", FAST_REGISTRAR) + OFFICE));
    let sip = server.sip.to_string();
    // 101's phone, watching its box: the first NOTIFY, the message, then heard.
    let watcher = pjsua2_peer("pjsua2_mwi.py", &[&sip, "101", password("101"), "3", "80"]);
    server.wait_metric("bindings", Duration::from_secs(15), |b| b == 1);

    // The caller waits through the greeting and the beep, talks, then falls silent.
    let speech = dir.path().join("speech.wav");
    let caller_says = dir.path().join("caller.wav");
    audio::speech("pl", 6, &speech);
    audio::padded(&speech, greeting_seconds() + 1.5, 30.0, &caller_says);
    // Two seconds of silence end the message; "saved", then Switchboard hangs up.
    let greeting = audio::read_at_call_rate(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../sounds/en/vm_greeting.wav"),
    );
    call_the_box(
        &server,
        &caller_says,
        2,
        &greeting,
        "the caller, the greeting",
    );
    let records = server.call_records();
    assert_eq!(records.len(), 1, "{records:#?}");
    assert_eq!(records[0].reason, "Voicemail left in box 101");
    assert_eq!(records[0].hangup_by.as_str(), "system");

    let login = Some(("101", password("101")));
    let (status, list) = server.http("GET", "/voicemail/101/messages", login, b"");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&list));
    let list: serde_json::Value = serde_json::from_slice(&list).expect("json");
    let messages = list.as_array().expect("a list");
    assert_eq!(messages.len(), 1, "{list}");
    let m = &messages[0];
    assert_eq!(
        (m["caller"].as_str(), m["heard"].as_bool()),
        (Some("100"), Some(false))
    );
    let id = m["id"].as_i64().expect("id");
    let (speech_samples, _) = audio::read(&speech);
    let spoken_ms = speech_samples.len() as u64 * 1000 / u64::from(audio::RATE);
    let duration_ms = m["duration_ms"].as_u64().expect("duration");
    assert!(
        (spoken_ms..spoken_ms + 3000).contains(&duration_ms),
        "the message lasts {duration_ms} ms, the caller spoke {spoken_ms} ms"
    );

    // The audio, downloaded, is what the caller said.
    let path = format!("/voicemail/101/messages/{id}");
    let (status, wav) = server.http("GET", &path, login, b"");
    assert_eq!(status, 200);
    let file = dir.path().join("message.wav");
    std::fs::write(&file, &wav).expect("write the download");
    let message = audio::read_at_call_rate(&file);
    audio::assert_heard(
        "the message, the caller's speech",
        heard(&speech_samples, &message),
    );

    // Heard: the lamp goes out.
    let (status, changed) = server.http("PATCH", &path, login, br#"{"heard": true}"#);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&changed));
    let notifies: Vec<String> = json_lines(watcher)
        .into_iter()
        .filter(|e| e["mwi"] == true)
        .map(|e| e["body"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(notifies.len(), 3, "{notifies:#?}");
    assert!(
        notifies[0].starts_with("Messages-Waiting: no"),
        "{notifies:#?}"
    );
    assert!(
        notifies[1].starts_with("Messages-Waiting: yes"),
        "{notifies:#?}"
    );
    assert!(notifies[1].contains("Voice-Message: 1/0"), "{notifies:#?}");
    assert!(notifies[2].contains("Voice-Message: 0/1"), "{notifies:#?}");

    // By phone: 101 dials *97 and types its PIN; after "new messages: 0, saved
    // messages: 1" it hears the message.
    let by_phone = dir.path().join("by_phone.wav");
    pjsua2_listener(&server, "101", "*97", "4821#", 20, &by_phone, None);
    let at_phone = audio::read_at_call_rate(&by_phone);
    audio::assert_heard(
        "101 by phone, the caller's message",
        heard_within(&speech_samples, &at_phone),
    );

    // Others cannot open the box; deleting removes the message and its audio.
    let wrong = Some(("101", "not-the-password"));
    assert_eq!(
        server.http("GET", "/voicemail/101/messages", wrong, b"").0,
        401
    );
    let other = Some(("102", password("102")));
    assert_eq!(
        server.http("GET", "/voicemail/101/messages", other, b"").0,
        403
    );
    // The admin panel's sessions open boxes too: the admin's any box, an agent's their own.
    let admin = server.admin_token();
    let (status, listed) = server.api(Some(&admin), "GET", "/voicemail/101/messages", None);
    assert_eq!(
        (status, listed[0]["id"].as_i64()),
        (200, Some(id)),
        "{listed}"
    );
    let agent = |ext: &str| {
        let body = serde_json::json!({"username": ext, "password": password(ext)});
        let (_, session) = server.api(None, "POST", "/api/session", Some(&body));
        session["token"]
            .as_str()
            .expect("an agent's token")
            .to_string()
    };
    let box_101 = "/voicemail/101/messages";
    assert_eq!(server.api(Some(&agent("102")), "GET", box_101, None).0, 403);
    let (status, own) = server.api(Some(&agent("101")), "GET", box_101, None);
    assert_eq!(
        (status, own[0]["heard"].as_bool()),
        (200, Some(true)),
        "{own}"
    );
    assert_eq!(server.http("DELETE", &path, login, b"").0, 204);
    assert_eq!(server.http("GET", &path, login, b"").0, 404);
    let audio_file = server.data_dir().join(format!("voicemail/101/{id}.wav"));
    assert!(!audio_file.exists(), "{} is deleted", audio_file.display());
}

#[test]
fn a_caller_who_says_nothing_leaves_no_message_and_an_uploaded_greeting_is_played() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&(config("", FAST_REGISTRAR) + OFFICE));
    // 101 records its own greeting: any audio file, here a 16-kHz one.
    let own = dir.path().join("own.wav");
    audio::reshaped(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../sounds/ru/queue_comfort.wav"),
        16000,
        1,
        &own,
    );
    let login = Some(("101", password("101")));
    let bytes = std::fs::read(&own).expect("greeting");
    assert_eq!(
        server
            .http("PUT", "/voicemail/101/greeting", login, &bytes)
            .0,
        204
    );
    let (status, refused) = server.http("PUT", "/voicemail/101/greeting", login, b"not audio");
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&refused));

    let silence = dir.path().join("silence.wav");
    audio::silence(40, &silence);
    let greeting = audio::read_at_call_rate(&own);
    call_the_box(
        &server,
        &silence,
        1,
        &greeting,
        "the caller, 101's own greeting",
    );
    let records = server.call_records();
    assert_eq!(
        records[0].reason,
        "Voicemail box 101: the caller left no message"
    );
    let (_, list) = server.http("GET", "/voicemail/101/messages", login, b"");
    assert_eq!(String::from_utf8_lossy(&list), "[]");
}

#[test]
fn a_greeting_recorded_by_phone_is_what_callers_then_hear() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&(config("", FAST_REGISTRAR) + OFFICE));
    // 101 opens its box, presses 5, speaks after the beep and ends with #.
    let speech = dir.path().join("speech.wav");
    audio::speech("pl", 12, &speech);
    let heard_by_101 = dir.path().join("heard.wav");
    let wait_for_the_beep = ",".repeat(8);
    pjsua2_listener(
        &server,
        "101",
        "*97",
        &format!("4821#,5{wait_for_the_beep},,,,#"),
        6,
        &heard_by_101,
        Some(&speech),
    );
    let greeting_file = server.data_dir().join("voicemail/101/greeting.wav");
    assert!(greeting_file.exists(), "{}", greeting_file.display());
    let (said, _) = audio::read(&speech);
    let greeting = audio::read_at_call_rate(&greeting_file);
    audio::assert_heard("the greeting, 101's speech", heard(&said, &greeting));

    // A caller sent to the box hears it.
    let silence = dir.path().join("silence.wav");
    audio::silence(40, &silence);
    call_the_box(
        &server,
        &silence,
        1,
        &greeting,
        "the caller, 101's recorded greeting",
    );
}
