//! Scenarios as the editor works on them: a draft saved as often as the office likes
//! (problems shown, nothing refused), then published, which checks it with the whole
//! configuration and makes it the version new calls follow. Calls already in a
//! scenario finish on the version they started with.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use switchboard_scenario::model::Scenario;
use switchboard_store::Store;
use utoipa::ToSchema;

use super::api::{Api, Edit};
use super::error::{ApiError, ApiJson, FieldProblem};
use super::session::Admin;
use crate::config::Config;

/// A scenario in the list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScenarioSummary {
    pub name: String,
    /// The version calls follow; none while it was never published.
    pub version: Option<u32>,
    /// The draft differs from that version.
    pub unpublished_changes: bool,
}

/// A scenario's draft, with what would stop it from being published.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScenarioDraft {
    pub draft: Scenario,
    pub version: Option<u32>,
    pub unpublished_changes: bool,
    /// Each names its place in the draft: "blocks.menu.keys", "start"…
    pub problems: Vec<FieldProblem>,
}

/// (name, draft body, published version and body) of every scenario.
type Stored = Vec<(String, String, Option<(u32, String)>)>;

fn stored(store: &Store) -> Result<Stored, ApiError> {
    let published = store.published_scenarios()?;
    Ok(store
        .scenario_drafts()?
        .into_iter()
        .map(|(name, draft)| {
            let version = published
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (v.version, v.body.clone()));
            (name, draft, version)
        })
        .collect())
}

fn unreadable(name: &str, e: serde_json::Error) -> ApiError {
    ApiError::internal(format!("scenario {name:?}: stored draft unreadable: {e}"))
}

/// Puts `draft` in place of the scenario of its name, or adds it; returns its index.
fn put(scenarios: &mut Vec<Scenario>, draft: Scenario) -> usize {
    match scenarios.iter().position(|s| s.name == draft.name) {
        Some(i) => {
            scenarios[i] = draft;
            i
        }
        None => {
            scenarios.push(draft);
            scenarios.len() - 1
        }
    }
}

/// What publishing `draft` into `config` would be refused for.
fn problems(config: &Config, draft: &Scenario, prompts: &std::path::Path) -> Vec<FieldProblem> {
    let mut trial = config.clone();
    let index = put(&mut trial.scenarios, draft.clone());
    let mut found = trial.validate().err().unwrap_or_default();
    found.extend(trial.check_prompt_files(prompts).err().unwrap_or_default());
    let prefix = format!("scenarios[{index}].");
    found
        .into_iter()
        .filter_map(|p| {
            Some(FieldProblem {
                field: p.field.strip_prefix(&prefix)?.to_string(),
                message: p.message,
            })
        })
        .collect()
}

async fn draft_view(api: &Arc<Api>, name: String) -> Result<ScenarioDraft, ApiError> {
    let config = api.config().await?;
    let prompts = api.prompts().to_path_buf();
    api.with_store(move |store| {
        let (name, body, version) = stored(store)?
            .into_iter()
            .find(|(n, _, _)| *n == name)
            .ok_or_else(|| ApiError::not_found("scenario"))?;
        let draft: Scenario = serde_json::from_str(&body).map_err(|e| unreadable(&name, e))?;
        Ok(ScenarioDraft {
            problems: problems(&config, &draft, &prompts),
            unpublished_changes: version.as_ref().is_none_or(|(_, b)| *b != body),
            version: version.map(|(v, _)| v),
            draft,
        })
    })
    .await
}

#[utoipa::path(get, path = "/api/scenarios", tag = "scenarios",
    responses((status = 200, body = Vec<ScenarioSummary>), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn list(
    State(api): State<Arc<Api>>,
    _: Admin,
) -> Result<Json<Vec<ScenarioSummary>>, ApiError> {
    let all = api.with_store(|store| stored(store)).await?;
    Ok(Json(
        all.into_iter()
            .map(|(name, body, version)| ScenarioSummary {
                unpublished_changes: version.as_ref().is_none_or(|(_, b)| *b != body),
                version: version.map(|(v, _)| v),
                name,
            })
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/scenarios/{name}", tag = "scenarios",
    params(("name" = String, Path)),
    responses((status = 200, body = ScenarioDraft), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn get_draft(
    State(api): State<Arc<Api>>,
    _: Admin,
    Path(name): Path<String>,
) -> Result<Json<ScenarioDraft>, ApiError> {
    draft_view(&api, name).await.map(Json)
}

#[utoipa::path(post, path = "/api/scenarios", tag = "scenarios",
    request_body = Scenario,
    responses(
        (status = 201, description = "A new scenario's first draft", body = ScenarioDraft),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 409, description = "A scenario has that name already (its draft is left as it was)", body = ApiError),
        (status = 422, description = "Not a scenario", body = ApiError),
    ))]
pub async fn create(
    State(api): State<Arc<Api>>,
    _: Admin,
    ApiJson(draft): ApiJson<Scenario>,
) -> Result<(StatusCode, Json<ScenarioDraft>), ApiError> {
    let name = draft.name.clone();
    check_name(&name)?;
    let body = serde_json::to_string(&draft).map_err(ApiError::internal)?;
    let key = name.clone();
    let created = api
        .with_store(move |store| Ok(store.create_scenario_draft(&key, &body, crate::unix_ms())?))
        .await?;
    if !created {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "exists",
            format!("there is a scenario {name:?} already"),
        )
        .on("name"));
    }
    Ok((StatusCode::CREATED, Json(draft_view(&api, name).await?)))
}

/// A scenario's name: given, without control characters.
fn check_name(name: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() || name.chars().any(char::is_control) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "must be given, without control characters",
        )
        .on("name"));
    }
    Ok(())
}

#[utoipa::path(put, path = "/api/scenarios/{name}", tag = "scenarios",
    params(("name" = String, Path)), request_body = Scenario,
    responses(
        (status = 200, description = "Draft saved (calls still follow the published version)", body = ScenarioDraft),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 422, description = "Not a scenario, or its name differs from the address", body = ApiError),
    ))]
pub async fn save_draft(
    State(api): State<Arc<Api>>,
    _: Admin,
    Path(name): Path<String>,
    ApiJson(draft): ApiJson<Scenario>,
) -> Result<Json<ScenarioDraft>, ApiError> {
    if draft.name != name {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!("must be {name:?}, as in the address"),
        )
        .on("name"));
    }
    check_name(&name)?;
    let body = serde_json::to_string(&draft).map_err(ApiError::internal)?;
    let key = name.clone();
    api.with_store(move |store| Ok(store.save_scenario_draft(&key, &body, crate::unix_ms())?))
        .await?;
    draft_view(&api, name).await.map(Json)
}

#[utoipa::path(post, path = "/api/scenarios/{name}/publish", tag = "scenarios",
    params(("name" = String, Path)),
    responses(
        (status = 200, description = "Published: new calls follow this version", body = ScenarioDraft),
        (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 422, description = "The draft has problems; `errors` lists them, named within the draft", body = ApiError),
    ))]
pub async fn publish(
    State(api): State<Arc<Api>>,
    _: Admin,
    Path(name): Path<String>,
) -> Result<Json<ScenarioDraft>, ApiError> {
    let draft = draft_view(&api, name.clone()).await?.draft;
    api.change_config(move |config| {
        let index = put(&mut config.scenarios, draft);
        Ok(Edit::at((), format!("scenarios[{index}]")))
    })
    .await?;
    draft_view(&api, name).await.map(Json)
}

#[utoipa::path(delete, path = "/api/scenarios/{name}", tag = "scenarios",
    params(("name" = String, Path)),
    responses(
        (status = 204, description = "Removed: new calls no longer follow it; its versions stay as history"),
        (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 422, description = "An inbound number or another scenario still leads to it", body = ApiError),
    ))]
pub async fn delete(
    State(api): State<Arc<Api>>,
    _: Admin,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    let key = name.clone();
    if api
        .with_store(move |store| Ok(store.delete_unpublished_draft(&key)?))
        .await?
    {
        return Ok(StatusCode::NO_CONTENT);
    }
    api.change_config(move |config| {
        let before = config.scenarios.len();
        config.scenarios.retain(|s| s.name != name);
        if config.scenarios.len() == before {
            return Err(ApiError::not_found("scenario"));
        }
        Ok(Edit::whole(()))
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
