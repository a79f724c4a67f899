//! mssp-dashboard: sign-in and two-factor core of a dashboard for managed security service
//! providers.
//!
//! - [`domain`]: the product's rules, no web or database dependency (both targets).
//! - [`api`]: server functions, the app's HTTP API (both targets; bodies run on the server).
//! - [`app`]: Leptos components, one page or widget per file (both targets).
//! - `server`: database, sessions, hashing, router, CLI (server only).

#![recursion_limit = "256"]

pub mod api;
pub mod app;
pub mod domain;
#[cfg(feature = "ssr")]
pub mod server;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
