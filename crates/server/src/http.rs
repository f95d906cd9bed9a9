//! The HTTP edge. For now a health endpoint; the admin API and UI arrive here later.

use std::sync::Arc;

use axum::{Json, Router, extract::State, routing::get};
use serde::Serialize;

use crate::metrics::{Metrics, Snapshot};

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
        .with_state(metrics)
}

async fn health(State(metrics): State<Arc<Metrics>>) -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        sip: metrics.snapshot(),
    })
}
