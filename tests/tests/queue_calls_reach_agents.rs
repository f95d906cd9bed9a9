//! Calls to a queue number with real phones: the caller is answered and waits while
//! agents' phones ring in the queue's order; the agent who answers is put through; the
//! queue log and the call record say what happened.

use std::path::Path;
use std::time::Duration;
use switchboard_core::unix_ms;

use switchboard_e2e::audio::{self, heard};
use switchboard_e2e::baresip::{Baresip, PhoneSetup};
use switchboard_e2e::*;

/// The test office with queue 600 over agents 101 then 102.
fn office_with_queue(strategy: &str, extra: &str) -> String {
    format!(
        "{}\n[[queues]]\nnumber = \"600\"\nname = \"Sales\"\nstrategy = \"{strategy}\"\n\
         ring_timeout = 5\nretry_delay = 2\nwrap_up = 0\n{extra}\n\
         [[queues.agents]]\nextension = \"101\"\n[[queues.agents]]\nextension = \"102\"\n",
        config("", FAST_REGISTRAR)
    )
}

/// One caller into queue 600 whose agent 101 rings without answering and agent 102
/// answers; returns the queue log of the call (event, agent) and how long the caller
/// waited to be put through (ms).
fn ring_then_answer(strategy: &str) -> (Vec<(String, Option<String>)>, i64) {
    let server = Server::start(&office_with_queue(strategy, ""));
    let (first, second) = (sipp_register(&server, "101"), sipp_register(&server, "102"));
    let (caller, ringer, answerer) = std::thread::scope(|s| {
        let phone = |port: u16, ext: &str, scenario: &'static str| {
            let rows = vec![format!("{ext};{}", password(ext))];
            let media = free_port().to_string();
            let server = &server;
            s.spawn(move || sipp_at(port, server, scenario, &rows, &["-mp", &media]))
        };
        let ringer = phone(first, "101", "callee_rings.xml");
        let answerer = phone(second, "102", "callee_answers.xml");
        let rows = vec![format!("100;{};600", password("100"))];
        let media = free_port().to_string();
        let caller = sipp(
            &server,
            "caller_talks.xml",
            &rows,
            &["-mp", &media, "-d", "10000"],
        );
        (
            caller,
            ringer.join().expect("101's SIPp"),
            answerer.join().expect("102's SIPp"),
        )
    });
    caller.expect(1, 0);
    ringer.expect(1, 0);
    answerer.expect(1, 0);
    let events = server
        .queue_events()
        .into_iter()
        .filter(|e| e.call_id.is_some())
        .map(|e| (e.event, e.agent))
        .collect();
    let records = server.call_records();
    assert_eq!(records.len(), 1, "{records:#?}");
    let r = &records[0];
    assert_eq!((r.callee.as_str(), r.outcome.as_str()), ("600", "answered"));
    assert_eq!(
        (r.queue.as_deref(), r.answered_by.as_deref()),
        (Some("600"), Some("102"))
    );
    (
        events,
        r.answered.map(unix_ms::from).expect("answered") - unix_ms::from(r.started),
    )
}

fn agent(extension: &str) -> Option<String> {
    Some(extension.to_string())
}

#[test]
fn a_linear_queue_rings_agents_in_order_and_puts_the_answering_one_through() {
    let (events, waited) = ring_then_answer("linear");
    assert_eq!(
        events,
        [
            ("join".into(), None),
            ("ring-no-answer".into(), agent("101")),
            ("connect".into(), agent("102")),
            ("complete".into(), agent("102")),
        ]
    );
    // 102 rang only after 101's 5-s ring timeout.
    assert!(
        (4_500..9_000).contains(&waited),
        "put through after {waited} ms"
    );
}

#[test]
fn a_ring_all_queue_rings_every_agent_at_once() {
    let (events, waited) = ring_then_answer("ring-all");
    // 101 rang too (its SIPp saw the INVITE and the CANCEL) but missed nothing: the call
    // was taken.
    assert_eq!(
        events,
        [
            ("join".into(), None),
            ("connect".into(), agent("102")),
            ("complete".into(), agent("102")),
        ]
    );
    assert!(waited < 2_000, "put through after {waited} ms");
}

#[test]
fn a_waiting_caller_hears_music_then_the_agent_whose_phone_comes_online() {
    let server = Server::start(&office_with_queue(
        "ring-all",
        "[queues.announcements]\nposition_on_join = false\nposition_every = 0\ncomfort_every = 0\n",
    ));
    let dir = tempfile::tempdir().expect("tempdir");
    let (en, ru) = (dir.path().join("en.wav"), dir.path().join("ru.wav"));
    audio::speech("en", 40, &en);
    audio::speech("ru", 40, &ru);
    let mut caller = Baresip::start(server.sip, PhoneSetup::pcmu("100", &en, false));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 1);
    caller.command("dial", &format!("sip:600@{}", server.sip));
    caller.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    // Nobody is logged in: the caller waits, hearing music, until agent 101's phone
    // registers and answers.
    std::thread::sleep(Duration::from_secs(6));
    let mut agent = Baresip::start(server.sip, PhoneSetup::pcmu("101", &ru, true));
    // The offer can reach the phone before its control socket is up, so the queue log
    // (not the phone's events) tells when the call was put through.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while !server.queue_events().iter().any(|e| e.event == "connect") {
        assert!(std::time::Instant::now() < deadline, "never put through");
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(8));
    caller.command("hangup", "");
    caller.wait_event("CALL_CLOSED", Duration::from_secs(10));
    agent.wait_event("CALL_CLOSED", Duration::from_secs(10));

    let at_caller = audio::read_at_call_rate(&caller.heard());
    let rate = audio::RATE as usize;
    let music = hold_music();
    let waiting = &at_caller[..5 * rate];
    let talking = &at_caller[at_caller.len().saturating_sub(6 * rate)..];
    let (ru, _) = audio::read(&ru);
    audio::assert_heard("the caller, music while waiting", heard(&music, waiting));
    audio::assert_heard("the caller, the agent after", heard(&ru, talking));
    let (en, _) = audio::read(&en);
    // The agent first hears the whisper ("Queue call"), then the caller.
    let at_agent = audio::read_at_call_rate(&agent.heard());
    let after_whisper = &at_agent[at_agent.len().saturating_sub(5 * rate)..];
    audio::assert_heard("the agent, the caller", heard(&en, after_whisper));
    let events: Vec<String> = server.queue_events().into_iter().map(|e| e.event).collect();
    assert!(events.contains(&"login".to_string()), "{events:?}");
    assert!(
        events.ends_with(&["connect".into(), "complete".into()]),
        "{events:?}"
    );
}

/// A caller who finds an agent free hears that agent soon after the agent answers:
/// no position is said, the agent's short whisper plays while the caller hears music,
/// and the two are bridged as it ends. The agent sends silence, so the moment the
/// caller's music stops is the moment they hear the agent.
#[test]
fn a_caller_hears_the_free_agent_within_two_seconds_of_the_answer() {
    let server = Server::start(&office_with_queue("ring-all", ""));
    let dir = tempfile::tempdir().expect("tempdir");
    let (speech, quiet) = (dir.path().join("en.wav"), dir.path().join("quiet.wav"));
    audio::speech("en", 20, &speech);
    audio::silence(20, &quiet);
    let mut agent = Baresip::start(server.sip, PhoneSetup::pcmu("101", &quiet, true));
    let mut caller = Baresip::start(server.sip, PhoneSetup::pcmu("100", &speech, false));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 2);
    caller.command("dial", &format!("sip:600@{}", server.sip));
    caller.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    agent.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(7));
    caller.command("hangup", "");
    caller.wait_event("CALL_CLOSED", Duration::from_secs(10));
    agent.wait_event("CALL_CLOSED", Duration::from_secs(10));

    // The caller's recording starts when Switchboard answered them, as they joined; the
    // queue log says how long after that the agent answered.
    let events = server.queue_events();
    let connect = events
        .iter()
        .find(|e| e.event == "connect")
        .expect("connect");
    let answered_ms = connect.waited_ms.expect("connect carries the wait");
    let at_caller = audio::read_at_call_rate(&caller.heard());
    let frame = audio::RATE as usize / 50;
    let loud: Vec<bool> = at_caller
        .chunks_exact(frame)
        .map(|f| (f.iter().map(|s| s * s).sum::<f32>() / frame as f32).sqrt() > 0.003)
        .collect();
    // Music until the bridge, then the agent's silence for good (a second at least).
    let first_music = loud
        .iter()
        .position(|&l| l)
        .expect("the caller heard music");
    let bridged = (first_music..loud.len().saturating_sub(50))
        .find(|&i| loud[i..i + 50].iter().all(|&l| !l))
        .expect("the caller's music never stopped");
    let bridged_ms = bridged as i64 * 20;
    eprintln!("agent answered at {answered_ms} ms, caller bridged at {bridged_ms} ms");
    assert!(
        bridged_ms - answered_ms <= 2_300,
        "the caller heard the agent {} ms after the answer",
        bridged_ms - answered_ms
    );
}

/// The built-in music on hold at the call rate.
fn hold_music() -> Vec<f32> {
    audio::read_at_call_rate(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../sounds/music/hold.wav"),
    )
}

#[test]
fn a_waiting_caller_hears_their_position_then_music() {
    let server = Server::start(&office_with_queue(
        "linear",
        "[queues.announcements]\nposition_on_join = true\nestimated_wait = true\n\
         position_every = 0\ncomfort_every = 0\n\
         [queues.callback]\nattempts = 2\nretry_after = 10\n",
    ));
    let dir = tempfile::tempdir().expect("tempdir");
    let quiet = dir.path().join("quiet.wav");
    audio::silence(30, &quiet);
    let mut caller = Baresip::start(server.sip, PhoneSetup::pcmu("100", &quiet, false));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 1);
    caller.command("dial", &format!("sip:600@{}", server.sip));
    caller.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(4));
    // The wallboard shows the caller waiting, with nobody to answer.
    let token = server.admin_token();
    let board = server.dashboard(&token)["queues"].clone();
    let sales = &board[0];
    assert_eq!(
        (sales["number"].as_str(), sales["name"].as_str()),
        (Some("600"), Some("Sales"))
    );
    assert_eq!(sales["waiting"], 1, "{board}");
    assert!(
        sales["longest_wait_seconds"].as_u64().unwrap() >= 3,
        "{board}"
    );
    assert_eq!(sales["agents_logged_in"], 0, "{board}");
    std::thread::sleep(Duration::from_secs(5));
    caller.command("hangup", "");
    caller.wait_event("CALL_CLOSED", Duration::from_secs(10));

    // Nobody is staffed, so no estimate: "You are caller number" "one" and, since the
    // queue calls back, how to ask for it (each word's voice, a short pause between),
    // then the music from its start.
    let sounds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sounds");
    let voiced = |file: &str| {
        let bytes = std::fs::read(sounds.join(file)).expect("prompt");
        let prompt = switchboard_media::prompt::Prompt::decode(bytes, audio::RATE).unwrap();
        let voice: Vec<f32> = prompt
            .voiced()
            .iter()
            .map(|&s| f32::from(s) / 32768.0)
            .collect();
        voice
    };
    let mut expected = voiced("en/queue_position.wav");
    expected.extend(vec![0.0; audio::RATE as usize * 150 / 1000]);
    expected.extend(voiced("en/numbers/1.wav"));
    expected.extend(vec![0.0; audio::RATE as usize * 150 / 1000]);
    expected.extend(voiced("en/queue_callback_offer.wav"));
    let told = expected.len();
    expected.extend(hold_music());
    let at_caller = audio::read_at_call_rate(&caller.heard());
    let first = |n: usize| &at_caller[..n.min(at_caller.len())];
    audio::assert_heard(
        "position then music",
        heard(&expected, first(8 * audio::RATE as usize)),
    );
    audio::assert_heard(
        "the announcement alone",
        audio::heard_within(&expected[..told], first(told + audio::RATE as usize)),
    );
    // Music alone would not pass for the announcement.
    assert!(heard(&hold_music(), first(told)) < 0.5);
}

#[test]
fn an_agent_logs_out_and_back_in_by_dialling_star_45() {
    let static_agents = "[[agents]]\nextension = \"101\"\nfollows_registration = false\n";
    let server = Server::start(&format!(
        "{}{static_agents}",
        office_with_queue("linear", "")
    ));
    let dir = tempfile::tempdir().expect("tempdir");
    let quiet = dir.path().join("quiet.wav");
    audio::silence(30, &quiet);
    let mut agent = Baresip::start(server.sip, PhoneSetup::pcmu("101", &quiet, false));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 1);
    let token = server.admin_token();
    let logged_in = || server.dashboard(&token)["queues"][0]["agents_logged_in"].as_u64();
    assert_eq!(logged_in(), Some(1), "a static agent starts logged in");
    let sounds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sounds/en");
    for (told, after) in [("agent_logged_out", 0), ("agent_logged_in", 1)] {
        agent.command("dial", &format!("sip:*45@{}", server.sip));
        agent.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
        // Switchboard says it and hangs up.
        agent.wait_event("CALL_CLOSED", Duration::from_secs(15));
        let expected = audio::read_at_call_rate(&sounds.join(format!("{told}.wav")));
        let at_agent = audio::read_at_call_rate(&agent.heard());
        audio::assert_heard(told, heard(&expected, &at_agent));
        std::thread::sleep(Duration::from_millis(600));
        assert_eq!(logged_in(), Some(after), "after {told}");
    }
    let events: Vec<String> = server
        .queue_events()
        .into_iter()
        .filter(|e| e.agent.as_deref() == Some("101"))
        .map(|e| e.event)
        .collect();
    assert_eq!(events, ["login", "logout", "login"]);
}

#[test]
fn an_agent_talking_on_a_direct_call_is_passed_over() {
    // Queue 600 over 101 then 103, linear: 101 would ring first.
    let office = format!(
        "{}\n[[extensions]]\nnumber = \"105\"\npassword = \"{}\"\n\
         [[queues]]\nnumber = \"600\"\nname = \"Sales\"\nstrategy = \"linear\"\n\
         ring_timeout = 5\nwrap_up = 0\n\
         [[queues.agents]]\nextension = \"101\"\n[[queues.agents]]\nextension = \"103\"\n",
        config("", FAST_REGISTRAR),
        password("105")
    );
    let server = Server::start(&office);
    let dir = tempfile::tempdir().expect("tempdir");
    let speech = dir.path().join("speech.wav");
    audio::speech("en", 40, &speech);
    // 101 talks to 102.
    let mut agent = Baresip::start(server.sip, PhoneSetup::pcmu("101", &speech, false));
    let mut colleague = Baresip::start(server.sip, PhoneSetup::pcmu("102", &speech, true));
    let third = sipp_register(&server, "103");
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 3);
    agent.command("dial", &format!("sip:102@{}", server.sip));
    agent.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    colleague.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    // A customer calls the queue: 103 answers it, 101's phone never rings.
    let (caller, answerer) = std::thread::scope(|s| {
        let server = &server;
        let answerer = s.spawn(move || {
            let rows = vec![format!("103;{}", password("103"))];
            let media = free_port().to_string();
            sipp_at(third, server, "callee_answers.xml", &rows, &["-mp", &media])
        });
        let rows = vec![format!("105;{};600", password("105"))];
        let media = free_port().to_string();
        let caller = sipp(
            server,
            "caller_talks.xml",
            &rows,
            &["-mp", &media, "-d", "2000"],
        );
        (caller, answerer.join().expect("103's SIPp"))
    });
    caller.expect(1, 0);
    answerer.expect(1, 0);
    let events = agent.events();
    assert!(
        !events.iter().any(|e| e["type"] == "CALL_INCOMING"),
        "101 was offered the queue call while talking: {events:?}"
    );
    let queue_call = server
        .call_records()
        .into_iter()
        .find(|r| r.callee == "600")
        .expect("the queue call's record");
    assert_eq!(queue_call.answered_by.as_deref(), Some("103"));
    let rang: Vec<Option<String>> = server
        .queue_events()
        .into_iter()
        .filter(|e| e.event == "ring-no-answer")
        .map(|e| e.agent)
        .collect();
    assert!(rang.is_empty(), "nobody missed the call: {rang:?}");
    agent.command("hangup", "");
}

#[test]
fn an_agent_added_over_the_api_while_callers_wait_answers_the_first_of_them() {
    // Queue 600's only agent, 103, has no phone: callers wait.
    let office = format!(
        "{}\n[[queues]]\nnumber = \"600\"\nname = \"Sales\"\nstrategy = \"linear\"\n\
         ring_timeout = 5\nwrap_up = 0\n[[queues.agents]]\nextension = \"103\"\n",
        config("", FAST_REGISTRAR)
    );
    let server = Server::start(&office);
    let agent = sipp_register(&server, "101");
    let token = server.admin_token();
    let (caller, answered) = std::thread::scope(|s| {
        let server = &server;
        // Two customers call, one after the other, and wait.
        let caller = s.spawn(move || {
            let rows = vec![format!("100;{};600", password("100")); 2];
            let media = free_port().to_string();
            sipp(
                server,
                "caller_talks.xml",
                &rows,
                &[
                    "-mp", &media, "-d", "4000", "-r", "1", "-rp", "500", "-l", "2",
                ],
            )
        });
        server.wait_metric("active_calls", Duration::from_secs(10), |c| c == 2);
        // The office adds 101 to the queue from the panel's API.
        let answerer = s.spawn(move || {
            let rows = vec![format!("101;{}", password("101")); 2];
            let media = free_port().to_string();
            sipp_at(agent, server, "callee_answers.xml", &rows, &["-mp", &media])
        });
        let (_, mut queue) = server.api(Some(&token), "GET", "/api/queues/600", None);
        queue["agents"]
            .as_array_mut()
            .expect("agents")
            .push(serde_json::json!({"extension": "101"}));
        let (status, answer) = server.api(Some(&token), "PUT", "/api/queues/600", Some(&queue));
        assert_eq!(status, 200, "{answer}");
        (
            caller.join().expect("callers"),
            answerer.join().expect("101"),
        )
    });
    caller.expect(2, 0);
    answered.expect(2, 0);
    let events = server.queue_events();
    let first_join = events
        .iter()
        .filter(|e| e.event == "join")
        .min_by_key(|e| e.at)
        .and_then(|e| e.call_id.clone());
    let first_connect = events
        .iter()
        .filter(|e| e.event == "connect")
        .min_by_key(|e| e.at)
        .map(|e| (e.call_id.clone(), e.agent.clone()));
    assert_eq!(
        first_connect,
        Some((first_join, Some("101".to_string()))),
        "{events:#?}"
    );
}
