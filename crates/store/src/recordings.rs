//! Call recordings as the call log knows them: which call a recording belongs to,
//! recordings removed by the office's retention, and the audit of who listened to or
//! downloaded one.

use rusqlite::{OptionalExtension, params};

use crate::{Result, Store};

/// One listen or download of a recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingAccess {
    pub at_ms: i64,
    pub recording: String,
    pub call_id: String,
    /// "listen" or "download".
    pub action: String,
    /// The login that asked.
    pub who: String,
    /// The address it asked from.
    pub address: String,
}

/// The call a recording is of, and its parties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedCall {
    pub call_id: String,
    pub caller: String,
    pub callee: String,
    pub answered_by: Option<String>,
}

impl RecordedCall {
    /// Whether `extension` took part: it called, was called, or answered.
    pub fn involves(&self, extension: &str) -> bool {
        self.caller == extension
            || self.callee == extension
            || self.answered_by.as_deref() == Some(extension)
    }
}

impl Store {
    /// The call recording `name` belongs to; none when no call record names it (never
    /// made, or removed by retention).
    pub fn recorded_call(&self, name: &str) -> Result<Option<RecordedCall>> {
        Ok(self
            .conn
            .query_row(
                "SELECT call_id, caller, callee, answered_by FROM call_records \
                 WHERE recording = ?1 LIMIT 1",
                [name],
                |r| {
                    Ok(RecordedCall {
                        call_id: r.get(0)?,
                        caller: r.get(1)?,
                        callee: r.get(2)?,
                        answered_by: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    /// The call records stop naming recordings that were removed.
    pub fn forget_recordings(&mut self, names: &[String]) -> Result<()> {
        let tx = self.conn.transaction()?;
        for name in names {
            tx.execute(
                "UPDATE call_records SET recording = NULL WHERE recording = ?1",
                [name],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn log_recording_access(&mut self, access: &RecordingAccess) -> Result<()> {
        self.conn.execute(
            "INSERT INTO recording_access (at_ms, recording, call_id, action, who, address) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                access.at_ms,
                access.recording,
                access.call_id,
                access.action,
                access.who,
                access.address
            ],
        )?;
        Ok(())
    }

    /// The newest `limit` listens and downloads, newest first.
    pub fn recording_accesses(&self, limit: u32) -> Result<Vec<RecordingAccess>> {
        let mut q = self.conn.prepare(
            "SELECT at_ms, recording, call_id, action, who, address FROM recording_access \
             ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = q.query_map([limit], |r| {
            Ok(RecordingAccess {
                at_ms: r.get(0)?,
                recording: r.get(1)?,
                call_id: r.get(2)?,
                action: r.get(3)?,
                who: r.get(4)?,
                address: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use crate::Store;
    use crate::call_log::tests::record;

    #[test]
    fn a_recording_belongs_to_its_call_until_retention_removes_it() {
        let mut store = Store::open_in_memory().unwrap();
        let mut recorded = record("call-1", "100", 1_000);
        recorded.recording = Some("1000-1.opus".into());
        store
            .write_calls(
                &[],
                &[(recorded, None), (record("call-2", "101", 2_000), None)],
                &Default::default(),
            )
            .unwrap();
        assert_eq!(
            store
                .recorded_call("1000-1.opus")
                .unwrap()
                .map(|c| c.call_id)
                .as_deref(),
            Some("call-1")
        );
        assert_eq!(store.recorded_call("2000-2.opus").unwrap(), None);
        store.forget_recordings(&["1000-1.opus".into()]).unwrap();
        assert_eq!(store.recorded_call("1000-1.opus").unwrap(), None);
        let calls = store.call_records(10).unwrap();
        assert!(calls.iter().all(|c| c.recording.is_none()));
    }

    #[test]
    fn each_access_is_kept_newest_first() {
        let mut store = Store::open_in_memory().unwrap();
        for (at_ms, action) in [(1, "listen"), (2, "download")] {
            let access = super::RecordingAccess {
                at_ms,
                recording: "1000-1.opus".into(),
                call_id: "call-1".into(),
                action: action.into(),
                who: "admin".into(),
                address: "192.0.2.7".into(),
            };
            store.log_recording_access(&access).unwrap();
        }
        let kept = store.recording_accesses(10).unwrap();
        let actions: Vec<&str> = kept.iter().map(|a| a.action.as_str()).collect();
        assert_eq!(actions, ["download", "listen"]);
    }
}
