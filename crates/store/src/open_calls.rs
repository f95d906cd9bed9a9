//! Calls in progress, kept so that none is lost from the call log when the process is
//! killed or the PC loses power in the middle of it.

use rusqlite::{OptionalExtension, params};
use switchboard_core::{CallKey, CallOpened, CallRecord, Direction, HangupBy, Outcome, unix_ms};
use switchboard_queue::Priority;

use crate::{Result, Store, insert_call_records};

/// What an interrupted call's record says of its end, which nobody saw.
pub const INTERRUPTED: &str = "Switchboard stopped during the call; when it ended is not known";

impl Store {
    /// Notes calls that began, and writes the records of calls that ended (with the
    /// keys they were opened under) and the `notices` telling of them (missed calls'
    /// e-mail, webhooks), in one transaction.
    pub fn write_calls(
        &mut self,
        opened: &[CallOpened],
        records: &[(CallRecord, Option<CallKey>)],
        notices: &crate::Notices,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        for o in opened {
            tx.execute(
                "INSERT OR REPLACE INTO open_calls (key, call_id, caller, callee, started_at, \
                 trunk) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    key_column(o.call),
                    o.call_id,
                    o.caller,
                    o.callee,
                    unix_ms::from(o.started),
                    o.trunk
                ],
            )?;
        }
        let rows: Vec<CallRecord> = records.iter().map(|(r, _)| r.clone()).collect();
        insert_call_records(&tx, &rows)?;
        for key in records.iter().filter_map(|(_, key)| *key) {
            tx.execute("DELETE FROM open_calls WHERE key = ?1", [key_column(key)])?;
        }
        notices.insert(&tx, unix_ms::from(std::time::SystemTime::now()))?;
        tx.commit()?;
        Ok(())
    }

    /// How many calls `caller` began at or after `since` (unix ms), ended or not.
    pub fn calls_from_since(&self, caller: &str, since: i64) -> Result<u32> {
        Ok(self.conn.query_row(
            "SELECT (SELECT COUNT(*) FROM call_records WHERE started_at >= ?2 AND caller = ?1) \
             + (SELECT COUNT(*) FROM open_calls WHERE started_at >= ?2 AND caller = ?1)",
            params![caller, since],
            |r| r.get(0),
        )?)
    }

    /// The Call-ID the call in progress `key` was opened with.
    pub fn open_call_id(&self, key: CallKey) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT call_id FROM open_calls WHERE key = ?1",
                [key_column(key)],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The caller of the call in progress whose Call-ID is `call_id`.
    pub fn open_call_caller(&self, call_id: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT caller FROM open_calls WHERE call_id = ?1 LIMIT 1",
                [call_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// At start, before any call: every call still open was cut when Switchboard
    /// stopped; each becomes an "interrupted" record, with its recording when
    /// `recorded` finds the file (playable up to the cut). Returns how many.
    pub fn close_interrupted_calls(&mut self, recorded: impl Fn(&str) -> bool) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let open: Vec<CallOpened> = {
            let mut stmt = tx.prepare(
                "SELECT key, call_id, caller, callee, started_at, trunk FROM open_calls \
                 ORDER BY key",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(CallOpened {
                    call: r.get::<_, i64>(0)? as CallKey,
                    call_id: r.get(1)?,
                    caller: r.get(2)?,
                    callee: r.get(3)?,
                    started: unix_ms::to(r.get(4)?),
                    trunk: r.get(5)?,
                })
            })?;
            rows.collect::<std::result::Result<_, _>>()?
        };
        let records: Vec<CallRecord> = open
            .into_iter()
            .map(|o| CallRecord {
                recording: Some(switchboard_core::recording_file_name(o.started, o.call))
                    .filter(|name| recorded(name)),
                call_id: o.call_id,
                caller: o.caller,
                callee: o.callee,
                direction: match o.trunk {
                    Some(_) => Direction::Inbound,
                    None => Direction::Internal,
                },
                trunk: o.trunk,
                started: o.started,
                answered: None,
                ended: o.started,
                outcome: Outcome::Interrupted,
                hangup_by: HangupBy::System,
                caller_codec: None,
                callee_codec: None,
                sip_code: 0,
                reason: INTERRUPTED.into(),
                queue: None,
                answered_by: None,
                priority: Priority::default(),
                preempted: false,
                scenario_path: None,
                history: None,
            })
            .collect();
        insert_call_records(&tx, &records)?;
        tx.execute("DELETE FROM open_calls", [])?;
        tx.commit()?;
        Ok(records.len())
    }
}

/// The engine's call number as SQLite keeps it: the same 64 bits, signed.
fn key_column(key: CallKey) -> i64 {
    key as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opened(key: CallKey) -> CallOpened {
        CallOpened {
            call: key,
            call_id: format!("c{key}"),
            caller: "100".into(),
            callee: "101".into(),
            started: unix_ms::to(1000 * key as i64),
            trunk: (key == 2).then(|| "Provider".to_string()),
        }
    }

    #[test]
    fn a_call_still_open_at_the_next_start_is_recorded_as_interrupted() {
        let mut store = Store::open_in_memory().unwrap();
        store
            .write_calls(&[opened(1), opened(2)], &[], &Default::default())
            .unwrap();
        let ended = CallRecord {
            outcome: Outcome::Answered,
            hangup_by: HangupBy::Caller,
            sip_code: 200,
            ended: unix_ms::to(5000),
            reason: "Normal Clearing".into(),
            ..crate::call_log::tests::record("c1", "100", 1000)
        };
        store
            .write_calls(&[], &[(ended, Some(1))], &Default::default())
            .unwrap();
        assert_eq!(store.close_interrupted_calls(|_| false).unwrap(), 1);
        assert_eq!(
            store.close_interrupted_calls(|_| false).unwrap(),
            0,
            "closed once"
        );
        let records = store.call_records(10).unwrap();
        let outcomes: Vec<(&str, Outcome)> = records
            .iter()
            .map(|r| (r.call_id.as_str(), r.outcome))
            .collect();
        assert_eq!(
            outcomes,
            [("c2", Outcome::Interrupted), ("c1", Outcome::Answered)]
        );
        assert_eq!(records[0].reason, INTERRUPTED);
        assert_eq!(records[0].started, unix_ms::to(2000));
        assert_eq!(
            (records[0].direction, records[0].trunk.as_deref()),
            (Direction::Inbound, Some("Provider")),
            "the trunk a cut call came from is kept"
        );
    }
}
