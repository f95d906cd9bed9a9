//! The call log and the queue log, read back: filtered by period, number, queue,
//! agent, outcome and "only priority calls", as JSON or as a CSV file for a
//! spreadsheet.

use std::sync::Arc;
use std::time::SystemTime;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use switchboard_core::{CallRecord, Direction, Outcome};
use switchboard_store::{CallFilter, QueueEventRow};
use utoipa::{IntoParams, ToSchema};

use super::api::{Api, config_error};
use super::error::{ApiError, ApiQuery};
use super::session::Admin;
use crate::config::Config;
use crate::sounds::Language;
use crate::spreadsheet::{Cell, FileFormat, Sheet, SheetError};

/// The most records one answer holds.
const MAX_LIMIT: u32 = 10_000;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CallQuery {
    /// Calls started at or after this time (unix milliseconds).
    from: Option<i64>,
    /// Calls started before this time (unix milliseconds).
    to: Option<i64>,
    /// Part of the caller's or the callee's number.
    number: Option<String>,
    /// The queue the call went through.
    queue: Option<String>,
    /// The extension that answered.
    agent: Option<String>,
    #[param(inline)]
    outcome: Option<Outcome>,
    /// Between the office's phones, in from a trunk, or out through one.
    #[param(inline)]
    direction: Option<Direction>,
    /// The trunk the call came in or went out through.
    trunk: Option<String>,
    /// Only calls whose caller had a priority (a VIP list or a scenario set one).
    #[serde(default)]
    priority_only: bool,
    /// The newest this many (500 unless given).
    #[param(minimum = 1, maximum = 10000)]
    limit: Option<u32>,
    /// The export's language, for the spreadsheet that opens it: `pl` and `ru` separate
    /// cells with `;` as Excel there expects (English unless given).
    #[param(inline)]
    locale: Option<Language>,
    /// `xlsx` for an Excel workbook (numbers as numbers, in any language); a CSV file
    /// unless given.
    #[param(inline)]
    format: Option<FileFormat>,
}

impl CallQuery {
    fn filter(self) -> Result<CallFilter, ApiError> {
        let limit = limit(self.limit)?;
        let given = |s: Option<String>| s.filter(|s| !s.is_empty());
        Ok(CallFilter {
            from: self.from,
            to: self.to,
            number: given(self.number),
            queue: given(self.queue),
            agent: given(self.agent),
            outcome: self.outcome,
            direction: self.direction,
            trunk: given(self.trunk),
            priority_only: self.priority_only,
            limit,
        })
    }
}

/// How many records to answer: 500 unless given, at most [`MAX_LIMIT`].
fn limit(given: Option<u32>) -> Result<u32, ApiError> {
    let limit = given.unwrap_or(500);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "must lie between 1 and 10000",
        )
        .on("limit"));
    }
    Ok(limit)
}

async fn matching(api: &Arc<Api>, query: CallQuery) -> Result<Vec<CallRecord>, ApiError> {
    let filter = query.filter()?;
    api.with_store(move |store| Ok(store.call_records_matching(&filter)?))
        .await
}

#[utoipa::path(get, path = "/api/calls", tag = "calls", params(CallQuery),
    responses(
        (status = 200, description = "Newest first", body = Vec<CallRecord>),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 422, description = "A filter is wrong; `field` names it", body = ApiError),
    ))]
pub async fn list(
    State(api): State<Arc<Api>>,
    _: Admin,
    ApiQuery(query): ApiQuery<CallQuery>,
) -> Result<Json<Vec<CallRecord>>, ApiError> {
    Ok(Json(matching(&api, query).await?))
}

#[utoipa::path(get, path = "/api/calls/export", tag = "calls", params(CallQuery),
    responses(
        (status = 200, description = "The same records as a CSV file or an Excel workbook (`format`), times in the office's time zone", content((String = "text/csv"), (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 422, description = "A filter is wrong; `field` names it", body = ApiError),
    ))]
pub async fn export(
    State(api): State<Arc<Api>>,
    _: Admin,
    ApiQuery(query): ApiQuery<CallQuery>,
) -> Result<Response, ApiError> {
    let format = query.format.unwrap_or_default();
    let mut sheet = Sheet::of(format, query.locale.unwrap_or_default());
    let rows = matching(&api, query).await?;
    let numbers = api.with_store(|store| Config::numbers(store).map_err(config_error));
    let zone = numbers.await?.zone();
    write_rows(&mut sheet, &rows, &zone).map_err(ApiError::internal)?;
    sheet
        .download("switchboard-calls")
        .map_err(ApiError::internal)
}

fn write_rows(
    out: &mut Sheet,
    rows: &[CallRecord],
    zone: &jiff::tz::TimeZone,
) -> Result<(), SheetError> {
    let time = |t: SystemTime| {
        jiff::Timestamp::try_from(t)
            .map(|t| {
                t.to_zoned(zone.clone())
                    .strftime("%Y-%m-%d %H:%M:%S")
                    .to_string()
            })
            .unwrap_or_default()
    };
    let seconds = |from: SystemTime, to: SystemTime| {
        Cell::Count(to.duration_since(from).unwrap_or_default().as_secs())
    };
    out.row(
        [
            "started",
            "direction",
            "caller",
            "callee",
            "trunk",
            "outcome",
            "queue",
            "answered by",
            "priority",
            "wait (s)",
            "talk (s)",
            "hung up by",
            "reason",
            "path",
            "history",
        ]
        .map(Cell::from),
    )?;
    for r in rows {
        let answered = r.answered.unwrap_or(r.ended);
        out.row([
            time(r.started).into(),
            r.direction.as_str().into(),
            r.caller.clone().into(),
            r.callee.clone().into(),
            r.trunk.clone().unwrap_or_default().into(),
            r.outcome.as_str().into(),
            r.queue.clone().unwrap_or_default().into(),
            r.answered_by.clone().unwrap_or_default().into(),
            r.priority.to_string().into(),
            seconds(r.started, answered),
            r.answered.map_or(Cell::Empty, |a| seconds(a, r.ended)),
            r.hangup_by.as_str().into(),
            r.reason.clone().into(),
            r.scenario_path.clone().unwrap_or_default().into(),
            r.history.clone().unwrap_or_default().into(),
        ])?;
    }
    Ok(())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QueueEventQuery {
    /// The newest this many (500 unless given).
    #[param(minimum = 1, maximum = 10000)]
    limit: Option<u32>,
}

/// One thing that happened in a queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueEvent {
    /// Unix milliseconds.
    pub at: i64,
    pub queue: Option<String>,
    pub call_id: Option<String>,
    pub agent: Option<String>,
    pub event: String,
    pub waited_ms: Option<i64>,
    pub talk_ms: Option<i64>,
    pub vip: bool,
    pub detail: String,
}

impl From<QueueEventRow> for QueueEvent {
    fn from(r: QueueEventRow) -> Self {
        QueueEvent {
            at: r.at,
            queue: r.queue,
            call_id: r.call_id,
            agent: r.agent,
            event: r.event,
            waited_ms: r.waited_ms,
            talk_ms: r.talk_ms,
            vip: r.vip,
            detail: r.detail,
        }
    }
}

#[utoipa::path(get, path = "/api/queue-events", tag = "calls", params(QueueEventQuery),
    responses(
        (status = 200, description = "Oldest first", body = Vec<QueueEvent>),
        (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 422, body = ApiError),
    ))]
pub async fn queue_events(
    State(api): State<Arc<Api>>,
    _: Admin,
    ApiQuery(query): ApiQuery<QueueEventQuery>,
) -> Result<Json<Vec<QueueEvent>>, ApiError> {
    let limit = limit(query.limit)?;
    let rows = api
        .with_store(move |store| Ok(store.queue_events(limit)?))
        .await?;
    Ok(Json(rows.into_iter().map(QueueEvent::from).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::{Direction, HangupBy, unix_ms};
    use switchboard_queue::Priority;

    #[test]
    fn stored_outcomes_and_sides_read_back_as_the_api_names_them() {
        for outcome in [
            Outcome::Answered,
            Outcome::Busy,
            Outcome::NoAnswer,
            Outcome::Cancelled,
            Outcome::Failed,
            Outcome::Interrupted,
        ] {
            assert_eq!(Outcome::from_stored(outcome.as_str()), outcome);
            let json = serde_json::to_string(&outcome).unwrap();
            assert_eq!(json, format!("\"{}\"", outcome.as_str()));
        }
        assert_eq!(HangupBy::from_stored("callee"), HangupBy::Callee);
        assert_eq!(
            serde_json::to_string(&HangupBy::from_stored("system")).unwrap(),
            "\"system\""
        );
    }

    #[test]
    fn csv_rows_read_as_an_office_expects() {
        let row = CallRecord {
            call_id: "c1".into(),
            caller: "+48221234567".into(),
            callee: "600".into(),
            started: unix_ms::to(1_764_842_400_000),
            answered: Some(unix_ms::to(1_764_842_412_000)),
            ended: unix_ms::to(1_764_842_472_000),
            outcome: Outcome::Answered,
            hangup_by: HangupBy::Caller,
            direction: Direction::Inbound,
            trunk: Some("Provider".into()),
            caller_codec: None,
            callee_codec: None,
            sip_code: 200,
            reason: "Answered, by 101".into(),
            queue: Some("600".into()),
            answered_by: Some("101".into()),
            priority: Priority(50),
            preempted: false,
            scenario_path: Some("menu → queue".into()),
            history: Some("0:40 101 transferred to 102; 0:45 102 answered".into()),
            recording: None,
        };
        let mut sheet = Sheet::new(Language::En);
        write_rows(&mut sheet, &[row], &jiff::tz::TimeZone::UTC).unwrap();
        let bytes = sheet.into_bytes().unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(
            lines[0],
            "started,direction,caller,callee,trunk,outcome,queue,answered by,priority,wait (s),talk (s),hung up by,reason,path,history"
        );
        assert_eq!(
            lines[1],
            "2025-12-04 10:00:00,inbound,+48221234567,600,Provider,answered,600,101,50,12,60,caller,\"Answered, by 101\",menu → queue,0:40 101 transferred to 102; 0:45 102 answered"
        );
    }
}
