//! Sign-in against the argon2 limit, measured in one run on the same cores:
//!
//!     cargo bench --features ssr --bench sign_in
//!     MSSP_BENCH_DATABASE=postgres cargo bench --features ssr --bench sign_in
//!
//! Starts the server (release build, its own fresh database) on loopback and provisions 1,700
//! admins with TOTP in 17 MSSP accounts, so that every sign-in uses an admin (and a code) of its
//! own. Then, as browsers would (a session cookie each, the Origin header):
//!
//! 1. one client, 100 sign-ins: the password step and the code step alone, beside one raw
//!    argon2id verification (m=19456, t=2, p=1, reusing its memory) on one thread;
//! 2. 8 and 64 concurrent clients, 600 sign-ins each: password + code sign-ins per second and
//!    p50 / p95 / p99 of each step (a 503 "busy" from the bounded hash queue is retried after
//!    20 ms, as a person would click again; the retries are counted), and their ratio to the
//!    raw verify rate of one thread per core;
//! 3. the code step alone at 64 concurrent clients (256 sessions waiting for their code);
//! 4. the floors, on the same cores with the server's own hash places and database pool but
//!    none of its work, served by a bare axum router: one verification per request at 8
//!    clients (the most any server handing hashes to these places over HTTP can reach), and
//!    one write transaction of one INSERT per request at 64 clients (the least a code step,
//!    which must write, can wait at that concurrency).
//!
//! This machine's speed moves from minute to minute (the host's other tenants), so each raw
//! rate is measured just before and just after the phase it is compared with. After each concurrent
//! phase it prints where the time went on the server, read from its own metrics (the
//! histograms `/metrics` serves): each step's server function, and the hashes' wait and run.

use mssp_dashboard::server::Ctx;
use mssp_dashboard::server::clock::Clock;
use mssp_dashboard::server::db::totp as credentials;
use mssp_dashboard::server::secrets::TotpSecret;
use mssp_dashboard::server::seed::{NewAccount, create_account};
use mssp_dashboard::web::SESSION_COOKIE;
use sqlx::Row;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

mod support;

const ACCOUNTS: usize = 17;
const PER_ACCOUNT: usize = 100;
const PASSWORD: &str = "benchmark password 1";

struct Admin {
    identifier: String,
    secret: Vec<u8>,
}

#[derive(Default)]
struct Samples {
    password: Vec<Duration>,
    code: Vec<Duration>,
    busy: usize,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn line(label: &str, samples: &mut [Duration]) -> String {
    samples.sort();
    format!(
        "{label:<14} p50 {:>6} ms  p95 {:>6} ms  p99 {:>6} ms  max {:>6} ms  (n={})",
        ms(percentile(samples, 50.0)),
        ms(percentile(samples, 95.0)),
        ms(percentile(samples, 99.0)),
        ms(samples.last().copied().unwrap_or_default()),
        samples.len()
    )
}

/// The session cookie a response set, as the next request sends it.
fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(SESSION_COOKIE))
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
}

struct Client {
    http: reqwest::Client,
    base: String,
    /// The client's own address, as the proxy in front appends it.
    address: String,
}

static NEXT_ADDRESS: AtomicUsize = AtomicUsize::new(1);

impl Client {
    fn new(base: &str) -> Client {
        let n = NEXT_ADDRESS.fetch_add(1, Ordering::Relaxed);
        Client {
            http: reqwest::Client::new(),
            base: base.to_string(),
            address: format!("198.51.{}.{}", n / 250, n % 250 + 1),
        }
    }
}

impl Client {
    /// The password step; answers the session cookie and how long the answer took (busy
    /// answers are retried and counted).
    async fn password(&self, admin: &Admin, samples: &mut Samples) -> String {
        loop {
            let started = Instant::now();
            let res = self
                .http
                .post(format!("{}/api/sign_in", self.base))
                .header("origin", &self.base)
                .header("x-forwarded-for", &self.address)
                .form(&[
                    ("identifier", admin.identifier.as_str()),
                    ("password", PASSWORD),
                ])
                .send()
                .await
                .unwrap();
            if res.status() == 503 {
                samples.busy += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
            let cookie = session_cookie(&res);
            let status = res.status();
            let body = res.text().await.unwrap();
            samples.password.push(started.elapsed());
            assert_eq!(
                body, "\"/login/code\"",
                "password step answered {status} {body}"
            );
            return cookie.expect("a session cookie");
        }
    }

    async fn code(&self, admin: &Admin, cookie: &str, samples: &mut Samples) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let code = mssp_dashboard::domain::totp::code_at(&admin.secret, now).unwrap();
        let started = Instant::now();
        let res = self
            .http
            .post(format!("{}/api/verify_sign_in_code", self.base))
            .header("origin", &self.base)
            .header("x-forwarded-for", &self.address)
            .header("cookie", cookie)
            .form(&[("code", code.as_str())])
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body = res.text().await.unwrap();
        samples.code.push(started.elapsed());
        assert_eq!(body, "\"/\"", "code step answered {status} {body}");
    }
}

/// `admins.len()` sign-ins by `concurrency` clients; answers the samples and the wall time.
async fn sign_ins(base: &str, admins: Arc<Vec<Admin>>, concurrency: usize) -> (Samples, Duration) {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (admins, next) = (admins.clone(), next.clone());
        let client = Client::new(base);
        tasks.push(tokio::spawn(async move {
            let mut samples = Samples::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(admin) = admins.get(i) else {
                    return samples;
                };
                let cookie = client.password(admin, &mut samples).await;
                client.code(admin, &cookie, &mut samples).await;
            }
        }));
    }
    let mut all = Samples::default();
    for task in tasks {
        let s = task.await.unwrap();
        all.password.extend(s.password);
        all.code.extend(s.code);
        all.busy += s.busy;
    }
    (all, started.elapsed())
}

/// Raw argon2id verifications of `hash` on `threads` threads for `seconds`, each thread reusing
/// one block buffer (the ceiling: no allocation, no page faults): (count, one verify's
/// durations).
fn raw_verifies(hash: &str, threads: usize, seconds: u64) -> (usize, Vec<Duration>) {
    use argon2::password_hash::phc::PasswordHash;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let hash = hash.to_string();
            std::thread::spawn(move || {
                let parsed = PasswordHash::new(&hash).unwrap();
                let params = argon2::Params::try_from(&parsed).unwrap();
                let salt = parsed.salt.unwrap();
                let expected = parsed.hash.unwrap();
                let mut blocks = vec![argon2::Block::default(); params.block_count()];
                let mut out = vec![0u8; expected.len()];
                let argon2 = argon2::Argon2::new(
                    argon2::Algorithm::Argon2id,
                    argon2::Version::V0x13,
                    params,
                );
                let mut times = Vec::new();
                while Instant::now() < deadline {
                    let started = Instant::now();
                    argon2
                        .hash_password_into_with_memory(
                            PASSWORD.as_bytes(),
                            &salt,
                            &mut out,
                            &mut blocks,
                        )
                        .unwrap();
                    assert_eq!(out.as_slice(), expected.as_bytes());
                    times.push(started.elapsed());
                }
                times
            })
        })
        .collect();
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.join().unwrap());
    }
    (all.len(), all)
}

async fn provision(ctx: &Ctx) -> (Vec<Admin>, String) {
    let mut admins = Vec::new();
    let mut hash = String::new();
    for a in 0..ACCOUNTS {
        let (account_id, owner_id) = create_account(
            ctx,
            NewAccount {
                account_name: &format!("Bench MSSP {a}"),
                email: &format!("owner{a}@bench.example"),
                username: &format!("owner{a}"),
                admin_name: &format!("Owner {a}"),
                password: PASSWORD,
            },
        )
        .await
        .unwrap();
        if hash.is_empty() {
            hash = support::password_hash(ctx, owner_id).await;
        }
        let mut tx = ctx.db.pool.begin().await.unwrap();
        for i in 0..PER_ACCOUNT {
            let username = format!("a{a}-{i}");
            let id: i64 = sqlx::query(
                "INSERT INTO admins (account_id, email, username, name, password_hash, role, \
                 active, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, 'admin', 1, 0, 0) RETURNING id",
            )
            .bind(account_id)
            .bind(format!("{username}@bench.example"))
            .bind(&username)
            .bind(format!("Admin {username}"))
            .bind(&hash)
            .fetch_one(&mut *tx)
            .await
            .unwrap()
            .get("id");
            // A made-up secret of this admin's own (20 bytes, as the app draws them).
            let secret = format!("bench-secret-{id:08}").into_bytes();
            let totp = TotpSecret::from_bytes(secret.clone()).unwrap();
            assert!(
                credentials::insert(&mut tx, &ctx.keyring, id, &totp, 0, 0)
                    .await
                    .unwrap()
            );
            admins.push(Admin {
                identifier: username,
                secret,
            });
        }
        tx.commit().await.unwrap();
    }
    (admins, hash)
}

/// Sum and count of the histogram `name` over the series whose labels include `labels`.
fn sum_count(text: &str, name: &str, labels: &[&str]) -> (f64, f64) {
    let total = |suffix: &str| {
        let series = format!("{name}{suffix}");
        text.lines()
            .filter(|l| {
                l.strip_prefix(series.as_str())
                    .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
            })
            .filter(|l| labels.iter().all(|label| l.contains(label)))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>()
    };
    (total("_sum"), total("_count"))
}

/// Server-side means between two scrapes of the metrics: the server functions of the two
/// steps, and the password hashes' wait for a core and run.
fn where_time_goes(before: &str, after: &str) -> String {
    let parts = [
        (
            "sign_in",
            "mssp_server_fn_duration_seconds",
            &["fn=\"sign_in\""][..],
        ),
        (
            "verify_sign_in_code",
            "mssp_server_fn_duration_seconds",
            &["fn=\"verify_sign_in_code\""][..],
        ),
        ("hash wait", "mssp_password_hash_wait_seconds", &[][..]),
        ("hash run", "mssp_password_hash_seconds", &[][..]),
    ];
    let mut out = String::from("  server side (mean, from its metrics):");
    for (label, name, labels) in parts {
        let (sum0, n0) = sum_count(before, name, labels);
        let (sum1, n1) = sum_count(after, name, labels);
        let n = n1 - n0;
        if n > 0.0 {
            out += &format!(" {label} {:.1} ms ×{n};", (sum1 - sum0) / n * 1000.0);
        }
    }
    out
}

/// The floors of the targets: a bare axum router with the server's own hash places and database
/// pool, none of its work (no session, throttle, audit, rendering). What it measures, no server
/// built on these parts and cores can beat.
mod floor {
    use super::{PASSWORD, Samples, line};
    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode};
    use mssp_dashboard::server::password::{PasswordHash, Passwords, Tenant};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    #[derive(Clone)]
    struct Parts {
        passwords: Arc<Passwords>,
        pool: sqlx::AnyPool,
        /// One connection to the same database: the writes queue in the pool, not in SQLite.
        one: sqlx::AnyPool,
        hash: PasswordHash,
    }

    /// One verification of the benchmark password, for the tenant the client names.
    async fn verify(State(parts): State<Parts>, headers: HeaderMap) -> StatusCode {
        let tenant = headers
            .get("x-tenant")
            .and_then(|v| v.to_str().ok()?.parse().ok())
            .unwrap_or(0);
        match parts
            .passwords
            .verify(Tenant::Account(tenant), PASSWORD, Some(&parts.hash))
            .await
        {
            Ok(true) => StatusCode::OK,
            Ok(false) => StatusCode::FORBIDDEN,
            Err(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// One write transaction (one INSERT, committed) on the server's pool.
    async fn write(State(parts): State<Parts>) -> StatusCode {
        insert(&parts.pool).await
    }

    /// The same on a pool of one connection.
    async fn write_one(State(parts): State<Parts>) -> StatusCode {
        insert(&parts.one).await
    }

    async fn insert(pool: &sqlx::AnyPool) -> StatusCode {
        let write = async {
            let mut tx = pool.begin().await?;
            sqlx::query("INSERT INTO bench_floor (at) VALUES ($1)")
                .bind(1_i64)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        };
        match write.await {
            Ok(()) => StatusCode::OK,
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub async fn serve(
        passwords: Arc<Passwords>,
        pool: sqlx::AnyPool,
        url: &str,
        hash: &str,
    ) -> String {
        sqlx::query("CREATE TABLE bench_floor (at BIGINT NOT NULL)")
            .execute(&pool)
            .await
            .unwrap();
        let one = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(url)
            .await
            .unwrap();
        let parts = Parts {
            passwords,
            pool,
            one,
            hash: PasswordHash::from_stored(hash.to_string()),
        };
        let app = axum::Router::new()
            .route("/verify", axum::routing::post(verify))
            .route("/write", axum::routing::post(write))
            .route("/write-one", axum::routing::post(write_one))
            .with_state(parts);
        let listener = mssp_dashboard::web::listen(([127, 0, 0, 1], 0).into())
            .await
            .unwrap();
        let addr = axum::serve::Listener::local_addr(&listener).unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}")
    }

    /// `total` POSTs to `path` from `concurrency` clients (a 503 is retried after 20 ms, as
    /// the sign-in clients do): the answers' durations, the wall time and the retries.
    pub async fn drive(
        base: &str,
        path: &str,
        concurrency: usize,
        total: usize,
    ) -> (Vec<Duration>, Duration, usize) {
        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for client in 0..concurrency {
            let (next, url) = (next.clone(), format!("{base}{path}"));
            tasks.push(tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut samples = Samples::default();
                while next.fetch_add(1, Ordering::Relaxed) < total {
                    loop {
                        let asked = Instant::now();
                        let res = http
                            .post(&url)
                            .header("x-tenant", (client % super::ACCOUNTS).to_string())
                            .send()
                            .await
                            .unwrap();
                        if res.status() == 503 {
                            samples.busy += 1;
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            continue;
                        }
                        assert_eq!(res.status(), 200, "{url} answered {}", res.status());
                        samples.code.push(asked.elapsed());
                        break;
                    }
                }
                samples
            }));
        }
        let (mut all, mut busy) = (Vec::new(), 0);
        for task in tasks {
            let s = task.await.unwrap();
            all.extend(s.code);
            busy += s.busy;
        }
        (all, started.elapsed(), busy)
    }

    /// The floors, printed; answers the verification floor's rate.
    pub async fn measure(base: &str) -> f64 {
        let (_, wall, busy) = drive(base, "/verify", 8, 600).await;
        let verify_rate = 600.0 / wall.as_secs_f64();
        println!(
            "\nfloor: a bare axum route, one verification per request through the server's hash places, 8 clients: {verify_rate:.1} verifies/s ({busy} busy answers retried)"
        );
        let (mut writes, _, _) = drive(base, "/write", 64, 2560).await;
        println!(
            "floor: a bare axum route, one write transaction (one INSERT) per request on the server's pool, 64 clients, 2,560 requests"
        );
        println!("{}", line("write, server's pool", &mut writes));
        let (mut writes, _, _) = drive(base, "/write-one", 64, 2560).await;
        println!("{}", line("write, pool of one", &mut writes));
        verify_rate
    }
}

fn main() {
    // As the server binary does first thing (`src/main.rs`): the same allocator settings.
    mssp_dashboard::server::memory::tune_allocator();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(run());
}

async fn run() {
    let bench_db = support::BenchDb::create("sign-in").await;
    let backend = bench_db.backend.clone();
    // `MSSP_HASH_CONCURRENCY` as the server reads it (default 0: one hash per core and one more).
    let mut config = bench_db.config_behind_proxy();
    if let Ok(n) = std::env::var("MSSP_HASH_CONCURRENCY") {
        config.hash_concurrency = n.parse().expect("MSSP_HASH_CONCURRENCY is a number");
    }
    let ctx = Ctx::open(config, Clock::system()).await.unwrap();
    // The server's own metrics say where the time goes (what `/metrics` would show).
    let metrics = mssp_dashboard::server::metrics::install().unwrap();
    let (admins, hash) = provision(&ctx).await;
    println!(
        "{} admins with TOTP in {ACCOUNTS} accounts on {backend}; {} cores",
        admins.len(),
        std::thread::available_parallelism().map_or(1, usize::from)
    );

    let floors = floor::serve(
        ctx.passwords.clone(),
        ctx.db.pool.clone(),
        &bench_db.url,
        &hash,
    )
    .await;
    let addr = support::serve(ctx).await;
    let base = format!("http://{addr}");
    let mut admins = admins.into_iter();
    let mut take = |n: usize| Arc::new(admins.by_ref().take(n).collect::<Vec<_>>());

    // The machine's speed moves from minute to minute (other tenants of its host share the
    // cores): each phase is measured between two raw measurements of its own, and compared
    // with their mean.
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let raw_rate = |hash: &str| raw_verifies(hash, cores, 3).0 as f64 / 3.0;

    // 1. One client.
    let (_, mut one) = raw_verifies(&hash, 1, 2);
    let (mut alone, _) = sign_ins(&base, take(100), 1).await;
    one.extend(raw_verifies(&hash, 1, 2).1);
    println!("\none client, 100 sign-ins");
    println!("{}", line("password step", &mut alone.password));
    println!("{}", line("code step", &mut alone.code));
    println!("{}", line("a raw verify", &mut one));
    println!(
        "password step p50 - raw verify p50: {:.1} ms",
        (percentile(&alone.password, 0.5).as_secs_f64() - percentile(&one, 0.5).as_secs_f64())
            * 1000.0
    );

    // 2. 8 and 64 clients.
    let mut rates = Vec::new();
    for concurrency in [8, 64] {
        let raw_before = raw_rate(&hash);
        let before = metrics.render();
        let (mut s, wall) = sign_ins(&base, take(600), concurrency).await;
        let after = metrics.render();
        let raw_after = raw_rate(&hash);
        let raw = (raw_before + raw_after) / 2.0;
        let rate = s.code.len() as f64 / wall.as_secs_f64();
        rates.push((concurrency, rate, raw));
        println!(
            "\n{concurrency} clients, {} sign-ins in {:.1} s: {rate:.1} sign-ins/s ({} busy answers retried)",
            s.code.len(),
            wall.as_secs_f64(),
            s.busy
        );
        println!(
            "raw argon2id on {cores} threads, 3 s before and after: {raw_before:.1} / {raw_after:.1} verifies/s; ratio {rate:.1} / {raw:.1} = {:.2}",
            rate / raw
        );
        println!("{}", line("password step", &mut s.password));
        println!("{}", line("code step", &mut s.code));
        println!("{}", where_time_goes(&before, &after));
    }

    // 3. The code step alone, 64 at once: 256 sessions wait for their code first.
    let waiting = take(256);
    let client = Client::new(&base);
    let mut ignored = Samples::default();
    let mut cookies = Vec::new();
    for admin in waiting.iter() {
        cookies.push(client.password(admin, &mut ignored).await);
    }
    let cookies = Arc::new(cookies);
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let (waiting, cookies, next, base) =
            (waiting.clone(), cookies.clone(), next.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let client = Client::new(&base);
            let mut samples = Samples::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(admin) = waiting.get(i) else {
                    return samples.code;
                };
                client.code(admin, &cookies[i], &mut samples).await;
            }
        }));
    }
    let mut codes = Vec::new();
    for task in tasks {
        codes.extend(task.await.unwrap());
    }
    println!("\ncode step alone, 64 concurrent clients, 256 codes");
    println!("{}", line("code step", &mut codes));

    // 4. The floors, between raw measurements too.
    let raw_before = raw_rate(&hash);
    let floor_rate = floor::measure(&floors).await;
    let raw_after = raw_rate(&hash);
    let floor_raw = (raw_before + raw_after) / 2.0;
    let floor_ratio = floor_rate / floor_raw;
    println!(
        "raw argon2id on {cores} threads, 3 s before and after: {raw_before:.1} / {raw_after:.1} verifies/s; floor ratio {floor_rate:.1} / {floor_raw:.1} = {floor_ratio:.2}",
    );
    println!();
    for (concurrency, rate, raw) in rates {
        println!(
            "ratio at {concurrency} clients: {rate:.1} / {raw:.1} = {:.2} (the floor's: {floor_ratio:.2})",
            rate / raw,
        );
    }
    bench_db.remove().await;
}
