//! Reports over a chosen period, as JSON for the panel's charts and tables and as a CSV
//! file for a spreadsheet.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use switchboard_core::Direction;
use switchboard_store::ReportQuery;
use utoipa::IntoParams;

use super::api::{Api, config_error};
use super::error::{ApiError, ApiQuery};
use super::session::Admin;
use crate::agent_reports::{AgentReport, agent_report, write_agent_report};
use crate::config::Config;
use crate::reports::{GroupBy, Report, report, write_report};
use crate::sounds::Language;
use crate::spreadsheet::{FileFormat, Sheet};

/// The longest period one report covers: two years.
const MAX_PERIOD_MS: i64 = 2 * 366 * 86_400_000;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// Calls started at or after this time (unix milliseconds).
    from: i64,
    /// Calls started before this time (unix milliseconds); at most two years after `from`.
    to: i64,
    /// The rows: days or hours of the office's time zone, or each queue, agent, trunk,
    /// outcome or direction (days unless given).
    #[serde(default)]
    #[param(inline)]
    by: GroupBy,
    /// Only calls that went through this queue.
    queue: Option<String>,
    /// Only calls in this direction.
    #[param(inline)]
    direction: Option<Direction>,
    /// Calls given up sooner (seconds, 0 to 600) are short abandons (5 unless given).
    #[param(maximum = 600)]
    short_abandon: Option<u32>,
    /// Calls answered within this (seconds, 1 to 3600) meet the service level (20
    /// unless given).
    #[param(minimum = 1, maximum = 3600)]
    target: Option<u32>,
    /// The CSV file's language: `pl` and `ru` separate cells with `;` and decimals with
    /// `,`, as Excel there expects (English unless given).
    #[param(inline)]
    locale: Option<Language>,
    /// `xlsx` for an Excel workbook (numbers as numbers, in any language); a CSV file
    /// unless given.
    #[param(inline)]
    format: Option<FileFormat>,
    /// First-call resolution: an answered caller who calls again within this many hours
    /// (1 to 720) was not helped the first time (not reckoned unless given).
    #[param(minimum = 1, maximum = 720)]
    repeat_hours: Option<u32>,
}

fn invalid(field: &'static str, why: &str) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", why).on(field)
}

/// A report's period: `to` after `from`, two years at most.
fn period(from: i64, to: i64) -> Result<(i64, i64), ApiError> {
    if to <= from {
        return Err(invalid("to", "must come after from"));
    }
    if to.saturating_sub(from) > MAX_PERIOD_MS {
        return Err(invalid("to", "a report covers two years at most"));
    }
    Ok((from, to))
}

impl ReportParams {
    fn query(&self) -> Result<ReportQuery, ApiError> {
        period(self.from, self.to)?;
        let short = self.short_abandon.unwrap_or(5);
        if short > 600 {
            return Err(invalid(
                "short_abandon",
                "must lie between 0 and 600 seconds",
            ));
        }
        if self.repeat_hours.is_some_and(|h| !(1..=720).contains(&h)) {
            return Err(invalid("repeat_hours", "must lie between 1 and 720 hours"));
        }
        let target = self.target.unwrap_or(20);
        if !(1..=3600).contains(&target) {
            return Err(invalid("target", "must lie between 1 and 3600 seconds"));
        }
        Ok(ReportQuery {
            from: self.from,
            to: self.to,
            key: self.by.key(),
            queue: self.queue.clone().filter(|q| !q.is_empty()),
            direction: self.direction.map(|d| d.as_str().to_string()),
            short_abandon_ms: i64::from(short) * 1000,
            target_ms: i64::from(target) * 1000,
            repeat_window_ms: self.repeat_hours.map(|h| i64::from(h) * 3_600_000),
        })
    }
}

async fn made(api: &Arc<Api>, params: &ReportParams) -> Result<Report, ApiError> {
    let query = params.query()?;
    let by = params.by;
    api.with_store(move |store| {
        let zone = Config::numbers(store).map_err(config_error)?.zone();
        Ok(report(&store.report_sums(&query)?, by, &zone))
    })
    .await
}

#[utoipa::path(get, path = "/api/reports", tag = "calls", params(ReportParams),
    responses(
        (status = 200, description = "The report's rows and the whole period's figures", body = Report),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 422, description = "A parameter is wrong; `field` names it", body = ApiError),
    ))]
pub async fn get_report(
    State(api): State<Arc<Api>>,
    _: Admin,
    ApiQuery(params): ApiQuery<ReportParams>,
) -> Result<Json<Report>, ApiError> {
    Ok(Json(made(&api, &params).await?))
}

#[utoipa::path(get, path = "/api/reports/export", tag = "calls", params(ReportParams),
    responses(
        (status = 200, description = "The report as a CSV file (UTF-8 with a byte order mark) or an Excel workbook (`format`), its last row the whole period", content((String = "text/csv"), (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 422, description = "A parameter is wrong; `field` names it", body = ApiError),
    ))]
pub async fn export_report(
    State(api): State<Arc<Api>>,
    _: Admin,
    ApiQuery(params): ApiQuery<ReportParams>,
) -> Result<Response, ApiError> {
    let made = made(&api, &params).await?;
    let format = params.format.unwrap_or_default();
    let mut sheet = Sheet::of(format, params.locale.unwrap_or_default());
    write_report(&mut sheet, params.by, &made).map_err(ApiError::internal)?;
    sheet
        .download("switchboard-report")
        .map_err(ApiError::internal)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AgentReportParams {
    /// The period's start (unix milliseconds).
    from: i64,
    /// Its end (unix milliseconds); at most two years after `from`.
    to: i64,
    /// Only this queue's calls (time logged in and on breaks is the agent's in all).
    queue: Option<String>,
    /// The CSV file's language, as for the calls' report.
    #[param(inline)]
    locale: Option<Language>,
    /// `xlsx` for an Excel workbook (numbers as numbers, in any language); a CSV file
    /// unless given.
    #[param(inline)]
    format: Option<FileFormat>,
}

async fn made_for_agents(
    api: &Arc<Api>,
    params: &AgentReportParams,
) -> Result<AgentReport, ApiError> {
    let span = period(params.from, params.to)?;
    let queue = params.queue.clone().filter(|q| !q.is_empty());
    api.with_store(move |store| {
        let sums = store.agent_sums(span, crate::unix_ms(), queue.as_deref())?;
        Ok(agent_report(&sums))
    })
    .await
}

#[utoipa::path(get, path = "/api/reports/agents", tag = "calls", params(AgentReportParams),
    responses(
        (status = 200, description = "Each agent's figures over the period, and the team's", body = AgentReport),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 422, description = "A parameter is wrong; `field` names it", body = ApiError),
    ))]
pub async fn get_agent_report(
    State(api): State<Arc<Api>>,
    _: Admin,
    ApiQuery(params): ApiQuery<AgentReportParams>,
) -> Result<Json<AgentReport>, ApiError> {
    Ok(Json(made_for_agents(&api, &params).await?))
}

#[utoipa::path(get, path = "/api/reports/agents/export", tag = "calls", params(AgentReportParams),
    responses(
        (status = 200, description = "The agents' report as a CSV file (UTF-8 with a byte order mark) or an Excel workbook (`format`), its last row the team", content((String = "text/csv"), (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 422, description = "A parameter is wrong; `field` names it", body = ApiError),
    ))]
pub async fn export_agent_report(
    State(api): State<Arc<Api>>,
    _: Admin,
    ApiQuery(params): ApiQuery<AgentReportParams>,
) -> Result<Response, ApiError> {
    let made = made_for_agents(&api, &params).await?;
    let format = params.format.unwrap_or_default();
    let mut sheet = Sheet::of(format, params.locale.unwrap_or_default());
    write_agent_report(&mut sheet, &made).map_err(ApiError::internal)?;
    sheet
        .download("switchboard-agents")
        .map_err(ApiError::internal)
}
