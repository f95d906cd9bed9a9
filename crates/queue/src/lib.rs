//! Switchboard's call queues (ACD), sans-IO: callers wait in queues and are offered to
//! agents by the queue's strategy, across agent tiers and queue weights, with wrap-up,
//! ring timeouts, retries, position and wait announcements, callbacks that keep the
//! caller's place, and VIP queues that take over a busy agent.
//!
//! [`Acd`] follows the crate-wide loop: feed `handle_*` with the current time, drain
//! [`Acd::poll_action`] (what the call logic must do) and [`Acd::poll_event`] (the
//! queue log) until `None`, and call [`Acd::handle_timeout`] at [`Acd::poll_timeout`].

mod acd;
mod agent;
pub mod estimate;
mod model;
mod output;
pub mod strategy;

pub use acd::callback::CallbackResult;
pub use acd::offers::OfferFailure;
pub use acd::{Acd, Activity, AgentCounts, AgentSnapshot, QueueSnapshot};
pub use agent::{AgentState, AgentStats, AgentStatus};
pub use model::{
    AgentConfig, AgentId, Announcements, CallId, CallbackPolicy, EmptyPolicy, LostCallPolicy,
    MAX_VIP_DELAY, Membership, OfferId, Priority, QueueConfig, QueueId, VipPolicy,
};
pub use output::{Action, Announcement, EventKind, LeaveReason, Party, QueueEvent, Whisper};
pub use strategy::Strategy;
