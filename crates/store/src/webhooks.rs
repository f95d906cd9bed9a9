//! Webhook deliveries waiting to go: queued in the transaction that makes what they tell
//! of ([`crate::Notices`]), taken by the deliverer when due, one subject's in the order
//! Switchboard saw them, marked delivered or given a later try with the receiver's
//! answer kept.

use rusqlite::{OptionalExtension, params};

use crate::{Result, Store};

/// One event for one receiver, as queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    /// The receiver's URL.
    pub endpoint: String,
    /// Sent as `webhook-id` on every try.
    pub message_id: String,
    /// The event's type ("call.ended").
    pub event: String,
    /// What the event is about (a call's Call-ID): a subject's events go in order.
    pub subject: String,
    /// Where the event stands among all events; higher is later.
    pub ordinal: i64,
    /// The JSON body.
    pub payload: String,
}

/// A queued delivery and what became of it (times in unix ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedDelivery {
    pub id: i64,
    pub delivery: WebhookDelivery,
    pub created_at: i64,
    pub attempts: u32,
    pub next_attempt_at: i64,
    /// The HTTP status of the last try, when the receiver answered.
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub delivered_at: Option<i64>,
    pub given_up_at: Option<i64>,
}

/// How a try ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Delivered {
        status: u16,
    },
    /// Tried again at `retry_at`, or given up when there is none.
    Failed {
        status: Option<u16>,
        error: String,
        retry_at: Option<i64>,
    },
}

const COLUMNS: &str = "w.id, w.endpoint, w.message_id, w.event, w.subject, w.ordinal, w.payload, \
     w.created_at, w.attempts, w.next_attempt_at, w.last_status, w.last_error, \
     w.delivered_at, w.given_up_at";

const PENDING: &str = "w.delivered_at IS NULL AND w.given_up_at IS NULL";

/// A pending delivery with no earlier pending one of its subject to the same receiver.
const FIRST_OF_ITS_SUBJECT: &str = "NOT EXISTS (SELECT 1 FROM webhook_outbox e \
     WHERE e.endpoint = w.endpoint AND e.subject = w.subject AND e.ordinal < w.ordinal \
     AND e.delivered_at IS NULL AND e.given_up_at IS NULL)";

fn queued(r: &rusqlite::Row<'_>) -> rusqlite::Result<QueuedDelivery> {
    Ok(QueuedDelivery {
        id: r.get(0)?,
        delivery: WebhookDelivery {
            endpoint: r.get(1)?,
            message_id: r.get(2)?,
            event: r.get(3)?,
            subject: r.get(4)?,
            ordinal: r.get(5)?,
            payload: r.get(6)?,
        },
        created_at: r.get(7)?,
        attempts: r.get(8)?,
        next_attempt_at: r.get(9)?,
        last_status: r.get(10)?,
        last_error: r.get(11)?,
        delivered_at: r.get(12)?,
        given_up_at: r.get(13)?,
    })
}

impl Store {
    pub(crate) fn insert_deliveries(
        tx: &rusqlite::Transaction<'_>,
        deliveries: &[WebhookDelivery],
        now: i64,
    ) -> Result<()> {
        let mut insert = tx.prepare_cached(
            "INSERT INTO webhook_outbox (endpoint, message_id, event, subject, ordinal, \
             payload, created_at, next_attempt_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
        )?;
        for d in deliveries {
            insert.execute(params![
                d.endpoint,
                d.message_id,
                d.event,
                d.subject,
                d.ordinal,
                d.payload,
                now
            ])?;
        }
        Ok(())
    }

    /// The highest ordinal queued so far (0 before the first), to go on from after a
    /// restart.
    pub fn last_webhook_ordinal(&self) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT COALESCE(MAX(ordinal), 0) FROM webhook_outbox",
            [],
            |r| r.get(0),
        )?)
    }

    /// Deliveries due at `now` that wait for no earlier one of their subject, in order.
    pub fn due_deliveries(&self, now: i64, limit: u32) -> Result<Vec<QueuedDelivery>> {
        let mut q = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM webhook_outbox w WHERE {PENDING} AND w.next_attempt_at <= ?1 \
             AND {FIRST_OF_ITS_SUBJECT} ORDER BY w.ordinal, w.id LIMIT ?2"
        ))?;
        let rows = q.query_map(params![now, limit], queued)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// When the next delivery that waits for no other is due.
    pub fn next_delivery_due(&self) -> Result<Option<i64>> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT MIN(w.next_attempt_at) FROM webhook_outbox w \
                     WHERE {PENDING} AND {FIRST_OF_ITS_SUBJECT}"
                ),
                [],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// What a try of delivery `id` at `at` came to.
    pub fn record_delivery(&mut self, id: i64, outcome: &DeliveryOutcome, at: i64) -> Result<()> {
        match outcome {
            DeliveryOutcome::Delivered { status } => self.conn.execute(
                "UPDATE webhook_outbox SET attempts = attempts + 1, last_status = ?2, \
                 last_error = NULL, delivered_at = ?3 WHERE id = ?1",
                params![id, status, at],
            )?,
            DeliveryOutcome::Failed {
                status,
                error,
                retry_at,
            } => self.conn.execute(
                "UPDATE webhook_outbox SET attempts = attempts + 1, last_status = ?2, \
                 last_error = ?3, next_attempt_at = COALESCE(?4, next_attempt_at), \
                 given_up_at = CASE WHEN ?4 IS NULL THEN ?5 END WHERE id = ?1",
                params![id, status, error, retry_at, at],
            )?,
        };
        Ok(())
    }

    /// The newest `limit` deliveries, pending or done.
    pub fn webhook_log(&self, limit: u32) -> Result<Vec<QueuedDelivery>> {
        let mut q = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM webhook_outbox w ORDER BY w.ordinal DESC, w.id DESC LIMIT ?1"
        ))?;
        let rows = q.query_map([limit], queued)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Forgets deliveries finished (delivered or given up) before `before`; returns how
    /// many.
    pub fn forget_deliveries(&mut self, before: i64) -> Result<usize> {
        Ok(self.conn.execute(
            "DELETE FROM webhook_outbox WHERE COALESCE(delivered_at, given_up_at) < ?1",
            [before],
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Notices;

    fn delivery(subject: &str, ordinal: i64, endpoint: &str) -> WebhookDelivery {
        WebhookDelivery {
            endpoint: endpoint.into(),
            message_id: format!("msg_{ordinal}"),
            event: "call.started".into(),
            subject: subject.into(),
            ordinal,
            payload: "{}".into(),
        }
    }

    fn queue(store: &mut Store, deliveries: Vec<WebhookDelivery>) {
        let notices = Notices {
            mail: Vec::new(),
            webhooks: deliveries,
        };
        store.write_calls(&[], &[], &notices).unwrap();
    }

    fn ids(due: &[QueuedDelivery]) -> Vec<&str> {
        due.iter().map(|d| d.delivery.message_id.as_str()).collect()
    }

    #[test]
    fn a_calls_events_wait_for_the_earlier_ones_and_other_calls_do_not() {
        let mut store = Store::open_in_memory().unwrap();
        let (a, b) = ("http://crm.example/a", "http://crm.example/b");
        queue(
            &mut store,
            vec![
                delivery("call-1", 1, a),
                delivery("call-1", 2, a),
                delivery("call-2", 3, a),
                delivery("call-1", 4, b),
            ],
        );
        assert_eq!(store.last_webhook_ordinal().unwrap(), 4);
        let due = store.due_deliveries(i64::MAX, 10).unwrap();
        assert_eq!(
            ids(&due),
            ["msg_1", "msg_3", "msg_4"],
            "msg_2 waits for msg_1"
        );

        let failed = DeliveryOutcome::Failed {
            status: Some(500),
            error: "Internal Server Error".into(),
            retry_at: Some(i64::MAX - 1),
        };
        store.record_delivery(due[0].id, &failed, 10).unwrap();
        let due = store.due_deliveries(i64::MAX - 2, 10).unwrap();
        assert_eq!(ids(&due), ["msg_3", "msg_4"], "msg_2 still waits");

        store
            .record_delivery(due[0].id, &DeliveryOutcome::Delivered { status: 204 }, 20)
            .unwrap();
        let first = store.due_deliveries(i64::MAX, 10).unwrap()[0].id;
        store
            .record_delivery(first, &DeliveryOutcome::Delivered { status: 200 }, 30)
            .unwrap();
        let due = store.due_deliveries(i64::MAX, 10).unwrap();
        assert_eq!(ids(&due), ["msg_2", "msg_4"], "msg_1 went, so msg_2 may");
        let log = store.webhook_log(10).unwrap();
        let msg_1 = log
            .iter()
            .find(|d| d.delivery.message_id == "msg_1")
            .unwrap();
        assert_eq!(
            (msg_1.attempts, msg_1.last_status, msg_1.delivered_at),
            (2, Some(200), Some(30))
        );
    }

    #[test]
    fn a_delivery_given_up_lets_the_next_go_and_finished_ones_are_forgotten() {
        let mut store = Store::open_in_memory().unwrap();
        let a = "http://crm.example/a";
        queue(
            &mut store,
            vec![delivery("call-1", 1, a), delivery("call-1", 2, a)],
        );
        assert_eq!(
            store.next_delivery_due().unwrap(),
            store
                .due_deliveries(i64::MAX, 1)
                .unwrap()
                .first()
                .map(|d| d.next_attempt_at)
        );
        let first = store.due_deliveries(i64::MAX, 10).unwrap()[0].id;
        let given_up = DeliveryOutcome::Failed {
            status: None,
            error: "connection refused".into(),
            retry_at: None,
        };
        store.record_delivery(first, &given_up, 100).unwrap();
        let due = store.due_deliveries(i64::MAX, 10).unwrap();
        assert_eq!(ids(&due), ["msg_2"]);
        assert_eq!(
            store.webhook_log(10).unwrap()[1].given_up_at,
            Some(100),
            "msg_1 is marked given up"
        );
        assert_eq!(store.forget_deliveries(101).unwrap(), 1);
        assert_eq!(store.webhook_log(10).unwrap().len(), 1, "msg_2 is pending");
    }
}
