//! baresip 1.0 as a phone: registered to the test server, controlled over its
//! `ctrl_tcp` socket (netstring JSON), playing a WAV as its microphone and, through the
//! `sndfile` module, recording what it hears.

use std::io::{BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::audio::{self, heard};
use crate::{Server, free_port, password, require};

#[derive(Debug)]
pub struct Baresip {
    child: Child,
    control: TcpStream,
    events: mpsc::Receiver<serde_json::Value>,
    /// Every event and response seen so far, for failure messages.
    pub log: Vec<serde_json::Value>,
    dir: tempfile::TempDir,
    pub extension: String,
}

/// A phone on SIP over TLS.
#[derive(Debug, Clone, Copy)]
pub struct Tls<'a> {
    /// The certificate it trusts: Switchboard's own.
    pub ca: &'a Path,
    /// Its audio is SRTP, mandatory.
    pub srtp: bool,
}

/// How a baresip phone is set up.
#[derive(Debug, Clone)]
pub struct PhoneSetup<'a> {
    pub extension: &'a str,
    /// Its microphone: a 16-bit mono WAV at the codec's rate, longer than the call.
    pub source: &'a Path,
    /// `audio_codecs` of the account, such as "PCMA" or "G722/16000/1" (baresip names
    /// the wideband codecs by their audio rate); all of baresip's when empty.
    pub codecs: &'a str,
    pub auto_answer: bool,
}

impl<'a> PhoneSetup<'a> {
    /// A desk phone on PCMU, the codec every test office has.
    pub fn pcmu(extension: &'a str, source: &'a Path, auto_answer: bool) -> Self {
        PhoneSetup {
            extension,
            source,
            codecs: "PCMU",
            auto_answer,
        }
    }
}

impl Baresip {
    pub fn start(server: SocketAddr, setup: PhoneSetup<'_>) -> Baresip {
        let pass = password(setup.extension);
        Baresip::start_on(server, setup, None, false, pass)
    }

    /// A phone registered to `server` as `setup`'s extension with `pass`: a customer's
    /// phone at their provider, or an office phone whose password the first run made.
    pub fn start_with_password(provider: SocketAddr, setup: PhoneSetup<'_>, pass: &str) -> Baresip {
        Baresip::start_on(provider, setup, None, false, pass)
    }

    /// [`Baresip::start_with_password`] for a phone that encrypts its audio (SRTP with
    /// SDES keys, mandatory) over plain UDP signalling: a customer of a provider that
    /// offers SRTP.
    pub fn start_encrypting(provider: SocketAddr, setup: PhoneSetup<'_>, pass: &str) -> Baresip {
        Baresip::start_on(provider, setup, None, true, pass)
    }

    /// A phone that registers over TLS to `server` (Switchboard's SIP over TLS address),
    /// trusting the certificate in `tls.ca`, and with `tls.srtp` encrypts its audio
    /// (SRTP with SDES keys, mandatory: it refuses a call in the clear).
    pub fn start_tls(server: SocketAddr, setup: PhoneSetup<'_>, tls: Tls<'_>) -> Baresip {
        let pass = password(setup.extension);
        Baresip::start_on(server, setup, Some(tls), tls.srtp, pass)
    }

    fn start_on(
        server: SocketAddr,
        setup: PhoneSetup<'_>,
        tls: Option<Tls<'_>>,
        srtp: bool,
        pass: &str,
    ) -> Baresip {
        let tls_ca = tls.map(|t| t.ca);
        require("baresip", "apt-get install baresip-core");
        let dir = tempfile::tempdir().expect("tempdir");
        let records = dir.path().join("heard");
        std::fs::create_dir_all(&records).expect("recordings dir");
        let transport = if tls_ca.is_some() { "tls" } else { "udp" };
        let mut account = format!(
            "<sip:{}@{server};transport={transport}>;auth_pass={};regint=600",
            setup.extension, pass
        );
        if setup.auto_answer {
            account.push_str(";answermode=auto");
        }
        if srtp {
            account.push_str(";mediaenc=srtp-mand");
        }
        if !setup.codecs.is_empty() {
            account.push_str(&format!(";audio_codecs={}", setup.codecs));
        }
        std::fs::write(dir.path().join("accounts"), account + "\n").expect("accounts");
        // A port found free can be taken by another phone starting at the same moment
        // (baresip also binds TLS on the SIP port + 1): a phone that does not come up
        // is started again on other ports.
        for _attempt in 0..3 {
            let sip_port = free_port();
            let control_port = loop {
                let p = free_port();
                if p.abs_diff(sip_port) > 1 {
                    break p;
                }
            };
            std::fs::write(
                dir.path().join("config"),
                format!(
                    "poll_method epoll\nsip_listen 127.0.0.1:{sip_port}\nnet_interface 127.0.0.1\n\
                     audio_player aufile,/dev/null\naudio_source aufile,{}\n\
                     module_path /usr/lib/baresip/modules\nmodule g711.so\nmodule g722.so\n\
                     module opus.so\nmodule aufile.so\nmodule srtp.so\n\
                     module sndfile.so\nsnd_path {}\nmodule_app account.so\nmodule_app menu.so\n\
                     module_app ctrl_tcp.so\nctrl_tcp_listen 127.0.0.1:{control_port}\n{}",
                    setup.source.display(),
                    records.display(),
                    tls_ca
                        .map(|ca| format!("sip_cafile {}\n", ca.display()))
                        .unwrap_or_default(),
                ),
            )
            .expect("baresip config");
            let mut child = Command::new("baresip")
                .arg("-f")
                .arg(dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start baresip");
            let Some(control) = control_socket(&mut child, control_port) else {
                let _ = child.kill();
                let _ = child.wait();
                continue;
            };
            let (tx, events) = mpsc::channel();
            let reader = control.try_clone().expect("clone control socket");
            std::thread::spawn(move || read_netstrings(reader, tx));
            return Baresip {
                child,
                control,
                events,
                log: Vec::new(),
                dir,
                extension: setup.extension.to_string(),
            };
        }
        panic!(
            "baresip {} did not start in three attempts",
            setup.extension
        );
    }

    /// Sends a menu command (`dial`, `hangup`, `accept`…).
    pub fn command(&mut self, command: &str, params: &str) {
        let body =
            serde_json::json!({"command": command, "params": params, "token": command}).to_string();
        write!(self.control, "{}:{body},", body.len()).expect("write to baresip");
    }

    /// Waits for an event of `kind` (CALL_ESTABLISHED, CALL_CLOSED…) and returns it.
    pub fn wait_event(&mut self, kind: &str, limit: Duration) -> serde_json::Value {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(event) => {
                    self.log.push(event.clone());
                    if event["type"] == kind {
                        return event;
                    }
                }
                Err(_) => panic!(
                    "baresip {} saw no {kind} within {limit:?}; it saw {:#?}",
                    self.extension, self.log
                ),
            }
        }
    }

    /// Every event the phone has reported so far, without waiting.
    pub fn events(&mut self) -> &[serde_json::Value] {
        while let Ok(event) = self.events.try_recv() {
            self.log.push(event);
        }
        &self.log
    }

    /// The WAV of what this phone heard in its last call, once baresip has closed it.
    pub fn heard(&self) -> PathBuf {
        let dir = self.dir.path().join("heard");
        let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("recordings dir")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.to_string_lossy().ends_with("-dec.wav"))
            .collect();
        found.sort();
        let last = found
            .pop()
            .unwrap_or_else(|| panic!("baresip {} recorded nothing", self.extension));
        // The sndfile module closes the file just after the call's CLOSED event, and
        // only the close writes the RIFF header's final size.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !riff_complete(&last) {
            assert!(
                Instant::now() < deadline,
                "baresip {} never finished {}",
                self.extension,
                last.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        last
    }
}

/// Whether a WAV's RIFF header counts every byte of the file (its writer closed it).
fn riff_complete(path: &Path) -> bool {
    let mut header = [0u8; 8];
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let len = file.metadata().map_or(0, |m| m.len());
    file.read_exact(&mut header).is_ok()
        && &header[..4] == b"RIFF"
        && u64::from(u32::from_le_bytes([
            header[4], header[5], header[6], header[7],
        ])) + 8
            == len
}

/// Two PCMU phones talking: 100 (speaking `dir/en.wav`) has called 101 (speaking
/// `dir/ru.wav`), which answered; returned once both say the call is established.
pub fn conversation(server: &Server, dir: &Path) -> (Baresip, Baresip) {
    let (en, ru) = (dir.join("en.wav"), dir.join("ru.wav"));
    audio::speech("en", 40, &en);
    audio::speech("ru", 40, &ru);
    let mut caller = Baresip::start(server.sip, PhoneSetup::pcmu("100", &en, false));
    let mut callee = Baresip::start(server.sip, PhoneSetup::pcmu("101", &ru, true));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 2);
    caller.command("dial", &format!("sip:101@{}", server.sip));
    caller.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    callee.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    (caller, callee)
}

/// Ends a [`conversation`] from the caller's side and checks that each phone heard the
/// other all along and that the record says the caller hung up an answered call.
pub fn hang_up_and_compare(server: &Server, dir: &Path, mut caller: Baresip, mut callee: Baresip) {
    caller.command("hangup", "");
    callee.wait_event("CALL_CLOSED", Duration::from_secs(10));
    server.wait_metric("active_calls", Duration::from_secs(5), |c| c == 0);
    let (en, _) = audio::read(&dir.join("en.wav"));
    let (ru, _) = audio::read(&dir.join("ru.wav"));
    audio::assert_heard(
        "the caller",
        heard(&ru, &audio::read_at_call_rate(&caller.heard())),
    );
    audio::assert_heard(
        "the callee",
        heard(&en, &audio::read_at_call_rate(&callee.heard())),
    );
    let record = server.call_records().remove(0);
    assert_eq!(
        (record.outcome.as_str(), record.hangup_by.as_str()),
        ("answered", "caller")
    );
}

/// After six seconds of talk the caller (speaking `voices.en`) hangs up; each phone
/// must have heard the other's voice (the other party speaks `voices.ru`). Returns the
/// call log then.
pub fn talk_then_hang_up(
    server: &Server,
    voices: &audio::Voices,
    (mut caller, mut other): (Baresip, Baresip),
) -> Vec<switchboard_core::CallRecord> {
    // Long enough for several one-second windows of each voice.
    std::thread::sleep(Duration::from_secs(6));
    caller.command("hangup", "");
    other.wait_event("CALL_CLOSED", Duration::from_secs(10));
    server.wait_metric("active_calls", Duration::from_secs(5), |c| c == 0);
    let (en, _) = audio::read(&voices.en);
    let (ru, _) = audio::read(&voices.ru);
    let caller_heard = audio::read_at_call_rate(&caller.heard());
    audio::assert_heard("the caller, the other party", heard(&ru, &caller_heard));
    let other_heard = audio::read_at_call_rate(&other.heard());
    audio::assert_heard("the other party, the caller", heard(&en, &other_heard));
    server.call_records()
}

/// `caller` hangs up a call of several phones; once each of `others` has seen its own
/// call end too (Switchboard ends a supervisor's with the call it watched), what each
/// phone heard, `caller` first.
pub fn hang_up_and_listen(
    server: &Server,
    caller: &mut Baresip,
    others: &mut [&mut Baresip],
) -> Vec<Vec<f32>> {
    caller.command("hangup", "");
    for other in others.iter_mut() {
        other.wait_event("CALL_CLOSED", Duration::from_secs(10));
    }
    server.wait_metric("active_calls", Duration::from_secs(5), |c| c == 0);
    std::iter::once(&*caller)
        .chain(others.iter().map(|o| &**o))
        .map(|phone| audio::read_at_call_rate(&phone.heard()))
        .collect()
}

/// A caller's microphone for leaving a message: `seconds` of English speech that
/// starts once the built-in greeting and its beep are over, then silence (which ends
/// the message). Returns the speech alone and the microphone's file.
pub fn message_after_greeting(dir: &Path, seconds: u32) -> (PathBuf, PathBuf) {
    let speech = dir.join("message-speech.wav");
    let microphone = dir.join("message-microphone.wav");
    audio::speech("en", seconds, &speech);
    let greeting = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sounds/en/vm_greeting.wav");
    let greeting_seconds = audio::read_at_call_rate(&greeting).len() as f32 / audio::RATE as f32;
    audio::padded(&speech, greeting_seconds + 1.5, 30.0, &microphone);
    (speech, microphone)
}

/// `phone` (registered, speaking [`message_after_greeting`]'s microphone) dials `*box`
/// and stays on until Switchboard hangs up after keeping the message.
pub fn leave_message(phone: &mut Baresip, server: SocketAddr, mailbox: &str) {
    phone.command("dial", &format!("sip:*{mailbox}@{server}"));
    phone.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    phone.wait_event("CALL_CLOSED", Duration::from_secs(60));
}

impl Drop for Baresip {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The phone's control socket once it listens; None if baresip exits or takes over
/// 15 seconds.
fn control_socket(child: &mut Child, port: u16) -> Option<TcpStream> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
            return Some(s);
        }
        if Instant::now() > deadline || child.try_wait().ok().flatten().is_some() {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn read_netstrings(stream: TcpStream, tx: mpsc::Sender<serde_json::Value>) {
    let mut reader = BufReader::new(stream);
    loop {
        let mut len = Vec::new();
        let mut byte = [0u8];
        loop {
            if reader.read_exact(&mut byte).is_err() {
                return;
            }
            if byte[0] == b':' {
                break;
            }
            len.push(byte[0]);
        }
        let Some(n) = std::str::from_utf8(&len)
            .ok()
            .and_then(|s| s.parse::<usize>().ok())
        else {
            return;
        };
        let mut body = vec![0u8; n + 1];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        if let Ok(value) = serde_json::from_slice(&body[..n]) {
            let _ = tx.send(value);
        }
    }
}

/// `caller` dials `desk`'s extension and hangs up once it rings: a call nobody answered.
pub fn ring_and_give_up(
    caller: &mut Baresip,
    desk: &mut Baresip,
    server: SocketAddr,
    extension: &str,
) {
    caller.command("dial", &format!("sip:{extension}@{server}"));
    desk.wait_event("CALL_INCOMING", Duration::from_secs(10));
    caller.command("hangup", "");
    desk.wait_event("CALL_CLOSED", Duration::from_secs(10));
}
