//! Counters the engine publishes for the health endpoint, without a lock on the hot path.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use switchboard_core::Pbx;

/// The wallboard is redrawn at most this often: it must follow within a second, and
/// the engine must not pay for it on every packet.
const BOARDS_EVERY: Duration = Duration::from_millis(250);

#[derive(Debug, Default)]
pub struct Metrics {
    bindings: AtomicU64,
    registrations: AtomicU64,
    auth_failures: AtomicU64,
    rejected: AtomicU64,
    dropped: AtomicU64,
    blocked: AtomicU64,
    limited: AtomicU64,
    banned: AtomicU64,
    active_calls: AtomicU64,
    lamp_subscriptions: AtomicU64,
    rtp_forwarded: AtomicU64,
    rtp_dropped: AtomicU64,
    boards: Mutex<Boards>,
    /// Why recording stopped (the disk is low), while it is so.
    recording_alert: Mutex<Option<String>>,
}

#[derive(Debug, Default)]
struct Boards {
    taken: Option<Instant>,
    queues: Vec<QueueBoard>,
    agents: Vec<AgentBoard>,
    phones: Vec<RegisteredPhones>,
    /// The registrar's generation `phones` was drawn at: refreshes do not redraw it.
    phones_drawn: Option<u64>,
    calls: Vec<switchboard_core::LiveCall>,
    trunks: Vec<TrunkBoard>,
    alerts: Vec<AlertBoard>,
}

/// A call out that was kept from going out (a permission, a limit), newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AlertBoard {
    /// When (unix milliseconds).
    pub at: i64,
    /// The extension that dialled.
    pub caller: String,
    /// The number as dialled.
    pub number: String,
    /// Why it did not go out.
    pub reason: String,
}

/// One trunk: whether the provider has the office registered or answers, since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TrunkBoard {
    pub name: String,
    pub state: TrunkState,
    /// The provider's refusal ("403 Forbidden"), for a refused trunk.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// Seconds the provider keeps the registration, for a registered trunk.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<u32>,
    /// When the state last changed (unix milliseconds).
    pub since: i64,
    /// The last keep-alive's round trip.
    pub round_trip_ms: Option<u64>,
    /// The address the provider sees the office at.
    pub public_address: Option<String>,
    /// When the next attempt goes out after a failure (unix milliseconds).
    pub retry_at: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TrunkState {
    Starting,
    Registered,
    /// A trunk without registration answers its keep-alive.
    Reachable,
    /// Neither registered nor watched by keep-alive: nothing tells whether it is up.
    Unwatched,
    Refused,
    Unreachable,
    Stopped,
}

impl TrunkBoard {
    fn of(status: switchboard_core::TrunkStatus) -> TrunkBoard {
        use switchboard_core::unix_ms;
        use switchboard_sip::trunk_registration::LinkState as L;
        let (state, refusal, expires) = match status.state {
            L::Starting => (TrunkState::Starting, None, None),
            L::Registered { expires } => (TrunkState::Registered, None, Some(expires)),
            L::Reachable => (TrunkState::Reachable, None, None),
            L::Unwatched => (TrunkState::Unwatched, None, None),
            L::Refused { code, reason } => {
                (TrunkState::Refused, Some(format!("{code} {reason}")), None)
            }
            L::Unreachable => (TrunkState::Unreachable, None, None),
            L::Stopped => (TrunkState::Stopped, None, None),
        };
        TrunkBoard {
            name: status.name,
            state,
            refusal,
            expires,
            since: unix_ms::from(status.since),
            round_trip_ms: status.round_trip.map(|d| d.as_millis() as u64),
            public_address: status.public.map(|a| a.to_string()),
            retry_at: status.retry_at.map(unix_ms::from),
        }
    }
}

/// One call in progress on the wallboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CallBoard {
    /// The call's name while it lasts, for the panel's actions on it.
    pub id: u64,
    pub caller: String,
    /// The number dialled.
    pub callee: String,
    pub stage: CallStage,
    /// Since the call came in.
    pub seconds: u64,
    /// Since someone answered.
    pub talking_seconds: Option<u64>,
    /// The queue's number, for a queue call.
    pub queue: Option<String>,
    /// The extension talking to the caller.
    pub talking_to: Option<String>,
    /// The caller's queue priority; above 0 for VIP callers.
    pub priority: i32,
    /// The park slot a parked call waits in.
    pub parked_at: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CallStage {
    Ringing,
    Talking,
    Queued,
    Menu,
    Voicemail,
    Announcement,
    CallingBack,
    Parked,
    /// In a conference room (the callee is the room's number).
    Conference,
    /// A supervisor in another's call (the callee is the code: `*90101`).
    Listening,
}

/// One agent on the wallboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AgentBoard {
    pub extension: String,
    pub activity: Activity,
    /// Why an agent on a break is on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Activity {
    LoggedOut,
    OnBreak,
    Idle,
    Ringing,
    OnCall,
    WrapUp,
}

/// An extension with phones registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RegisteredPhones {
    pub extension: String,
    pub phones: usize,
}

/// One queue on the wallboard.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct QueueBoard {
    pub number: String,
    pub name: String,
    /// Callers on the line waiting.
    pub waiting: usize,
    /// Callback requests keeping their places.
    pub callbacks: usize,
    pub longest_wait_seconds: u64,
    pub agents_logged_in: usize,
    pub agents_on_break: usize,
    pub agents_idle: usize,
    pub agents_ringing: usize,
    pub agents_on_call: usize,
    pub agents_wrapping_up: usize,
    pub answered: u32,
    pub abandoned: u32,
    /// Share of answered calls answered within the queue's service-level time.
    pub service_level: Option<f64>,
}

/// A point-in-time copy, as `/health` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Snapshot {
    pub bindings: u64,
    pub registrations: u64,
    pub auth_failures: u64,
    pub rejected_requests: u64,
    pub dropped_messages: u64,
    /// Messages ignored from banned addresses and scanners.
    pub blocked_messages: u64,
    /// Requests answered 503 because their address sent more than its rate.
    pub limited_requests: u64,
    pub banned_sources: u64,
    pub active_calls: u64,
    /// Phones watching an extension's busy lamp.
    pub lamp_subscriptions: u64,
    pub rtp_forwarded: u64,
    /// RTP packets dropped: malformed, from strangers, foreign streams, unknown payloads.
    pub rtp_dropped: u64,
}

impl Metrics {
    /// Publishes the engine's state. The wallboard's part is drawn at most every
    /// [`BOARDS_EVERY`]; when this update was too soon for it, the answer is when the
    /// engine must update again so that the wallboard catches up with this change.
    #[must_use]
    pub fn update(&self, pbx: &Pbx) -> Option<Instant> {
        let service = pbx.service();
        let s = service.stats();
        self.active_calls
            .store(pbx.active_calls() as u64, Ordering::Relaxed);
        self.lamp_subscriptions
            .store(pbx.lamp_subscriptions() as u64, Ordering::Relaxed);
        self.bindings.store(
            service.registrar().binding_count() as u64,
            Ordering::Relaxed,
        );
        self.registrations.store(s.registrations, Ordering::Relaxed);
        self.auth_failures.store(s.auth_failures, Ordering::Relaxed);
        self.rejected.store(s.rejected, Ordering::Relaxed);
        self.dropped.store(s.dropped, Ordering::Relaxed);
        self.blocked.store(s.blocked, Ordering::Relaxed);
        self.limited.store(s.limited, Ordering::Relaxed);
        self.banned
            .store(service.banned_sources() as u64, Ordering::Relaxed);
        self.update_boards(pbx)
    }

    fn update_boards(&self, pbx: &Pbx) -> Option<Instant> {
        let now = Instant::now();
        let Ok(mut boards) = self.boards.lock() else {
            return None;
        };
        if let Some(taken) = boards.taken
            && now - taken < BOARDS_EVERY
        {
            return Some(taken + BOARDS_EVERY);
        }
        boards.taken = Some(now);
        boards.queues = pbx
            .queue_boards(now)
            .into_iter()
            .map(|(number, s)| QueueBoard {
                number,
                name: s.name,
                waiting: s.waiting,
                callbacks: s.callbacks,
                longest_wait_seconds: s.longest_wait.as_secs(),
                agents_logged_in: s.agents.logged_in,
                agents_on_break: s.agents.on_break,
                agents_idle: s.agents.idle,
                agents_ringing: s.agents.ringing,
                agents_on_call: s.agents.on_call,
                agents_wrapping_up: s.agents.wrap_up,
                answered: s.answered,
                abandoned: s.abandoned,
                service_level: s.service_level,
            })
            .collect();
        boards.agents = pbx
            .agent_boards()
            .into_iter()
            .map(|a| {
                use switchboard_queue::Activity as A;
                let (activity, reason) = match a.activity {
                    A::LoggedOut => (Activity::LoggedOut, None),
                    A::OnBreak { reason } => (Activity::OnBreak, Some(reason)),
                    A::Idle => (Activity::Idle, None),
                    A::Ringing => (Activity::Ringing, None),
                    A::OnCall => (Activity::OnCall, None),
                    A::WrapUp => (Activity::WrapUp, None),
                };
                AgentBoard {
                    extension: a.extension,
                    activity,
                    reason,
                }
            })
            .collect();
        let registrar = pbx.service().registrar();
        if boards.phones_drawn != Some(registrar.generation()) {
            let mut phones: Vec<RegisteredPhones> = registrar
                .registered()
                .map(|(extension, phones)| RegisteredPhones {
                    extension: extension.to_string(),
                    phones,
                })
                .collect();
            phones.sort_by(|a, b| a.extension.cmp(&b.extension));
            boards.phones = phones;
            boards.phones_drawn = Some(registrar.generation());
        }
        boards.calls = pbx.live_calls();
        boards.trunks = pbx
            .trunk_statuses()
            .into_iter()
            .map(TrunkBoard::of)
            .collect();
        boards.alerts = pbx
            .out_alerts()
            .into_iter()
            .map(|a| AlertBoard {
                at: switchboard_core::unix_ms::from(a.at),
                caller: a.caller,
                number: a.number,
                reason: a.reason,
            })
            .collect();
        None
    }

    /// Says why recordings stop, or that they may go on (none); true when that changed.
    pub fn set_recording_alert(&self, alert: Option<String>) -> bool {
        let mut held = self
            .recording_alert
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let changed = *held != alert;
        *held = alert;
        changed
    }

    pub fn recording_alert(&self) -> Option<String> {
        self.recording_alert
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The calls out kept from going out lately, newest first.
    pub fn alert_boards(&self) -> Vec<AlertBoard> {
        self.boards
            .lock()
            .map(|b| b.alerts.clone())
            .unwrap_or_default()
    }

    /// Every trunk's status, as last drawn.
    pub fn trunk_boards(&self) -> Vec<TrunkBoard> {
        self.boards
            .lock()
            .map(|b| b.trunks.clone())
            .unwrap_or_default()
    }

    /// The calls in progress as last drawn, their durations up to now.
    pub fn call_boards(&self) -> Vec<CallBoard> {
        let Ok(boards) = self.boards.lock() else {
            return Vec::new();
        };
        let wall = std::time::SystemTime::now();
        boards
            .calls
            .iter()
            .map(|c| {
                use switchboard_core::CallStage as S;
                CallBoard {
                    id: c.id,
                    caller: c.caller.clone(),
                    callee: c.callee.clone(),
                    stage: match c.stage {
                        S::Ringing => CallStage::Ringing,
                        S::Talking => CallStage::Talking,
                        S::Queued => CallStage::Queued,
                        S::Menu => CallStage::Menu,
                        S::Voicemail => CallStage::Voicemail,
                        S::Announcement => CallStage::Announcement,
                        S::CallingBack => CallStage::CallingBack,
                        S::Parked => CallStage::Parked,
                        S::Conference => CallStage::Conference,
                        S::Listening => CallStage::Listening,
                    },
                    seconds: wall.duration_since(c.started).map_or(0, |d| d.as_secs()),
                    talking_seconds: c.answered.map(|t| t.elapsed().as_secs()),
                    queue: c.queue.clone(),
                    talking_to: c.talking_to.clone(),
                    parked_at: c.parked_at.clone(),
                    priority: c.priority.0,
                }
            })
            .collect()
    }

    /// Every agent and what they do, as last drawn.
    pub fn agent_boards(&self) -> Vec<AgentBoard> {
        self.boards
            .lock()
            .map(|b| b.agents.clone())
            .unwrap_or_default()
    }

    /// The extensions with phones registered, as last drawn.
    pub fn registered_phones(&self) -> Vec<RegisteredPhones> {
        self.boards
            .lock()
            .map(|b| b.phones.clone())
            .unwrap_or_default()
    }

    /// The queues as last drawn, their longest waits carried forward to now.
    pub fn queue_boards(&self) -> Vec<QueueBoard> {
        let Ok(boards) = self.boards.lock() else {
            return Vec::new();
        };
        let since = boards.taken.map_or(0, |t| t.elapsed().as_secs());
        boards
            .queues
            .iter()
            .cloned()
            .map(|mut q| {
                if q.waiting > 0 {
                    q.longest_wait_seconds += since;
                }
                q
            })
            .collect()
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            bindings: self.bindings.load(Ordering::Relaxed),
            registrations: self.registrations.load(Ordering::Relaxed),
            auth_failures: self.auth_failures.load(Ordering::Relaxed),
            rejected_requests: self.rejected.load(Ordering::Relaxed),
            dropped_messages: self.dropped.load(Ordering::Relaxed),
            blocked_messages: self.blocked.load(Ordering::Relaxed),
            limited_requests: self.limited.load(Ordering::Relaxed),
            banned_sources: self.banned.load(Ordering::Relaxed),
            active_calls: self.active_calls.load(Ordering::Relaxed),
            lamp_subscriptions: self.lamp_subscriptions.load(Ordering::Relaxed),
            rtp_forwarded: self.rtp_forwarded.load(Ordering::Relaxed),
            rtp_dropped: self.rtp_dropped.load(Ordering::Relaxed),
        }
    }

    pub fn add_rtp(&self, forwarded: u64, dropped: u64) {
        self.rtp_forwarded.fetch_add(forwarded, Ordering::Relaxed);
        self.rtp_dropped.fetch_add(dropped, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::{Clock, PbxConfig};
    use switchboard_sip::service::ServiceConfig;

    #[test]
    fn a_change_too_soon_for_the_wallboard_is_drawn_when_it_is_due() {
        let pbx = Pbx::new(
            PbxConfig {
                sip: ServiceConfig::default(),
                sip_port: 5060,
                tls_port: None,
                advertise_ip: "192.0.2.1".parse().unwrap(),
                public_ip: None,
                local_networks: Vec::new(),
                media_ports: (20000, 20099),
                ring_timeout: Duration::from_secs(30),
            },
            [7; 32],
            [42; 32],
            Clock {
                mono: Instant::now(),
                wall: std::time::SystemTime::now(),
            },
        );
        let metrics = Metrics::default();
        assert_eq!(metrics.update(&pbx), None, "the first update draws");
        let due = metrics.update(&pbx).expect("too soon: drawn later");
        assert!(due > Instant::now() && due <= Instant::now() + BOARDS_EVERY);
        std::thread::sleep(due - Instant::now());
        assert_eq!(metrics.update(&pbx), None, "drawn once due");
    }
}
