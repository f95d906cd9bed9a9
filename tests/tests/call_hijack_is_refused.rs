//! An attacker on the office network, with no password, tries to take over a call
//! between two phones: by predicting the call's identifiers from Switchboard's answers
//! to two probes, and by sending requests inside the dialog with identifiers sniffed
//! from the wire. Neither hangs the call up, moves its audio or takes a single packet
//! of it; the phones keep hearing each other.

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use switchboard_e2e::audio::{self, heard};
use switchboard_e2e::baresip::{Baresip, PhoneSetup, conversation, hang_up_and_compare};
use switchboard_e2e::*;

/// The attacker's own UDP socket, somewhere else on the network than either phone.
struct Attacker {
    sock: UdpSocket,
    server: SocketAddr,
    sent: u32,
}

impl Attacker {
    fn new(server: SocketAddr) -> Attacker {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        Attacker {
            sock,
            server,
            sent: 0,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.sock.local_addr().expect("addr")
    }

    /// Sends a request: `method` inside the dialog named by `call_id` and the tags
    /// (no To tag when `to_tag` is empty), with `sdp` as its body.
    fn send(&mut self, method: &str, call_id: &str, from_tag: &str, to_tag: &str, sdp: &str) {
        self.sent += 1;
        let to_tag = if to_tag.is_empty() {
            String::new()
        } else {
            format!(";tag={to_tag}")
        };
        let content_type = if sdp.is_empty() {
            ""
        } else {
            "Content-Type: application/sdp\r\n"
        };
        let me = self.addr();
        let message = format!(
            "{method} sip:100@{server} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {me};branch=z9hG4bKatk{n};rport\r\n\
             From: <sip:101@{server}>;tag={from_tag}\r\n\
             To: <sip:100@{server}>{to_tag}\r\n\
             Call-ID: {call_id}\r\nCSeq: {cseq} {method}\r\nMax-Forwards: 70\r\n\
             Contact: <sip:101@{me}>\r\n{content_type}Content-Length: {len}\r\n\r\n{sdp}",
            server = self.server,
            n = self.sent,
            cseq = 1000 + self.sent,
            len = sdp.len(),
        );
        self.sock
            .send_to(message.as_bytes(), self.server)
            .expect("send");
    }

    /// Every SIP answer that arrives within `wait`.
    fn answers(&self, wait: Duration) -> Vec<String> {
        let deadline = Instant::now() + wait;
        let mut out = Vec::new();
        let mut buf = [0u8; 65_536];
        while Instant::now() < deadline {
            if let Ok((n, _)) = self.sock.recv_from(&mut buf) {
                out.push(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
        }
        out
    }
}

fn status(answer: &str) -> u16 {
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

fn to_tag(answer: &str) -> Option<String> {
    let to = answer
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("to:"))?;
    Some(to.split(";tag=").nth(1)?.trim().to_string())
}

/// SplitMix64, the kind of fast generator whose every output gives away its state: the
/// attacker's model of how identifiers might be made.
mod splitmix {
    const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;
    const M1: u64 = 0xbf58_476d_1ce4_e5b9;
    const M2: u64 = 0x94d0_49bb_1331_11eb;

    pub fn output(state: u64) -> u64 {
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(M1);
        z = (z ^ (z >> 27)).wrapping_mul(M2);
        z ^ (z >> 31)
    }

    fn unshift(z: u64, s: u32) -> u64 {
        let mut x = z;
        for _ in 0..(64 / s + 1) {
            x = z ^ (x >> s);
        }
        x
    }

    fn inverse(odd: u64) -> u64 {
        let mut inv = odd;
        for _ in 0..6 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(odd.wrapping_mul(inv)));
        }
        inv
    }

    /// The state that printed `out`.
    pub fn state_of(out: u64) -> u64 {
        let z = unshift(out, 31).wrapping_mul(inverse(M2));
        let z = unshift(z, 27).wrapping_mul(inverse(M1));
        unshift(z, 30)
    }

    /// The state `steps` outputs before (negative: after) `state`.
    pub fn back(state: u64, steps: i64) -> u64 {
        state.wrapping_sub(GAMMA.wrapping_mul(steps as u64))
    }
}

#[test]
fn identifiers_predicted_from_two_probes_reach_no_call() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let dir = tempfile::tempdir().expect("tempdir");
    let (caller, callee) = conversation(&server, dir.path());

    // Two probes that match nothing: BYEs without a To tag.
    let mut attacker = Attacker::new(server.sip);
    let mut tags = Vec::new();
    for probe in ["probe-one", "probe-two"] {
        attacker.send("BYE", probe, "x1", "", "");
        let answers = attacker.answers(Duration::from_millis(500));
        assert_eq!(answers.len(), 1, "one answer to a probe: {answers:?}");
        assert_eq!(status(&answers[0]), 481, "{}", answers[0]);
        tags.extend(to_tag(&answers[0]));
    }
    // Whatever tag an answer to nothing carries, it says nothing of the next one.
    let outputs: Vec<u64> = tags
        .iter()
        .filter_map(|t| u64::from_str_radix(t, 16).ok())
        .collect();
    if let [first, second] = outputs[..] {
        let state = splitmix::state_of(first);
        assert_ne!(
            splitmix::output(splitmix::back(state, -1)),
            second,
            "the second probe's tag follows from the first's"
        );
    }

    // The callee's leg was made a little before the probes: its tag and Call-ID are
    // two consecutive identifiers among the last few hundred.
    if let Some(&first) = outputs.first() {
        let state = splitmix::state_of(first);
        for back in 1..400i64 {
            let tag = splitmix::output(splitmix::back(state, back + 1));
            let call_id = splitmix::output(splitmix::back(state, back));
            attacker.send(
                "BYE",
                &format!("{call_id:016x}@switchboard"),
                "x2",
                &format!("{tag:016x}"),
                "",
            );
        }
    }
    let answers = attacker.answers(Duration::from_secs(2));
    let taken: Vec<&String> = answers.iter().filter(|a| status(a) == 200).collect();
    assert!(taken.is_empty(), "a guessed BYE was accepted: {taken:?}");
    assert_eq!(server.metric("active_calls"), 1, "the call goes on");
    std::thread::sleep(Duration::from_secs(4));
    hang_up_and_compare(&server, dir.path(), caller, callee);
}

/// A SIPp phone for 101 that answers, echoes the audio it gets and logs every message
/// (as a sniffer on the LAN would see them).
fn sipp_callee(server: &Server, dir: &Path) -> (Child, std::path::PathBuf) {
    let port = sipp_register(server, "101");
    let child = Command::new("sipp")
        .current_dir(dir)
        .arg(server.sip.to_string())
        .arg("-sf")
        .arg(scenario("callee_answers.xml"))
        .args(["-inf"])
        .arg(dir.join("rows.csv"))
        .args(["-i", "127.0.0.1", "-p", &port.to_string()])
        .args(["-cp", &free_port().to_string(), "-mp"])
        .arg(free_port().to_string())
        .args(["-rtp_echo", "-m", "1", "-nostdin", "-timeout", "60s"])
        .args(["-trace_msg", "-message_file"])
        .arg(dir.join("messages.log"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run sipp");
    (child, dir.join("messages.log"))
}

/// The B leg's identifiers as the callee saw them: Call-ID, Switchboard's tag and the
/// callee's.
fn sniffed(log: &Path) -> Option<(String, String, String)> {
    let text = std::fs::read_to_string(log).ok()?;
    let invite = text.split("INVITE sip:").nth(1)?;
    let header = |name: &str| {
        invite
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with(name))
            .map(|l| l[name.len()..].trim().to_string())
    };
    let call_id = header("call-id:")?;
    let ours = header("from:")?.split(";tag=").nth(1)?.to_string();
    let answer = text.split("SIP/2.0 200 OK").nth(1)?;
    let theirs = answer
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("to:"))?
        .split(";tag=")
        .nth(1)?
        .trim()
        .to_string();
    Some((call_id, ours, theirs))
}

#[test]
fn requests_with_sniffed_identifiers_from_elsewhere_are_refused() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("rows.csv"),
        format!("SEQUENTIAL\n101;{}\n", password("101")),
    )
    .expect("rows");
    let (mut callee, log) = sipp_callee(&server, dir.path());
    let en = dir.path().join("en.wav");
    audio::speech("en", 40, &en);
    let mut caller = Baresip::start(server.sip, PhoneSetup::pcmu("100", &en, false));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 2);
    caller.command("dial", &format!("sip:101@{}", server.sip));
    caller.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    let deadline = Instant::now() + Duration::from_secs(5);
    let (call_id, ours, theirs) = loop {
        if let Some(ids) = sniffed(&log) {
            break ids;
        }
        assert!(Instant::now() < deadline, "SIPp logged no answered INVITE");
        std::thread::sleep(Duration::from_millis(100));
    };

    // The attacker moves the callee's audio to itself, then hangs the call up.
    let mut attacker = Attacker::new(server.sip);
    let rtp = UdpSocket::bind("127.0.0.1:0").expect("bind rtp");
    rtp.set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let sdp = format!(
        "v=0\r\no=x 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
        rtp.local_addr().expect("addr").port()
    );
    attacker.send("INVITE", &call_id, &theirs, &ours, &sdp);
    let answers = attacker.answers(Duration::from_secs(1));
    let finals: Vec<u16> = answers
        .iter()
        .map(|a| status(a))
        .filter(|&c| c >= 200)
        .collect();
    assert!(
        !finals.is_empty() && finals.iter().all(|&c| c >= 400),
        "the re-INVITE is refused: {answers:?}"
    );
    let mut stolen = 0;
    let mut buf = [0u8; 2048];
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        if rtp.recv_from(&mut buf).is_ok() {
            stolen += 1;
        }
    }
    assert_eq!(stolen, 0, "the attacker heard {stolen} packets of the call");
    attacker.send("BYE", &call_id, &theirs, &ours, "");
    let answers = attacker.answers(Duration::from_secs(1));
    assert!(
        answers.iter().all(|a| status(a) != 200),
        "the BYE is refused: {answers:?}"
    );
    assert_eq!(server.metric("active_calls"), 1, "the call goes on");

    // The caller still hears itself through SIPp's echo: its audio never moved.
    std::thread::sleep(Duration::from_secs(3));
    caller.command("hangup", "");
    caller.wait_event("CALL_CLOSED", Duration::from_secs(10));
    server.wait_metric("active_calls", Duration::from_secs(5), |c| c == 0);
    let _ = callee.wait();
    let (spoken, _) = audio::read(&en);
    let echoed = audio::read_at_call_rate(&caller.heard());
    audio::assert_heard("the caller's echo", heard(&spoken, &echoed));
    let record = server.call_records().remove(0);
    assert_eq!(
        (record.outcome.as_str(), record.hangup_by.as_str()),
        ("answered", "caller")
    );
}
