//! Call recordings, for the admin alone (agents' logins are refused): listened to in
//! the panel with seeking (HTTP ranges) or downloaded, each listen and download kept in
//! an audit log.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use axum::Json;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use switchboard_core::unix_ms;
use switchboard_store::RecordingAccess;
use tower::ServiceExt;
use utoipa::{IntoParams, ToSchema};

use super::api::Api;
use super::error::{ApiError, ApiQuery};
use super::session::Admin;
use crate::recordings::RecordingFolder;

/// The most audit entries one answer holds.
const MAX_ACCESSES: u32 = 1000;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RecordingQuery {
    /// Sent as a file to save rather than to play.
    #[serde(default)]
    download: bool,
}

#[utoipa::path(get, path = "/api/recordings/{name}", tag = "calls",
    params(("name" = String, Path, description = "The `recording` a call record names"), RecordingQuery),
    responses(
        (status = 200, description = "The recording: Opus in Ogg, the caller on the left channel and who was called on the right", content_type = "audio/ogg", body = Vec<u8>),
        (status = 206, description = "The part a `Range` header asked for", content_type = "audio/ogg", body = Vec<u8>),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, description = "No call has this recording, or it was removed", body = ApiError),
    ))]
pub async fn get_recording(
    State(api): State<Arc<Api>>,
    _: Admin,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(name): Path<String>,
    ApiQuery(query): ApiQuery<RecordingQuery>,
    request: Request,
) -> Result<Response, ApiError> {
    let path = RecordingFolder::new(api.data_dir())
        .path(&name)
        .ok_or_else(|| ApiError::not_found("recording"))?;
    if !path.is_file() {
        return Err(ApiError::not_found("recording"));
    }
    // A player asks for the file in ranges as it plays and seeks: one listen is the
    // request that starts at the beginning.
    let from_start = request
        .headers()
        .get(header::RANGE)
        .and_then(|r| r.to_str().ok())
        .is_none_or(|r| r.starts_with("bytes=0-"));
    let action = if query.download { "download" } else { "listen" };
    let (asked, address) = (name.clone(), peer.ip().to_string());
    // The call the recording is of, and the access kept, in one visit to the store.
    let found = api
        .with_store(move |store| {
            let Some(call_id) = store.recorded_call(&asked)? else {
                return Ok(false);
            };
            if from_start {
                store.log_recording_access(&RecordingAccess {
                    at_ms: unix_ms::from(SystemTime::now()),
                    recording: asked,
                    call_id,
                    action: action.into(),
                    who: "admin".into(),
                    address,
                })?;
            }
            Ok(true)
        })
        .await?;
    if !found {
        return Err(ApiError::not_found("recording"));
    }
    let mut response = tower_http::services::ServeFile::new_with_mime(
        path,
        &"audio/ogg".parse().map_err(ApiError::internal)?,
    )
    .oneshot(request)
    .await
    .map_err(ApiError::internal)?
    .into_response();
    let disposition = if query.download {
        "attachment"
    } else {
        "inline"
    };
    if let Ok(value) = HeaderValue::from_str(&format!("{disposition}; filename=\"{name}\"")) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// One listen or download of a recording.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordingAccessView {
    /// Unix milliseconds.
    at: i64,
    recording: String,
    call_id: String,
    /// "listen" or "download".
    action: String,
    who: String,
    address: String,
}

#[utoipa::path(get, path = "/api/recording-access", tag = "calls",
    responses(
        (status = 200, description = "Who listened to or downloaded which recording, newest first", body = Vec<RecordingAccessView>),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
    ))]
pub async fn accesses(
    State(api): State<Arc<Api>>,
    _: Admin,
) -> Result<Json<Vec<RecordingAccessView>>, ApiError> {
    let rows = api
        .with_store(|store| Ok(store.recording_accesses(MAX_ACCESSES)?))
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|a| RecordingAccessView {
                at: a.at_ms,
                recording: a.recording,
                call_id: a.call_id,
                action: a.action,
                who: a.who,
                address: a.address,
            })
            .collect(),
    ))
}
