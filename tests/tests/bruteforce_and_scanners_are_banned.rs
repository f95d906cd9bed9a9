//! Password guessing bans the guessing host, a SIP scanner is ignored from its first
//! packet, a flood is answered 503 and then banned, and phones elsewhere keep
//! registering. Bans follow behaviour, never what one forged packet claims; they are
//! kept across a restart, listed and lifted by the admin. "Hosts" are loopback
//! addresses.

use std::process::Command;
use std::time::Duration;
use switchboard_e2e::*;

#[test]
fn tenth_wrong_password_bans_the_source_but_not_other_phones() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    // Twelve guesses from 127.0.0.2; the server answers the first ten.
    let guesses: Vec<String> = (0..12).map(|i| format!("100;guess-{i}")).collect();
    let run = sipp_from(
        "127.0.0.2",
        &server,
        "register_rejected.xml",
        &guesses,
        &["-recv_timeout", "1500", "-max_retrans", "1"],
    );
    assert_eq!(run.successful, 10, "ten guesses were answered: {}", run.log);
    assert_eq!(run.failed, 2, "the rest met silence: {}", run.log);
    assert_eq!(server.metric("banned_sources"), 1);
    assert_eq!(server.metric("auth_failures"), 10);
    assert!(server.metric("blocked_messages") >= 2);
    // The office phone on 127.0.0.1 is unaffected.
    let phone = sipp(
        &server,
        "register_auth.xml",
        &[format!("100;{};600", password("100"))],
        &[],
    );
    phone.expect(1, 0);
}

#[test]
fn sipvicious_svcrack_gets_no_answer_at_all() {
    require("sipvicious_svcrack", "pip install sipvicious");
    let server = Server::start(&config("", FAST_REGISTRAR));
    let dir = tempfile::tempdir().unwrap();
    let words = dir.path().join("words.txt");
    std::fs::write(
        &words,
        (0..50).map(|i| format!("pass{i}\n")).collect::<String>() + password("100") + "\n",
    )
    .unwrap();
    let out = Command::new("sipvicious_svcrack")
        .args([
            "-u",
            "100",
            "-d",
            words.to_str().unwrap(),
            "-b",
            "127.0.0.3",
            "-p",
        ])
        .arg(server.sip.port().to_string())
        .args(["--maximumtime", "10", "127.0.0.1"])
        .output()
        .expect("run svcrack");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Even with the right password in its list, it learns nothing.
    assert!(!text.contains(password("100")), "{text}");
    assert_eq!(server.metric("bindings"), 0);
    assert_eq!(server.metric("auth_failures"), 0, "it never got to guess");
    assert!(server.metric("blocked_messages") >= 1, "{text}");
}

/// Ten wrong passwords for `extension` from `ip`, each challenged and refused.
fn guesses(server: &Server, ip: &str, extension: &str, count: usize) -> SippRun {
    let rows: Vec<String> = (0..count)
        .map(|i| format!("{extension};guess-{i}"))
        .collect();
    sipp_from(
        ip,
        server,
        "register_rejected.xml",
        &rows,
        &["-recv_timeout", "1500", "-max_retrans", "1"],
    )
}

fn register_from(server: &Server, ip: &str, extension: &str) -> SippRun {
    sipp_from(
        ip,
        server,
        "register_auth.xml",
        &[format!("{extension};{};600", password(extension))],
        &["-recv_timeout", "1500", "-max_retrans", "1"],
    )
}

#[test]
fn a_phone_logging_in_as_itself_between_guesses_is_banned_all_the_same() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    // An insider's phone (100, with its own password) guesses 101's password, and
    // registers as itself between the guesses.
    for _ in 0..2 {
        register_from(&server, "127.0.0.2", "100").expect(1, 0);
        guesses(&server, "127.0.0.2", "101", 5).expect(5, 0);
    }
    assert_eq!(server.metric("banned_sources"), 1);
    register_from(&server, "127.0.0.2", "100").expect(0, 1);
}

#[test]
fn a_forged_scanner_packet_bans_nobody() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    // Anyone can send a UDP packet in the name of the phone at 127.0.0.4.
    let forged = std::net::UdpSocket::bind("127.0.0.4:0").expect("bind");
    let scan = format!(
        "OPTIONS sip:100@{sip} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKscan\r\n\
         From: <sip:100@{sip}>;tag=s\r\nTo: <sip:100@{sip}>\r\nCall-ID: scan\r\n\
         CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nUser-Agent: friendly-scanner\r\n\
         Content-Length: 0\r\n\r\n",
        sip = server.sip,
        me = forged.local_addr().expect("addr"),
    );
    forged.send_to(scan.as_bytes(), server.sip).expect("send");
    server.wait_metric("blocked_messages", Duration::from_secs(5), |b| b == 1);
    assert_eq!(server.metric("banned_sources"), 0);
    register_from(&server, "127.0.0.4", "100").expect(1, 0);
}

#[test]
fn bans_are_kept_across_a_restart_listed_and_lifted_by_the_admin() {
    let mut server = Server::start(&config("", FAST_REGISTRAR));
    guesses(&server, "127.0.0.2", "100", 10).expect(10, 0);
    assert_eq!(server.metric("banned_sources"), 1);
    server.stop();
    let data_dir = server.data_dir().to_path_buf();
    let server = Server::launch(&data_dir);
    assert_eq!(
        server.metric("banned_sources"),
        1,
        "the ban outlived the restart"
    );
    register_from(&server, "127.0.0.2", "100").expect(0, 1);

    let token = server.admin_token();
    let (status, bans) = server.api(Some(&token), "GET", "/api/bans", None);
    assert_eq!(status, 200, "{bans}");
    assert_eq!(bans.as_array().map(Vec::len), Some(1), "{bans}");
    assert_eq!(bans[0]["address"], "127.0.0.2");
    assert_eq!(bans[0]["reason"], "failed-authentication");
    let (status, _) = server.api(Some(&token), "DELETE", "/api/bans/127.0.0.2", None);
    assert_eq!(status, 204);
    let (status, answer) = server.api(Some(&token), "DELETE", "/api/bans/127.0.0.2", None);
    assert_eq!(status, 404, "{answer}");
    register_from(&server, "127.0.0.2", "100").expect(1, 0);
    let (_, bans) = server.api(Some(&token), "GET", "/api/bans", None);
    assert_eq!(bans, serde_json::json!([]));
}

#[test]
fn a_flood_is_answered_503_then_banned_and_the_office_goes_on() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let flood = std::net::UdpSocket::bind("127.0.0.5:0").expect("bind");
    flood
        .set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    let me = flood.local_addr().expect("addr");
    let listener = flood.try_clone().expect("clone");
    let heard = std::thread::spawn(move || {
        let mut answers = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok((n, _)) = listener.recv_from(&mut buf) {
            answers.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        answers
    });
    for n in 0..1500 {
        let options = format!(
            "OPTIONS sip:{sip} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKf{n}\r\n\
             From: <sip:x@{sip}>;tag=f\r\nTo: <sip:{sip}>\r\nCall-ID: f{n}\r\n\
             CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
            sip = server.sip,
        );
        flood.send_to(options.as_bytes(), server.sip).expect("send");
        if n % 100 == 99 {
            // Loopback buffers are small: let the server keep up.
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let answers = heard.join().expect("the listening thread");
    let refused: Vec<&String> = answers
        .iter()
        .filter(|a| a.starts_with("SIP/2.0 503 "))
        .collect();
    assert!(
        !refused.is_empty(),
        "no 503 among {} answers",
        answers.len()
    );
    assert!(refused.iter().all(|a| a.contains("Retry-After: ")));
    assert!(answers.len() < 1500, "the flood was cut off");
    assert!(server.metric("limited_requests") >= refused.len() as u64);
    server.wait_metric("banned_sources", Duration::from_secs(5), |b| b == 1);
    let (_, bans) = server.api(Some(&server.admin_token()), "GET", "/api/bans", None);
    assert_eq!(bans[0]["reason"], "flood", "{bans}");
    register_from(&server, "127.0.0.1", "100").expect(1, 0);
}

#[test]
fn sipvicious_svmap_and_svwar_find_nothing() {
    require("sipvicious_svmap", "pip install sipvicious");
    let server = Server::start(&config("", FAST_REGISTRAR));
    let port = server.sip.port().to_string();
    let run = |tool: &str, args: &[&str]| {
        let out = Command::new(tool)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{tool}: {e}"));
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };
    // svmap looks for SIP servers: Switchboard does not answer it.
    let map = run(
        "sipvicious_svmap",
        &["-b", "127.0.0.8", "-p", &port, "127.0.0.1"],
    );
    assert!(!map.contains("Switchboard"), "{map}");
    // svwar guesses extension numbers: it learns none of 100–103.
    let war = run(
        "sipvicious_svwar",
        &[
            "-e",
            "100-110",
            "-b",
            "127.0.0.8",
            "-p",
            &port,
            "--maximumtime",
            "10",
            "127.0.0.1",
        ],
    );
    for extension in ["100", "101", "102", "103"] {
        assert!(
            !war.lines().any(|l| l.contains(&format!("| {extension} "))),
            "{war}"
        );
    }
    assert!(server.metric("blocked_messages") >= 2, "{map}\n{war}");
    assert_eq!(server.metric("registrations"), 0);
}
