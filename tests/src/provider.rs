//! Kamailio from apt as the office's SIP provider (tests/peers/kamailio-provider.cfg): a
//! registrar with digest auth for its subscribers and a proxy to them. What it logs is
//! kept, so a test can check what the provider saw.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::baresip::{Baresip, PhoneSetup};
use crate::require;

/// An office in Poland whose number +48 22 555 01 00 runs "Reception", which puts
/// callers in queue 600, answered by 101: what a customer calling from outside reaches.
pub const OFFICE_NUMBER_TO_QUEUE: &str = "[numbers]\ncountry_code = \"48\"\n\
    [[queues]]\nnumber = \"600\"\nname = \"Sales\"\nring_timeout = 10\n\
    [[queues.agents]]\nextension = \"101\"\n\
    [[scenarios]]\nname = \"Reception\"\nstart = \"sales\"\n\
    [scenarios.blocks.sales]\ntype = \"queue\"\nqueue = \"600\"\n\
    exits = { timeout = \"bye\", empty = \"bye\", full = \"bye\", key = \"bye\" }\n\
    [scenarios.blocks.bye]\ntype = \"hang-up\"\n\
    [[inbound]]\nnumber = \"+48225550100\"\nscenario = \"Reception\"\n";

/// The route that takes a national number ("0" and nine digits) out through the trunk
/// "Provider" as 48…, shown as the office's number 48225550100.
pub const ROUTE_THROUGH_PROVIDER: &str = "[[routes]]\nname = \"National\"\n\
    patterns = [\"0XXXXXXXXX\"]\nstrip = 1\nprepend = \"48\"\nclass = \"mobile\"\n\
    trunks = [\"Provider\"]\ncaller_id = \"48225550100\"\n";

/// The customer the tests call and are called by: 48601000000 at the provider.
pub const CUSTOMER: &str = "48601000000";

/// The customer's phone, registered at `provider`, speaking `voice`, offering PCMU then
/// PCMA (as a mobile network's gateway does); it answers by itself when `answers`, and
/// with `srtp` encrypts its audio (mandatory).
pub fn customer_phone(provider: &Provider, voice: &Path, answers: bool, srtp: bool) -> Baresip {
    let setup = PhoneSetup {
        codecs: "PCMU,PCMA",
        ..PhoneSetup::pcmu(CUSTOMER, voice, answers)
    };
    let password = provider_password(CUSTOMER);
    let phone = match srtp {
        true => Baresip::start_encrypting(provider.addr, setup, &password),
        false => Baresip::start_with_password(provider.addr, setup, &password),
    };
    provider.wait_for(
        &format!("registered sip:{CUSTOMER}@"),
        Duration::from_secs(10),
    );
    phone
}

/// `receptionist` (an office phone) dials the customer's national number; the customer
/// must see the office's number. Returns once the customer's phone has the call.
pub fn dial_customer(server: SocketAddr, receptionist: &mut Baresip, customer: &mut Baresip) {
    receptionist.command("dial", &format!("sip:0601000000@{server}"));
    let incoming = customer.wait_event("CALL_ESTABLISHED", Duration::from_secs(15));
    assert!(
        incoming["peeruri"]
            .as_str()
            .is_some_and(|u| u.starts_with("sip:48225550100@")),
        "the customer sees the office's number: {incoming}"
    );
}

/// The password the provider expects from `auth_user`.
pub fn provider_password(auth_user: &str) -> String {
    format!("provider-pass-{auth_user}")
}

#[derive(Debug)]
pub struct Provider {
    child: Child,
    pub addr: SocketAddr,
    /// Where it takes SIP over TLS, when started so.
    pub tls_addr: Option<SocketAddr>,
    /// Its self-signed TLS certificate (PEM), naming 127.0.0.1.
    pub certificate: Option<String>,
    log: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl Provider {
    pub fn start() -> Provider {
        Provider::start_with(false)
    }

    /// A provider that also takes SIP over TLS, with a certificate of its own.
    pub fn start_tls() -> Provider {
        Provider::start_with(true)
    }

    fn start_with(tls: bool) -> Provider {
        require("kamailio", "apt-get install kamailio");
        if tls {
            assert!(
                Path::new("/usr/lib/x86_64-linux-gnu/kamailio/modules/tls.so").exists(),
                "Kamailio's TLS module is missing: apt-get install kamailio-tls-modules"
            );
        }
        let template = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/kamailio-provider.cfg"),
        )
        .expect("provider configuration");
        for _attempt in 0..3 {
            let dir = tempfile::tempdir().expect("tempdir");
            let addr = SocketAddr::from(([127, 0, 0, 1], restartable_port()));
            let cfg = dir.path().join("provider.cfg");
            let (tls_addr, certificate, tls_lines) = if tls {
                let at = SocketAddr::from(([127, 0, 0, 1], restartable_port()));
                let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()])
                    .expect("a certificate");
                let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
                std::fs::write(&cert, made.cert.pem()).expect("write certificate");
                std::fs::write(&key, made.signing_key.serialize_pem()).expect("write key");
                let tls_cfg = dir.path().join("tls.cfg");
                std::fs::write(
                    &tls_cfg,
                    format!(
                        "[server:default]\nmethod = TLSv1.2+\ncertificate = {}\nprivate_key = {}\n\
                         [client:default]\nmethod = TLSv1.2+\nverify_certificate = no\nrequire_certificate = no\n",
                        cert.display(),
                        key.display()
                    ),
                )
                .expect("write tls.cfg");
                let lines = format!(
                    "enable_tls=yes\nlisten=tls:{at}\nloadmodule \"tls.so\"\n\
                     modparam(\"tls\", \"config\", \"{}\")\n",
                    tls_cfg.display()
                );
                (Some(at), Some(made.cert.pem()), lines)
            } else {
                (None, None, String::new())
            };
            std::fs::write(
                &cfg,
                template
                    .replace("__LISTEN__", &addr.to_string())
                    .replace("__TLS__", &tls_lines),
            )
            .expect("write provider configuration");
            let (child, log) = spawn_kamailio(dir.path());
            let provider = Provider {
                child,
                addr,
                tls_addr,
                certificate,
                log,
                _dir: dir,
            };
            if provider.answers_options() {
                return provider;
            }
        }
        panic!("Kamailio did not come up as the provider");
    }

    /// Stops the provider, which forgets every registration (it keeps them in memory),
    /// and starts it again at the same addresses; `down` runs while it is stopped.
    pub fn restart(&mut self, down: impl FnOnce()) {
        self.stop();
        down();
        // The old workers may hold the ports a moment longer than their parent lives.
        for _ in 0..3 {
            let (child, log) = spawn_kamailio(self._dir.path());
            self.child = child;
            self.log = log;
            if self.answers_options() {
                return;
            }
            self.stop();
            std::thread::sleep(Duration::from_millis(500));
        }
        panic!("Kamailio did not come back up");
    }

    fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits until the provider answers an OPTIONS (it is up).
    fn answers_options(&self) -> bool {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        let local = socket.local_addr().expect("addr");
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut n = 0;
        while Instant::now() < deadline {
            n += 1;
            let options = format!(
                "OPTIONS sip:{0} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bKprobe{n}\r\n\
                 Max-Forwards: 70\r\nFrom: <sip:probe@{local}>;tag=p{n}\r\nTo: <sip:{0}>\r\n\
                 Call-ID: probe{n}@test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
                self.addr
            );
            let _ = socket.send_to(options.as_bytes(), self.addr);
            let mut buf = [0u8; 2048];
            if let Ok((len, _)) = socket.recv_from(&mut buf)
                && buf[..len].starts_with(b"SIP/2.0 200")
            {
                return true;
            }
        }
        false
    }

    /// The provider's log lines that contain `needle`, waiting up to `limit` for the
    /// first.
    pub fn wait_for(&self, needle: &str, limit: Duration) -> Vec<String> {
        let deadline = Instant::now() + limit;
        loop {
            let found = self.lines(needle);
            if !found.is_empty() {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "the provider never logged {needle:?} in {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The log lines so far that contain `needle`.
    pub fn lines(&self, needle: &str) -> Vec<String> {
        self.log
            .lock()
            .expect("log")
            .iter()
            .filter(|l| l.contains(needle))
            .cloned()
            .collect()
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A port for UDP and TCP free now and below the kernel's ephemeral ports (32768 and
/// up) and the test servers' RTP ranges (20000 and up), so that while the provider is
/// down for a restart no other test's outgoing connection takes it: CI saw Kamailio's
/// TCP port, first given out by the kernel, held for minutes after a restart.
fn restartable_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed) + std::process::id() * 7919;
        let port = 10_000 + (n % 10_000) as u16;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        // Without SO_REUSEADDR (std's listener sets it), as Kamailio binds.
        let tcp = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .is_ok_and(|s| s.bind(&addr.into()).is_ok());
        if tcp && UdpSocket::bind(addr).is_ok() {
            return port;
        }
    }
}

/// Kamailio on `dir`'s provider.cfg, its log kept (and echoed) line by line.
fn spawn_kamailio(dir: &Path) -> (Child, Arc<Mutex<Vec<String>>>) {
    let mut child = Command::new("kamailio")
        .arg("-f")
        .arg(dir.join("provider.cfg"))
        .args(["-DD", "-E", "-m", "64", "-M", "8", "-Y"])
        .arg(dir)
        .arg("-P")
        .arg(dir.join("kamailio.pid"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start kamailio");
    let log = Arc::new(Mutex::new(Vec::new()));
    let stderr = child.stderr.take().expect("stderr");
    let kept = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("[provider] {line}");
            kept.lock().expect("log").push(line);
        }
    });
    (child, log)
}
