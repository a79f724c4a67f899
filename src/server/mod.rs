//! Everything that runs only on the server: database, sessions, password hashing, live events,
//! configuration, and the operations the server functions and the command line call.
//!
//! Every operation takes what it touches as arguments: the [`ctx::Ctx`] (database, hub, mailer,
//! hasher, keys, configuration, clock), the session and the client where it needs them. Nothing
//! here reads a Leptos context; only `api/` and `web` do.

pub mod administration;
pub mod audit_log;
pub mod auth;
pub mod background;
pub mod clock;
pub mod config;
pub mod ctx;
pub mod db;
pub mod guards;
pub mod health;
pub mod hub;
pub mod keyring;
pub mod known_browser;
pub mod limits;
pub mod live;
pub mod mailer;
pub mod memory;
pub mod metrics;
pub mod notify;
pub mod password;
pub mod qr;
pub mod remembered;
pub mod resets;
pub mod secrets;
pub mod security_keys;
pub mod seed;
pub mod session_admin;
pub mod setup_codes;
pub mod signin;
pub mod throttle;
pub mod two_factor;
pub mod views;

pub use ctx::Ctx;

use crate::model::AppError;

/// Logs an internal failure and answers the generic error: the browser never sees internals.
#[track_caller]
pub fn internal(err: impl std::fmt::Display) -> AppError {
    let at = std::panic::Location::caller();
    tracing::error!(%at, "internal error: {err}");
    AppError::Internal
}

/// `.or_internal()` on a result: an error becomes [`AppError::Internal`], logged with the line
/// of the call (a `#[track_caller]` function passed as a value to `map_err` would log a line
/// inside `core` instead).
pub trait OrInternal<T> {
    fn or_internal(self) -> Result<T, AppError>;
}

impl<T, E: std::fmt::Display> OrInternal<T> for Result<T, E> {
    #[track_caller]
    fn or_internal(self) -> Result<T, AppError> {
        match self {
            Ok(value) => Ok(value),
            Err(e) => Err(internal(e)),
        }
    }
}
