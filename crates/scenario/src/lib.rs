//! Call scenarios as an office sets them up, sans-IO: what happens to a call is a graph
//! of blocks with named exits, checked before it is published. This crate holds the
//! [`model`] (blocks, settings, exits), the checks before publishing ([`validate()`]),
//! [`schedule`] (opening hours, holidays, time zones) and [`run`], one call's way
//! through a scenario; `switchboard-core` carries the steps out on calls.

pub mod model;
pub mod run;
pub mod schedule;
mod validate;

pub use validate::{Catalogue, validate};

/// A setting that cannot be used, named by its path (`schedules[0].hours[1].from`) so
/// forms can show the message next to the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SettingError {
    pub field: String,
    pub message: String,
}

impl SettingError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        SettingError {
            field: field.into(),
            message: message.into(),
        }
    }
}
