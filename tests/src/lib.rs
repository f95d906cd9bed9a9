//! Harness for Switchboard's end-to-end tests: the built `switchboard-server` binary on
//! loopback, provisioned through `config import`, driven by real third-party SIP peers
//! (SIPp, baresip, pjsua2). A missing peer fails the test with the install command:
//! these tests never pass by skipping.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub mod app_phone;
pub mod audio;
pub mod baresip;
pub mod linphone;
pub mod pcap;
pub mod provider;
pub mod pulse;
pub mod smtp;
pub mod webhook_receiver;

/// Passwords of the extensions every test server has.
pub const PASSWORDS: [(&str, &str); 4] = [
    ("100", "e2e-pass-100-Xq"),
    ("101", "e2e-pass-101-Wr"),
    ("102", "e2e-pass-102-Vs"),
    ("103", "e2e-pass-103-Ut"),
];

/// Extensions that tests create themselves (through the admin panel), with the
/// passwords they give them.
pub const CREATED_BY_TESTS: [(&str, &str); 1] = [("105", "e2e-pass-105-Qz")];

pub fn password(ext: &str) -> &'static str {
    PASSWORDS
        .iter()
        .chain(CREATED_BY_TESTS.iter())
        .find(|(n, _)| *n == ext)
        .map(|(_, p)| *p)
        .expect("known extension")
}

/// The test configuration; `sip` and `registrar` lines can be overridden.
pub fn config(sip_extra: &str, registrar: &str) -> String {
    let mut out =
        format!("[sip]\nrealm = \"switchboard\"\n{sip_extra}\n[registrar]\n{registrar}\n");
    for (number, pass) in PASSWORDS {
        out.push_str(&format!("[[extensions]]\nnumber = \"{number}\"\nname = \"Desk {number}\"\npassword = \"{pass}\"\n\n"));
    }
    out
}

/// The record of the call `caller` made, among `records`.
#[track_caller]
pub fn record_of<'a>(
    records: &'a [switchboard_core::CallRecord],
    caller: &str,
) -> &'a switchboard_core::CallRecord {
    records
        .iter()
        .find(|r| r.caller == caller)
        .unwrap_or_else(|| panic!("no call from {caller}: {records:#?}"))
}

/// Fails unless the history of the call `caller` made tells `part`.
#[track_caller]
pub fn assert_history_tells(records: &[switchboard_core::CallRecord], caller: &str, part: &str) {
    let history = record_of(records, caller)
        .history
        .as_deref()
        .unwrap_or_default();
    assert!(history.contains(part), "{part:?} not in {history:?}");
}

/// The registrar settings most tests use: short enough that refreshes happen in seconds.
pub const FAST_REGISTRAR: &str =
    "default_expires = 600\nmin_expires = 10\nmax_expires = 3600\nmax_contacts = 5";

/// A test office whose box 101 is e-mailed to anna@office.example through a plain
/// SMTP server at 127.0.0.1:`smtp_port`.
pub fn office_mailing_voicemail(smtp_port: u16) -> String {
    format!(
        "{}\n[email]\nserver = \"127.0.0.1:{smtp_port}\"\nsecurity = \"none\"\n\
         from = \"Switchboard <pbx@office.example>\"\n\n[voicemail]\n\
         boxes = [{{ number = \"101\", email = \"anna@office.example\" }}]\n",
        config("", FAST_REGISTRAR)
    )
}

pub fn server_binary() -> PathBuf {
    if let Ok(path) = std::env::var("SWITCHBOARD_SERVER_BIN") {
        return path.into();
    }
    // target/<profile>/deps/this-test → target/<profile>/switchboard-server
    let exe = std::env::current_exe().expect("test executable path");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("switchboard-server"));
    match bin {
        Some(b) if b.exists() => b,
        _ => panic!(
            "switchboard-server is not built: run `cargo build -p switchboard-server` first (scripts/test does)"
        ),
    }
}

/// Fails with the way to install a peer when it is absent.
pub fn require(tool: &str, install: &str) {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "{tool} is needed for this test: {install} (scripts/test installs it)"
    );
}

/// Starts a pjsua2 peer script from tests/peers/ with a time limit of 90 s; its stdout
/// (JSON lines) is piped.
pub fn pjsua2_peer(script: &str, args: &[&str]) -> Child {
    let ok = Command::new("python3")
        .args(["-c", "import pjsua2"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "pjsua2 is needed: pip install pjsua2-python (scripts/test installs it)"
    );
    Command::new("timeout")
        .args(["90", "python3"])
        .arg(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("peers")
                .join(script),
        )
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("run pjsua2")
}

/// A pjsua2 phone registered as `extension` that answers the first call and prints the
/// keys it receives; returns once it is registered (the only binding so far).
pub fn pjsua2_callee(server: &Server, extension: &str) -> Child {
    let sip = server.sip.to_string();
    let callee = pjsua2_peer(
        "pjsua2_call.py",
        &["callee", &sip, extension, password(extension), "30"],
    );
    server.wait_metric("bindings", Duration::from_secs(15), |b| b == 1);
    callee
}

/// Extension 100 calls `target` with pjsua2, sends `digits` by `method` ("info" or
/// "rfc2833") once answered and hangs up; fails unless the call was answered.
pub fn pjsua2_keys_call(server: &Server, target: &str, digits: &str, method: &str) {
    let sip = server.sip.to_string();
    let caller = pjsua2_peer(
        "pjsua2_call.py",
        &[
            "caller",
            &sip,
            "100",
            password("100"),
            target,
            digits,
            method,
        ],
    );
    let said = json_lines(caller);
    assert!(
        said.iter().any(|e| e["confirmed"] == true),
        "caller: {said:?}"
    );
}

/// `extension` calls `target` with pjsua2, types `digits` by SIP INFO once answered (a
/// comma waits a second), records what it hears to `heard` and, given `says`, plays
/// that WAV over and over; hangs up after `seconds` unless Switchboard did first.
/// Fails unless the call was answered.
pub fn pjsua2_listener(
    server: &Server,
    extension: &str,
    target: &str,
    digits: &str,
    seconds: u32,
    heard: &Path,
    says: Option<&Path>,
) {
    let sip = server.sip.to_string();
    let seconds = seconds.to_string();
    let mut args = vec![
        "listener",
        &sip,
        extension,
        password(extension),
        target,
        digits,
        &seconds,
        heard.to_str().expect("utf-8 path"),
    ];
    args.extend(says.map(|p| p.to_str().expect("utf-8 path")));
    let said = json_lines(pjsua2_peer("pjsua2_call.py", &args));
    assert!(
        said.iter().any(|e| e["confirmed"] == true),
        "{extension} calling {target}: {said:?}"
    );
    assert!(heard.exists(), "pjsua2 recorded nothing: {said:?}");
}

/// Waits for a peer that prints JSON lines and returns them.
pub fn json_lines(child: Child) -> Vec<serde_json::Value> {
    let out = child.wait_with_output().expect("peer output");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// A free port on loopback for UDP and TCP alike.
pub fn free_port() -> u16 {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
        let port = udp.local_addr().expect("addr").port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A range of 200 RTP ports for one test server, so servers of tests running in
/// parallel do not compete for the same ports. The ranges lie below the kernel's
/// ephemeral ports (32768 and up), where the peers' own sockets land.
pub fn rtp_range() -> (u16, u16) {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed) + std::process::id() * 37;
        let low = 20_000 + (n % 60) as u16 * 200;
        if (low..low + 8).all(|p| UdpSocket::bind(("127.0.0.1", p)).is_ok()) {
            return (low, low + 199);
        }
    }
}

/// A running `switchboard-server` with its own data directory.
#[derive(Debug)]
pub struct Server {
    child: Option<Child>,
    data_dir: PathBuf,
    _keep: Option<tempfile::TempDir>,
    pub sip: SocketAddr,
    /// SIP over TLS.
    pub sip_tls: SocketAddr,
    pub http: SocketAddr,
    /// The panel over HTTPS.
    pub https: SocketAddr,
    /// The UDP ports its calls' audio may use, first and last.
    pub rtp: (u16, u16),
    pub stdout: String,
}

impl Server {
    /// A fresh data directory, provisioned with `config_toml`, server started.
    pub fn start(config_toml: &str) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let data_dir = dir.path().join("data");
        import_config(&data_dir, config_toml).expect("test configuration imports");
        let mut server = Server::launch(&data_dir);
        server._keep = Some(dir);
        server
    }

    /// Starts the server on an existing data directory.
    pub fn launch(data_dir: &Path) -> Server {
        Server::launch_with_rtp(data_dir, rtp_range())
    }

    /// [`Server::launch`] with the RTP ports `first..=last` (from [`rtp_range`]).
    pub fn launch_with_rtp(data_dir: &Path, rtp: (u16, u16)) -> Server {
        Server::spawn(data_dir, rtp, "127.0.0.1:0", "127.0.0.1:0")
    }

    /// Starts a stopped server again on the same data directory, the same SIP address
    /// and the same HTTP address, as an admin restarting it would: phones keep their
    /// settings and open panels reconnect.
    pub fn relaunch(&mut self) {
        let again = Server::spawn(
            &self.data_dir,
            self.rtp,
            &self.http.to_string(),
            &self.sip.to_string(),
        );
        let keep = self._keep.take();
        *self = again;
        self._keep = keep;
    }

    /// Starts `program` (an installed switchboard-server) on `data_dir` as the system
    /// user `user`, keeping this environment, as a service manager would.
    pub fn launch_as(user: &str, program: &Path, data_dir: &Path) -> Server {
        let mut command = Command::new("setpriv");
        command
            .args(["--reuid", user, "--regid", user, "--init-groups", "--"])
            .arg(program);
        let arg = data_dir.to_str().expect("utf-8 path");
        Server::launch_command(command, arg, data_dir)
    }

    /// Starts `command` (a server binary, or what runs one: Wine) with `--data-dir
    /// data_dir_arg`, the folder this machine sees as `data_dir`.
    pub fn launch_command(command: Command, data_dir_arg: &str, data_dir: &Path) -> Server {
        let (http, sip) = ("127.0.0.1:0", "127.0.0.1:0");
        Server::spawn_command(command, data_dir_arg, data_dir, rtp_range(), http, sip)
    }

    fn spawn(data_dir: &Path, rtp: (u16, u16), http: &str, sip: &str) -> Server {
        let arg = data_dir.to_str().expect("utf-8 path");
        Server::spawn_command(Command::new(server_binary()), arg, data_dir, rtp, http, sip)
    }

    fn spawn_command(
        mut command: Command,
        data_dir_arg: &str,
        data_dir: &Path,
        rtp: (u16, u16),
        http: &str,
        sip: &str,
    ) -> Server {
        let mut child = command
            .args(["--data-dir", data_dir_arg])
            .args([
                "--sip-listen",
                sip,
                "--http-listen",
                http,
                "--sip-tls-listen",
                "127.0.0.1:0",
                "--https-listen",
                "127.0.0.1:0",
                "--rtp-ports",
                &format!("{}-{}", rtp.0, rtp.1),
            ])
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start switchboard-server");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[server] {line}");
                let _ = tx.send(line);
            }
        });
        let stdout = child.stdout.take().expect("stdout");
        let (out_tx, out_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut text = String::new();
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                text.push_str(&line);
                if line.contains("config import") {
                    let _ = out_tx.send(std::mem::take(&mut text));
                }
                line.clear();
            }
            let _ = out_tx.send(text);
        });
        // Generous: a debug build under Wine takes its time.
        let deadline = Instant::now() + Duration::from_secs(60);
        let Listening {
            sip,
            sip_tls,
            http,
            https,
        } = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx
                .recv_timeout(left)
                .expect("server announces where it listens within 60 s");
            if let Some(listening) = parse_listening(&line) {
                break listening;
            }
        };
        let stdout = out_rx
            .recv_timeout(Duration::from_millis(200))
            .unwrap_or_default();
        Server {
            child: Some(child),
            data_dir: data_dir.to_path_buf(),
            _keep: None,
            sip,
            sip_tls,
            http,
            https,
            rtp,
            stdout,
        }
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Stops with SIGTERM, as an admin or systemd would, and waits for a clean exit.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("server running");
        signal(&child, "TERM");
        wait_with_deadline(&mut child, Duration::from_secs(10))
            .expect("server exits within 10 s of SIGTERM")
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("server running").id()
    }

    /// Kills with SIGKILL: no chance to flush anything.
    pub fn kill9(&mut self) {
        let mut child = self.child.take().expect("server running");
        signal(&child, "KILL");
        let _ = child.wait();
    }

    /// The call records the server has committed, newest first, read from its database
    /// as any other reader would.
    pub fn call_records(&self) -> Vec<switchboard_core::CallRecord> {
        switchboard_store::Store::open(&self.data_dir.join("switchboard.db"))
            .expect("open the server's database")
            .call_records(1000)
            .expect("read call records")
    }

    /// How many unexpired sign-ins the server has committed to its database.
    pub fn stored_registrations(&self) -> usize {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        switchboard_store::Store::open(&self.data_dir.join("switchboard.db"))
            .expect("open the server's database")
            .registrations(now)
            .expect("read registrations")
            .len()
    }

    pub fn queue_events(&self) -> Vec<switchboard_store::QueueEventRow> {
        switchboard_store::Store::open(&self.data_dir.join("switchboard.db"))
            .expect("open the server's database")
            .queue_events(1000)
            .expect("read queue events")
    }

    /// Sends SIGHUP (reload configuration).
    pub fn hangup(&self) {
        signal(self.child.as_ref().expect("server running"), "HUP");
    }

    /// GET /health as JSON.
    pub fn health(&self) -> serde_json::Value {
        self.get_json("/health")
    }

    /// The JSON the HTTP edge answers at `path`.
    pub fn get_json(&self, path: &str) -> serde_json::Value {
        let (_, body) = self.request("GET", path, "", b"");
        serde_json::from_slice(&body).unwrap_or_else(|e| {
            panic!(
                "{path} is not JSON ({e}): {}",
                String::from_utf8_lossy(&body)
            )
        })
    }

    /// One HTTP request, logged in as `login` (extension, password) with Basic
    /// authentication; returns the status code and the body.
    pub fn http(
        &self,
        method: &str,
        path: &str,
        login: Option<(&str, &str)>,
        body: &[u8],
    ) -> (u16, Vec<u8>) {
        use base64::Engine as _;
        let auth = login
            .map(|(user, password)| {
                let token =
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
                format!("Authorization: Basic {token}\r\n")
            })
            .unwrap_or_default();
        self.request(method, path, &auth, body)
    }

    /// A new admin password, set from the command line as an owner who lost theirs
    /// would.
    pub fn admin_password(&self) -> String {
        let reset = server_command(&self.data_dir, &["admin", "reset-password"]);
        let text = String::from_utf8_lossy(&reset.stdout).to_string();
        text.lines()
            .find_map(|l| l.strip_prefix("New admin password: "))
            .unwrap_or_else(|| panic!("reset-password printed no password: {text}"))
            .trim()
            .to_string()
    }

    /// A session token of the admin API, logged in with a new admin password.
    pub fn admin_token(&self) -> String {
        self.admin_login(&self.admin_password())
    }

    /// A session token of the admin API, logged in with `password`.
    pub fn admin_login(&self, password: &str) -> String {
        let login = serde_json::json!({"username": "admin", "password": password});
        let (status, session) = self.api(None, "POST", "/api/session", Some(&login));
        assert_eq!(status, 200, "admin login: {session}");
        session["token"].as_str().expect("a token").to_string()
    }

    /// An admin API call with a bearer `token`; the status and the JSON answered
    /// (null when there is no body).
    pub fn api(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut headers = String::new();
        if let Some(token) = token {
            headers.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        if !body.is_empty() {
            headers.push_str("Content-Type: application/json\r\n");
        }
        let (status, answer) = self.request(method, path, &headers, body.as_bytes());
        let json = if answer.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&answer).unwrap_or_else(|e| {
                panic!(
                    "{method} {path} answered no JSON ({e}): {}",
                    String::from_utf8_lossy(&answer)
                )
            })
        };
        (status, json)
    }

    /// What the wallboard shows, as the admin API serves it.
    pub fn dashboard(&self, token: &str) -> serde_json::Value {
        let (status, board) = self.api(Some(token), "GET", "/api/dashboard", None);
        assert_eq!(status, 200, "{board}");
        board
    }

    /// The wallboard's calls in progress once the first is at `stage` (the wallboard is
    /// drawn at most four times a second); fails after five seconds.
    pub fn wait_first_call_stage(&self, token: &str, stage: &str) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let calls = self.dashboard(token)["calls"].clone();
            if calls[0]["stage"] == stage {
                return calls;
            }
            assert!(Instant::now() < deadline, "no call {stage}: {calls}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// One raw HTTP request with extra `headers` (each ending in CRLF); returns the
    /// status, the response head and the body.
    pub fn request_with_head(
        &self,
        method: &str,
        path: &str,
        headers: &str,
        body: &[u8],
    ) -> (u16, String, Vec<u8>) {
        let mut s = TcpStream::connect(self.http).expect("connect http");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}\
             Content-Length: {}\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).expect("write");
        s.write_all(body).expect("write");
        let mut answer = Vec::new();
        s.read_to_end(&mut answer).expect("read");
        let split = answer
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("http head");
        let status = String::from_utf8_lossy(&answer[..split])
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .expect("http status");
        let head = String::from_utf8_lossy(&answer[..split]).to_string();
        (status, head, answer[split + 4..].to_vec())
    }

    fn request(&self, method: &str, path: &str, headers: &str, body: &[u8]) -> (u16, Vec<u8>) {
        let (status, _, body) = self.request_with_head(method, path, headers, body);
        (status, body)
    }

    pub fn metric(&self, name: &str) -> u64 {
        self.health()[name]
            .as_u64()
            .unwrap_or_else(|| panic!("health has {name}"))
    }

    /// Waits until `metric` satisfies `ok`, or fails after `limit`.
    pub fn wait_metric(&self, name: &str, limit: Duration, ok: impl Fn(u64) -> bool) -> u64 {
        let deadline = Instant::now() + limit;
        loop {
            let v = self.metric(name);
            if ok(v) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "{name} stayed at {v} for {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Where the server said it listens.
struct Listening {
    sip: SocketAddr,
    sip_tls: SocketAddr,
    http: SocketAddr,
    https: SocketAddr,
}

fn parse_listening(line: &str) -> Option<Listening> {
    let after = |marker: &str, end: char| -> Option<SocketAddr> {
        line.split(marker)
            .nth(1)?
            .split(end)
            .next()?
            .trim_end_matches(',')
            .parse()
            .ok()
    };
    Some(Listening {
        sip: after("SIP ", ' ')?,
        sip_tls: after("SIP over TLS ", ' ')?,
        http: after("http://", '/')?,
        https: after("https://", '/')?,
    })
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success(), "kill -{name}");
}

fn wait_with_deadline(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs `switchboard-server config import` on a data directory.
pub fn import_config(data_dir: &Path, config_toml: &str) -> Result<(), String> {
    let file = data_dir.with_extension("toml");
    std::fs::create_dir_all(data_dir).map_err(|e| e.to_string())?;
    std::fs::write(&file, config_toml).map_err(|e| e.to_string())?;
    let out = config_command(data_dir, &["import", file.to_str().expect("utf-8")]);
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Runs `switchboard-server config ARGS…` on a data directory.
pub fn config_command(data_dir: &Path, args: &[&str]) -> Output {
    let mut full = vec!["config"];
    full.extend_from_slice(args);
    server_command(data_dir, &full)
}

/// Runs `switchboard-server --data-dir DIR ARGS…` (a subcommand) to its end.
pub fn server_command(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(server_binary())
        .args(["--data-dir", data_dir.to_str().expect("utf-8")])
        .args(args)
        .output()
        .expect("run switchboard-server")
}

/// The scenario directory shipped with these tests.
pub fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sipp")
        .join(name)
}

/// Registers `extension` from a free port with SIPp and returns the port, where a
/// SIPp phone scenario can then take its calls.
pub fn sipp_register(server: &Server, extension: &str) -> u16 {
    let port = free_port();
    let row = format!("{extension};{};300", password(extension));
    sipp_at(port, server, "register_auth.xml", &[row], &[]).expect(1, 0);
    port
}

/// What a SIPp run reported.
#[derive(Debug)]
pub struct SippRun {
    pub successful: u64,
    pub failed: u64,
    pub log: String,
    pub output: String,
}

impl SippRun {
    /// Fails, showing SIPp's output and logs, unless the call counts are these.
    #[track_caller]
    pub fn expect(&self, successful: u64, failed: u64) {
        assert_eq!(
            (self.successful, self.failed),
            (successful, failed),
            "{}\n{}",
            self.output,
            self.log
        );
    }
}

/// Runs one SIPp scenario against the server with injected `rows` (`field0;field1;…`).
pub fn sipp(server: &Server, scenario_file: &str, rows: &[String], extra: &[&str]) -> SippRun {
    sipp_at(free_port(), server, scenario_file, rows, extra)
}

/// As [`sipp`], from another loopback address (127.0.0.0/8): a second "host".
pub fn sipp_from(
    ip: &str,
    server: &Server,
    scenario_file: &str,
    rows: &[String],
    extra: &[&str],
) -> SippRun {
    sipp_run(ip, free_port(), server.sip, scenario_file, rows, extra)
}

/// As [`sipp`], towards another SIP server than Switchboard (the provider): a
/// customer's phone outside the office.
pub fn sipp_to(
    target: SocketAddr,
    scenario_file: &str,
    rows: &[String],
    extra: &[&str],
) -> SippRun {
    sipp_run("127.0.0.1", free_port(), target, scenario_file, rows, extra)
}

/// As [`sipp`], from a chosen address and port: a peer Switchboard is told where to find.
pub fn sipp_on(
    ip: &str,
    port: u16,
    server: &Server,
    scenario_file: &str,
    rows: &[String],
    extra: &[&str],
) -> SippRun {
    sipp_run(ip, port, server.sip, scenario_file, rows, extra)
}

/// As [`sipp`], from a chosen local port: the same phone contact across runs.
pub fn sipp_at(
    local_port: u16,
    server: &Server,
    scenario_file: &str,
    rows: &[String],
    extra: &[&str],
) -> SippRun {
    sipp_run(
        "127.0.0.1",
        local_port,
        server.sip,
        scenario_file,
        rows,
        extra,
    )
}

fn sipp_run(
    local_ip: &str,
    local_port: u16,
    target: SocketAddr,
    scenario_file: &str,
    rows: &[String],
    extra: &[&str],
) -> SippRun {
    require("sipp", "apt-get install sip-tester");
    // A port found free can be taken by another test's peer before SIPp binds it: a
    // SIPp that could not bind its control or media port ran no call, and runs again
    // on fresh ones.
    let mut extra: Vec<String> = extra.iter().map(|a| a.to_string()).collect();
    for _attempt in 0..3 {
        let run = sipp_once(local_ip, local_port, target, scenario_file, rows, &extra);
        let unbound = run.output.contains("errno = 98") && run.successful + run.failed == 0;
        if !unbound {
            return run;
        }
        if let Some(i) = extra.iter().position(|a| a == "-mp") {
            extra[i + 1] = free_port().to_string();
        }
    }
    panic!("SIPp could not bind its ports in three attempts");
}

fn sipp_once(
    local_ip: &str,
    local_port: u16,
    target: SocketAddr,
    scenario_file: &str,
    rows: &[String],
    extra: &[String],
) -> SippRun {
    let dir = tempfile::tempdir().expect("tempdir");
    let inf = dir.path().join("rows.csv");
    std::fs::write(&inf, format!("SEQUENTIAL\n{}\n", rows.join("\n"))).expect("write rows");
    let stats = dir.path().join("stats");
    let mut cmd = Command::new("sipp");
    cmd.current_dir(dir.path())
        .arg(target.to_string())
        .arg("-sf")
        .arg(scenario(scenario_file))
        .arg("-inf")
        .arg(&inf)
        .args([
            "-i",
            local_ip,
            "-p",
            &local_port.to_string(),
            "-cp",
            &free_port().to_string(),
        ])
        .args([
            "-m",
            &rows.len().to_string(),
            "-nostdin",
            "-timeout",
            "30s",
            "-timeout_error",
        ])
        .args(["-trace_logs", "-trace_err", "-trace_stat", "-stf"])
        .arg(&stats)
        .args(extra);
    let out = cmd.output().expect("run sipp");
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let log = std::fs::read_dir(dir.path())
        .expect("read dir")
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name().to_string_lossy().ends_with("_logs.log")
                || e.file_name().to_string_lossy().ends_with("_errors.log")
        })
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect::<String>();
    let csv = std::fs::read_to_string(&stats).unwrap_or_default();
    let (successful, failed) =
        sipp_totals(&csv).unwrap_or_else(|| panic!("SIPp wrote no statistics:\n{output}\n{log}"));
    SippRun {
        successful,
        failed,
        log,
        output,
    }
}

/// Cumulative successful and failed calls from SIPp's `-trace_stat` CSV (last row).
fn sipp_totals(csv: &str) -> Option<(u64, u64)> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next()?.split(';').collect();
    let last: Vec<&str> = lines.rfind(|l| !l.trim().is_empty())?.split(';').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .and_then(|i| last.get(i)?.parse().ok())
    };
    Some((col("SuccessfulCall(C)")?, col("FailedCall(C)")?))
}

/// Sends one raw datagram and returns the first line of each reply within `wait`.
pub fn udp_exchange(server: &Server, payload: &[u8], wait: Duration) -> Vec<String> {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.set_read_timeout(Some(wait)).expect("timeout");
    sock.send_to(payload, server.sip).expect("send");
    let mut replies = Vec::new();
    let mut buf = [0u8; 65_536];
    while let Ok((n, _)) = sock.recv_from(&mut buf) {
        replies.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    replies
}
