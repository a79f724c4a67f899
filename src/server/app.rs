//! The HTTP application: Leptos pages and server functions behind the session layer, a page
//! guard and the mapping of server-function errors to their HTTP status.

use crate::api::error::AppError;
use crate::app::{App, shell};
use crate::domain::access::{PageAccess, needs_super_admin, page_access};
use crate::server::auth::current_auth;
use crate::server::config::Config;
use crate::server::db::sessions::SqlSessionStore;
use crate::server::db::{Db, admins};
use crate::server::live::{self, Hub};
use crate::server::mailer::Mailer;
use crate::server::password::Passwords;
use crate::server::state::AppState;
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::sync::Arc;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "mssp_session";

/// Opens the database (applying migrations) and builds the shared state.
pub async fn build_state(config: Config, leptos: LeptosOptions) -> Result<AppState, String> {
    if config.totp_issuer.contains(':') || config.totp_issuer.trim().is_empty() {
        return Err("MSSP_TOTP_ISSUER must be non-empty and cannot contain ':'".into());
    }
    let db = Db::connect(&config.database_url)
        .await
        .map_err(|e| format!("cannot open the database: {e}"))?;
    let passwords = Passwords::new(config.hash_concurrency, config.hash_queue);
    let mailer = match &config.smtp_url {
        Some(url) => Some(Mailer::new(url, &config.smtp_from)?),
        None => None,
    };
    let hub = Hub::new(db.clone());
    hub.spawn_postgres_relay(config.database_url.clone());
    Ok(AppState {
        db,
        passwords,
        config: Arc::new(config),
        leptos,
        hub,
        mailer,
    })
}

/// The whole application as an axum router. Tests start it on port 0.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let store = SqlSessionStore::new(state.db.clone());
    let sessions = SessionManagerLayer::new(store)
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.cookie_secure)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(i64::from(
            state.config.session_idle_minutes,
        ))));
    let leptos = state.leptos.clone();
    Router::new()
        .route("/api/events", axum::routing::get(live::events))
        // Administration opens on Admin Management (the page guard has checked the role).
        .route(
            "/admin",
            axum::routing::get(|| async { Redirect::to("/admin/admins") }),
        )
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let state = state.clone();
                move || provide_context(state.clone())
            },
            move || shell(leptos.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn_with_state(state.clone(), page_guard))
        .layer(middleware::from_fn(server_fn_status))
        .layer(sessions)
        .with_state(state)
}

/// Pages check the session on the server before anything renders: not signed in goes to the
/// sign-in page, a pending second factor goes to the code step.
async fn page_guard(
    State(state): State<AppState>,
    session: Session,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with("/api/") || path.starts_with("/pkg/") {
        return next.run(req).await;
    }
    let auth = match current_auth(&session).await {
        Ok(auth) => auth,
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    // The role is read fresh (it may have changed since sign-in), and only for Administration.
    let is_super_admin = match (&auth, needs_super_admin(&path)) {
        (Some(auth), true) => admins::find_in_account(&state.db, auth.account_id, auth.admin_id)
            .await
            .ok()
            .flatten()
            .is_some_and(|a| a.active && a.role.is_super_admin()),
        _ => false,
    };
    match page_access(auth.map(|a| a.stage), &path, || is_super_admin) {
        PageAccess::Allow => next.run(req).await,
        PageAccess::Redirect(to) => Redirect::to(to).into_response(),
        // The entry point only redirects; the page it leads to explains the refusal.
        PageAccess::Forbidden if path == "/admin" => Redirect::to("/admin/admins").into_response(),
        PageAccess::Forbidden => {
            // The page renders its own explanation (its server functions refuse too).
            let mut res = next.run(req).await;
            *res.status_mut() = StatusCode::FORBIDDEN;
            res
        }
    }
}

/// Server functions answer errors with HTTP 500 and the encoded error; give each error its own
/// status (401, 403, 404, 409, 422, 429, 503...) so clients and logs see what happened.
async fn server_fn_status(req: Request, next: Next) -> Response {
    let is_api = req.uri().path().starts_with("/api/");
    let res = next.run(req).await;
    if !is_api
        || res.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !res
            .headers()
            .contains_key(server_fn::error::SERVER_FN_ERROR_HEADER)
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = to_bytes(body, 1024 * 1024).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Ok(err) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status =
            StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if let AppError::TooManyRequests {
            retry_after_seconds,
        } = err
        {
            parts
                .headers
                .insert(http::header::RETRY_AFTER, retry_after_seconds.into());
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}
