//! An agent's own panel: their extension, what they are doing, the queues they answer
//! (and in which tier), their phones and their voicemail. Nothing about anyone else.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::api::Api;
use super::error::ApiError;
use super::session::Signed;
use crate::config::Config;
use crate::metrics::{AgentBoard, CallBoard};

#[derive(Debug, Serialize, ToSchema)]
pub struct MyPanel {
    pub extension: String,
    pub name: String,
    /// What the queues see the agent doing; none when they answer no queue.
    pub agent: Option<AgentBoard>,
    pub queues: Vec<MyQueue>,
    /// Phones registered as this extension.
    pub phones: usize,
    /// The calls in progress this extension is on.
    pub calls: Vec<CallBoard>,
    pub voicemail: MyVoicemail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyQueue {
    pub number: String,
    pub name: String,
    /// The agent's tier in the queue: 0 rings first.
    pub tier: u8,
    /// Callers waiting there now.
    pub waiting: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyVoicemail {
    pub new: usize,
    pub saved: usize,
}

#[utoipa::path(get, path = "/api/me", tag = "session",
    responses(
        (status = 200, description = "The logged-in agent's own panel", body = MyPanel),
        (status = 401, body = ApiError),
        (status = 404, description = "The admin has no extension", body = ApiError),
    ))]
pub async fn panel(State(api): State<Arc<Api>>, signed: Signed) -> Result<Json<MyPanel>, ApiError> {
    let extension = signed.extension()?;
    let mailbox = extension.clone();
    let (config, messages) = api
        .with_store(move |store| {
            let config = Config::load(store).map_err(ApiError::internal)?;
            let messages: Vec<bool> = store
                .voicemail_messages()?
                .into_iter()
                .filter(|m| m.mailbox == mailbox)
                .map(|m| m.heard)
                .collect();
            Ok((config, messages))
        })
        .await?;
    let boards = api.metrics.queue_boards();
    let queues = config
        .queues
        .iter()
        .filter_map(|q| {
            let member = q.agents.iter().find(|m| m.extension == extension)?;
            Some(MyQueue {
                number: q.number.clone(),
                name: q.name.clone(),
                tier: member.tier,
                waiting: boards
                    .iter()
                    .find(|b| b.number == q.number)
                    .map_or(0, |b| b.waiting),
            })
        })
        .collect();
    Ok(Json(MyPanel {
        name: config
            .extensions
            .iter()
            .find(|e| e.number == extension)
            .map(|e| e.name.clone())
            .unwrap_or_default(),
        agent: api
            .metrics
            .agent_boards()
            .into_iter()
            .find(|a| a.extension == extension),
        queues,
        phones: api
            .metrics
            .registered_phones()
            .into_iter()
            .find(|p| p.extension == extension)
            .map_or(0, |p| p.phones),
        calls: api
            .metrics
            .call_boards()
            .into_iter()
            .filter(|c| super::live_calls::is_party(c, &extension))
            .collect(),
        voicemail: MyVoicemail {
            new: messages.iter().filter(|heard| !**heard).count(),
            saved: messages.iter().filter(|heard| **heard).count(),
        },
        extension,
    }))
}
