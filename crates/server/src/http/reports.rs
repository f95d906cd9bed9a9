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
use crate::config::Config;
use crate::reports::{GroupBy, Report, report, write_report};
use crate::sounds::Language;
use crate::spreadsheet::Sheet;

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
}

impl ReportParams {
    fn query(&self) -> Result<ReportQuery, ApiError> {
        let invalid = |field: &'static str, why: &str| {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", why).on(field)
        };
        if self.to <= self.from {
            return Err(invalid("to", "must come after from"));
        }
        if self.to.saturating_sub(self.from) > MAX_PERIOD_MS {
            return Err(invalid("to", "a report covers two years at most"));
        }
        let short = self.short_abandon.unwrap_or(5);
        if short > 600 {
            return Err(invalid(
                "short_abandon",
                "must lie between 0 and 600 seconds",
            ));
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
        (status = 200, description = "The report as a CSV file (UTF-8 with a byte order mark), its last row the whole period", content_type = "text/csv", body = String),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 422, description = "A parameter is wrong; `field` names it", body = ApiError),
    ))]
pub async fn export_report(
    State(api): State<Arc<Api>>,
    _: Admin,
    ApiQuery(params): ApiQuery<ReportParams>,
) -> Result<Response, ApiError> {
    let made = made(&api, &params).await?;
    let mut sheet = Sheet::new(params.locale.unwrap_or_default());
    write_report(&mut sheet, params.by, &made).map_err(ApiError::internal)?;
    sheet
        .download("switchboard-report.csv")
        .map_err(ApiError::internal)
}
