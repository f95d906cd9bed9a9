//! Linphone's console client (liblinphone 5.1) registers and unregisters.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;
use switchboard_e2e::*;

#[test]
fn linphonec_registers_and_unregisters() {
    require("linphonec", "apt-get install linphone-cli");
    let server = Server::start(&config("", FAST_REGISTRAR));
    let home = tempfile::tempdir().unwrap();
    // Without this directory liblinphone refuses to work (see ../shared/PEERS.md).
    std::fs::create_dir_all(home.path().join(".local/share/linphone")).unwrap();
    let rc = home.path().join("linphonerc");
    std::fs::write(
        &rc,
        "[sip]\nsip_port=-1\n[rtp]\naudio_rtp_port=-1\n[sound]\nplayback_dev_id=Null\n",
    )
    .unwrap();
    let mut child = Command::new("timeout")
        .args(["60", "linphonec", "-c"])
        .arg(&rc)
        .env("HOME", home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start linphonec");
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let mut say = |line: String| {
        stdin.write_all(format!("{line}\n").as_bytes()).unwrap();
        stdin.flush().unwrap();
    };
    say(format!("ports sip {}", free_port()));
    say(format!(
        "register sip:102@127.0.0.1 sip:{} {}",
        server.sip,
        password("102")
    ));
    // Unregistering before linphonec has seen its own 200 OK is lost by
    // liblinphone, so ask the phone until it says it is registered.
    let mut seen = String::new();
    for _ in 0..40 {
        say("status register".into());
        while let Ok(line) = lines.recv_timeout(Duration::from_millis(500)) {
            seen += &(line + "\n");
        }
        if seen.contains("registered, identity=sip:102@127.0.0.1") {
            break;
        }
    }
    assert!(
        seen.contains("registered, identity=sip:102@127.0.0.1"),
        "{seen}"
    );
    assert_eq!(server.metric("bindings"), 1);
    say("unregister".into());
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 0);
    say("quit".into());
    let _ = child.wait();
    assert_eq!(server.metric("auth_failures"), 0);
}
