//! Switchboard's SIP layer, sans-IO: the message front-end over rsip, stream framing,
//! RFC 3261 transactions, digest authentication, the registrar and the notifier side of
//! SIP events (subscriptions), and the client side of a trunk: registration to a provider
//! and its keep-alive.
//!
//! Nothing here reads a clock or touches a socket: callers pass `Instant`s in and drain
//! what the machines want to send.

pub mod auth;
pub mod dialog;
pub mod framing;
pub mod guard;
pub mod header;
pub mod ids;
pub mod message;
pub mod registrar;
pub mod service;
pub mod subscription;
pub mod transaction;
pub mod trunk_registration;
