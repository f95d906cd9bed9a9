//! The addresses the SIP guard has banned (password guessing, floods, scanners): listed
//! for the admin, who can let one back in (a phone whose password was mistyped too
//! often, say) before its ban ends.

use std::net::IpAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use super::api::Api;
use super::error::ApiError;
use super::session::Admin;

/// One banned address.
#[derive(Debug, Serialize, ToSchema)]
pub struct BanView {
    pub address: String,
    /// Unix milliseconds when the ban ends by itself.
    pub until: i64,
    /// Why: failed-authentication, flood or scanner.
    pub reason: String,
}

#[utoipa::path(get, path = "/api/bans", tag = "security",
    responses(
        (status = 200, description = "The bans in force, ending soonest first", body = [BanView]),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
    ))]
pub async fn list(State(api): State<Arc<Api>>, _: Admin) -> Result<Json<Vec<BanView>>, ApiError> {
    let now_ms = crate::persist::unix_now() * 1000;
    let rows = api.with_store(move |store| Ok(store.bans(now_ms)?)).await?;
    Ok(Json(
        rows.into_iter()
            .map(|b| BanView {
                address: b.ip,
                until: b.until_ms,
                reason: b.reason,
            })
            .collect(),
    ))
}

#[utoipa::path(delete, path = "/api/bans/{address}", tag = "security",
    params(("address" = String, Path, description = "The banned IP address")),
    responses(
        (status = 204, description = "Lifted: the address is heard again"),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, description = "That address is not banned", body = ApiError),
    ))]
pub async fn lift(
    State(api): State<Arc<Api>>,
    _: Admin,
    Path(address): Path<String>,
) -> Result<StatusCode, ApiError> {
    let ip: IpAddr = address.parse().map_err(|_| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "must be an IP address",
        )
        .on("address")
    })?;
    api.lift_ban(ip).await?;
    Ok(StatusCode::NO_CONTENT)
}
