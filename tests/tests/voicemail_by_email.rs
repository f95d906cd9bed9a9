//! Voicemail to e-mail through a real SMTP server (Python's aiosmtpd, plain SMTP on
//! loopback, storing what it receives in a Maildir): 100 leaves 101 a message while the
//! SMTP server is down; the admin sees the failed try and its error; once the server is
//! up the e-mail arrives at 101's address, the recording attached, and the recording
//! holds the caller's speech. (STARTTLS and TLS need a certificate the server trusts
//! from public authorities; they are not tried here.)

use std::time::{Duration, Instant};

use switchboard_e2e::audio::{self, heard};
use switchboard_e2e::baresip::{self, Baresip, PhoneSetup};
use switchboard_e2e::smtp::{self, first_mail, smtp_server};
use switchboard_e2e::*;

#[test]
fn a_message_is_mailed_with_its_recording_once_the_smtp_server_is_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let smtp_port = free_port();
    let office = office_mailing_voicemail(smtp_port);
    let server = Server::start(&office);
    let token = server.admin_token();

    // 100 leaves 101 a message (*101) while nothing listens on the SMTP port.
    let (speech, microphone) = baresip::message_after_greeting(dir.path(), 5);
    let mut phone = Baresip::start(server.sip, PhoneSetup::pcmu("100", &microphone, false));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 1);
    baresip::leave_message(&mut phone, server.sip, "101");

    // The admin sees the failed try.
    let deadline = Instant::now() + Duration::from_secs(10);
    let waiting = loop {
        let (status, mail) = server.api(Some(&token), "GET", "/api/mail", None);
        assert_eq!(status, 200, "{mail}");
        if mail[0]["attempts"].as_u64() >= Some(1) {
            break mail[0].clone();
        }
        assert!(Instant::now() < deadline, "no try within 10 s: {mail}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(waiting["recipient"], "anna@office.example", "{waiting}");
    assert!(waiting["sent_at"].is_null(), "{waiting}");
    assert!(
        waiting["last_error"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "the error is shown: {waiting}"
    );

    // The SMTP server comes up; the next try (5 s after the first) delivers, or if the
    // server was not yet listening then, the one after (30 s later).
    let maildir = dir.path().join("maildir");
    let mut smtp = smtp_server(smtp_port, &maildir);
    let raw = first_mail(&maildir, Duration::from_secs(45));
    let _ = smtp.kill();
    let _ = smtp.wait();
    let mail = mailparse::parse_mail(&raw).expect("a MIME e-mail");
    let header = |name: &str| smtp::header(&mail, name);
    assert!(
        header("To").contains("anna@office.example"),
        "{}",
        header("To")
    );
    assert!(
        header("Subject").starts_with("Voicemail for 101 from 100"),
        "{}",
        header("Subject")
    );
    let wav = mail
        .subparts
        .iter()
        .find(|p| p.ctype.mimetype == "audio/wav")
        .expect("the recording attached")
        .get_body_raw()
        .expect("the attachment's bytes");
    let attached = dir.path().join("attached.wav");
    std::fs::write(&attached, &wav).expect("write");
    let (spoken, _) = audio::read(&speech);
    audio::assert_heard(
        "the e-mailed recording, the caller",
        heard(&spoken, &audio::read_at_call_rate(&attached)),
    );

    let (_, log) = server.api(Some(&token), "GET", "/api/mail", None);
    assert!(log[0]["sent_at"].is_i64(), "marked sent: {log}");
    assert!(log[0]["last_error"].is_null(), "{log}");
}

/// A box that asks for its missed calls: 100 calls 101, whose phone rings, and hangs
/// up before anyone answers; 101's owner gets an e-mail saying who called.
#[test]
fn a_call_nobody_answered_is_mailed_to_the_box_that_asks_for_missed_calls() {
    let dir = tempfile::tempdir().expect("tempdir");
    let smtp_port = free_port();
    let maildir = dir.path().join("maildir");
    let mut smtp = smtp_server(smtp_port, &maildir);
    let office = office_mailing_voicemail(smtp_port).replace(
        "email = \"anna@office.example\" }",
        "email = \"anna@office.example\", missed_calls = true }",
    );
    let server = Server::start(&office);
    let voices = audio::Voices::new(dir.path());
    let mut caller = Baresip::start(server.sip, PhoneSetup::pcmu("100", &voices.en, false));
    let mut desk = Baresip::start(server.sip, PhoneSetup::pcmu("101", &voices.ru, false));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 2);
    baresip::ring_and_give_up(&mut caller, &mut desk, server.sip, "101");

    let raw = first_mail(&maildir, Duration::from_secs(30));
    let _ = smtp.kill();
    let _ = smtp.wait();
    let mail = mailparse::parse_mail(&raw).expect("a MIME e-mail");
    let subject = mail
        .headers
        .iter()
        .find(|h| h.get_key().eq_ignore_ascii_case("Subject"))
        .map(|h| h.get_value())
        .unwrap_or_default();
    assert!(
        subject.starts_with("Missed call for 101 from 100 ("),
        "{subject}"
    );
    let body = mail.get_body().expect("a text body");
    assert!(body.contains("hung up before anyone answered"), "{body}");
    let record = server.call_records().remove(0);
    assert_eq!(record.outcome.as_str(), "cancelled");
}
