//! Everything that runs only on the server: database, sessions, password hashing, the HTTP
//! router, configuration and the command line.

pub mod administration;
pub mod app;
pub mod audit_log;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod guards;
pub mod keyring;
pub mod live;
pub mod mailer;
pub mod memory;
pub mod notify;
pub mod password;
pub mod qr;
pub mod resets;
pub mod secrets;
pub mod seed;
pub mod session_admin;
pub mod signin;
pub mod state;
pub mod two_factor;
pub mod views;

use crate::api::error::AppError;

/// The clock, read once per operation at the edge; domain code takes the time as an argument.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Logs an internal failure and answers the generic error: the browser never sees internals.
#[track_caller]
pub fn internal(err: impl std::fmt::Display) -> AppError {
    let at = std::panic::Location::caller();
    tracing::error!(%at, "internal error: {err}");
    AppError::Internal
}
