//! The HTTP application, composed in one place: the Leptos pages and server functions, the
//! live endpoint and the CSV export, behind the session layer, the page guard, the guards
//! against cross-site requests and request floods, and the security headers.
//!
//! This is the top of the server: it knows the components (`app`), the server functions
//! (`api`) and the server code (`server`); nothing below it knows it.

use crate::app::{App, shell};
use crate::domain::access::Stage;
use crate::domain::access::{PageAccess, page_access};
use crate::domain::network::{TrustedProxies, throttle_bucket};
use crate::model::AppError;
use crate::server::Ctx;
use crate::server::auth::client_ip;
use crate::server::auth::{current_auth, require_admin, require_enrolment};
use crate::server::guards::{self, CspNonce};
use crate::server::{audit_log, live};
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{FromRef, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use leptos::config::LeptosOptions;
use leptos::prelude::{provide_context, use_context};
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::path::PathBuf;
use std::sync::Arc;
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::key_extractor::KeyExtractor;
use tower_governor::{GovernorError, GovernorLayer};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

/// Name of the session cookie over plain http (development).
pub const SESSION_COOKIE: &str = "mssp_session";
/// Name of the session cookie when served over https.
pub const SECURE_SESSION_COOKIE: &str = "__Host-mssp_session";

/// What the router's handlers reach: the server's context and the Leptos options.
#[derive(Clone, Debug)]
pub struct WebState {
    pub ctx: Ctx,
    pub leptos: LeptosOptions,
}

impl FromRef<WebState> for LeptosOptions {
    fn from_ref(state: &WebState) -> Self {
        state.leptos.clone()
    }
}

impl FromRef<WebState> for Ctx {
    fn from_ref(state: &WebState) -> Self {
        state.ctx.clone()
    }
}

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

/// The hash file cargo-leptos writes beside the server it builds (`hash-files = true` in
/// Cargo.toml): the content hash in each browser file's name. Leptos reads it from there at
/// every render; `LEPTOS_HASH_FILE_NAME` may name another place (an absolute path).
pub fn hash_file(leptos: &LeptosOptions) -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(PathBuf::from))
        .unwrap_or_default()
        .join(leptos.hash_file.as_ref())
}

/// The hashes of the script, the WASM and the stylesheet (`js`, `wasm`, `css`) in `text`, a
/// hash file; `None` unless each is there exactly once and is a hash (Leptos appends every
/// line of a kind it finds to the name, so a second line would name a file nobody checked).
fn parse_hashes(text: &str) -> Option<[String; 3]> {
    let find = |kind: &str| {
        let mut found = text.lines().filter_map(|line| {
            let (file, hash) = line.split_once(':')?;
            (file.trim() == kind).then(|| hash.trim())
        });
        let hash = found.next()?;
        let valid = !hash.is_empty()
            && hash
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b));
        (valid && found.next().is_none()).then(|| hash.to_string())
    };
    Some([find("js")?, find("wasm")?, find("css")?])
}

/// Whether the pages should name the browser files by their hashed names: as
/// `LEPTOS_HASH_FILES` says when it is set (cargo-leptos sets it when it runs the server), and
/// otherwise when the hash file names files that are there: a release build run as
/// `target/release/mssp-dashboard`, or a copy deployed with its hash file beside it.
pub fn detect_hashed_files(leptos: &mut LeptosOptions) {
    if std::env::var_os("LEPTOS_HASH_FILES").is_some() {
        return;
    }
    leptos.hash_files = true;
    let present = std::fs::read_to_string(hash_file(leptos))
        .ok()
        .and_then(|text| parse_hashes(&text))
        .is_some_and(|_| page_assets(leptos).iter().all(|path| path.is_file()));
    leptos.hash_files = present;
}

/// The files under the site root that every page names: the script, the WASM and the
/// stylesheet. Named as Leptos names them: with their content hash when files are hashed
/// (`NAME.HASH.wasm`); else `NAME.wasm` when the server was compiled with `LEPTOS_OUTPUT_NAME`
/// (cargo-leptos, or `.cargo/config.toml`), `NAME_bg.wasm` otherwise.
pub fn page_assets(leptos: &LeptosOptions) -> Vec<PathBuf> {
    let pkg = PathBuf::from(leptos.site_root.as_ref()).join(leptos.site_pkg_dir.as_ref());
    let name = leptos.output_name.as_ref();
    if leptos.hash_files {
        let hashes = std::fs::read_to_string(hash_file(leptos))
            .ok()
            .and_then(|text| parse_hashes(&text));
        return match hashes {
            Some([js, wasm, css]) => vec![
                pkg.join(format!("{name}.{js}.js")),
                pkg.join(format!("{name}.{wasm}.wasm")),
                pkg.join(format!("{name}.{css}.css")),
            ],
            // Reported by `check_site` as the file that is missing.
            None => vec![hash_file(leptos)],
        };
    }
    let wasm_suffix = if std::option_env!("LEPTOS_OUTPUT_NAME").is_some() {
        ""
    } else {
        "_bg"
    };
    vec![
        pkg.join(format!("{name}.js")),
        pkg.join(format!("{name}{wasm_suffix}.wasm")),
        pkg.join(format!("{name}.css")),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_files() {
        assert_eq!(
            parse_hashes("js: AAAAAAAAAAAAAAAAAAAAAA\nwasm: BBB\ncss: C-_c\n"),
            Some(["AAAAAAAAAAAAAAAAAAAAAA".into(), "BBB".into(), "C-_c".into()])
        );
        assert_eq!(parse_hashes("js: a\nwasm: b\n"), None, "no css");
        assert_eq!(parse_hashes("js: ../x\nwasm: b\ncss: c\n"), None);
        assert_eq!(
            parse_hashes("js: a\nwasm: b\ncss: c\njs: d\n"),
            None,
            "twice"
        );
    }
}

/// Refuses to serve pages that would never hydrate: every file the pages name must exist, and
/// a compressed copy beside one (`.br`, `.gz`, served instead of it to browsers that accept
/// them) must not be older than it: a copy left from an earlier build would hand the browser a
/// WASM that does not match its script.
pub fn check_site(leptos: &LeptosOptions) -> Result<(), String> {
    let assets = page_assets(leptos);
    let modified = |path: &std::path::Path| std::fs::metadata(path).and_then(|m| m.modified());
    let stale: Vec<String> = assets
        .iter()
        .filter_map(|plain| Some((plain, modified(plain).ok()?)))
        .flat_map(|(plain, built)| {
            ["br", "gz"].into_iter().filter_map(move |ext| {
                let mut copy = plain.clone().into_os_string();
                copy.push(format!(".{ext}"));
                let copy = PathBuf::from(copy);
                let older = modified(&copy).ok()? < built;
                older.then(|| copy.display().to_string())
            })
        })
        .collect();
    if !stale.is_empty() {
        return Err(format!(
            "compressed files in the site root are older than the files they stand for: {}. \
             Build the site again with `cargo leptos build --release --precompress` (or remove \
             them).",
            stale.join(", ")
        ));
    }
    // Lazy routes need a split build: without `--split` the script imports a placeholder
    // module that does not exist, and no page ever hydrates.
    if let Some(script) = assets.first()
        && let Ok(text) = std::fs::read_to_string(script)
        && text.contains("__wasm_split_placeholder__")
    {
        return Err(format!(
            "{} comes from a build without `--split`: its pages would never become interactive \
             (the lazy routes' code was not split out). Build with `cargo leptos build --split` \
             (release: `cargo leptos build --release --precompress --split`; the development \
             loop: `cargo leptos watch --split`).",
            script.display()
        ));
    }
    let missing: Vec<String> = assets
        .into_iter()
        .filter(|path| !path.is_file())
        .map(|path| path.display().to_string())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "the site root {:?} lacks files every page loads: {}. Build the site with \
         `cargo leptos build` (or `cargo leptos build --release --precompress --split`), and \
         point LEPTOS_SITE_ROOT at its output (target/site by default). A build names these \
         files by their content hash in `hash.txt` beside the server it builds \
         (target/release/hash.txt): keep that file beside the binary (or name it with \
         LEPTOS_HASH_FILE_NAME).",
        leptos.site_root.as_ref(),
        missing.join(", ")
    ))
}

/// The files under the site's `pkg` directory, compressed when the build made `.br`/`.gz`
/// copies and the browser accepts them, with Last-Modified and 304 answers. Files whose name
/// carries the hash of their content are marked immutable (see `truly_content_named`); the
/// rest are `no-cache` (set by `guards::security_headers`): kept, and asked about each time.
fn pkg_files<S: Clone + Send + Sync + 'static>(dir: &std::path::Path) -> Router<S> {
    let immutable = Arc::new(truly_content_named(dir));
    Router::new()
        .fallback_service(
            tower_http::services::ServeDir::new(dir)
                .precompressed_br()
                .precompressed_gzip(),
        )
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            let immutable = immutable.clone();
            async move {
                let named = immutable.contains(req.uri().path());
                let mut res = next.run(req).await;
                let kept = res.status().is_success() || res.status() == StatusCode::NOT_MODIFIED;
                if named && kept {
                    res.headers_mut().insert(
                        http::header::CACHE_CONTROL,
                        http::HeaderValue::from_static("public, max-age=31536000, immutable"),
                    );
                }
                res
            }
        }))
}

/// The paths (under `pkg`, from `/`) of the files whose name holds the hash of their own
/// bytes, as cargo-leptos's `hash-files` names them (`NAME.HASH.EXT`, base64url MD5). A name
/// is believed only when the bytes agree: cargo-leptos names the main script, the WASM and the
/// split manifest before it rewrites them (each holds the next one's name, in a circle), so a
/// later build can put new bytes under their old names. Marking those immutable would let
/// browsers keep a script that asks for a loader that no longer exists, for a year.
fn truly_content_named(dir: &std::path::Path) -> std::collections::HashSet<String> {
    use base64::Engine as _;
    use md5::Digest as _;
    let mut named = std::collections::HashSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&at) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            // A compressed copy is served for its plain file's path.
            if name.ends_with(".br") || name.ends_with(".gz") {
                continue;
            }
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            let hash =
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(md5::Md5::digest(&bytes));
            if !name.split('.').any(|part| part == hash) {
                continue;
            }
            if let Ok(relative) = path.strip_prefix(dir) {
                let relative = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                named.insert(format!("/{relative}"));
            }
        }
    }
    named
}

/// The largest request body the application reads.
pub const MAX_REQUEST_BODY_BYTES: usize = 256 * 1024;

/// The whole application as an axum router. Tests start it on port 0.
pub fn router(ctx: Ctx, leptos: LeptosOptions) -> Router {
    let routes = generate_route_list(App);
    let config = ctx.config.clone();
    // Over https the cookie gets the __Host- prefix: Secure, Path=/ and no Domain, enforced by
    // the browser.
    let cookie_name = if config.cookie_secure {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    };
    let sessions = SessionManagerLayer::new(ctx.session_store())
        .with_name(cookie_name)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.cookie_secure)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(i64::from(
            config.session_idle_minutes,
        ))));
    let state = WebState {
        ctx: ctx.clone(),
        leptos: leptos.clone(),
    };
    let pkg_dir = PathBuf::from(leptos.site_root.as_ref()).join(leptos.site_pkg_dir.as_ref());
    let router = Router::new()
        .route("/api/events", axum::routing::get(live::events))
        // Administration opens on Admin Management (the page guard has checked the role).
        .route(
            "/admin",
            axum::routing::get(|| async { Redirect::to("/admin/admins") }),
        )
        .route("/admin/audit.csv", axum::routing::get(audit_log::csv))
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let ctx = ctx.clone();
                move || {
                    // Server functions find the context here (`api::edge`), and nowhere else.
                    provide_context(ctx.clone());
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
        .fallback(leptos_axum::file_and_error_handler::<WebState, _>(shell))
        .layer(middleware::from_fn_with_state(ctx.clone(), page_guard))
        .layer(middleware::from_fn(server_fn_status))
        // Server functions read their whole body before they look at it: the read stops at
        // what the largest form of the app needs (a security key's answer, 64 KiB at most,
        // form-encoded), and the request is answered 413 `TooLarge` (axum's default: 2 MiB).
        .layer(axum::extract::DefaultBodyLimit::max(MAX_REQUEST_BODY_BYTES))
        .layer(sessions)
        .layer(middleware::from_fn_with_state(
            ctx.clone(),
            guards::same_origin_only,
        ))
        .layer(middleware::from_fn_with_state(
            ctx.clone(),
            guards::security_headers,
        ))
        .layer(middleware::from_fn(timed));
    // The script, WASM and stylesheet, compressed when the build made `.br`/`.gz` copies and
    // the browser accepts them, with Last-Modified and 304 answers (the fallback above passes
    // on Accept-Encoding alone, so conditional requests never got a 304). Not rate limited: a
    // page loads dozens of chunks at once, and a lazy page whose chunk was answered 429 did
    // not load at all (seen in the browser tests, where every page comes from one address).
    let assets = Router::new()
        .nest("/pkg", pkg_files(&pkg_dir))
        .layer(middleware::from_fn_with_state(
            ctx.clone(),
            guards::security_headers,
        ))
        .layer(middleware::from_fn(timed));
    // Probes are neither rate limited nor behind the session and the page guard.
    let probes = Router::new()
        .route("/healthz", axum::routing::get(healthz))
        .route("/readyz", axum::routing::get(readyz));
    rate_limited(router, &ctx)
        .merge(assets)
        .merge(probes)
        .with_state(state)
}

/// `GET /healthz`: the process answers.
async fn healthz() -> Response {
    ([(http::header::CACHE_CONTROL, "no-store")], "ok\n").into_response()
}

/// `GET /readyz`: 200 when this instance can serve (database, migrations, keys), else 503;
/// what is not ready is in the log and on the metrics listener's `/readyz`.
async fn readyz(State(ctx): State<Ctx>) -> Response {
    let ready = crate::server::health::cached(&ctx).await.ready;
    let (status, body) = if ready {
        (StatusCode::OK, "ready\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
    };
    (status, [(http::header::CACHE_CONTROL, "no-store")], body).into_response()
}

/// Times every server function (`/api/<name>`, a name the build registered; the live
/// connection is not a call) into the metrics, by name and status.
async fn timed(req: Request, next: Next) -> Response {
    let name = req
        .uri()
        .path()
        .strip_prefix("/api/")
        .filter(|name| server_fn_names().contains(*name))
        .map(str::to_string);
    let started = std::time::Instant::now();
    let res = next.run(req).await;
    if let Some(name) = name {
        crate::server::metrics::server_fn(name, res.status().as_u16(), started.elapsed());
    }
    res
}

/// The names of the server functions this build registered.
fn server_fn_names() -> &'static std::collections::HashSet<String> {
    static NAMES: std::sync::OnceLock<std::collections::HashSet<String>> =
        std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        server_fn::axum::server_fn_paths()
            .filter_map(|(path, _)| path.strip_prefix("/api/").map(str::to_string))
            .collect()
    })
}

/// The metrics listener's router: `GET /metrics` in Prometheus text format, and `GET /readyz`
/// with what is (not) ready. Served on its own address (`MSSP_METRICS_BIND`), never beside the
/// pages.
pub fn metrics_router(handle: metrics_exporter_prometheus::PrometheusHandle, ctx: Ctx) -> Router {
    let details = axum::routing::get(move || {
        let ctx = ctx.clone();
        async move {
            // Private: checked afresh, not queued behind (or served from) the probes' answer.
            let readiness = crate::server::health::readiness(&ctx).await;
            let status = if readiness.ready {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            (status, axum::Json(readiness))
        }
    });
    Router::new().route("/readyz", details).route(
        "/metrics",
        axum::routing::get(move || {
            let handle = handle.clone();
            async move {
                (
                    [(
                        http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    handle.render(),
                )
            }
        }),
    )
}

/// The request-rate key: the client's address as sign-in throttling sees it (behind trusted
/// proxies the entry they appended, not what a client forged; an IPv6 client by its /64).
#[derive(Clone, Debug)]
struct ClientBucket {
    proxies: Option<TrustedProxies>,
}

impl KeyExtractor for ClientBucket {
    type Key = String;

    fn extract<T>(&self, req: &Request<T>) -> Result<Self::Key, GovernorError> {
        client_ip(req.headers(), req.extensions(), self.proxies.as_ref())
            .map(|ip| throttle_bucket(&ip.to_string()))
            .ok_or(GovernorError::UnableToExtractKey)
    }
}

/// Requests per second per client address (tower_governor), answered like server-function
/// errors when exceeded.
fn rate_limited(router: Router<WebState>, ctx: &Ctx) -> Router<WebState> {
    let config = &ctx.config;
    let per_second = u64::from(config.requests_per_second.max(1));
    let period_ms = (1000 / per_second).max(1);
    let burst = config.requests_per_second.max(1).saturating_mul(10);
    let config = GovernorConfigBuilder::default()
        .per_millisecond(period_ms)
        .burst_size(burst)
        .key_extractor(ClientBucket {
            proxies: config.proxies(),
        })
        .finish()
        .expect("valid rate limit");
    router.layer(GovernorLayer::new(config).error_handler(guards::too_many_requests))
}

/// Pages check the session on the server before anything renders: not signed in goes to the
/// sign-in page, a pending second factor goes to the code step.
async fn page_guard(
    State(ctx): State<Ctx>,
    session: Session,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with("/api/") || path.starts_with("/pkg/") {
        return next.run(req).await;
    }
    let auth = match current_auth(&ctx, &session).await {
        Ok(auth) => auth,
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    // A complete session, or one setting 2FA up, is read fresh: the admin may have been
    // deactivated, their role, the 2FA enforcement or a reset may have changed since sign-in.
    // When that moved the session to another step, the page of that step is where it goes.
    let checked = match auth.as_ref().map(|a| a.stage) {
        Some(Stage::Complete) => Some(require_admin(&ctx, &session).await),
        Some(Stage::SettingUpTwoFactor { .. }) => Some(require_enrolment(&ctx, &session).await),
        _ => None,
    };
    let (stage, is_super_admin) = match checked {
        None => (auth.map(|a| a.stage), false),
        Some(Ok(signed)) => (Some(signed.auth.stage), signed.admin.role.is_super_admin()),
        Some(Err(e)) if e.needs_sign_in() => match current_auth(&ctx, &session).await {
            Ok(now) => (now.map(|a| a.stage), false),
            Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        },
        Some(Err(_)) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    match page_access(stage, &path, || is_super_admin) {
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
        // The rest of a body that was too large was never read, so this connection cannot
        // carry another request: tell the client, or it may reuse it and find it closed.
        if matches!(err, AppError::TooLarge) {
            parts.headers.insert(
                http::header::CONNECTION,
                http::HeaderValue::from_static("close"),
            );
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}
