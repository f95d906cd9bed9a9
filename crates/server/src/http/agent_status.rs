//! Agents' status from the panel: an admin logs any agent in or out of their queues or
//! puts them on a break; an agent does the same for themselves. The same change as *45
//! and *46 on the phone, and like those it lasts until the next change or restart.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use switchboard_queue::AgentStatus;
use utoipa::ToSchema;

use super::api::Api;
use super::error::{ApiError, ApiJson};
use super::session::{Admin, Signed};

/// The longest break reason the wallboard shows.
const MAX_REASON_CHARS: usize = 60;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    pub status: NewStatus,
    /// Why, for a break (the wallboard shows it); "break" when left out.
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum NewStatus {
    /// Logged in and taking calls.
    Available,
    LoggedOut,
    OnBreak,
}

impl StatusChange {
    fn into_status(self) -> Result<AgentStatus, ApiError> {
        let reason = self
            .reason
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty());
        let invalid = |message: &str| {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message).on("reason")
        };
        match (self.status, reason) {
            (NewStatus::OnBreak, Some(r)) if r.chars().count() > MAX_REASON_CHARS => {
                Err(invalid("must be at most 60 characters"))
            }
            (NewStatus::OnBreak, reason) => Ok(AgentStatus::OnBreak {
                reason: reason.unwrap_or_else(|| "break".into()),
            }),
            (_, Some(_)) => Err(invalid("only a break has a reason")),
            (NewStatus::Available, None) => Ok(AgentStatus::Available),
            (NewStatus::LoggedOut, None) => Ok(AgentStatus::LoggedOut),
        }
    }
}

#[utoipa::path(put, path = "/api/agents/{extension}/status", tag = "live",
    params(("extension" = String, Path, description = "The agent's extension")),
    request_body = StatusChange,
    responses(
        (status = 204, description = "Changed; the wallboard follows"),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, description = "The extension answers no queue", body = ApiError),
    ))]
pub async fn set(
    State(api): State<Arc<Api>>,
    _: Admin,
    Path(extension): Path<String>,
    ApiJson(change): ApiJson<StatusChange>,
) -> Result<StatusCode, ApiError> {
    api.set_agent_status(extension, change.into_status()?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/api/me/status", tag = "session",
    request_body = StatusChange,
    responses(
        (status = 204, description = "Changed"),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, description = "This login answers no queue", body = ApiError),
    ))]
pub async fn set_mine(
    State(api): State<Arc<Api>>,
    signed: Signed,
    ApiJson(change): ApiJson<StatusChange>,
) -> Result<StatusCode, ApiError> {
    let extension = signed.extension()?;
    api.set_agent_status(extension, change.into_status()?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(json: &str) -> Result<AgentStatus, ApiError> {
        serde_json::from_str::<StatusChange>(json)
            .expect("well-formed")
            .into_status()
    }

    #[test]
    fn a_break_has_a_reason_and_nothing_else_does() {
        assert_eq!(
            change(r#"{"status":"on-break","reason":" lunch "}"#).unwrap(),
            AgentStatus::OnBreak {
                reason: "lunch".into()
            }
        );
        assert_eq!(
            change(r#"{"status":"on-break"}"#).unwrap(),
            AgentStatus::OnBreak {
                reason: "break".into()
            }
        );
        assert_eq!(
            change(r#"{"status":"logged-out"}"#).unwrap(),
            AgentStatus::LoggedOut
        );
        let wrong = change(r#"{"status":"available","reason":"lunch"}"#).unwrap_err();
        assert_eq!(wrong.field.as_deref(), Some("reason"));
        let long = format!(r#"{{"status":"on-break","reason":"{}"}}"#, "x".repeat(61));
        assert_eq!(
            change(&long).unwrap_err().status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert!(serde_json::from_str::<StatusChange>(r#"{"status":"away"}"#).is_err());
    }
}
