//! What every request handler can reach.

use crate::server::config::Config;
use crate::server::db::Db;
use crate::server::live::Hub;
use crate::server::mailer::Mailer;
use crate::server::password::Passwords;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub passwords: Arc<Passwords>,
    pub config: Arc<Config>,
    pub leptos: LeptosOptions,
    pub hub: Hub,
    pub keyring: crate::server::keyring::Keyring,
    /// Set when SMTP is configured.
    pub mailer: Option<Mailer>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}
