//! baresip 1.0 registers, refreshes on its own schedule, and unregisters when it quits.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_e2e::*;

#[test]
fn registers_refreshes_and_unregisters_on_exit() {
    require("baresip", "apt-get install baresip-core");
    let server = Server::start(&config("", FAST_REGISTRAR));
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    std::fs::write(
        dir.path().join("config"),
        format!(
            "poll_method epoll\nsip_listen 127.0.0.1:{port}\nnet_interface 127.0.0.1\n\
             audio_player aufile,/dev/null\naudio_source aufile,/dev/null\n\
             module_path /usr/lib/baresip/modules\nmodule g711.so\nmodule aufile.so\nmodule_app account.so\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("accounts"),
        format!(
            "<sip:103@{};transport=udp>;auth_pass={};regint=12\n",
            server.sip,
            password("103")
        ),
    )
    .unwrap();
    let mut child = Command::new("baresip")
        .arg("-f")
        .arg(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start baresip");
    let output = Arc::new(Mutex::new(String::new()));
    let sink = output.clone();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            sink.lock().unwrap().push_str(&(line + "\n"));
        }
    });

    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 1);
    // baresip refreshes before its 12 s run out; the binding count stays one.
    server.wait_metric("registrations", Duration::from_secs(20), |r| r >= 2);
    assert_eq!(server.metric("bindings"), 1);
    assert!(
        output.lock().unwrap().contains("200 OK (Switchboard)"),
        "{}",
        output.lock().unwrap()
    );

    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 0);
    let _ = child.wait();
}
