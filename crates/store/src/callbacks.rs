//! Callback requests waiting to be served: a restart puts each back in its queue.

use rusqlite::params;
use switchboard_core::{CallbackChange, PendingCallback, unix_ms};
use switchboard_queue::Priority;

use crate::{Result, Store};

impl Store {
    /// Keeps new requests and drops served ones, with the `notices` telling of them, in
    /// one transaction.
    pub fn write_callbacks(
        &mut self,
        changes: &[CallbackChange],
        notices: &crate::Notices,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        for change in changes {
            match change {
                CallbackChange::Requested(r) => {
                    let (trunk, dialled) = r.through.clone().unzip();
                    tx.execute(
                        "INSERT OR REPLACE INTO callback_requests (call_id, queue, number, \
                         priority, trunk, dialled, requested_at, expires_at) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                        params![
                            r.call_id,
                            r.queue,
                            r.number,
                            r.priority.0,
                            trunk,
                            dialled,
                            unix_ms::from(r.requested),
                            r.expires.map(unix_ms::from)
                        ],
                    )?;
                }
                CallbackChange::Done(call_id) => {
                    tx.execute(
                        "DELETE FROM callback_requests WHERE call_id = ?1",
                        [call_id],
                    )?;
                }
            }
        }
        notices.insert(&tx, unix_ms::from(std::time::SystemTime::now()))?;
        tx.commit()?;
        Ok(())
    }

    /// The requests waiting, oldest first.
    pub fn callback_requests(&self) -> Result<Vec<PendingCallback>> {
        let mut q = self.conn.prepare(
            "SELECT call_id, queue, number, priority, trunk, dialled, requested_at, \
             expires_at FROM callback_requests ORDER BY requested_at, rowid",
        )?;
        let rows = q.query_map([], |r| {
            let trunk: Option<String> = r.get(4)?;
            let dialled: Option<String> = r.get(5)?;
            Ok(PendingCallback {
                call_id: r.get(0)?,
                queue: r.get(1)?,
                number: r.get(2)?,
                priority: Priority(r.get(3)?),
                through: trunk.zip(dialled),
                requested: unix_ms::to(r.get(6)?),
                expires: r.get::<_, Option<i64>>(7)?.map(unix_ms::to),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    fn request(call_id: &str, seconds: u64) -> PendingCallback {
        PendingCallback {
            call_id: call_id.into(),
            queue: "600".into(),
            number: "+48225550104".into(),
            priority: Priority(5),
            through: Some(("provider".into(), "+48225550100".into())),
            requested: UNIX_EPOCH + Duration::from_secs(seconds),
            expires: (call_id == "a").then(|| UNIX_EPOCH + Duration::from_secs(seconds + 3600)),
        }
    }

    #[test]
    fn requests_are_kept_until_done_and_come_back_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let (a, b, c) = (request("a", 30), request("b", 10), request("c", 20));
        let requested = [&a, &b, &c].map(|r| CallbackChange::Requested(r.clone()));
        store
            .write_callbacks(&requested, &Default::default())
            .unwrap();
        store
            .write_callbacks(&[CallbackChange::Done("c".into())], &Default::default())
            .unwrap();
        drop(store);
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        assert_eq!(store.callback_requests().unwrap(), [b, a]);
    }
}
