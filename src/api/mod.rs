//! Server functions: the HTTP API of the app. Each one is a public endpoint, so each one checks
//! who is asking on the server, calls the domain or server code, and returns a wire type.

pub mod admin;
pub mod auth;
pub mod error;
pub mod profile;
pub mod resets;
pub mod types;

pub use error::AppError;
