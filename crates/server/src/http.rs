//! The HTTP edge. For now a health endpoint, the queues' wallboard and the voicemail
//! API; the admin API and UI arrive here later.

mod voicemail;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, put};
use axum::{Json, Router, extract::State};

use serde::Serialize;
pub use voicemail::VoicemailApi;

use crate::metrics::{Metrics, QueueBoard, Snapshot};

#[derive(Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
    #[serde(flatten)]
    sip: Snapshot,
}

pub fn router(metrics: Arc<Metrics>, voicemail: Arc<VoicemailApi>) -> Router {
    let boxes = Router::new()
        .route("/voicemail/{mailbox}/messages", get(voicemail::list))
        .route(
            "/voicemail/{mailbox}/messages/{id}",
            get(voicemail::audio)
                .patch(voicemail::change)
                .delete(voicemail::delete),
        )
        .route(
            "/voicemail/{mailbox}/greeting",
            put(voicemail::put_greeting)
                .delete(voicemail::delete_greeting)
                .layer(DefaultBodyLimit::max(voicemail::MAX_GREETING_BYTES)),
        )
        .with_state(voicemail);
    Router::new()
        .route("/health", get(health))
        .route("/queues", get(queues))
        .with_state(metrics)
        .merge(boxes)
}

async fn health(State(metrics): State<Arc<Metrics>>) -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        sip: metrics.snapshot(),
    })
}

/// Every queue: who waits and for how long, what the agents do, the service level.
async fn queues(State(metrics): State<Arc<Metrics>>) -> Json<Vec<QueueBoard>> {
    Json(metrics.queue_boards())
}
