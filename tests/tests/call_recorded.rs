//! Call recording with real phones: two baresip phones talk (100 speaking English, 101
//! Russian) in an office that records its internal calls. The recording is Opus in Ogg
//! that opus-tools' `opusdec` (a decoder nobody here wrote) reads; its left channel holds
//! the caller's voice and its right the callee's. The admin listens to it with seeking
//! (HTTP ranges) and downloads it, each time written to the audit log; an agent's login
//! is refused until the admin lets agents hear their own calls, and then another
//! agent's still is. A server killed mid-call leaves a recording that plays up to the kill,
//! named in the interrupted call's record.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use switchboard_core::{CallRecord, unix_ms};
use switchboard_e2e::audio::{self, heard};
use switchboard_e2e::baresip::conversation;
use switchboard_e2e::*;

fn recording_office() -> String {
    config("", FAST_REGISTRAR) + "[recording]\ninternal = \"always\"\n"
}

/// GET of a recording with `headers` (each ending in CRLF): status, head, body.
fn fetch(server: &Server, token: &str, path: &str, headers: &str) -> (u16, String, Vec<u8>) {
    let auth = format!("Authorization: Bearer {token}\r\n{headers}");
    server.request_with_head("GET", path, &auth, b"")
}

/// The two channels of an Ogg Opus file, decoded by `opusdec` at 8 kHz.
fn decode(opus: &[u8], dir: &Path) -> (Vec<f32>, Vec<f32>) {
    require("opusdec", "apt-get install opus-tools");
    let (from, to) = (dir.join("call.opus"), dir.join("call.wav"));
    std::fs::write(&from, opus).expect("write the recording");
    let status = Command::new("opusdec")
        .args(["--quiet", "--rate", "8000"])
        .arg(&from)
        .arg(&to)
        .status()
        .expect("run opusdec");
    assert!(status.success(), "opusdec could not read the recording");
    let mut wav = hound::WavReader::open(&to).expect("opusdec's WAV");
    assert_eq!(wav.spec().channels, 2, "two channels");
    let samples: Vec<f32> = wav
        .samples::<i16>()
        .map(|s| f32::from(s.unwrap_or(0)) / 32768.0)
        .collect();
    let channel = |c: usize| samples.iter().skip(c).step_by(2).copied().collect();
    (channel(0), channel(1))
}

/// The two channels of the recording `record` names, as the admin downloads it.
fn recorded(server: &Server, record: &CallRecord, dir: &Path) -> (Vec<f32>, Vec<f32>) {
    let name = record.recording.as_deref().expect("the call is recorded");
    let path = format!("/api/recordings/{name}");
    let (status, _, opus) = fetch(server, &server.admin_token(), &path, "");
    assert_eq!(status, 200, "{path}");
    decode(&opus, dir)
}

/// How long the call's parties talked, in seconds.
fn talk_seconds(record: &CallRecord) -> f64 {
    let answered = record.answered.map(unix_ms::from).expect("answered");
    (unix_ms::from(record.ended) - answered) as f64 / 1000.0
}

fn voices(dir: &Path) -> (Vec<f32>, Vec<f32>) {
    let read = |name: &str| audio::read(&dir.join(name)).0;
    (read("en.wav"), read("ru.wav"))
}

#[test]
fn both_sides_are_recorded_apart_and_only_the_admin_listens_each_time_on_the_audit() {
    let server = Server::start(&recording_office());
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut caller, mut callee) = conversation(&server, dir.path());
    std::thread::sleep(Duration::from_secs(8));
    caller.command("hangup", "");
    callee.wait_event("CALL_CLOSED", Duration::from_secs(10));
    server.wait_metric("active_calls", Duration::from_secs(5), |c| c == 0);
    let record = server.call_records().remove(0);
    let name = record.recording.clone().expect("the call is recorded");
    let path = format!("/api/recordings/{name}");

    let token = server.admin_token();
    // The recording is complete once the call has closed: its writer may still be
    // ending the stream for a moment.
    let mut whole = Vec::new();
    for _ in 0..50 {
        let (status, head, body) = fetch(&server, &token, &path, "");
        assert_eq!(status, 200, "{head}");
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: audio/ogg"),
            "{head}"
        );
        whole = body;
        if ends_stream(&whole) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let (left, right) = decode(&whole, dir.path());
    let seconds = left.len() as f64 / 8000.0;
    assert!((7.0..12.0).contains(&seconds), "{seconds} s recorded");
    let (en, ru) = voices(dir.path());
    audio::assert_heard("the caller on the left", heard(&en, &left));
    audio::assert_heard("the callee on the right", heard(&ru, &right));
    audio::assert_not_heard("the callee on the left", heard(&ru, &left));

    // A player seeking: a range is served as such, and is no new listen.
    let (status, head, part) = fetch(&server, &token, &path, "Range: bytes=100-199\r\n");
    assert_eq!(status, 206, "{head}");
    assert_eq!(part, whole[100..200]);
    let (status, head, _) = fetch(&server, &token, &format!("{path}?download=true"), "");
    assert_eq!(status, 200);
    assert!(
        head.to_ascii_lowercase()
            .contains("content-disposition: attachment"),
        "{head}"
    );
    let (status, audit) = server.api(Some(&token), "GET", "/api/recording-access", None);
    assert_eq!(status, 200, "{audit}");
    let actions: Vec<&str> = audit
        .as_array()
        .expect("a list")
        .iter()
        .map(|a| a["action"].as_str().unwrap_or_default())
        .collect();
    let listens = actions.iter().filter(|a| **a == "listen").count();
    assert!(listens >= 1, "{audit}");
    assert_eq!(actions[0], "download", "{audit}");
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["recording"] == name.as_str())
    );
    let heard_before = actions.len();

    // An agent (an extension's login) may not, and a name no call has is not served.
    let agent = serde_json::json!({"username": "101", "password": PASSWORDS[1].1});
    let (status, session) = server.api(None, "POST", "/api/session", Some(&agent));
    assert_eq!(status, 200, "{session}");
    let agent_token = session["token"].as_str().expect("a token");
    let (status, _, body) = fetch(&server, agent_token, &path, "");
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&body));
    for other in ["1-1.opus", "..%2Fswitchboard.db"] {
        let (status, _, _) = fetch(&server, &token, &format!("/api/recordings/{other}"), "");
        assert_eq!(status, 404, "{other}");
    }
    let (_, audit) = server.api(Some(&token), "GET", "/api/recording-access", None);
    assert_eq!(
        audit.as_array().unwrap().len(),
        heard_before,
        "refusals are no listens"
    );

    // The admin lets agents hear their own calls: 101, who was called, may; 102 may not.
    let (_, mut settings) = server.api(Some(&token), "GET", "/api/settings", None);
    settings["recording"]["agents_listen"] = true.into();
    let (status, saved) = server.api(Some(&token), "PUT", "/api/settings", Some(&settings));
    assert_eq!(status, 200, "{saved}");
    let (status, _, body) = fetch(&server, agent_token, &path, "");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(body, whole, "the same recording");
    let other = serde_json::json!({"username": "102", "password": PASSWORDS[2].1});
    let (_, session) = server.api(None, "POST", "/api/session", Some(&other));
    let other_token = session["token"].as_str().expect("a token");
    let (status, _, _) = fetch(&server, other_token, &path, "");
    assert_eq!(status, 403, "not 102's call");
    let (_, audit) = server.api(Some(&token), "GET", "/api/recording-access", None);
    assert_eq!(audit[0]["who"], "101", "the audit names the agent: {audit}");
    assert_eq!(audit.as_array().unwrap().len(), heard_before + 1);
}

/// Whether an Ogg file's last page ends the stream (its header's flag 0x04).
fn ends_stream(ogg: &[u8]) -> bool {
    ogg.windows(4)
        .rposition(|w| w == b"OggS")
        .and_then(|at| ogg.get(at + 5))
        .is_some_and(|flags| flags & 0x04 != 0)
}

#[test]
fn a_server_killed_mid_call_leaves_a_recording_that_plays_up_to_the_kill() {
    let mut server = Server::start(&recording_office());
    let dir = tempfile::tempdir().expect("tempdir");
    let (_caller, _callee) = conversation(&server, dir.path());
    std::thread::sleep(Duration::from_secs(6));
    server.kill9();
    let files: Vec<PathBuf> = std::fs::read_dir(server.data_dir().join("recordings"))
        .expect("the recordings' folder")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    server.relaunch();
    let record = server.call_records().remove(0);
    assert_eq!(record.outcome.as_str(), "interrupted");
    let name = record
        .recording
        .clone()
        .expect("the interrupted call names its recording");
    assert!(files[0].ends_with(&name), "{name} {files:?}");
    let (left, right) = recorded(&server, &record, dir.path());
    let seconds = left.len() as f64 / 8000.0;
    // All but the page being filled (a second at most) and the writer's latency.
    assert!(seconds >= 4.0, "only {seconds} s before the kill");
    let (en, ru) = voices(dir.path());
    audio::assert_heard("the caller on the left", heard(&en, &left));
    audio::assert_heard("the callee on the right", heard(&ru, &right));
}

/// An office whose disk has less free space than recordings must leave (here: more
/// than any disk has): the call is not recorded, the wallboard says why, and the two
/// phones talk as ever.
#[test]
fn a_disk_too_full_stops_recording_with_an_alert_and_the_call_goes_on() {
    let office = recording_office() + "min_free_mb = 4000000000\n";
    let server = Server::start(&office);
    let dir = tempfile::tempdir().expect("tempdir");
    let (caller, callee) = conversation(&server, dir.path());
    std::thread::sleep(Duration::from_secs(5));
    let board = server.dashboard(&server.admin_token());
    let alert = board["recording_alert"].as_str().unwrap_or_default();
    assert!(alert.starts_with("Recording stopped"), "{board}");
    switchboard_e2e::baresip::hang_up_and_compare(&server, dir.path(), caller, callee);
    let record = server.call_records().remove(0);
    assert_eq!(record.recording, None, "no recording was made");
    let folder = server.data_dir().join("recordings");
    let kept = std::fs::read_dir(&folder).map_or(0, |d| d.count());
    assert_eq!(kept, 0, "nothing left in {}", folder.display());
}

/// On demand (the office's default): pjsua2 as 100 calls 101 (baresip), talks two
/// seconds unrecorded, then types the record code `*1` by SIP INFO; the recording
/// starts there and holds both voices from then on.
#[test]
fn a_call_is_recorded_from_the_moment_a_phone_types_the_record_code() {
    use switchboard_e2e::baresip::{Baresip, PhoneSetup};
    let server = Server::start(&config("", FAST_REGISTRAR));
    let dir = tempfile::tempdir().expect("tempdir");
    let (en, ru) = (dir.path().join("en.wav"), dir.path().join("ru.wav"));
    audio::speech("en", 20, &en);
    audio::speech("ru", 20, &ru);
    let _callee = Baresip::start(server.sip, PhoneSetup::pcmu("101", &ru, true));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 1);
    let heard_by_caller = dir.path().join("heard.wav");
    // Answered, a second, two more, the code, then six seconds of talk.
    pjsua2_listener(
        &server,
        "100",
        "101",
        ",,*1",
        6,
        &heard_by_caller,
        Some(&en),
    );
    server.wait_metric("active_calls", Duration::from_secs(5), |c| c == 0);
    let record = server.call_records().remove(0);
    assert!(
        record.recording.is_some(),
        "recorded once the code was typed"
    );
    let (left, right) = recorded(&server, &record, dir.path());
    let seconds = left.len() as f64 / 8000.0;
    let talk = talk_seconds(&record);
    let before_code = talk - seconds;
    assert!(
        (2.5..4.5).contains(&before_code),
        "{seconds} s recorded of {talk} s: from the code on, not the answer"
    );
    let (en, ru) = voices(dir.path());
    audio::assert_heard("the caller on the left", heard(&en, &left));
    audio::assert_heard("the callee on the right", heard(&ru, &right));
}

/// A recorded call a supervisor listens to passes through a room meanwhile: the
/// recording goes on, both voices in it, while the supervisor listens and after.
#[test]
fn a_recorded_call_stays_recorded_while_a_supervisor_listens() {
    use switchboard_e2e::baresip::{Baresip, PhoneSetup};
    let office = recording_office() + "[calls]\nsupervisors = [\"102\"]\n";
    let server = Server::start(&office);
    let dir = tempfile::tempdir().expect("tempdir");
    let silence = dir.path().join("silence.wav");
    audio::silence(20, &silence);
    let (mut caller, mut callee) = conversation(&server, dir.path());
    let mut supervisor = Baresip::start(server.sip, PhoneSetup::pcmu("102", &silence, false));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 3);
    std::thread::sleep(Duration::from_secs(1));
    supervisor.command("dial", &format!("sip:*90101@{}", server.sip));
    supervisor.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(8));
    supervisor.command("hangup", "");
    supervisor.wait_event("CALL_CLOSED", Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(2));
    caller.command("hangup", "");
    callee.wait_event("CALL_CLOSED", Duration::from_secs(10));
    server.wait_metric("active_calls", Duration::from_secs(5), |c| c == 0);
    let record = server
        .call_records()
        .into_iter()
        .find(|r| r.caller == "100")
        .expect("the call's record");
    let (left, right) = recorded(&server, &record, dir.path());
    let seconds = left.len() as f64 / 8000.0;
    let talk = talk_seconds(&record);
    assert!(talk - seconds < 1.0, "{seconds} s recorded of {talk} s");
    // Seconds 5 to 9: the supervisor was listening.
    let watched = 5 * 8000..9 * 8000;
    let (en, ru) = voices(dir.path());
    audio::assert_heard(
        "the caller while watched",
        heard(&en, &left[watched.clone()]),
    );
    audio::assert_heard("the callee while watched", heard(&ru, &right[watched]));
}
