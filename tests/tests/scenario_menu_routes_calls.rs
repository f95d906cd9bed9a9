//! An office's public number (800) runs a scenario with real phones: a menu whose
//! prompt is the office's own WAV, then key 1 says goodbye, key 2 lets the caller dial
//! an extension, and no key rings the team (101 and 102 at once). Keys come as RFC 4733
//! (SIPp), SIP INFO (pjsua2) and tones in the audio (SIPp, PCMA without telephone
//! events, as analogue adapters send them); the caller hears the prompt and then the agent
//! (baresip); each call record holds the blocks the call passed.

use std::path::Path;
use std::time::Duration;

use switchboard_e2e::audio::{self, heard};
use switchboard_e2e::baresip::{Baresip, PhoneSetup};
use switchboard_e2e::*;

const RECEPTION: &str = r#"
[[scenarios]]
name = "Reception"
start = "menu"

[scenarios.blocks.menu]
type = "menu"
prompt = "acme_menu"
keys = "12"
timeout = 2
exits = { 1 = "goodbye", 2 = "dial", timeout = "team", invalid = "bye" }

[scenarios.blocks.goodbye]
type = "play-audio"
prompt = "goodbye"
exits = { next = "bye" }

[scenarios.blocks.dial]
type = "dial-extension"
prompt = "enter_extension"
timeout = 5
exits = { timeout = "bye", invalid = "bye", no-answer = "bye" }

[scenarios.blocks.team]
type = "ring-group"
mode = "all-at-once"
members = [{ extension = "101", ring = 15 }, { extension = "102", ring = 15 }]
exits = { no-answer = "bye" }

[scenarios.blocks.bye]
type = "hang-up"

[[inbound]]
number = "800"
scenario = "Reception"
"#;

/// The menu prompt as the office uploaded it: a 16-kHz recording.
fn menu_prompt_source() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sounds/pl/queue_comfort.wav")
}

/// The office, with its menu prompt in the data directory's prompts/ before import.
fn office(dir: &Path) -> Server {
    let data_dir = dir.join("data");
    let prompts = data_dir.join("prompts");
    std::fs::create_dir_all(&prompts).expect("prompts dir");
    audio::reshaped(
        &menu_prompt_source(),
        16000,
        1,
        &prompts.join("acme_menu.wav"),
    );
    import_config(&data_dir, &(config("", FAST_REGISTRAR) + RECEPTION))
        .expect("the scenario office imports");
    Server::launch(&data_dir)
}

#[test]
fn a_menu_prompt_that_is_not_uploaded_stops_the_import_naming_the_block() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = import_config(
        &dir.path().join("data"),
        &(config("", FAST_REGISTRAR) + RECEPTION),
    )
    .expect_err("no acme_menu.wav yet");
    assert!(
        err.contains("scenarios[0].blocks.menu.prompt: no prompt \"acme_menu\""),
        "{err}"
    );
}

#[test]
fn key_1_by_rfc4733_interrupts_the_menu_and_says_goodbye() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = office(dir.path());
    let rows = vec![format!("100;{};800", password("100"))];
    let media = free_port().to_string();
    sipp(&server, "caller_presses_1.xml", &rows, &["-mp", &media]).expect(1, 0);
    let records = server.call_records();
    assert_eq!(records.len(), 1, "{records:#?}");
    let r = &records[0];
    assert_eq!(
        (r.callee.as_str(), r.outcome.as_str(), r.hangup_by.as_str()),
        ("800", "answered", "system")
    );
    assert_eq!(r.scenario_path.as_deref(), Some("menu → goodbye → bye"));
}

#[test]
fn key_1_sent_as_tones_in_the_audio_is_heard_and_says_goodbye() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = office(dir.path());
    // The caller's audio: a moment of silence, then 1 (697 + 1209 Hz) for 150 ms.
    let one = switchboard_media::tones::ToneSpec {
        frequencies: &[697.0, 1209.0],
        cadence: &[(150, 10_000)],
    };
    let mut samples = vec![0i16; 4000];
    let mut tone = switchboard_media::tones::ToneGenerator::new(one, 8000);
    let mut keyed = vec![0i16; 8000];
    tone.fill(&mut keyed);
    samples.extend(keyed);
    let pcap = dir.path().join("key-1.pcap");
    switchboard_e2e::pcap::write_pcma(&samples, &pcap);
    let scenario = std::fs::read_to_string(scenario("caller_keys_in_band.xml"))
        .expect("the scenario")
        .replace("PCAP_FILE", pcap.to_str().expect("utf-8 path"));
    let file = dir.path().join("caller_keys_in_band.xml");
    std::fs::write(&file, scenario).expect("write the scenario");
    let rows = vec![format!("100;{};800", password("100"))];
    let media = free_port().to_string();
    sipp(
        &server,
        file.to_str().expect("utf-8 path"),
        &rows,
        &["-mp", &media],
    )
    .expect(1, 0);
    let r = &server.call_records()[0];
    assert_eq!(r.scenario_path.as_deref(), Some("menu → goodbye → bye"));
}

#[test]
fn key_2_by_info_then_an_extension_typed_by_info_rings_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = office(dir.path());
    let callee = pjsua2_callee(&server, "103");
    pjsua2_keys_call(&server, "800", "2103#", "info");
    let callee_said = json_lines(callee);
    assert!(
        callee_said.iter().any(|e| e["confirmed"] == true),
        "103 was rung and answered: {callee_said:?}"
    );
    let records = server.call_records();
    assert_eq!(records.len(), 1, "{records:#?}");
    let r = &records[0];
    assert_eq!(
        (r.answered_by.as_deref(), r.hangup_by.as_str()),
        (Some("103"), "caller")
    );
    assert_eq!(r.scenario_path.as_deref(), Some("menu → dial"));
}

#[test]
fn no_key_rings_the_team_after_the_uploaded_prompt_and_the_caller_talks_to_the_agent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = office(dir.path());
    let silence = dir.path().join("silence.wav");
    let ru = dir.path().join("ru.wav");
    audio::silence(40, &silence);
    audio::speech("ru", 40, &ru);
    let mut agent = Baresip::start(server.sip, PhoneSetup::pcmu("101", &ru, true));
    let mut caller = Baresip::start(server.sip, PhoneSetup::pcmu("100", &silence, false));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 2);
    caller.command("dial", &format!("sip:800@{}", server.sip));
    agent.wait_event("CALL_ESTABLISHED", Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(6));
    agent.command("hangup", "");
    caller.wait_event("CALL_CLOSED", Duration::from_secs(10));

    let at_caller = audio::read_at_call_rate(&caller.heard());
    let prompt = audio::read_at_call_rate(&menu_prompt_source());
    let rate = audio::RATE as usize;
    let opening = &at_caller[..(prompt.len() + 2 * rate).min(at_caller.len())];
    audio::assert_heard(
        "the caller, the office's menu prompt",
        heard(&prompt, opening),
    );
    let (ru, _) = audio::read(&ru);
    let talking = &at_caller[at_caller.len().saturating_sub(4 * rate)..];
    audio::assert_heard("the caller, the agent", heard(&ru, talking));

    let records = server.call_records();
    assert_eq!(records.len(), 1, "{records:#?}");
    let r = &records[0];
    assert_eq!(
        (r.answered_by.as_deref(), r.hangup_by.as_str()),
        (Some("101"), "callee")
    );
    assert_eq!(r.scenario_path.as_deref(), Some("menu → team"));
}

#[test]
fn while_the_team_rings_the_caller_hears_the_ringing_tone_not_music() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = office(dir.path());
    // 101's phone rings and is never answered.
    let phone = sipp_register(&server, "101");
    let silence = dir.path().join("silence.wav");
    audio::silence(60, &silence);
    let mut caller = Baresip::start(server.sip, PhoneSetup::pcmu("100", &silence, false));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 2);
    let prompt_seconds = audio::read(&menu_prompt_source()).0.len() as f32
        / audio::read(&menu_prompt_source()).1 as f32;
    let heard = std::thread::scope(|s| {
        let server = &server;
        let ringing = s.spawn(move || {
            let rows = vec![format!("101;{}", password("101"))];
            let media = free_port().to_string();
            sipp_at(phone, server, "callee_rings.xml", &rows, &["-mp", &media])
        });
        caller.command("dial", &format!("sip:800@{}", server.sip));
        caller.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
        // The prompt, the menu's 2-s timeout, then six seconds of the team ringing.
        std::thread::sleep(Duration::from_secs_f32(prompt_seconds + 2.0 + 6.0));
        caller.command("hangup", "");
        caller.wait_event("CALL_CLOSED", Duration::from_secs(10));
        ringing.join().expect("101's SIPp").expect(1, 0);
        audio::read_at_call_rate(&caller.heard())
    });
    // The last five seconds, in 100-ms windows: the tone is 425 Hz, on for a second
    // and off for four (music would spread its energy over many frequencies).
    let tail: Vec<i16> = heard[heard.len().saturating_sub(5 * 8000)..]
        .iter()
        .map(|&x| (x * 32767.0) as i16)
        .collect();
    let (mut tone, mut quiet) = (0, 0);
    for window in tail.chunks_exact(800) {
        let energy: f64 = window.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
        let at_425 = switchboard_media::dtmf_detect::goertzel_power(window, 425.0, 8000);
        if energy < 800.0 * 100.0 * 100.0 {
            quiet += 1;
        } else if at_425 * 2.0 / 800.0 > 0.8 * energy {
            tone += 1;
        }
    }
    assert!(
        tone >= 5,
        "a second of 425 Hz: {tone} tone windows, {quiet} quiet"
    );
    assert!(
        quiet >= 20,
        "then silence: {tone} tone windows, {quiet} quiet"
    );
}
