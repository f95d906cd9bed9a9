//! `[reports]`: reports e-mailed each morning (yesterday) and each Monday (last week) to
//! the addresses the office chooses.

use serde::{Deserialize, Serialize};

use super::{Config, FieldError, field_error};
use crate::reports::GroupBy;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ReportSettings {
    /// Who gets yesterday's report each morning.
    pub daily_to: Vec<String>,
    /// Who gets last week's report each Monday morning.
    pub weekly_to: Vec<String>,
    /// The e-mailed report's rows (queues unless set).
    pub by: GroupBy,
    /// The hour of the office's day (0 to 23) after which the reports go.
    pub send_at: u8,
}

impl Default for ReportSettings {
    fn default() -> Self {
        ReportSettings {
            daily_to: Vec::new(),
            weekly_to: Vec::new(),
            by: GroupBy::Queue,
            send_at: 7,
        }
    }
}

impl Config {
    pub(super) fn validate_reports(&self, errors: &mut Vec<FieldError>) {
        let r = &self.reports;
        for (list, addresses) in [("daily_to", &r.daily_to), ("weekly_to", &r.weekly_to)] {
            for (i, address) in addresses.iter().enumerate() {
                let at = format!("reports.{list}[{i}]");
                if !super::email::is_address(address) {
                    errors.push(field_error(
                        at,
                        "must be an e-mail address, such as anna@office.example",
                    ));
                } else if !self.email.is_set_up() {
                    errors.push(field_error(
                        at,
                        "e-mail is not set up: give [email] server and from",
                    ));
                }
            }
        }
        if r.send_at > 23 {
            errors.push(field_error("reports.send_at", "must be an hour, 0 to 23"));
        }
    }
}
