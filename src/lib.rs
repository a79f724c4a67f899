//! mssp-dashboard: sign-in and two-factor core of a dashboard for managed security service
//! providers.
//!
//!
//! The layers, and which may use which (imports point one way):
//!
//! ```text
//! cli ─► web ─► app ─► api ─► server ─► domain
//!                 └──────┴──────┴──► model ─► domain
//! ```
//!
//! - [`domain`]: the product's rules, no web, database or clock (both targets).
//! - [`model`]: wire types and the one error type (both targets; every layer uses it).
//! - `server`: database, sessions, hashing, live events and the operations (server only);
//!   every operation takes its context, session and client as arguments.
//! - [`api`]: server functions, the app's HTTP API (both targets; bodies run on the server):
//!   the only code that reads the Leptos request context.
//! - [`app`]: Leptos components, one page or widget per file (both targets).
//! - `web`: the router that composes pages, server functions and endpoints (server only).
//! - `cli`: the binary's commands (server only).

#![recursion_limit = "256"]

pub mod api;
pub mod app;
#[cfg(feature = "ssr")]
pub mod cli;
pub mod domain;
#[cfg(all(test, feature = "ssr"))]
mod layers;
pub mod model;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod web;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Lazy routes (every page but the sign-in steps) load their code before they hydrate.
    leptos::mount::hydrate_lazy(app::App);
}
