//! The wallboard's data: queues (who waits and for how long, the service level), the
//! calls in progress, each agent's activity, the registered phones and the PBX's
//! counters, as one snapshot to read, or pushed over a WebSocket whenever it changes
//! (looked at every quarter of a second).

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use serde::Serialize;
use utoipa::ToSchema;

use super::api::Api;
use super::error::ApiError;
use super::session::Admin;
use crate::metrics::{AgentBoard, CallBoard, QueueBoard, RegisteredPhones, Snapshot};

const LOOK_EVERY: Duration = Duration::from_millis(250);

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
    pub pbx: Snapshot,
}

fn dashboard(api: &Api) -> Dashboard {
    Dashboard {
        queues: api.metrics.queue_boards(),
        calls: api.metrics.call_boards(),
        agents: api.metrics.agent_boards(),
        phones: api.metrics.registered_phones(),
        pbx: api.metrics.snapshot(),
    }
}

#[utoipa::path(get, path = "/api/dashboard", tag = "live",
    responses((status = 200, body = Dashboard), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn get_dashboard(State(api): State<Arc<Api>>, _: Admin) -> Json<Dashboard> {
    Json(dashboard(&api))
}

#[utoipa::path(get, path = "/api/live", tag = "live",
    description = "A WebSocket: each text message is a Dashboard, sent at once and whenever it changes.",
    responses(
        (status = 101, description = "Switched to WebSocket"),
        (status = 400, description = "Not a WebSocket request", body = String),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
    ))]
pub async fn live(State(api): State<Arc<Api>>, _: Admin, upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(move |socket| push(api, socket))
}

async fn push(api: Arc<Api>, mut socket: WebSocket) {
    let mut sent: Option<Dashboard> = None;
    let mut tick = tokio::time::interval(LOOK_EVERY);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let now = dashboard(&api);
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
