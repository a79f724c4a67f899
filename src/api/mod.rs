//! Server functions: the HTTP API of the app. Each one is a public endpoint, so each one checks
//! who is asking on the server, calls the server code with what the request holds (gathered
//! once by `edge`), and returns a wire type.

pub mod admin;
pub mod auth;
#[cfg(feature = "ssr")]
pub mod edge;
pub mod profile;
pub mod resets;
