//! Call recordings, for the admin (and, where the admin allows it, for agents, their
//! own calls' alone): listened to in the panel with seeking (HTTP ranges) or
//! downloaded, each listen and download kept in an audit log with who it was.

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
use super::session::{Admin, Role, Signed};
use crate::config::Config;
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
        (status = 401, body = ApiError),
        (status = 403, description = "An agent, where agents may not listen or the call is not theirs", body = ApiError),
        (status = 404, description = "No call has this recording, or it was removed", body = ApiError),
    ))]
pub async fn get_recording(
    State(api): State<Arc<Api>>,
    signed: Signed,
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
    // An agent: the extension whose calls they may hear.
    let agent = match signed.session.role {
        Role::Admin => None,
        Role::Agent => Some(signed.extension()?),
    };
    // The call the recording is of, whether this login may hear it, and the access
    // kept, in one visit to the store.
    api.with_store(move |store| {
        let call = store
            .recorded_call(&asked)?
            .ok_or_else(|| ApiError::not_found("recording"))?;
        if let Some(extension) = &agent {
            let allowed = Config::recording(store)
                .map_err(super::api::config_error)?
                .agents_listen;
            if !allowed || !call.involves(extension) {
                return Err(ApiError::new(
                    axum::http::StatusCode::FORBIDDEN,
                    "forbidden",
                    "an agent may hear the recordings of their own calls alone, where the admin allows it",
                ));
            }
        }
        if from_start {
            store.log_recording_access(&RecordingAccess {
                at_ms: unix_ms::from(SystemTime::now()),
                recording: asked,
                call_id: call.call_id,
                action: action.into(),
                who: agent.unwrap_or_else(|| "admin".into()),
                address,
            })?;
        }
        Ok(())
    })
    .await?;
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
