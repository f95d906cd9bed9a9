//! SIP over TLS and the panel over HTTPS, with the certificate Switchboard made at its
//! first start: two baresip phones register over TLS (trusting that certificate), call
//! each other and hear each other, in the clear and with the caller's audio in SRTP;
//! the registrations are kept as TLS ones; the panel answers over HTTPS and its session
//! cookie is then `Secure`.

use std::process::Command;
use std::time::Duration;

use switchboard_e2e::audio::{self, heard};
use switchboard_e2e::baresip::{Baresip, PhoneSetup, Tls};
use switchboard_e2e::pcap::{Capture, speech_in_the_clear};
use switchboard_e2e::*;

/// 100 calls 101, both registered over TLS to a server with `office`, each encrypting
/// its audio (mandatory SRTP) when told; fails unless each heard the other. Returns
/// the server and how clearly the packets on the server's RTP ports carried either
/// phone's speech ([`speech_in_the_clear`]).
fn call_over_tls(office: &str, caller_srtp: bool, callee_srtp: bool) -> (Server, f64) {
    let server = Server::start(office);
    let certificate = server.data_dir().join("tls").join("certificate.pem");
    assert!(
        certificate.exists(),
        "a certificate is made at the first start"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let (en, ru) = (dir.path().join("en.wav"), dir.path().join("ru.wav"));
    audio::speech("en", 40, &en);
    audio::speech("ru", 40, &ru);
    let tls = |srtp| Tls {
        ca: &certificate,
        srtp,
    };
    let mut caller = Baresip::start_tls(
        server.sip_tls,
        PhoneSetup::pcmu("100", &en, false),
        tls(caller_srtp),
    );
    let mut callee = Baresip::start_tls(
        server.sip_tls,
        PhoneSetup::pcmu("101", &ru, true),
        tls(callee_srtp),
    );
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 2);
    let capture = Capture::udp_ports(server.rtp.0, server.rtp.1);
    caller.command("dial", &format!("sip:101@{};transport=tls", server.sip_tls));
    caller.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    callee.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(6));
    caller.command("hangup", "");
    callee.wait_event("CALL_CLOSED", Duration::from_secs(10));
    server.wait_metric("active_calls", Duration::from_secs(5), |c| c == 0);
    let packets = capture.stop();
    assert!(packets.len() > 200, "{} packets captured", packets.len());
    let at_caller = audio::read_at_call_rate(&caller.heard());
    let at_callee = audio::read_at_call_rate(&callee.heard());
    audio::assert_heard("the caller", heard(&audio::read(&ru).0, &at_caller));
    audio::assert_heard("the callee", heard(&audio::read(&en).0, &at_callee));
    assert_eq!(server.call_records()[0].outcome.as_str(), "answered");
    let clear = speech_in_the_clear(&packets, &[&en, &ru]);
    (server, clear)
}

#[test]
fn phones_registered_over_tls_call_and_hear_each_other() {
    let (server, clear) = call_over_tls(&config("", FAST_REGISTRAR), false, false);
    // Without SRTP the speech crosses the wire as it is: the check can see it.
    assert!(clear > 0.9, "speech in the clear scored {clear:.2}");
    // The registrar kept the bindings as TLS ones: calls to them go back over TLS.
    let store = switchboard_store::Store::open(&server.data_dir().join("switchboard.db"))
        .expect("open the database");
    std::thread::sleep(Duration::from_millis(400));
    let transports: Vec<String> = store
        .registrations(0)
        .expect("registrations")
        .into_iter()
        .map(|r| r.transport)
        .collect();
    assert_eq!(transports, ["TLS", "TLS"]);
}

/// The caller's baresip insists on SRTP (it hangs up on a call in the clear): the call
/// connecting and both recordings matching shows Switchboard answered with SRTP,
/// decrypts what the caller says and encrypts what it hears, while the callee, which
/// offers none, talks in the clear.
#[test]
fn a_caller_that_encrypts_its_audio_is_answered_with_srtp_and_both_hear_each_other() {
    call_over_tls(&config("", FAST_REGISTRAR), true, false);
}

#[test]
fn the_panel_answers_over_https_with_a_secure_session_cookie() {
    require("curl", "apt-get install curl");
    let server = Server::start(&config("", FAST_REGISTRAR));
    let certificate = server.data_dir().join("tls").join("certificate.pem");
    let curl = |args: &[&str]| {
        let out = Command::new("curl")
            .args(["-sS", "-i", "--max-time", "10", "--cacert"])
            .arg(&certificate)
            .args(args)
            .output()
            .expect("run curl");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let health = curl(&[&format!("https://{}/health", server.https)]);
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.contains("\"status\":\"ok\""), "{health}");
    let login = serde_json::json!({"username": "admin", "password": server.admin_password()});
    let answer = curl(&[
        "-H",
        "Content-Type: application/json",
        "--data",
        &login.to_string(),
        &format!("https://{}/api/session", server.https),
    ]);
    let cookie = answer
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap_or_else(|| panic!("no cookie: {answer}"));
    assert!(cookie.contains("; Secure"), "{cookie}");
    // Over plain HTTP the cookie cannot be Secure (the browser would drop it).
    let (_, head, _) = server.request_with_head(
        "POST",
        "/api/session",
        "Content-Type: application/json\r\n",
        login.to_string().as_bytes(),
    );
    assert!(!head.contains("; Secure"), "{head}");
}

/// The office's configuration with 101 made to encrypt: TLS and SRTP only.
fn office_where_101_encrypts() -> String {
    let pass = password("101");
    config("", FAST_REGISTRAR).replace(
        &format!("password = \"{pass}\"\n"),
        &format!("password = \"{pass}\"\nencryption = \"require\"\n"),
    )
}

#[test]
fn an_extension_that_requires_encryption_is_called_in_srtp_and_refused_in_the_clear() {
    let office = office_where_101_encrypts();
    assert!(office.contains("encryption = \"require\""));
    // Registering over UDP is refused.
    let server = Server::start(&office);
    sipp(
        &server,
        "register_auth.xml",
        &[format!("101;{};600", password("101"))],
        &["-recv_timeout", "2000", "-max_retrans", "1"],
    )
    .expect(0, 1);
    drop(server);
    // Over TLS, with mandatory SRTP on both phones: both legs are encrypted, and not
    // one packet on the wire carries their speech in the clear.
    let (_, clear) = call_over_tls(&office, true, true);
    assert!(clear < 0.5, "speech in the clear scored {clear:.2}");
}
