//! Actions on calls in progress from the panel: the admin, from the wallboard, puts any
//! call through to another number (as its answering phone transferring would), joins it
//! through a phone as a supervisor, or hangs it up; an agent transfers or hangs up
//! their own calls from their panel.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use super::api::Api;
use super::error::{ApiError, ApiJson};
use super::session::{Admin, Signed};
use crate::metrics::CallBoard;

/// The longest number a call can be transferred to.
const MAX_NUMBER_CHARS: usize = 32;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallTransfer {
    /// An extension, a queue, an inbound number, `*` and a box, or a number outside.
    pub to: String,
}

impl CallTransfer {
    fn number(self) -> Result<String, ApiError> {
        let to = self.to.trim().to_string();
        let invalid = |message: &str| {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message).on("to")
        };
        if to.is_empty() {
            return Err(invalid("must name a number"));
        }
        if to.chars().count() > MAX_NUMBER_CHARS {
            return Err(invalid("must be at most 32 characters"));
        }
        if !to.chars().all(|c| c.is_ascii_digit() || "*#+".contains(c)) {
            return Err(invalid("may hold only digits, *, # and a leading +"));
        }
        Ok(to)
    }
}

#[utoipa::path(post, path = "/api/calls/live/{id}/transfer", tag = "live",
    params(("id" = u64, Path, description = "The call's id on the wallboard")),
    request_body = CallTransfer,
    responses(
        (status = 204, description = "The call is being put through; the wallboard follows"),
        (status = 400, description = "The id is not a call's", body = String),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, description = "No call with two parties talking has that id", body = ApiError),
        (status = 422, description = "The number cannot take the call, and why", body = ApiError),
    ))]
pub async fn transfer(
    State(api): State<Arc<Api>>,
    _: Admin,
    Path(id): Path<u64>,
    ApiJson(transfer): ApiJson<CallTransfer>,
) -> Result<StatusCode, ApiError> {
    api.transfer_call(id, transfer.number()?, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How the admin joins a call: as `*90`, `*91` or `*92` on a phone would.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SupervisorPart {
    /// Hears both sides; nobody hears them.
    Listen,
    /// Hears both sides; the office's party alone hears them.
    Whisper,
    /// Hears both sides, and both hear them.
    Barge,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallSupervision {
    /// The extension whose phones ring; the one that answers joins the call.
    pub extension: String,
    pub how: SupervisorPart,
}

#[utoipa::path(post, path = "/api/calls/live/{id}/supervise", tag = "live",
    params(("id" = u64, Path, description = "The call's id on the wallboard")),
    request_body = CallSupervision,
    responses(
        (status = 204, description = "The extension's phones ring; the one that answers joins the call"),
        (status = 400, description = "The id is not a call's", body = String),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, description = "No call with two parties talking has that id", body = ApiError),
        (status = 422, description = "The extension cannot be rung, and why", body = ApiError),
    ))]
pub async fn supervise(
    State(api): State<Arc<Api>>,
    _: Admin,
    Path(id): Path<u64>,
    ApiJson(join): ApiJson<CallSupervision>,
) -> Result<StatusCode, ApiError> {
    use switchboard_core::Supervise;
    let how = match join.how {
        SupervisorPart::Listen => Supervise::Listen,
        SupervisorPart::Whisper => Supervise::Whisper,
        SupervisorPart::Barge => Supervise::Barge,
    };
    let extension = join.extension.trim().to_string();
    api.supervise_call(id, extension, how).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/calls/live/{id}", tag = "live",
    params(("id" = u64, Path, description = "The call's id on the wallboard")),
    responses(
        (status = 204, description = "Hung up; the call log records it"),
        (status = 400, description = "The id is not a call's", body = String),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, description = "No call in progress has that id", body = ApiError),
    ))]
pub async fn hang_up(
    State(api): State<Arc<Api>>,
    _: Admin,
    Path(id): Path<u64>,
) -> Result<StatusCode, ApiError> {
    api.hang_up_call(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether the agent at `extension` is a party of `call`.
pub fn is_party(call: &CallBoard, extension: &str) -> bool {
    call.caller == extension || call.talking_to.as_deref() == Some(extension)
}

/// The agent's own call `id`, or 404.
fn own_call(api: &Api, signed: &Signed, id: u64) -> Result<String, ApiError> {
    let extension = signed.extension()?;
    api.metrics
        .call_boards()
        .iter()
        .any(|c| c.id == id && is_party(c, &extension))
        .then_some(extension)
        .ok_or_else(|| ApiError::not_found("call of yours in progress"))
}

#[utoipa::path(post, path = "/api/me/calls/{id}/transfer", tag = "session",
    params(("id" = u64, Path, description = "The call's id on the agent's panel")),
    request_body = CallTransfer,
    responses(
        (status = 204, description = "The other party is being put through; the agent's phone leaves the call"),
        (status = 400, description = "The id is not a call's", body = String),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, description = "No call of this agent's has that id", body = ApiError),
        (status = 422, description = "The number cannot take the call, and why", body = ApiError),
    ))]
pub async fn transfer_mine(
    State(api): State<Arc<Api>>,
    signed: Signed,
    Path(id): Path<u64>,
    ApiJson(transfer): ApiJson<CallTransfer>,
) -> Result<StatusCode, ApiError> {
    let extension = own_call(&api, &signed, id)?;
    api.transfer_call(id, transfer.number()?, Some(extension))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/me/calls/{id}", tag = "session",
    params(("id" = u64, Path, description = "The call's id on the agent's panel")),
    responses(
        (status = 204, description = "Hung up"),
        (status = 400, description = "The id is not a call's", body = String),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, description = "No call of this agent's has that id", body = ApiError),
    ))]
pub async fn hang_up_mine(
    State(api): State<Arc<Api>>,
    signed: Signed,
    Path(id): Path<u64>,
) -> Result<StatusCode, ApiError> {
    own_call(&api, &signed, id)?;
    api.hang_up_call(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
