//! Voicemail messages: who left one in which box, when, how long, whether it has been
//! heard. Each change is its own committed transaction.

use rusqlite::params;

use crate::{Result, Store};

/// One message as stored; `received_at` in unix milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoicemailMessage {
    pub id: i64,
    pub mailbox: String,
    pub caller: String,
    pub received_at: i64,
    pub duration_ms: i64,
    pub heard: bool,
}

/// What happens to a box's messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VoicemailChange {
    Left(VoicemailMessage),
    Heard { id: i64, heard: bool },
    Deleted { id: i64 },
}

impl Store {
    /// Saves one change; once this returns it survives a crash.
    /// Applies `change`, with the `notices` of a message left (its e-mail and webhooks)
    /// queued in the same transaction: they go if and only if the message is kept.
    pub fn change_voicemail(
        &mut self,
        change: &VoicemailChange,
        notices: &crate::Notices,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        match change {
            VoicemailChange::Left(m) => {
                tx.execute(
                    "INSERT INTO voicemail_messages (id, mailbox, caller, received_at, \
                     duration_ms, heard) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        m.id,
                        m.mailbox,
                        m.caller,
                        m.received_at,
                        m.duration_ms,
                        m.heard
                    ],
                )?;
                notices.insert(&tx, m.received_at)?;
            }
            VoicemailChange::Heard { id, heard } => {
                tx.execute(
                    "UPDATE voicemail_messages SET heard = ?2 WHERE id = ?1",
                    params![id, heard],
                )?;
            }
            VoicemailChange::Deleted { id } => {
                tx.execute("DELETE FROM voicemail_messages WHERE id = ?1", [id])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Every message, by box then oldest first.
    pub fn voicemail_messages(&self) -> Result<Vec<VoicemailMessage>> {
        let mut q = self.conn.prepare(
            "SELECT id, mailbox, caller, received_at, duration_ms, heard \
             FROM voicemail_messages ORDER BY mailbox, id",
        )?;
        let rows = q.query_map([], |r| {
            Ok(VoicemailMessage {
                id: r.get(0)?,
                mailbox: r.get(1)?,
                caller: r.get(2)?,
                received_at: r.get(3)?,
                duration_ms: r.get(4)?,
                heard: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: i64, mailbox: &str) -> VoicemailMessage {
        VoicemailMessage {
            id,
            mailbox: mailbox.into(),
            caller: "+48221234567".into(),
            received_at: 1_764_000_000_000 + id,
            duration_ms: 4_200,
            heard: false,
        }
    }

    #[test]
    fn messages_are_left_heard_and_deleted() {
        let mut store = Store::open_in_memory().unwrap();
        for m in [message(2, "500"), message(1, "101"), message(3, "101")] {
            store
                .change_voicemail(&VoicemailChange::Left(m), &Default::default())
                .unwrap();
        }
        store
            .change_voicemail(
                &VoicemailChange::Heard { id: 3, heard: true },
                &Default::default(),
            )
            .unwrap();
        store
            .change_voicemail(&VoicemailChange::Deleted { id: 2 }, &Default::default())
            .unwrap();
        let mut heard = message(3, "101");
        heard.heard = true;
        assert_eq!(
            store.voicemail_messages().unwrap(),
            [message(1, "101"), heard]
        );
        // An id is never given twice.
        assert!(
            store
                .change_voicemail(
                    &VoicemailChange::Left(message(1, "101")),
                    &Default::default()
                )
                .is_err()
        );
    }
}
