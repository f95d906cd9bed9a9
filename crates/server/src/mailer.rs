//! Voicemail, missed calls and reports to e-mail. A message left in a box with an
//! address queues an e-mail in the transaction that keeps the message (the store's
//! outbox), a call nobody answered one in the transaction that keeps its record, and a
//! report one when it is made ([`crate::report_mail`]); this task sends what is due
//! through the office's SMTP server, off every call's path, and gives a failed send
//! another try later, growing the wait, with the error kept for the admin panel. A
//! restart loses nothing: the outbox is read again.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use switchboard_core::{CallRecord, Direction, Outcome};
use switchboard_store::{Mail, QueuedMail, Store};
use tokio::sync::{Notify, watch};

use crate::config::{Config, EmailSettings, SmtpSecurity};
use crate::{DATABASE_FILE, unix_ms};

/// Waits before the next try after the n-th failure (then the last, for ever).
const RETRY_AFTER: [Duration; 6] = [
    Duration::from_secs(5),
    Duration::from_secs(30),
    Duration::from_secs(120),
    Duration::from_secs(600),
    Duration::from_secs(1800),
    Duration::from_secs(3600),
];

/// How long one send may take before it counts as failed.
const SEND_LIMIT: Duration = Duration::from_secs(60);

/// The e-mail telling `mailbox`'s owner of a message, when the box has an address.
pub fn voicemail_mail(
    config: &Config,
    mailbox: &str,
    id: i64,
    caller: &str,
    duration: Duration,
) -> Option<Mail> {
    let recipient = config.voicemail.email_of(mailbox)?;
    let seconds = duration.as_secs();
    let length = format!("{}:{:02}", seconds / 60, seconds % 60);
    let code = &config.feature_codes.voicemail;
    Some(Mail {
        recipient: recipient.to_string(),
        subject: format!("Voicemail for {mailbox} from {caller} ({length})"),
        body: format!(
            "{caller} left a message for {mailbox}, {length} long. The recording is attached; \
             it is also in the box (dial {code}, or the admin panel).\n\n-- Switchboard\n"
        ),
        attachment: Some((
            crate::voicemail::message_path(mailbox, id),
            format!("voicemail-{mailbox}-{id}.wav"),
        )),
    })
}

/// The e-mail telling of a call to `record.callee` (or the queue it waited in) that
/// nobody answered, when its box asks for missed calls. A call out, or one Switchboard refused, is nobody's missed
/// call.
pub fn missed_call_mail(config: &Config, record: &CallRecord) -> Option<Mail> {
    if !is_missed(record) {
        return None;
    }
    // A customer's call reaches a queue through the office number's scenario: the
    // queue it waited in is whose call was missed.
    let (number, recipient) = [Some(&record.callee), record.queue.as_ref()]
        .into_iter()
        .flatten()
        .find_map(|n| Some((n, config.voicemail.missed_calls_email_of(n)?)))?;
    let caller = &record.caller;
    let when = jiff::Timestamp::try_from(record.started)
        .ok()?
        .to_zoned(config.numbers.zone())
        .strftime("%Y-%m-%d %H:%M")
        .to_string();
    let what = match record.outcome {
        Outcome::Busy => "the line was busy",
        Outcome::NoAnswer => "nobody answered",
        _ => "the caller hung up before anyone answered",
    };
    Some(Mail {
        recipient: recipient.to_string(),
        subject: format!("Missed call for {number} from {caller} ({when})"),
        body: format!(
            "{caller} called {number} at {when}; {what}. The call log in the admin panel \
             has it too.\n\n-- Switchboard\n"
        ),
        attachment: None,
    })
}

/// Whether nobody answered a call to the office (it was not one out).
pub fn is_missed(record: &CallRecord) -> bool {
    let unanswered = matches!(
        record.outcome,
        Outcome::NoAnswer | Outcome::Busy | Outcome::Cancelled
    );
    unanswered && record.direction != Direction::Outbound
}

/// Sends due e-mail until `shutdown`; `wake` is told when new e-mail is queued.
pub async fn run(data_dir: PathBuf, wake: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
    let mut store = match Store::open(&data_dir.join(DATABASE_FILE)) {
        Ok(store) => store,
        Err(e) => return tracing::error!("the mailer cannot open the database: {e}"),
    };
    loop {
        send_due(&mut store, &data_dir).await;
        if !wait_until_due(store.next_mail_due().ok().flatten(), &wake, &mut shutdown).await {
            return;
        }
    }
}

/// Waits until `due` (unix ms; none: an hour from now) or until `wake` is told, for an
/// outbox sender (e-mail, webhooks); false once `shutdown` says to stop.
pub async fn wait_until_due(
    due: Option<i64>,
    wake: &Notify,
    shutdown: &mut watch::Receiver<bool>,
) -> bool {
    let wait = match due {
        Some(at) => Duration::from_millis(u64::try_from(at - unix_ms()).unwrap_or(0)),
        None => Duration::from_secs(3600),
    };
    tokio::select! {
        () = wake.notified() => true,
        () = tokio::time::sleep(wait) => true,
        _ = shutdown.changed() => false,
    }
}

async fn send_due(store: &mut Store, data_dir: &Path) {
    let due = match store.due_mail(unix_ms(), 20) {
        Ok(due) => due,
        Err(e) => return tracing::error!("cannot read the outbox: {e}"),
    };
    if due.is_empty() {
        return;
    }
    // Read afresh each time: the admin may have just put the server right.
    let settings = Config::load(store).map(|c| c.email);
    for queued in due {
        let sent = match &settings {
            Ok(email) => send(email, &queued.mail, data_dir).await,
            Err(e) => Err(format!("the configuration cannot be read: {e}")),
        };
        let now = unix_ms();
        let saved = match sent {
            Ok(()) => store.mail_sent(queued.id, now),
            Err(error) => {
                tracing::warn!(
                    "e-mail to {} not sent (try {}): {error}",
                    queued.mail.recipient,
                    queued.attempts + 1
                );
                store.mail_failed(queued.id, &error, now + retry_after(&queued))
            }
        };
        if let Err(e) = saved {
            tracing::error!("cannot update the outbox: {e}");
        }
    }
}

fn retry_after(queued: &QueuedMail) -> i64 {
    let wait = RETRY_AFTER[(queued.attempts as usize).min(RETRY_AFTER.len() - 1)];
    wait.as_millis() as i64
}

async fn send(email: &EmailSettings, mail: &Mail, data_dir: &Path) -> Result<(), String> {
    let (host, port) = email
        .server_address()
        .ok_or("e-mail is not set up: no SMTP server in the settings")?;
    let message = message(email, mail, data_dir)?;
    let builder = match email.security {
        SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&host),
        SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&host),
        SmtpSecurity::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
            &host,
        )),
    }
    .map_err(|e| e.to_string())?;
    let mut builder = builder.port(port).timeout(Some(SEND_LIMIT));
    if let (Some(user), Some(password)) = (&email.username, &email.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    match tokio::time::timeout(SEND_LIMIT, builder.build().send(message)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer from {host}:{port} in time")),
    }
}

fn message(email: &EmailSettings, mail: &Mail, data_dir: &Path) -> Result<Message, String> {
    let from: Mailbox = email.from.parse().map_err(|e| format!("email.from: {e}"))?;
    let to: Mailbox = mail
        .recipient
        .parse()
        .map_err(|e| format!("{}: {e}", mail.recipient))?;
    let builder = Message::builder().from(from).to(to).subject(&mail.subject);
    let text = SinglePart::plain(mail.body.clone());
    let built = match &mail.attachment {
        Some((path, name)) => {
            // A message deleted before its e-mail went still tells of the call.
            match std::fs::read(data_dir.join(path)) {
                Ok(bytes) => {
                    let kind = if name.ends_with(".csv") {
                        "text/csv; charset=utf-8"
                    } else {
                        "audio/wav"
                    };
                    let kind = ContentType::parse(kind).map_err(|e| e.to_string())?;
                    builder.multipart(
                        MultiPart::mixed()
                            .singlepart(text)
                            .singlepart(Attachment::new(name.clone()).body(bytes, kind)),
                    )
                }
                Err(_) => builder.singlepart(SinglePart::plain(format!(
                    "{}\n(The attached file has been deleted since.)\n",
                    mail.body
                ))),
            }
        }
        None => builder.singlepart(text),
    };
    built.map_err(|e| e.to_string())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn a_box_with_an_address_gets_its_messages_with_the_recording() {
        let config = Config::from_toml(
            r#"
[[extensions]]
number = "101"
password = "a-long-password-101"
[email]
server = "127.0.0.1:2525"
security = "none"
from = "Switchboard <pbx@office.example>"
[voicemail]
boxes = [{ number = "101", email = "anna@office.example" }]
"#,
        )
        .unwrap();
        let mail = voicemail_mail(&config, "101", 7, "+48225550100", Duration::from_secs(75))
            .expect("101 has an address");
        assert_eq!(mail.recipient, "anna@office.example");
        assert_eq!(mail.subject, "Voicemail for 101 from +48225550100 (1:15)");
        assert_eq!(
            mail.attachment,
            Some((
                "voicemail/101/7.wav".to_string(),
                "voicemail-101-7.wav".to_string()
            ))
        );
        assert!(voicemail_mail(&config, "102", 8, "100", Duration::ZERO).is_none());

        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("voicemail/101")).unwrap();
        std::fs::write(dir.path().join("voicemail/101/7.wav"), b"RIFF....WAVE").unwrap();
        let built = message(&config.email, &mail, dir.path()).unwrap();
        let text = String::from_utf8_lossy(&built.formatted()).into_owned();
        assert!(text.contains("Content-Type: audio/wav"), "{text}");
        assert!(text.contains("voicemail-101-7.wav"), "{text}");
    }

    /// A call from +48225550100 to `callee` that nobody answered, at the epoch.
    pub(crate) fn unanswered(callee: &str, outcome: Outcome, direction: Direction) -> CallRecord {
        CallRecord {
            queue: None,
            call_id: "c1".into(),
            caller: "+48225550100".into(),
            callee: callee.into(),
            direction,
            trunk: None,
            started: std::time::SystemTime::UNIX_EPOCH,
            answered: None,
            ended: std::time::SystemTime::UNIX_EPOCH,
            outcome,
            hangup_by: switchboard_core::HangupBy::Caller,
            caller_codec: None,
            callee_codec: None,
            sip_code: 487,
            reason: String::new(),
            answered_by: None,
            priority: Default::default(),
            preempted: false,
            scenario_path: None,
            history: None,
            recording: None,
        }
    }

    #[test]
    fn a_missed_call_is_mailed_only_when_the_box_asks_and_nobody_answered() {
        let config = Config::from_toml(
            r#"
[[extensions]]
number = "101"
password = "a-long-password-101"
[[extensions]]
number = "102"
password = "a-long-password-102"
[email]
server = "127.0.0.1:2525"
security = "none"
from = "Switchboard <pbx@office.example>"
[voicemail]
boxes = [{ number = "101", email = "anna@office.example", missed_calls = true },
         { number = "102", email = "bob@office.example" }]
"#,
        )
        .unwrap();
        let record = unanswered;
        let missed = record("101", Outcome::Cancelled, Direction::Inbound);
        let mail = missed_call_mail(&config, &missed).expect("101 asks for them");
        assert_eq!(mail.recipient, "anna@office.example");
        assert!(
            mail.subject
                .starts_with("Missed call for 101 from +48225550100 ("),
            "{}",
            mail.subject
        );
        assert!(
            mail.body.contains("hung up before anyone answered"),
            "{}",
            mail.body
        );
        for (callee, outcome, direction) in [
            ("101", Outcome::Answered, Direction::Inbound),
            ("101", Outcome::Failed, Direction::Inbound),
            ("101", Outcome::NoAnswer, Direction::Outbound),
            ("102", Outcome::NoAnswer, Direction::Inbound),
        ] {
            let r = record(callee, outcome, direction);
            assert!(
                missed_call_mail(&config, &r).is_none(),
                "{callee} {outcome:?}"
            );
        }
    }

    #[test]
    fn a_failed_send_waits_longer_each_time_up_to_an_hour() {
        let waits: Vec<i64> = (0..8)
            .map(|attempts| {
                retry_after(&QueuedMail {
                    id: 1,
                    mail: Mail {
                        recipient: String::new(),
                        subject: String::new(),
                        body: String::new(),
                        attachment: None,
                    },
                    created_at: 0,
                    attempts,
                    next_attempt_at: 0,
                    last_error: None,
                    sent_at: None,
                })
            })
            .collect();
        assert_eq!(
            waits,
            [
                5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 3_600_000, 3_600_000
            ]
        );
    }
}
