//! The HTTP edge. For now a health endpoint and the queues' wallboard; the admin API
//! and UI arrive here later.

use std::sync::Arc;

use axum::{Json, Router, extract::State, routing::get};
use serde::Serialize;

use crate::metrics::{Metrics, QueueBoard, Snapshot};

#[derive(Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
    #[serde(flatten)]
    sip: Snapshot,
}

pub fn router(metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/queues", get(queues))
        .with_state(metrics)
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
