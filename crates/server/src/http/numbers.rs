//! Numbers checked before they are saved: the panel shows what a pasted list becomes
//! (the number found on each line, how the office keeps it, why it cannot, which lines
//! repeat another) so that nothing is dropped or doubled without the admin seeing it.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use switchboard_core::numbers::{normalise, number_in};
use utoipa::ToSchema;

use super::api::Api;
use super::error::{ApiError, ApiJson};
use super::session::Admin;

/// A list the size of any office's customer base; more is refused.
const MAX_LINES: usize = 100_000;

/// Lines as pasted: one number on each, with whatever words stand around it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NumbersToCheck {
    pub lines: Vec<String>,
}

/// What became of one line.
#[derive(Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct CheckedLine {
    /// The number found on the line, as written; absent: no number there.
    pub found: Option<String>,
    /// How the office keeps it, as callers' numbers are compared with it.
    pub normalised: Option<String>,
    /// Why it cannot be kept.
    pub problem: Option<String>,
    /// The earlier line (counted from 0) with the same number.
    pub same_as: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NumbersChecked {
    pub lines: Vec<CheckedLine>,
    /// The country code national numbers are read with (Settings); absent: they are
    /// kept as written and match only callers who send them so.
    pub country_code: Option<String>,
}

#[utoipa::path(post, path = "/api/numbers/check", tag = "settings", request_body = NumbersToCheck,
    responses(
        (status = 200, description = "Each line's number, as the office would keep it", body = NumbersChecked),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 422, description = "More than 100,000 lines", body = ApiError),
    ))]
pub async fn check(
    State(api): State<Arc<Api>>,
    _: Admin,
    ApiJson(asked): ApiJson<NumbersToCheck>,
) -> Result<Json<NumbersChecked>, ApiError> {
    if asked.lines.len() > MAX_LINES {
        let status = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
        return Err(ApiError::new(status, "invalid", "at most 100000 lines at once").on("lines"));
    }
    let country_code = api.config().await?.numbers.country_code();
    Ok(Json(NumbersChecked {
        lines: check_lines(&asked.lines, country_code.as_deref()),
        country_code,
    }))
}

fn check_lines(lines: &[String], country_code: Option<&str>) -> Vec<CheckedLine> {
    let mut first: HashMap<String, usize> = HashMap::new();
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let Some(found) = number_in(line) else {
                let problem = (!line.trim().is_empty()).then(|| "no number on this line".into());
                return CheckedLine {
                    found: None,
                    normalised: None,
                    problem,
                    same_as: None,
                };
            };
            let (normalised, problem) = match normalise(found, country_code) {
                Ok(n) => (Some(n), None),
                Err(e) => (None, Some(e.to_string())),
            };
            let same_as = normalised
                .as_ref()
                .and_then(|n| match first.entry(n.clone()) {
                    Entry::Occupied(earlier) => Some(*earlier.get()),
                    Entry::Vacant(new) => {
                        new.insert(i);
                        None
                    }
                });
            CheckedLine {
                found: Some(found.to_string()),
                normalised,
                problem,
                same_as,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_line_shows_its_number_as_kept_or_why_not_and_repeats_are_named() {
        let lines: Vec<String> = [
            "tel. 22 555 01 04",
            "601234570 (mobile)",
            "+48 22 555 01 04",
            "",
            "call Anna",
            "1234567890123456789",
        ]
        .map(String::from)
        .to_vec();
        let checked = check_lines(&lines, Some("48"));
        let shown: Vec<_> = checked
            .iter()
            .map(|c| (c.normalised.as_deref(), c.problem.is_some(), c.same_as))
            .collect();
        assert_eq!(
            shown,
            [
                (Some("+48225550104"), false, None),
                (Some("+48601234570"), false, None),
                (Some("+48225550104"), false, Some(0)),
                (None, false, None),
                (None, true, None),
                (None, true, None),
            ]
        );
        assert_eq!(checked[0].found.as_deref(), Some("22 555 01 04"));
    }
}
