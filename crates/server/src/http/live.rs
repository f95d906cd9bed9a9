//! The wallboard's data: queues (who waits and for how long, the service level), the
//! calls in progress and today's, each agent's activity, the registered phones and the
//! PBX's counters, as one snapshot to read, or pushed over a WebSocket whenever it
//! changes (looked at every quarter of a second).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::IntoResponse;
use axum::response::Response;
use serde::Serialize;
use utoipa::ToSchema;

use super::api::{Api, config_error};
use super::error::ApiError;
use super::session::Admin;
use crate::config::Config;
use crate::metrics::{AgentBoard, CallBoard, QueueBoard, RegisteredPhones, Snapshot};

const LOOK_EVERY: Duration = Duration::from_millis(250);
/// Today's calls are counted in the call log at most this often, however many
/// wallboards look.
const COUNT_TODAY_EVERY: Duration = Duration::from_secs(1);

/// Everything the wallboard shows.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Dashboard {
    pub queues: Vec<QueueBoard>,
    /// Calls in progress, oldest first.
    pub calls: Vec<CallBoard>,
    /// Every queue agent and what they do.
    pub agents: Vec<AgentBoard>,
    /// Extensions with phones registered.
    pub phones: Vec<RegisteredPhones>,
    /// The office's providers and whether they have it registered.
    pub trunks: Vec<crate::metrics::TrunkBoard>,
    /// Calls out kept from going out lately (permissions, limits), newest first.
    pub alerts: Vec<crate::metrics::AlertBoard>,
    /// Why calls are not being recorded (the disk is low), while it is so.
    pub recording_alert: Option<String>,
    pub pbx: Snapshot,
    pub today: Today,
}

/// Calls since midnight (the server's time zone), from the call log: a restart
/// forgets none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Today {
    pub calls: u64,
    pub answered: u64,
    /// Each queue that had calls today.
    pub queues: Vec<QueueToday>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct QueueToday {
    pub number: String,
    pub calls: u64,
    pub answered: u64,
}

impl Today {
    fn from_counts(counts: &[switchboard_store::CallCount]) -> Today {
        let mut today = Today::default();
        for count in counts {
            let answered = if count.answered { count.calls } else { 0 };
            today.calls += count.calls;
            today.answered += answered;
            let Some(number) = &count.queue else {
                continue;
            };
            let at = match today.queues.iter().position(|q| &q.number == number) {
                Some(at) => at,
                None => {
                    today.queues.push(QueueToday {
                        number: number.clone(),
                        calls: 0,
                        answered: 0,
                    });
                    today.queues.len() - 1
                }
            };
            today.queues[at].calls += count.calls;
            today.queues[at].answered += answered;
        }
        today
    }
}

/// Today's calls, counted afresh once the last count is a second old.
async fn today(api: &Arc<Api>) -> Today {
    let last = api.today.lock().map(|t| t.clone()).unwrap_or_default();
    if let Some((_, fresh)) = last
        .as_ref()
        .filter(|(at, _)| at.elapsed() < COUNT_TODAY_EVERY)
    {
        return fresh.clone();
    }
    let counted = api
        .with_store(|store| {
            let midnight = Config::numbers(store).map_err(config_error)?.midnight_ms();
            Ok(store.call_counts_since(midnight)?)
        })
        .await;
    let Ok(counts) = counted else {
        return last.map(|(_, today)| today).unwrap_or_default();
    };
    let today = Today::from_counts(&counts);
    if let Ok(mut cache) = api.today.lock() {
        *cache = Some((Instant::now(), today.clone()));
    }
    today
}

async fn dashboard(api: &Arc<Api>) -> Dashboard {
    Dashboard {
        today: today(api).await,
        queues: api.metrics.queue_boards(),
        calls: api.metrics.call_boards(),
        agents: api.metrics.agent_boards(),
        phones: api.metrics.registered_phones(),
        trunks: api.metrics.trunk_boards(),
        alerts: api.metrics.alert_boards(),
        recording_alert: api.metrics.recording_alert(),
        pbx: api.metrics.snapshot(),
    }
}

#[utoipa::path(get, path = "/api/dashboard", tag = "live",
    responses((status = 200, body = Dashboard), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn get_dashboard(State(api): State<Arc<Api>>, _: Admin) -> Json<Dashboard> {
    Json(dashboard(&api).await)
}

#[utoipa::path(get, path = "/api/live", tag = "live",
    description = "A WebSocket: each text message is a Dashboard, sent at once and whenever it changes.",
    responses(
        (status = 101, description = "Switched to WebSocket"),
        (status = 400, description = "Not a WebSocket request", body = String),
        (status = 401, body = ApiError),
        (status = 403, description = "Not an admin, or a page of another site asked", body = ApiError),
    ))]
pub async fn live(
    State(api): State<Arc<Api>>,
    _: Admin,
    headers: axum::http::HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    // A WebSocket is not bound by the same-origin policy: another site's page could open
    // it with the admin's cookie and read the wallboard.
    if !super::headers::same_origin(&headers) {
        return ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "forbidden",
            "the wallboard is served to this server's own pages",
        )
        .into_response();
    }
    upgrade.on_upgrade(move |socket| push(api, socket))
}

async fn push(api: Arc<Api>, mut socket: WebSocket) {
    let mut sent: Option<Dashboard> = None;
    let mut tick = tokio::time::interval(LOOK_EVERY);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let now = dashboard(&api).await;
                if sent.as_ref() == Some(&now) {
                    continue;
                }
                let Ok(text) = serde_json::to_string(&now) else { return };
                if socket.send(Message::Text(text.into())).await.is_err() {
                    return;
                }
                sent = Some(now);
            }
            received = socket.recv() => match received {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_store::CallCount;

    #[test]
    fn todays_counts_add_up_by_queue() {
        let count = |queue: Option<&str>, answered, calls| CallCount {
            queue: queue.map(str::to_string),
            answered,
            calls,
        };
        let today = Today::from_counts(&[
            count(None, true, 4),
            count(Some("600"), false, 1),
            count(Some("600"), true, 2),
            count(Some("601"), true, 3),
        ]);
        assert_eq!((today.calls, today.answered), (10, 9));
        assert_eq!(
            today.queues,
            [
                QueueToday {
                    number: "600".into(),
                    calls: 3,
                    answered: 2
                },
                QueueToday {
                    number: "601".into(),
                    calls: 3,
                    answered: 3
                },
            ]
        );
    }
}
