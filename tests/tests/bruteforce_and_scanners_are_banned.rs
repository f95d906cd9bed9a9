//! Password guessing bans the guessing host, a SIP scanner is ignored from its first
//! packet, and phones elsewhere keep registering. "Hosts" are loopback addresses.

use std::process::Command;
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
    assert_eq!(server.metric("banned_sources"), 1);
    assert!(server.metric("blocked_messages") >= 1, "{text}");
}
