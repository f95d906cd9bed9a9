//! VIP preemption with real phones: agent 101 (baresip) talks to caller 100 through
//! queue 600 when 102 calls VIP queue 601. After the queue's delay 100 hears "please
//! hold" then music while 101 talks to 102; when 102 hangs up, 101 and 100 talk again.
//! The agent's phone only ever sees re-INVITEs of its one call.

use std::path::Path;
use std::time::{Duration, Instant};

use switchboard_e2e::audio::{self, heard};
use switchboard_e2e::baresip::{Baresip, PhoneSetup};
use switchboard_e2e::*;

/// Waits for the queue log to hold `event` and returns when it was seen.
fn wait_for(server: &Server, event: &str) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !server.queue_events().iter().any(|e| e.event == event) {
        assert!(
            Instant::now() < deadline,
            "no {event}: {:#?}",
            server.queue_events()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Instant::now()
}

fn prompt(name: &str) -> Vec<f32> {
    audio::read_at_call_rate(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../sounds")
            .join(name),
    )
}

/// Queue 600 and VIP queue 601 (whose callers take agent 101 over after `delay`
/// seconds), both without announcements.
fn office_with_vip_queue(delay: u32) -> Server {
    let queue = |number: &str, extra: &str| {
        format!(
            "[[queues]]\nnumber = \"{number}\"\nname = \"Queue {number}\"\nstrategy = \"linear\"\n\
             wrap_up = 0\n{extra}\
             [queues.announcements]\nposition_on_join = false\nposition_every = 0\ncomfort_every = 0\n\
             [[queues.agents]]\nextension = \"101\"\n"
        )
    };
    Server::start(&format!(
        "{}\n{}{}",
        config("", FAST_REGISTRAR),
        queue("600", ""),
        queue("601", &format!("[queues.vip]\ndelay = {delay}\n")),
    ))
}

#[test]
fn a_vip_takes_the_agent_and_the_held_caller_gets_them_back() {
    let server = office_with_vip_queue(3);
    let dir = tempfile::tempdir().expect("tempdir");
    let source = |language: &str| {
        let path = dir.path().join(format!("{language}.wav"));
        audio::speech(language, 90, &path);
        path
    };
    let (en, ru, pl) = (source("en"), source("ru"), source("pl"));
    let mut agent = Baresip::start(server.sip, PhoneSetup::pcmu("101", &ru, true));
    let mut held = Baresip::start(server.sip, PhoneSetup::pcmu("100", &en, false));
    let mut vip = Baresip::start(server.sip, PhoneSetup::pcmu("102", &pl, false));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 3);

    held.command("dial", &format!("sip:600@{}", server.sip));
    held.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    let t0 = wait_for(&server, "connect");
    std::thread::sleep(Duration::from_secs(5));
    vip.command("dial", &format!("sip:601@{}", server.sip));
    vip.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    let preempted = wait_for(&server, "preempt");
    std::thread::sleep(Duration::from_secs(10));
    vip.command("hangup", "");
    vip.wait_event("CALL_CLOSED", Duration::from_secs(10));
    let resumed = wait_for(&server, "resume");
    std::thread::sleep(Duration::from_secs(6));
    held.command("hangup", "");
    held.wait_event("CALL_CLOSED", Duration::from_secs(10));
    agent.wait_event("CALL_CLOSED", Duration::from_secs(10));

    // What the held caller heard, by the test's clock from the agent's answer.
    let rate = audio::RATE as f64;
    let at = |t: Instant| (t.duration_since(t0).as_secs_f64() * rate) as usize;
    let span = |recording: &[f32], from: f64, to: f64| -> Vec<f32> {
        let (a, b) = ((from * rate) as usize, (to * rate) as usize);
        recording[a.min(recording.len())..b.min(recording.len())].to_vec()
    };
    let at_held = audio::read_at_call_rate(&held.heard());
    let (p, r) = (at(preempted) as f64 / rate, at(resumed) as f64 / rate);
    let (ru_speech, _) = audio::read(&ru);
    let hold = prompt("en/queue_hold.wav");
    let hold_s = hold.len() as f64 / rate;
    let music = prompt("music/hold.wav");
    // Music while the agent hears the whisper ("Queue call, six zero zero"), then the
    // agent; the warning to the agent is not heard by the caller.
    let whisper_s: f64 = [
        "en/queue_whisper.wav",
        "en/numbers/6.wav",
        "en/numbers/0.wav",
        "en/numbers/0.wav",
    ]
    .iter()
    .map(|p| prompt(p).len() as f64 / rate)
    .sum();
    audio::assert_heard(
        "the held caller, the agent before",
        heard(&ru_speech, &span(&at_held, whisper_s + 0.8, p - 0.5)),
    );
    audio::assert_heard(
        "the held caller, please hold",
        heard(&hold, &span(&at_held, p + 0.5, p + hold_s - 0.5)),
    );
    audio::assert_heard(
        "the held caller, music after it",
        heard(&music, &span(&at_held, p + hold_s + 0.5, r - 0.5)),
    );
    audio::assert_heard(
        "the held caller, the agent again",
        heard(&ru_speech, &span(&at_held, r + 1.0, r + 5.0)),
    );
    // The VIP and the agent heard each other.
    let (pl_speech, _) = audio::read(&pl);
    let at_agent = audio::read_at_call_rate(&agent.heard());
    audio::assert_heard(
        "the agent, the VIP",
        heard(&pl_speech, &span(&at_agent, p + 1.0, r - 1.0)),
    );
    let (en_speech, _) = audio::read(&en);
    audio::assert_heard(
        "the agent, the held caller again",
        heard(&en_speech, &span(&at_agent, r + 1.0, r + 5.0)),
    );
    let at_vip = audio::read_at_call_rate(&vip.heard());
    let tail = &at_vip[at_vip.len().saturating_sub(6 * audio::RATE as usize)..];
    audio::assert_heard("the VIP, the agent", heard(&ru_speech, tail));

    let events: Vec<(String, Option<String>, Option<String>)> = server
        .queue_events()
        .into_iter()
        .filter(|e| e.call_id.is_some())
        .map(|e| (e.event, e.queue, e.agent))
        .collect();
    let (sales, vip_queue, agent101) = (Some("600".into()), Some("601".into()), Some("101".into()));
    assert_eq!(
        events,
        [
            ("join".into(), sales.clone(), None),
            ("connect".into(), sales.clone(), agent101.clone()),
            ("join".into(), vip_queue.clone(), None),
            ("preempt-warned".into(), vip_queue.clone(), agent101.clone()),
            ("connect".into(), vip_queue.clone(), agent101.clone()),
            ("preempt".into(), vip_queue.clone(), agent101.clone()),
            ("complete".into(), vip_queue.clone(), agent101.clone()),
            ("resume".into(), sales.clone(), agent101.clone()),
            ("complete".into(), sales, agent101),
        ]
    );
    let records = server.call_records();
    assert_eq!(records.len(), 2, "{records:#?}");
    let by_callee = |n: &str| records.iter().find(|r| r.callee == n).expect(n);
    let (held_call, vip_call) = (by_callee("600"), by_callee("601"));
    assert_eq!(
        (held_call.preempted, held_call.outcome.as_str()),
        (true, "answered")
    );
    assert_eq!(
        (vip_call.preempted, vip_call.answered_by.as_deref()),
        (false, Some("101"))
    );
}

#[test]
fn any_sip_phone_that_takes_a_reinvite_can_be_preempted() {
    // The agent is a SIPp phone whose scenario accepts exactly a call, two re-INVITEs
    // (to the VIP and back) and the BYE; the callers are SIPp too.
    let server = office_with_vip_queue(2);
    let port = free_port();
    let row = format!("101;{};300", password("101"));
    sipp_at(port, &server, "register_auth.xml", &[row], &[]).expect(1, 0);
    std::thread::scope(|s| {
        let server = &server;
        let agent = s.spawn(move || {
            let rows = vec![format!("101;{}", password("101"))];
            let media = free_port().to_string();
            sipp_at(port, server, "agent_preempted.xml", &rows, &["-mp", &media])
        });
        let caller = |callee: &'static str, talk_ms: &'static str| {
            s.spawn(move || {
                let rows = vec![format!("100;{};{callee}", password("100"))];
                let media = free_port().to_string();
                sipp(
                    server,
                    "caller_talks.xml",
                    &rows,
                    &["-mp", &media, "-d", talk_ms],
                )
            })
        };
        let held = caller("600", "16000");
        std::thread::sleep(Duration::from_secs(3));
        let vip = caller("601", "6000");
        vip.join().expect("the VIP's SIPp").expect(1, 0);
        held.join().expect("the held caller's SIPp").expect(1, 0);
        agent.join().expect("the agent's SIPp").expect(1, 0);
    });
    let events: Vec<String> = server
        .queue_events()
        .into_iter()
        .filter(|e| e.call_id.is_some())
        .map(|e| e.event)
        .collect();
    assert_eq!(
        events,
        [
            "join",
            "connect",
            "join",
            "preempt-warned",
            "connect",
            "preempt",
            "complete",
            "resume",
            "complete"
        ]
    );
    let preempted: Vec<bool> = server.call_records().iter().map(|r| r.preempted).collect();
    assert_eq!(
        preempted,
        [true, false],
        "newest first: the held call, the VIP's"
    );
}
