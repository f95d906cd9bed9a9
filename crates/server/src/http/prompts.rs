//! The office's own prompts, which scenario blocks play by name: listed beside the
//! built-in ones, uploaded as any audio file Switchboard can decode (kept as sent,
//! decoded when played), downloaded, and removed once no published scenario plays them.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use switchboard_media::prompt::Prompt;
use utoipa::ToSchema;

use super::api::Api;
use super::error::ApiError;
use super::session::Admin;
use crate::config::Config;
use crate::sounds::{SCENARIO_PROMPTS, is_prompt_name};

/// The largest prompt accepted: several minutes of 16-bit audio.
pub const MAX_PROMPT_BYTES: usize = 10 << 20;

#[derive(Debug, Serialize, ToSchema)]
pub struct PromptInfo {
    pub name: String,
    /// Switchboard's own, in the callers' language; not uploaded, not removable.
    pub built_in: bool,
    /// Length of an uploaded prompt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
}

fn file(api: &Api, name: &str) -> Result<PathBuf, ApiError> {
    if !is_prompt_name(name) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "use 1 to 64 letters, digits, '-' or '_'",
        )
        .on("name"));
    }
    Ok(api.prompts().join(format!("{name}.wav")))
}

fn uploaded(dir: &std::path::Path) -> Vec<PromptInfo> {
    let mut found: Vec<PromptInfo> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let name = path.file_stem()?.to_str()?.to_string();
            (path.extension()? == "wav" && is_prompt_name(&name)).then(|| {
                let duration_ms = std::fs::read(&path)
                    .ok()
                    .and_then(|bytes| Prompt::decode(bytes, 8000).ok())
                    .map(|p| p.duration_ms());
                PromptInfo {
                    name,
                    built_in: false,
                    duration_ms,
                }
            })
        })
        .collect();
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found
}

#[utoipa::path(get, path = "/api/prompts", tag = "prompts",
    responses((status = 200, description = "Built-in prompts, then the office's", body = Vec<PromptInfo>),
        (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn list(
    State(api): State<Arc<Api>>,
    _: Admin,
) -> Result<Json<Vec<PromptInfo>>, ApiError> {
    let dir = api.prompts().to_path_buf();
    let own = tokio::task::spawn_blocking(move || uploaded(&dir)).await?;
    let built_in = SCENARIO_PROMPTS.iter().map(|name| PromptInfo {
        name: name.to_string(),
        built_in: true,
        duration_ms: None,
    });
    Ok(Json(built_in.chain(own).collect()))
}

#[utoipa::path(put, path = "/api/prompts/{name}", tag = "prompts",
    params(("name" = String, Path, description = "Letters, digits, '-' or '_'")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "WAV, FLAC, Ogg Vorbis or MP3, any rate, mono or stereo; up to 10 MiB"),
    responses(
        (status = 204, description = "Saved; calls play it from now on"),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 413, body = ApiError),
        (status = 422, description = "Not playable audio, or a name that is not allowed", body = ApiError),
    ))]
pub async fn upload(
    State(api): State<Arc<Api>>,
    _: Admin,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let path = file(&api, &name)?;
    if SCENARIO_PROMPTS.contains(&name.as_str()) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "a built-in prompt has this name; choose another",
        )
        .on("name"));
    }
    tokio::task::spawn_blocking(move || {
        Prompt::decode(body.to_vec(), 8000).map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                format!("not playable audio: {e}"),
            )
            .on("audio")
        })?;
        crate::files::write_whole(&path, &body).map_err(ApiError::internal)
    })
    .await??;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/prompts/{name}", tag = "prompts",
    params(("name" = String, Path)),
    responses(
        (status = 200, description = "The file as uploaded", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError),
    ))]
pub async fn download(
    State(api): State<Arc<Api>>,
    _: Admin,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let path = file(&api, &name)?;
    let bytes = tokio::task::spawn_blocking(move || std::fs::read(path))
        .await?
        .map_err(|_| ApiError::not_found("prompt"))?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response())
}

#[utoipa::path(delete, path = "/api/prompts/{name}", tag = "prompts",
    params(("name" = String, Path)),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 422, description = "A published scenario plays it; `field` names the block", body = ApiError),
    ))]
pub async fn remove(
    State(api): State<Arc<Api>>,
    _: Admin,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    let path = file(&api, &name)?;
    // Under the store's lock, so no scenario starts playing it meanwhile.
    api.with_store(move |store| {
        let config = Config::load(store).map_err(ApiError::internal)?;
        if let Some(field) = playing(&config, &name) {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "in-use",
                format!("{field} plays {name:?}; change that block first"),
            )
            .on(field));
        }
        if !path.is_file() {
            return Err(ApiError::not_found("prompt"));
        }
        crate::files::remove(&path).map_err(ApiError::internal)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The first published block that plays `name`, as a field path.
fn playing(config: &Config, name: &str) -> Option<String> {
    config.scenarios.iter().enumerate().find_map(|(i, s)| {
        s.blocks
            .iter()
            .find(|(_, b)| b.kind.prompt() == Some(name))
            .map(|(id, _)| format!("scenarios[{i}].blocks.{id}.prompt"))
    })
}
