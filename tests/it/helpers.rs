//! `spawn_app()`: the real router on 127.0.0.1:0 over a fresh database.

use mssp_dashboard::domain::totp;
use mssp_dashboard::server::Ctx;
use mssp_dashboard::server::clock::Clock;
use mssp_dashboard::server::config::Config;
use mssp_dashboard::server::seed::{NewAccount, create_account};
use mssp_dashboard::web::{SESSION_COOKIE, router};
use reqwest::StatusCode;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};

/// Which database a test runs on.
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each listed test case once on SQLite and once on PostgreSQL.
/// PostgreSQL is at `MSSP_TEST_POSTGRES_URL` (default: the local server, trust auth).
#[macro_export]
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    $crate::helpers::within_limit(super::$case($crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await)).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    $crate::helpers::within_limit(super::$case($crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await)).await;
                }
            )*
        }
    };
}

/// Fails a test that runs longer than two minutes instead of hanging the run.
pub async fn within_limit(case: impl std::future::Future<Output = ()>) {
    tokio::time::timeout(std::time::Duration::from_secs(120), case)
        .await
        .expect("the test took longer than 120 s");
}

pub struct TestApp {
    pub base: String,
    /// The server's context: its database, keys, configuration and its clock, which tests
    /// move forward (`app.clock().advance(..)`) to prove expiry without sleeping.
    pub ctx: Ctx,
    _db: DbGuard,
}

/// Removes the test's database (and its directory) when the test ends.
enum DbGuard {
    File(std::path::PathBuf),
    Postgres {
        admin_url: String,
        name: String,
        dir: std::path::PathBuf,
    },
}

impl DbGuard {
    /// A directory of the test's own.
    fn dir(&self) -> &std::path::Path {
        match self {
            DbGuard::File(dir) | DbGuard::Postgres { dir, .. } => dir,
        }
    }
}

impl Drop for DbGuard {
    fn drop(&mut self) {
        match self {
            DbGuard::File(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            DbGuard::Postgres {
                admin_url,
                name,
                dir,
            } => {
                let _ = std::fs::remove_dir_all(&*dir);
                let (url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime: use a thread with its own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(async move {
                        use sqlx::Executor;
                        sqlx::any::install_default_drivers();
                        if let Ok(pool) = sqlx::AnyPool::connect(&url).await {
                            let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                            let _ = pool.execute(sqlx::AssertSqlSafe(sql)).await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        rand_suffix()
    )
}

fn rand_suffix() -> u32 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
}

pub fn postgres_admin_url() -> String {
    std::env::var("MSSP_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

async fn fresh_database(backend: Backend) -> (String, DbGuard) {
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(unique("mssp_it"));
            std::fs::create_dir_all(&dir).unwrap();
            let url = format!("sqlite://{}", dir.join("test.db").display());
            (url, DbGuard::File(dir))
        }
        Backend::Postgres => {
            use sqlx::Executor;
            sqlx::any::install_default_drivers();
            let admin_url = postgres_admin_url();
            let pool = sqlx::AnyPool::connect(&admin_url)
                .await
                .expect("PostgreSQL must be reachable at MSSP_TEST_POSTGRES_URL for these tests");
            let name = unique("mssp_it");
            pool.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                .await
                .unwrap();
            pool.close().await;
            let base = admin_url
                .rsplit_once('/')
                .map(|(b, _)| b)
                .unwrap()
                .to_string();
            let dir = std::env::temp_dir().join(unique("mssp_it_pg"));
            std::fs::create_dir_all(&dir).unwrap();
            (
                format!("{base}/{name}"),
                DbGuard::Postgres {
                    admin_url,
                    name,
                    dir,
                },
            )
        }
    }
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// `spawn_app` with changes to the configuration (SMTP, limits...).
pub async fn spawn_app_with(backend: Backend, change: impl FnOnce(&mut Config)) -> TestApp {
    let (url, guard) = fresh_database(backend).await;
    let mut config = Config::for_database(&url);
    // A key file of this test's own, and no request-rate limit unless a test sets one.
    config.key_file = Some(guard.dir().join("secrets.key"));
    config.secret_keys = None;
    config.requests_per_second = 100_000;
    change(&mut config);
    spawn_on(config, guard).await
}

/// `spawn_app` without the background tasks (their statements would mix with the requests' in
/// a statement count). Used by `tests/statements.rs`, which includes this file.
#[allow(dead_code)]
pub async fn spawn_app_quiet(backend: Backend) -> TestApp {
    let (url, guard) = fresh_database(backend).await;
    let mut config = Config::for_database(&url);
    config.key_file = Some(guard.dir().join("secrets.key"));
    config.secret_keys = None;
    config.requests_per_second = 100_000;
    let ctx = Ctx::open(config, Clock::adjustable())
        .await
        .expect("server context");
    let base = serve(ctx.clone()).await;
    TestApp {
        base,
        ctx,
        _db: guard,
    }
}

async fn spawn_on(config: Config, guard: DbGuard) -> TestApp {
    let ctx = open(config).await;
    let base = serve(ctx.clone()).await;
    TestApp {
        base,
        ctx,
        _db: guard,
    }
}

/// The server's context over `config`, with an adjustable clock and its background tasks.
pub async fn open(config: Config) -> Ctx {
    let ctx = Ctx::open(config, Clock::adjustable())
        .await
        .expect("server context");
    mssp_dashboard::server::background::spawn(&ctx);
    ctx
}

/// Serves a router for `ctx` on a new port; answers its base URL.
pub async fn serve(ctx: Ctx) -> String {
    let listener = mssp_dashboard::web::listen(([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let addr = axum::serve::Listener::local_addr(&listener).unwrap();
    let leptos = leptos::config::LeptosOptions::builder()
        .output_name("mssp-dashboard")
        .build();
    let app = router(ctx, leptos);
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    format!("http://{addr}")
}

/// An admin the test can sign in as.
#[derive(Clone, Debug)]
pub struct Creds {
    pub admin_id: i64,
    pub account_id: i64,
    pub email: String,
    pub username: String,
    pub password: String,
}

/// A browser: its own cookie jar, no redirects followed (tests look at them).
pub struct Browser {
    pub http: reqwest::Client,
    pub jar: std::sync::Arc<reqwest::cookie::Jar>,
    pub base: String,
    /// The password this browser last signed in with (re-authentication needs it).
    pub password: std::sync::Mutex<Option<String>>,
}

/// An answer from a server function.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl Answer {
    /// The error variant name, e.g. "BadCredentials" or "Invalid".
    pub fn error_kind(&self) -> String {
        match &self.body {
            Value::String(s) => s.clone(),
            Value::Object(map) => map.keys().next().cloned().unwrap_or_default(),
            other => other.to_string(),
        }
    }

    #[track_caller]
    pub fn assert_ok(&self) -> &Value {
        assert!(
            self.status.is_success(),
            "expected success, got {} {}",
            self.status,
            self.body
        );
        &self.body
    }

    #[track_caller]
    pub fn assert_error(&self, status: u16, kind: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.error_kind(), kind, "body: {}", self.body);
    }
}

impl TestApp {
    /// The server's clock; `advance` moves it forward.
    pub fn clock(&self) -> &mssp_dashboard::server::clock::Clock {
        &self.ctx.clock
    }

    pub fn browser(&self) -> Browser {
        browser_at(&self.base)
    }

    /// How many sessions of `admin_id` are stored.
    pub async fn stored_sessions(&self, admin_id: i64) -> i64 {
        use sqlx::Row;
        sqlx::query("SELECT COUNT(*) AS n FROM sessions WHERE admin_id = $1")
            .bind(admin_id)
            .fetch_one(&self.ctx.db.pool)
            .await
            .unwrap()
            .get("n")
    }

    /// A fresh account with its super admin.
    pub async fn account(&self, label: &str) -> Creds {
        let tag = unique(label).replace('_', "-");
        let email = format!("{tag}@example.com");
        let username = tag.clone();
        let password = format!("pw-{tag}-long-enough");
        let (account_id, admin_id) = create_account(
            &self.ctx,
            NewAccount {
                account_name: &format!("Account {tag}"),
                email: &email,
                username: &username,
                admin_name: &format!("Admin {tag}"),
                password: &password,
            },
        )
        .await
        .unwrap();
        Creds {
            admin_id,
            account_id,
            email,
            username,
            password,
        }
    }
}

impl Browser {
    pub async fn call(&self, name: &str, form: &[(&str, &str)]) -> Answer {
        let res = self
            .http
            .post(format!("{}/api/{name}", self.base))
            .form(form)
            .send()
            .await
            .unwrap();
        answer(res).await
    }

    pub async fn call_raw(&self, name: &str, content_type: &str, body: Vec<u8>) -> Answer {
        let res = self
            .http
            .post(format!("{}/api/{name}", self.base))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        answer(res).await
    }

    /// GET a page; answers the status and the Location header.
    pub async fn page(&self, path: &str) -> (StatusCode, Option<String>) {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let location = res
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string());
        (res.status(), location)
    }

    /// The session cookie's value, as the browser would send it.
    pub fn session_cookie(&self) -> Option<String> {
        use reqwest::cookie::CookieStore;
        let url = self.base.parse().unwrap();
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .unwrap()
            .split("; ")
            .find_map(|c| c.strip_prefix(&format!("{SESSION}=")).map(str::to_string))
    }

    pub async fn sign_in(&self, creds: &Creds) -> Answer {
        *self.password.lock().unwrap() = Some(creds.password.clone());
        self.call(
            "sign_in",
            &[
                ("identifier", &creds.username),
                ("password", &creds.password),
            ],
        )
        .await
    }

    /// Signs in fully (password, then a code from `app` when given).
    pub async fn sign_in_fully(&self, creds: &Creds, app: Option<&mut Authenticator>) {
        let next = self.sign_in(creds).await;
        let next = next.assert_ok().as_str().unwrap().to_string();
        if let Some(app) = app {
            assert_eq!(next, "/login/code");
            let code = app.next_code().await;
            self.call("verify_sign_in_code", &[("code", &code)])
                .await
                .assert_ok();
        } else {
            assert_eq!(next, "/");
        }
    }

    /// Turns on 2FA for the signed-in admin, scanning the secret the page shows into an
    /// authenticator.
    pub async fn enable_two_factor(&self) -> Authenticator {
        let setup = self.start_setup().await;
        let shown = setup.assert_ok()["secret_grouped"]
            .as_str()
            .unwrap()
            .to_string();
        let mut app = Authenticator::from_page(&shown);
        let code = app.next_code().await;
        self.call("confirm_totp_setup", &[("code", &code)])
            .await
            .assert_ok();
        app
    }
}

impl Browser {
    /// "Enable Two-Factor Authentication" with the password this browser signed in with.
    pub async fn start_setup(&self) -> Answer {
        let password = self.password.lock().unwrap().clone().unwrap_or_default();
        self.call("start_totp_setup", &[("current_password", &password)])
            .await
    }
}

pub fn browser_at(base: &str) -> Browser {
    browser_with(base, reqwest::header::HeaderMap::new())
}

/// A browser behind a proxy that sends `x-forwarded-for` (what a client wrote, and what the
/// proxy appended).
pub fn browser_forwarded(base: &str, forwarded_for: &str) -> Browser {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-forwarded-for", forwarded_for.parse().unwrap());
    browser_with(base, headers)
}

/// A browser that sends `user_agent`.
pub fn browser_as(base: &str, user_agent: &str) -> Browser {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("user-agent", user_agent.parse().unwrap());
    browser_with(base, headers)
}

fn browser_with(base: &str, headers: reqwest::header::HeaderMap) -> Browser {
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    Browser {
        http: reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            .build()
            .unwrap(),
        jar,
        base: base.to_string(),
        password: std::sync::Mutex::new(None),
    }
}

impl Browser {
    /// The same browser (its cookies) talking to another instance at `base`: what a load
    /// balancer does between two requests.
    pub fn at(&self, base: &str) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .cookie_provider(self.jar.clone())
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            jar: self.jar.clone(),
            base: base.to_string(),
            password: std::sync::Mutex::new(self.password.lock().unwrap().clone()),
        }
    }
}

async fn answer(res: reqwest::Response) -> Answer {
    let status = res.status();
    let text = res.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer { status, body }
}

/// The secret as shown on the page ("ABCD EFGH ...") back to bytes, like an authenticator does.
pub fn secret_from_page(shown: &str) -> Vec<u8> {
    let compact: String = shown.split_whitespace().collect();
    totp_rs::Secret::try_from_base32(compact)
        .unwrap()
        .as_ref()
        .to_vec()
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// An authenticator app holding the secret. The server accepts the previous, current and next
/// 30 s step, each once; like a person who types the next code that appears, `next_code` gives
/// the code of the oldest step not used yet that the server still accepts, waiting for the
/// clock when all three are used.
pub struct Authenticator {
    pub secret: Vec<u8>,
    last_step: Option<u64>,
}

impl Authenticator {
    pub fn from_page(shown: &str) -> Authenticator {
        Authenticator {
            secret: secret_from_page(shown),
            last_step: None,
        }
    }

    /// The code of the step before the current one: accepted once, if not used yet.
    pub fn code_for_step(&self, step: u64) -> String {
        totp::code_at(&self.secret, step * totp::STEP_SECONDS).unwrap()
    }

    /// Six digits that are not the code of any step near now.
    pub fn wrong_code(&self) -> String {
        let current = now() / totp::STEP_SECONDS;
        let near: Vec<String> = (current - 2..=current + 2)
            .map(|s| self.code_for_step(s))
            .collect();
        (0..10u32)
            .map(|d| format!("{d}{d}{d}{d}{d}{d}"))
            .find(|c| !near.contains(c))
            .unwrap()
    }

    /// The same app on another "phone" (the secret and what it last showed).
    pub fn clone_for_test(&self) -> Authenticator {
        Authenticator {
            secret: self.secret.clone(),
            last_step: self.last_step,
        }
    }

    pub fn last_step(&self) -> Option<u64> {
        self.last_step
    }

    pub async fn next_code(&mut self) -> String {
        loop {
            let current = now() / totp::STEP_SECONDS;
            let oldest_accepted = current - 1;
            let step = match self.last_step {
                Some(last) => (last + 1).max(oldest_accepted),
                None => oldest_accepted,
            };
            // Keep a margin: the step after the current one only while the next second
            // cannot roll the window past it.
            if step <= current + 1 && !(step == oldest_accepted && now() % totp::STEP_SECONDS >= 29)
            {
                self.last_step = Some(step);
                return self.code_for_step(step);
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    }
}

/// The same database under a new configuration (a new context and port).
pub async fn respawn(app: TestApp, config: Config) -> TestApp {
    let ctx = open(config).await;
    let base = serve(ctx.clone()).await;
    TestApp {
        base,
        ctx,
        _db: app._db,
    }
}

/// Restarts the app on the same database (new context, new port): what a server restart does.
pub async fn restart(app: &TestApp) -> String {
    let config = (*app.ctx.config).clone();
    serve(open(config).await).await
}

pub const SESSION: &str = SESSION_COOKIE;

/// Every server function that needs a fully signed-in admin, with valid arguments.
pub const PROTECTED_CALLS: &[(&str, &[(&str, &str)])] = &[
    ("get_profile", &[]),
    ("start_totp_setup", &[("current_password", "x")]),
    ("confirm_totp_setup", &[("code", "123456")]),
    ("disable_totp", &[("code", "123456")]),
    (
        "start_key_registration",
        &[("key_name", "Key"), ("current_password", "x")],
    ),
    ("finish_key_registration", &[("credential", "{}")]),
    ("start_key_confirmation", &[]),
    (
        "remove_security_key",
        &[("key_id", "1"), ("code", "123456")],
    ),
    (
        "change_password",
        &[
            ("current_password", "x"),
            ("new_password", "a new password 1"),
            ("confirm_password", "a new password 1"),
        ],
    ),
    ("get_account_settings", &[]),
    ("save_account_settings", &[("force_2fa", "true")]),
    (
        "list_admins",
        &[("q", ""), ("sort", "name"), ("dir", "asc"), ("page", "1")],
    ),
    ("get_admin", &[("id", "1")]),
    (
        "add_admin",
        &[
            ("email", "new@example.com"),
            ("username", "newbie"),
            ("name", "New"),
            ("role", "admin"),
            ("password", "initial password 1"),
        ],
    ),
    (
        "update_admin",
        &[
            ("id", "1"),
            ("name", "X"),
            ("role", "admin"),
            ("active", "true"),
            ("enforce_2fa", "account"),
        ],
    ),
    ("approve_2fa_reset", &[("request_id", "1")]),
    ("deny_2fa_reset", &[("request_id", "1")]),
    ("list_reset_requests", &[("admin_id", "1")]),
    ("get_reset_review", &[("request_id", "1")]),
    ("count_pending_resets", &[]),
    ("unlock_admin_sign_in", &[("id", "1")]),
    ("new_setup_code", &[("admin_id", "1")]),
    ("list_notifications", &[]),
    ("mark_notifications_read", &[]),
    ("regenerate_recovery_codes", &[("code", "123456")]),
    ("list_sessions", &[]),
    (
        "end_session",
        &[(
            "handle",
            "0000000000000000000000000000000000000000000000000000000000000000",
        )],
    ),
    ("end_other_sessions", &[]),
    ("list_remembered_browsers", &[]),
    (
        "forget_remembered_browser",
        &[(
            "handle",
            "0000000000000000000000000000000000000000000000000000000000000000",
        )],
    ),
    (
        "list_audit_log",
        &[
            ("admin", ""),
            ("event", ""),
            ("from", ""),
            ("to", ""),
            ("page", "1"),
        ],
    ),
];

/// Server functions of the sign-in itself, callable before it is complete (each checks the
/// stage it belongs to).
pub const OPEN_CALLS: &[&str] = &[
    "sign_in",
    "verify_sign_in_code",
    "get_code_step",
    "start_key_sign_in",
    "finish_key_sign_in",
    "verify_setup_code",
    "set_initial_password",
    "skip_2fa_setup",
    "request_2fa_reset",
    "withdraw_2fa_reset",
    "get_reset_request_state",
    "sign_out",
    "current_admin",
];

/// The Administration server functions, with valid arguments (ids filled in by the caller).
pub fn admin_calls(id: i64) -> Vec<(&'static str, Vec<(&'static str, String)>)> {
    vec![
        ("get_account_settings", vec![]),
        ("save_account_settings", vec![("force_2fa", "true".into())]),
        (
            "list_admins",
            vec![
                ("q", String::new()),
                ("sort", "name".into()),
                ("dir", "asc".into()),
                ("page", "1".into()),
            ],
        ),
        ("get_admin", vec![("id", id.to_string())]),
        (
            "add_admin",
            vec![
                ("email", format!("added{id}@example.com")),
                ("username", format!("added{id}")),
                ("name", "Added".into()),
                ("role", "admin".into()),
                ("password", "initial password 1".into()),
            ],
        ),
        (
            "update_admin",
            vec![
                ("id", id.to_string()),
                ("name", "Renamed".into()),
                ("role", "admin".into()),
                ("active", "true".into()),
                ("enforce_2fa", "on".into()),
            ],
        ),
    ]
}

impl Browser {
    /// `call` with owned values.
    pub async fn call_owned(&self, name: &str, form: &[(&str, String)]) -> Answer {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.call(name, &form).await
    }

    /// As a signed-in super admin: adds an admin; answers their credentials (initial password).
    pub async fn add_admin(&self, account_id: i64, label: &str, role: &str) -> Creds {
        let tag = unique(label).replace('_', "-");
        let password = format!("initial-{tag}");
        let answer = self
            .call(
                "add_admin",
                &[
                    ("email", &format!("{tag}@example.com")),
                    ("username", &tag),
                    ("name", &format!("Admin {tag}")),
                    ("role", role),
                    ("password", &password),
                ],
            )
            .await;
        let admin_id = answer.assert_ok()["id"].as_i64().unwrap();
        Creds {
            admin_id,
            account_id,
            email: format!("{tag}@example.com"),
            username: tag,
            password,
        }
    }

    /// Signs in with an initial password and replaces it; answers the page the sign-in goes to
    /// next. Updates `creds` with the new password.
    pub async fn sign_in_first_time(&self, creds: &mut Creds) -> String {
        assert_eq!(self.sign_in(creds).await.assert_ok(), "/login/new-password");
        let new_password = format!(
            "freshly chosen passphrase {}",
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let next = self
            .call(
                "set_initial_password",
                &[
                    ("new_password", &new_password),
                    ("confirm_password", &new_password),
                ],
            )
            .await;
        creds.password = new_password.clone();
        *self.password.lock().unwrap() = Some(new_password);
        next.assert_ok().as_str().unwrap().to_string()
    }
}

/// A live connection (server-sent events) read by a real client.
pub struct LiveStream {
    events: std::pin::Pin<Box<dyn futures::Stream<Item = serde_json::Value> + Send>>,
}

impl LiveStream {
    /// Whether the server ends the stream within `wait` (no event comes first).
    pub async fn ends_within(&mut self, wait: std::time::Duration) -> bool {
        use futures::StreamExt;
        matches!(
            tokio::time::timeout(wait, self.events.next()).await,
            Ok(None)
        )
    }

    /// The next event, or `None` when nothing comes within `wait`.
    pub async fn next_within(&mut self, wait: std::time::Duration) -> Option<serde_json::Value> {
        use futures::StreamExt;
        tokio::time::timeout(wait, self.events.next())
            .await
            .ok()
            .flatten()
    }
}

impl Browser {
    /// Opens `/api/events`; answers the status and, when 200, the stream.
    pub async fn live(&self) -> (StatusCode, Option<LiveStream>) {
        use eventsource_stream::Eventsource;
        use futures::StreamExt;
        let res = self
            .http
            .get(format!("{}/api/events", self.base))
            .send()
            .await
            .unwrap();
        let status = res.status();
        if !status.is_success() {
            return (status, None);
        }
        let events = res
            .bytes_stream()
            .eventsource()
            .filter_map(|e| async move { e.ok().and_then(|e| serde_json::from_str(&e.data).ok()) });
        (
            status,
            Some(LiveStream {
                events: Box::pin(events),
            }),
        )
    }
}

/// The ids of the rows of a `list_admins` answer, in order.
pub fn ids(table: &Value) -> Vec<i64> {
    table["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}
