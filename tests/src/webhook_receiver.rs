//! A real webhook receiver: `tests/peers/webhook_receiver.py`, which checks each
//! request's signature with the Standard Webhooks project's own Python library.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A signing secret as the panel makes them (32 random bytes).
pub const SECRET: &str = "whsec_o/57qJ6jMKryi7ekZqXc8SFlYsKhadW/Nbdk2aYXTAQ=";

#[derive(Debug)]
pub struct Receiver {
    child: Child,
    lines: mpsc::Receiver<serde_json::Value>,
    /// Every request so far, in the order received.
    pub requests: Vec<serde_json::Value>,
}

impl Receiver {
    /// Listening on 127.0.0.1:`port`, checking signatures with `secret`, answering 500
    /// to the first `fail` requests.
    pub fn start(port: u16, secret: &str, fail: u32) -> Receiver {
        let installed = Command::new("python3")
            .args(["-c", "import standardwebhooks"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            installed,
            "standardwebhooks is missing: python3 -m pip install standardwebhooks"
        );
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/webhook_receiver.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args([port.to_string(), secret.to_string(), fail.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the webhook receiver");
        let out = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str(&line) {
                    let _ = tx.send(v);
                }
            }
        });
        let ready: serde_json::Value = lines
            .recv_timeout(Duration::from_secs(20))
            .expect("the webhook receiver listens within 20 s");
        assert_eq!(ready["listening"], port, "{ready}");
        Receiver {
            child,
            lines,
            requests: Vec::new(),
        }
    }

    /// The requests received until `done` holds for them all, within `limit`.
    pub fn wait_until(
        &mut self,
        limit: Duration,
        done: impl Fn(&[serde_json::Value]) -> bool,
    ) -> &[serde_json::Value] {
        let deadline = Instant::now() + limit;
        while !done(&self.requests) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.requests.push(line),
                Err(_) => panic!(
                    "the receiver did not get what was awaited within {limit:?}: {:#?}",
                    self.requests
                ),
            }
        }
        &self.requests
    }

    /// Every request so far, after taking what comes within `more`.
    pub fn take_for(&mut self, more: Duration) -> &[serde_json::Value] {
        let deadline = Instant::now() + more;
        while let Ok(line) = self
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.requests.push(line);
        }
        &self.requests
    }

    /// The bodies it accepted (answered 2xx), in order.
    pub fn accepted(&self) -> Vec<&serde_json::Value> {
        self.requests
            .iter()
            .filter(|r| {
                r["status"]
                    .as_u64()
                    .is_some_and(|s| (200..300).contains(&s))
            })
            .map(|r| &r["body"])
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
