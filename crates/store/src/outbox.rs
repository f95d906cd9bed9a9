//! E-mail waiting to go: queued in the transaction that makes what it tells of, taken by
//! the mailer when due, marked sent or given a later try with the error kept.

use rusqlite::{OptionalExtension, params};

use crate::{Result, Store};

/// An e-mail as queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub recipient: String,
    pub subject: String,
    pub body: String,
    /// A file beside the database (relative to the data directory) and the name it is
    /// sent under.
    pub attachment: Option<(String, String)>,
}

/// What tells others of a change, queued in the change's own transaction: the e-mail and
/// webhook deliveries go if and only if what they tell of is kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notices {
    pub mail: Vec<Mail>,
    pub webhooks: Vec<crate::WebhookDelivery>,
}

impl Notices {
    pub fn is_empty(&self) -> bool {
        self.mail.is_empty() && self.webhooks.is_empty()
    }

    pub(crate) fn insert(&self, tx: &rusqlite::Transaction<'_>, now: i64) -> Result<()> {
        for m in &self.mail {
            Store::insert_mail(tx, m, now)?;
        }
        Store::insert_deliveries(tx, &self.webhooks, now)
    }
}

/// A queued e-mail and what became of it (times in unix ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMail {
    pub id: i64,
    pub mail: Mail,
    pub created_at: i64,
    pub attempts: u32,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub sent_at: Option<i64>,
}

const COLUMNS: &str = "id, recipient, subject, body, attachment, attachment_name, created_at, \
                       attempts, next_attempt_at, last_error, sent_at";

fn queued(r: &rusqlite::Row<'_>) -> rusqlite::Result<QueuedMail> {
    let attachment: Option<String> = r.get(4)?;
    let name: Option<String> = r.get(5)?;
    Ok(QueuedMail {
        id: r.get(0)?,
        mail: Mail {
            recipient: r.get(1)?,
            subject: r.get(2)?,
            body: r.get(3)?,
            attachment: attachment.zip(name),
        },
        created_at: r.get(6)?,
        attempts: r.get(7)?,
        next_attempt_at: r.get(8)?,
        last_error: r.get(9)?,
        sent_at: r.get(10)?,
    })
}

impl Store {
    fn insert_mail(tx: &rusqlite::Transaction<'_>, mail: &Mail, now: i64) -> Result<()> {
        let (attachment, name) = mail.attachment.clone().unzip();
        tx.execute(
            "INSERT INTO outbox (recipient, subject, body, attachment, attachment_name, \
             created_at, next_attempt_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
            params![
                mail.recipient,
                mail.subject,
                mail.body,
                attachment,
                name,
                now
            ],
        )?;
        Ok(())
    }

    /// Queues `mails` (e-mail that tells of nothing else the store keeps: a report).
    pub fn queue_mail(&mut self, mails: &[Mail], now: i64) -> Result<()> {
        let tx = self.conn.transaction()?;
        for m in mails {
            Store::insert_mail(&tx, m, now)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Whether e-mail with this attachment (relative to the data directory) has been
    /// queued, sent or not: a report made once is mailed once.
    pub fn mail_attaching(&self, attachment: &str) -> Result<bool> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM outbox WHERE attachment = ?1 LIMIT 1",
                [attachment],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Unsent e-mail due at `now`, oldest first.
    pub fn due_mail(&self, now: i64, limit: u32) -> Result<Vec<QueuedMail>> {
        let mut q = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= ?1 \
             ORDER BY next_attempt_at, id LIMIT ?2"
        ))?;
        let rows = q.query_map(params![now, limit], queued)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// When the next unsent e-mail is due.
    pub fn next_mail_due(&self) -> Result<Option<i64>> {
        Ok(self
            .conn
            .query_row(
                "SELECT MIN(next_attempt_at) FROM outbox WHERE sent_at IS NULL",
                [],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    pub fn mail_sent(&mut self, id: i64, at: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE outbox SET sent_at = ?2, attempts = attempts + 1, last_error = NULL \
             WHERE id = ?1",
            params![id, at],
        )?;
        Ok(())
    }

    /// A try that failed with `error`; the next one is at `retry_at`.
    pub fn mail_failed(&mut self, id: i64, error: &str, retry_at: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3 \
             WHERE id = ?1",
            params![id, error, retry_at],
        )?;
        Ok(())
    }

    /// The newest `limit` e-mails, sent or not.
    pub fn mail_log(&self, limit: u32) -> Result<Vec<QueuedMail>> {
        let mut q = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM outbox ORDER BY id DESC LIMIT ?1"
        ))?;
        let rows = q.query_map([limit], queued)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::voicemail::{VoicemailChange, VoicemailMessage};

    fn mail(to: &str) -> Mail {
        Mail {
            recipient: to.into(),
            subject: "Voicemail".into(),
            body: "A message".into(),
            attachment: Some(("voicemail/101/1.wav".into(), "message.wav".into())),
        }
    }

    #[test]
    fn mail_queued_with_a_message_waits_until_sent_and_a_failure_tries_later() {
        let mut store = Store::open_in_memory().unwrap();
        let message = VoicemailMessage {
            id: 1,
            mailbox: "101".into(),
            caller: "100".into(),
            received_at: 1_000,
            duration_ms: 4_000,
            heard: false,
        };
        store
            .change_voicemail(
                &VoicemailChange::Left(message),
                &Notices {
                    mail: vec![mail("anna@office.example")],
                    webhooks: Vec::new(),
                },
            )
            .unwrap();
        assert_eq!(store.voicemail_messages().unwrap().len(), 1);
        let due = store.due_mail(1_000, 10).unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].mail, mail("anna@office.example"));

        store
            .mail_failed(due[0].id, "connection refused", 6_000)
            .unwrap();
        assert!(
            store.due_mail(5_999, 10).unwrap().is_empty(),
            "not before 6 s"
        );
        assert_eq!(store.next_mail_due().unwrap(), Some(6_000));
        let again = store.due_mail(6_000, 10).unwrap();
        assert_eq!(
            (again[0].attempts, again[0].last_error.as_deref()),
            (1, Some("connection refused"))
        );
        store.mail_sent(again[0].id, 6_100).unwrap();
        assert!(store.due_mail(i64::MAX, 10).unwrap().is_empty());
        assert_eq!(store.next_mail_due().unwrap(), None);
        let log = store.mail_log(10).unwrap();
        assert_eq!((log[0].sent_at, log[0].attempts), (Some(6_100), 2));
    }
}
