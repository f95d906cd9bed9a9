//! Linphone's console client (liblinphone 5.1) as a phone, driven through its stdin with
//! what it prints read back line by line.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::{free_port, password, require};

#[derive(Debug)]
pub struct Linphone {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    /// Everything it printed so far.
    pub seen: String,
    _home: tempfile::TempDir,
}

impl Linphone {
    /// A linphonec with no sound card, on a free SIP port.
    pub fn start() -> Linphone {
        require("linphonec", "apt-get install linphone-cli");
        let home = tempfile::tempdir().expect("tempdir");
        // Without this directory liblinphone refuses to work (see ../shared/PEERS.md).
        std::fs::create_dir_all(home.path().join(".local/share/linphone")).expect("data dir");
        let rc = home.path().join("linphonerc");
        std::fs::write(
            &rc,
            "[sip]\nsip_port=-1\n[rtp]\naudio_rtp_port=-1\n[sound]\nplayback_dev_id=Null\n",
        )
        .expect("linphonerc");
        let mut child = Command::new("timeout")
            .args(["90", "linphonec", "-c"])
            .arg(&rc)
            .env("HOME", home.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start linphonec");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut phone = Linphone {
            child,
            stdin,
            lines,
            seen: String::new(),
            _home: home,
        };
        // The rc file's port does not open a listener (see ../shared/PEERS.md).
        phone.say(&format!("ports sip {}", free_port()));
        phone
    }

    /// Types one command.
    pub fn say(&mut self, line: &str) {
        self.stdin
            .write_all(format!("{line}\n").as_bytes())
            .expect("write to linphonec");
        self.stdin.flush().expect("flush linphonec");
    }

    /// Waits until linphonec has printed `needle`, typing `ask` (a status command)
    /// every half second meanwhile; false when `limit` passes first.
    pub fn wait_for(&mut self, needle: &str, limit: Duration, ask: Option<&str>) -> bool {
        let deadline = Instant::now() + limit;
        while !self.seen.contains(needle) {
            if Instant::now() > deadline {
                return false;
            }
            if let Some(ask) = ask {
                self.say(ask);
            }
            while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(500)) {
                self.seen += &(line + "\n");
            }
        }
        true
    }

    /// Registers as `extension` and waits until linphonec says it is registered.
    pub fn register(&mut self, server: SocketAddr, extension: &str) {
        self.say(&format!(
            "register sip:{extension}@127.0.0.1 sip:{server} {}",
            password(extension)
        ));
        // Unregistering before linphonec has seen its own 200 OK is lost by
        // liblinphone, so ask the phone until it says it is registered.
        let registered = format!("registered, identity=sip:{extension}@127.0.0.1");
        let ok = self.wait_for(
            &registered,
            Duration::from_secs(20),
            Some("status register"),
        );
        assert!(ok, "linphonec did not register: {}", self.seen);
    }
}

impl Drop for Linphone {
    fn drop(&mut self) {
        self.say("quit");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
