//! What the office's webhooks are told: the events, their JSON bodies (documented in the
//! OpenAPI document), and the deliveries the store writer queues for each receiver in
//! the transaction of what they tell of.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use switchboard_core::{
    CallAnswered, CallOpened, CallRecord, CallbackChange, QueueEventRecord, VoicemailChange,
    unix_ms,
};
use switchboard_queue::EventKind;
use switchboard_store::{Store, StoreError, WebhookDelivery};

use crate::config::WebhookSettings;

/// The events a receiver may choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum WebhookEventType {
    #[serde(rename = "call.started")]
    CallStarted,
    #[serde(rename = "call.answered")]
    CallAnswered,
    #[serde(rename = "call.ended")]
    CallEnded,
    #[serde(rename = "call.missed")]
    CallMissed,
    #[serde(rename = "voicemail.left")]
    VoicemailLeft,
    #[serde(rename = "callback.requested")]
    CallbackRequested,
    #[serde(rename = "queue.abandoned")]
    QueueAbandoned,
    #[serde(rename = "caller.repeated")]
    CallerRepeated,
}

/// The body of every webhook request, as Standard Webhooks lays it out: the event's
/// type, when it happened, and its data.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookPayload {
    /// When it happened (RFC 3339, UTC).
    pub timestamp: String,
    #[serde(flatten)]
    pub event: WebhookEvent,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(tag = "type", content = "data")]
pub enum WebhookEvent {
    /// A call reached Switchboard.
    #[serde(rename = "call.started")]
    CallStarted(WebhookCallStarted),
    /// A person answered it (told once, at the first answer).
    #[serde(rename = "call.answered")]
    CallAnswered(WebhookCallAnswered),
    /// It ended: its record, as the call log keeps it.
    #[serde(rename = "call.ended")]
    CallEnded(CallRecord),
    /// It ended and nobody answered a call to the office (sent besides `call.ended`).
    #[serde(rename = "call.missed")]
    CallMissed(CallRecord),
    #[serde(rename = "voicemail.left")]
    VoicemailLeft(WebhookVoicemail),
    /// A caller waiting in a queue asked to be called back, or gave up waiting in a
    /// queue that calls such callers back.
    #[serde(rename = "callback.requested")]
    CallbackRequested(WebhookCallback),
    /// A caller hung up while waiting in a queue.
    #[serde(rename = "queue.abandoned")]
    QueueAbandoned(WebhookAbandon),
    /// A caller from outside called again, `calls` times within `within_minutes`.
    #[serde(rename = "caller.repeated")]
    CallerRepeated(WebhookRepeatedCaller),
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookCallStarted {
    pub call_id: String,
    pub caller: String,
    /// The number dialled: an extension, a queue, a code, or the office's number.
    pub callee: String,
    /// The trunk it came in from, for a call from outside.
    pub trunk: Option<String>,
    /// Unix milliseconds.
    pub started_at: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookCallAnswered {
    pub call_id: String,
    pub caller: String,
    pub callee: String,
    /// The extension (or the number called out) that answered.
    pub answered_by: Option<String>,
    pub answered_at: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookVoicemail {
    pub mailbox: String,
    /// The message's number, as the voicemail API names it.
    pub message: i64,
    pub caller: String,
    pub received_at: i64,
    pub duration_ms: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookCallback {
    /// The Call-ID of the call that asked.
    pub call_id: String,
    pub queue: String,
    /// The number to call back.
    pub number: String,
    pub requested_at: i64,
    /// A task of the lost-call dialer (the caller gave up waiting), rather than the
    /// caller's own request (key 1).
    pub lost_call: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookAbandon {
    pub call_id: Option<String>,
    pub queue: Option<String>,
    /// The caller, while their call is known.
    pub caller: Option<String>,
    pub waited_ms: i64,
    /// Their place in the queue when they hung up (1: next).
    pub position: usize,
    pub vip: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookRepeatedCaller {
    /// The call that made them a repeated caller.
    pub call_id: String,
    pub caller: String,
    pub calls: u32,
    pub within_minutes: u32,
}

impl WebhookEvent {
    pub fn kind(&self) -> WebhookEventType {
        match self {
            WebhookEvent::CallStarted(_) => WebhookEventType::CallStarted,
            WebhookEvent::CallAnswered(_) => WebhookEventType::CallAnswered,
            WebhookEvent::CallEnded(_) => WebhookEventType::CallEnded,
            WebhookEvent::CallMissed(_) => WebhookEventType::CallMissed,
            WebhookEvent::VoicemailLeft(_) => WebhookEventType::VoicemailLeft,
            WebhookEvent::CallbackRequested(_) => WebhookEventType::CallbackRequested,
            WebhookEvent::QueueAbandoned(_) => WebhookEventType::QueueAbandoned,
            WebhookEvent::CallerRepeated(_) => WebhookEventType::CallerRepeated,
        }
    }
}

impl WebhookEventType {
    /// The name a receiver sees in `type` ("call.ended").
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }
}

/// Turns what the store writes into deliveries for the receivers that want them,
/// numbered in the order Switchboard saw them, across restarts.
pub struct Herald {
    ordinal: i64,
}

impl Herald {
    pub fn new(store: &Store) -> Result<Herald, StoreError> {
        Ok(Herald {
            ordinal: store.last_webhook_ordinal()?,
        })
    }

    /// One delivery of `event` (about `subject`, happened `at`) per receiver that wants
    /// it; they share the message id a receiver drops repeats by.
    fn tell(
        &mut self,
        settings: &WebhookSettings,
        subject: &str,
        at: SystemTime,
        event: WebhookEvent,
    ) -> Vec<WebhookDelivery> {
        let kind = event.kind();
        let receivers: Vec<&str> = settings
            .endpoints
            .iter()
            .filter(|e| e.wants(kind))
            .map(|e| e.url.as_str())
            .collect();
        if receivers.is_empty() {
            return Vec::new();
        }
        self.ordinal += 1;
        let name = kind.name();
        let payload = WebhookPayload {
            timestamp: jiff::Timestamp::try_from(at)
                .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
                .to_string(),
            event,
        };
        let payload = serde_json::to_string(&payload).expect("webhook bodies serialize");
        let message_id = format!("msg_{:032x}", rand::random::<u128>());
        receivers
            .into_iter()
            .map(|endpoint| WebhookDelivery {
                endpoint: endpoint.to_string(),
                message_id: message_id.clone(),
                event: name.clone(),
                subject: subject.to_string(),
                ordinal: self.ordinal,
                payload: payload.clone(),
            })
            .collect()
    }

    /// A call began; `earlier` counts the calls from its caller opened before it in the
    /// same batch (not yet in the store).
    pub fn opened(
        &mut self,
        store: &Store,
        settings: &WebhookSettings,
        call: &CallOpened,
        earlier: u32,
    ) -> Vec<WebhookDelivery> {
        let started = WebhookCallStarted {
            call_id: call.call_id.clone(),
            caller: call.caller.clone(),
            callee: call.callee.clone(),
            trunk: call.trunk.clone(),
            started_at: unix_ms::from(call.started),
        };
        let subject = &call.call_id;
        let mut deliveries = self.tell(
            settings,
            subject,
            call.started,
            WebhookEvent::CallStarted(started),
        );
        if let Some(calls) = repeated(store, settings, call, earlier) {
            let repeated = WebhookRepeatedCaller {
                call_id: call.call_id.clone(),
                caller: call.caller.clone(),
                calls,
                within_minutes: settings.repeated_within_minutes,
            };
            let event = WebhookEvent::CallerRepeated(repeated);
            deliveries.extend(self.tell(settings, subject, call.started, event));
        }
        deliveries
    }

    /// A call was answered; `subject` names the call as it was opened.
    pub fn answered(
        &mut self,
        settings: &WebhookSettings,
        call: &CallAnswered,
        subject: &str,
    ) -> Vec<WebhookDelivery> {
        let answered = WebhookCallAnswered {
            call_id: call.call_id.clone(),
            caller: call.caller.clone(),
            callee: call.callee.clone(),
            answered_by: call.answered_by.clone(),
            answered_at: unix_ms::from(call.answered),
        };
        let event = WebhookEvent::CallAnswered(answered);
        self.tell(settings, subject, call.answered, event)
    }

    /// A call ended; `subject` names the call as it was opened.
    pub fn ended(
        &mut self,
        settings: &WebhookSettings,
        record: &CallRecord,
        subject: &str,
    ) -> Vec<WebhookDelivery> {
        let at = record.ended;
        let mut deliveries = self.tell(
            settings,
            subject,
            at,
            WebhookEvent::CallEnded(record.clone()),
        );
        if crate::mailer::is_missed(record) {
            let event = WebhookEvent::CallMissed(record.clone());
            deliveries.extend(self.tell(settings, subject, at, event));
        }
        deliveries
    }

    /// A queue event: a caller who hung up waiting is told of; `opened` are the calls
    /// begun in the same batch.
    pub fn queue_event(
        &mut self,
        store: &Store,
        settings: &WebhookSettings,
        event: &QueueEventRecord,
        opened: &[CallOpened],
    ) -> Vec<WebhookDelivery> {
        let EventKind::Abandon { waited, position } = event.kind else {
            return Vec::new();
        };
        // The caller is looked up only for a receiver that will be told.
        if !settings.wanted(WebhookEventType::QueueAbandoned) {
            return Vec::new();
        }
        // The call began before this batch, or in it (not yet in the store).
        let caller = event.call_id.as_deref().and_then(|id| {
            let here = opened.iter().find(|o| o.call_id == id);
            here.map(|o| o.caller.clone())
                .or_else(|| store.open_call_caller(id).ok().flatten())
        });
        let abandon = WebhookAbandon {
            call_id: event.call_id.clone(),
            queue: event.queue.clone(),
            caller,
            waited_ms: waited.as_millis() as i64,
            position,
            vip: event.vip,
        };
        let subject = event.call_id.clone().unwrap_or_default();
        self.tell(
            settings,
            &subject,
            event.at,
            WebhookEvent::QueueAbandoned(abandon),
        )
    }

    pub fn callback(
        &mut self,
        settings: &WebhookSettings,
        change: &CallbackChange,
    ) -> Vec<WebhookDelivery> {
        let CallbackChange::Requested(r) = change else {
            return Vec::new();
        };
        let callback = WebhookCallback {
            call_id: r.call_id.clone(),
            queue: r.queue.clone(),
            number: r.number.clone(),
            requested_at: unix_ms::from(r.requested),
            lost_call: r.expires.is_some(),
        };
        let event = WebhookEvent::CallbackRequested(callback);
        self.tell(settings, &r.call_id, r.requested, event)
    }

    pub fn voicemail(
        &mut self,
        settings: &WebhookSettings,
        change: &VoicemailChange,
    ) -> Vec<WebhookDelivery> {
        let VoicemailChange::Left(m) = change else {
            return Vec::new();
        };
        let message = WebhookVoicemail {
            mailbox: m.mailbox.clone(),
            message: m.id,
            caller: m.caller.clone(),
            received_at: unix_ms::from(m.received),
            duration_ms: m.duration.as_millis() as i64,
        };
        let subject = format!("voicemail:{}", m.id);
        self.tell(
            settings,
            &subject,
            m.received,
            WebhookEvent::VoicemailLeft(message),
        )
    }
}

/// How many calls make `call`'s caller a repeated caller, when this call is the one
/// that reaches the office's number. Only callers from outside count: colleagues call
/// each other all day.
fn repeated(
    store: &Store,
    settings: &WebhookSettings,
    call: &CallOpened,
    earlier: u32,
) -> Option<u32> {
    let needed = settings.repeated_calls;
    if !settings.wanted(WebhookEventType::CallerRepeated)
        || needed == 0
        || call.trunk.is_none()
        || call.caller == "anonymous"
    {
        return None;
    }
    let window = Duration::from_secs(u64::from(settings.repeated_within_minutes) * 60);
    let since = unix_ms::from(call.started.checked_sub(window)?);
    let before = store
        .calls_from_since(&call.caller, since)
        .inspect_err(|e| tracing::error!("cannot count {}'s calls: {e}", call.caller))
        .ok()?;
    (before + earlier + 1 == needed).then_some(needed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::WebhookEndpoint;
    use std::time::UNIX_EPOCH;

    fn settings(events: Vec<WebhookEventType>) -> WebhookSettings {
        WebhookSettings {
            endpoints: vec![WebhookEndpoint {
                url: "http://crm.example/hooks".into(),
                secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
                events,
            }],
            ..WebhookSettings::default()
        }
    }

    fn call(n: u64, caller: &str, minute: u64, trunk: Option<&str>) -> CallOpened {
        CallOpened {
            call: n,
            call_id: format!("call-{n}"),
            caller: caller.into(),
            callee: "+48225550100".into(),
            started: UNIX_EPOCH + Duration::from_secs(1_800_000_000 + minute * 60),
            trunk: trunk.map(str::to_string),
        }
    }

    fn kinds(deliveries: &[WebhookDelivery]) -> Vec<&str> {
        deliveries.iter().map(|d| d.event.as_str()).collect()
    }

    #[test]
    fn the_third_call_from_outside_within_the_hour_is_a_repeated_caller_once() {
        let mut store = Store::open_in_memory().unwrap();
        let mut herald = Herald::new(&store).unwrap();
        let settings = settings(Vec::new());
        let customer = "+48601234570";
        let mut told = Vec::new();
        // Minutes 0, 10 and 50: the third is within 60 minutes of the first.
        for (n, minute) in [(1, 0), (2, 10), (3, 50), (4, 55)] {
            let opened = call(n, customer, minute, Some("provider"));
            let deliveries = herald.opened(&store, &settings, &opened, 0);
            store
                .write_calls(&[opened], &[], &Default::default())
                .unwrap();
            told.push(kinds(&deliveries).join(" "));
        }
        assert_eq!(
            told,
            [
                "call.started",
                "call.started",
                "call.started caller.repeated",
                "call.started"
            ],
            "told once, at the third call"
        );
        // A colleague calling from an extension is never a repeated caller.
        for n in 5..9 {
            let opened = call(n, "101", 56, None);
            let deliveries = herald.opened(&store, &settings, &opened, 0);
            store
                .write_calls(&[opened], &[], &Default::default())
                .unwrap();
            assert_eq!(kinds(&deliveries), ["call.started"]);
        }
        // Two calls in the same batch count as two.
        let first = call(9, "+48225550199", 0, Some("provider"));
        let second = call(10, "+48225550199", 1, Some("provider"));
        let third = call(11, "+48225550199", 2, Some("provider"));
        herald.opened(&store, &settings, &first, 0);
        herald.opened(&store, &settings, &second, 1);
        let deliveries = herald.opened(&store, &settings, &third, 2);
        assert_eq!(kinds(&deliveries), ["call.started", "caller.repeated"]);
        let body: serde_json::Value = serde_json::from_str(&deliveries[1].payload).unwrap();
        assert_eq!(body["data"]["calls"], 3);
        assert_eq!(body["data"]["within_minutes"], 60);
    }

    #[test]
    fn a_receiver_gets_only_the_events_it_chose_in_the_order_they_happened() {
        let store = Store::open_in_memory().unwrap();
        let mut herald = Herald::new(&store).unwrap();
        let only_missed = settings(vec![WebhookEventType::CallMissed]);
        let opened = call(1, "+48601234570", 0, Some("provider"));
        assert!(herald.opened(&store, &only_missed, &opened, 0).is_empty());
        let mut record = crate::mailer::tests::unanswered(
            "101",
            switchboard_core::Outcome::Cancelled,
            switchboard_core::Direction::Inbound,
        );
        record.call_id = "call-1".into();
        record.trunk = Some("provider".into());
        record.started = opened.started;
        record.ended = opened.started + Duration::from_secs(20);
        let missed = herald.ended(&only_missed, &record, "call-1");
        assert_eq!(kinds(&missed), ["call.missed"]);
        let every = settings(Vec::new());
        let ended = herald.ended(&every, &record, "call-1");
        assert_eq!(kinds(&ended), ["call.ended", "call.missed"]);
        assert!(
            missed[0].ordinal < ended[0].ordinal && ended[0].ordinal < ended[1].ordinal,
            "later events come after"
        );
        let body: serde_json::Value = serde_json::from_str(&ended[1].payload).unwrap();
        assert_eq!(body["type"], "call.missed");
        assert_eq!(body["timestamp"], "2027-01-15T08:00:20Z");
        assert_eq!(body["data"]["outcome"], "cancelled");
        assert_eq!(ended[0].subject, "call-1");
        assert_ne!(ended[0].message_id, ended[1].message_id);
    }
}
