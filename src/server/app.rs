//! The HTTP application: Leptos pages and server functions behind the session layer, a page
//! guard and the mapping of server-function errors to their HTTP status.

use crate::api::error::AppError;
use crate::app::{App, shell};
use crate::domain::access::{PageAccess, needs_super_admin, page_access};
use crate::server::auth::current_auth_with;
use crate::server::config::Config;
use crate::server::db::sessions::SqlSessionStore;
use crate::server::db::{Db, admins};
use crate::server::guards::{self, CspNonce};
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
use leptos::prelude::{provide_context, use_context};
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::sync::Arc;
use tower_governor::GovernorLayer;
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::key_extractor::{PeerIpKeyExtractor, SmartIpKeyExtractor};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

/// Name of the session cookie over plain http (development).
pub const SESSION_COOKIE: &str = "mssp_session";
/// Name of the session cookie when served over https.
pub const SECURE_SESSION_COOKIE: &str = "__Host-mssp_session";

/// A TCP listener whose connections have `TCP_NODELAY` set.
pub type Listener = axum::serve::TapIo<tokio::net::TcpListener, fn(&mut tokio::net::TcpStream)>;

/// Listens on `bind` with `TCP_NODELAY` on every accepted connection. A server-rendered page
/// leaves in several small writes; with Nagle's algorithm each write after the first waits for
/// the client's delayed ACK (40 ms on Linux), which `cargo bench --bench admin_table` showed
/// as a 44 ms median for a page the server had ready in 5 ms.
pub async fn listen(bind: std::net::SocketAddr) -> std::io::Result<Listener> {
    use axum::serve::ListenerExt;
    fn no_delay(stream: &mut tokio::net::TcpStream) {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
    }
    let listener = tokio::net::TcpListener::bind(bind).await?;
    Ok(listener.tap_io(no_delay as fn(&mut tokio::net::TcpStream)))
}

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
    let keyring =
        crate::server::keyring::Keyring::load(config.secret_keys.as_deref(), &config.key_file)
            .map_err(|e| e.to_string())?;
    // Secrets stored before encryption (or under a retired key) are sealed with the current key.
    let resealed = crate::server::db::totp::reseal_all(&db, &keyring)
        .await
        .map_err(|e| format!("encrypting stored secrets: {e}"))?;
    if resealed > 0 {
        tracing::info!(
            resealed,
            "encrypted stored TOTP secrets with the current key"
        );
    }
    let hub = Hub::new(db.clone());
    hub.spawn_postgres_relay(config.database_url.clone());
    Ok(AppState {
        db,
        passwords,
        config: Arc::new(config),
        leptos,
        hub,
        keyring,
        mailer,
    })
}

/// The whole application as an axum router. Tests start it on port 0.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let store = SqlSessionStore::new(state.db.clone());
    // Over https the cookie gets the __Host- prefix: Secure, Path=/ and no Domain, enforced by
    // the browser.
    let cookie_name = if state.config.cookie_secure {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    };
    let sessions = SessionManagerLayer::new(store)
        .with_name(cookie_name)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.cookie_secure)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(i64::from(
            state.config.session_idle_minutes,
        ))));
    let leptos = state.leptos.clone();
    let router = Router::new()
        .route("/api/events", axum::routing::get(live::events))
        // Administration opens on Admin Management (the page guard has checked the role).
        .route(
            "/admin",
            axum::routing::get(|| async { Redirect::to("/admin/admins") }),
        )
        .route(
            "/admin/audit.csv",
            axum::routing::get(crate::server::audit_log::csv),
        )
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let state = state.clone();
                move || {
                    provide_context(state.clone());
                    // The nonce the security-headers layer put in this response's CSP.
                    let nonce = use_context::<http::request::Parts>()
                        .and_then(|parts| parts.extensions.get::<CspNonce>().cloned());
                    if let Some(CspNonce(nonce)) = nonce {
                        provide_context(leptos::nonce::Nonce::from_value(nonce));
                    }
                }
            },
            move || shell(leptos.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn_with_state(state.clone(), page_guard))
        .layer(middleware::from_fn(server_fn_status))
        .layer(sessions)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guards::same_origin_only,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guards::security_headers,
        ));
    rate_limited(router, &state).with_state(state)
}

/// Requests per second per client address (tower_governor), answered like server-function
/// errors when exceeded.
fn rate_limited(router: Router<AppState>, state: &AppState) -> Router<AppState> {
    let per_second = u64::from(state.config.requests_per_second.max(1));
    let period_ms = (1000 / per_second).max(1);
    let burst = state.config.requests_per_second.max(1).saturating_mul(10);
    if state.config.trust_proxy {
        let config = GovernorConfigBuilder::default()
            .per_millisecond(period_ms)
            .burst_size(burst)
            .key_extractor(SmartIpKeyExtractor)
            .finish()
            .expect("valid rate limit");
        router.layer(GovernorLayer::new(config).error_handler(guards::too_many_requests))
    } else {
        let config = GovernorConfigBuilder::default()
            .per_millisecond(period_ms)
            .burst_size(burst)
            .key_extractor(PeerIpKeyExtractor)
            .finish()
            .expect("valid rate limit");
        router.layer(GovernorLayer::new(config).error_handler(guards::too_many_requests))
    }
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
    let auth = match current_auth_with(&session, state.config.session_max_hours).await {
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
