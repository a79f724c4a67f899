//! 10,000 live connections on one instance:
//!
//!     cargo bench --features ssr --bench live
//!     MSSP_BENCH_DATABASE=postgres cargo bench --features ssr --bench live
//!
//! Starts the server (release build, its own fresh database) on loopback with 1,000 MSSP
//! accounts, signs their super admins in (three sessions each, as three browsers), and opens
//! 10 live connections (`GET /api/events`) per account from a second process, each from an
//! address of its own behind a trusted proxy, so that this process holds only the server. Then:
//!
//! 1. memory: the server's resident memory before and after the 10,000 connections, per
//!    connection; and first, as the floor in the same run, the same for 10,000 connections to a
//!    bare axum server-sent-events route (no session, no layers: hyper and tokio alone);
//! 2. delivery: in 50 accounts, one after the other, an admin waiting at the code step clicks
//!    "Request 2FA Reset"; the delay from sending that request to the event at the last of its
//!    account's 10 connections (p50 / p99 / max), and how many events reached connections of
//!    other accounts (none may).

use mssp_dashboard::server::Ctx;
use mssp_dashboard::server::clock::Clock;
use mssp_dashboard::server::db::totp as credentials;
use mssp_dashboard::server::secrets::TotpSecret;
use mssp_dashboard::server::seed::{NewAccount, create_account};
use mssp_dashboard::web::SESSION_COOKIE;
use sqlx::Row;
use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod support;

const ACCOUNTS: usize = 1_000;
const PER_ACCOUNT: usize = 10;
/// Connections per session (the server allows 4 per session, 16 per admin).
const PER_SESSION: usize = 4;
const TRIGGERS: usize = 50;
const PASSWORD: &str = "benchmark password 1";
const CLIENT_ENV: &str = "MSSP_BENCH_LIVE_PLAN";

fn main() {
    mssp_dashboard::server::memory::tune_allocator();
    // Both processes hold 10,000 sockets.
    let files = mssp_dashboard::server::limits::raise_open_files();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if let Ok(plan) = std::env::var(CLIENT_ENV) {
        runtime.block_on(clients(&plan));
    } else {
        println!("open-file limit: {files:?}");
        runtime.block_on(server());
    }
}

fn unix_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// Resident memory, after giving the allocator's free pages back (so that memory freed by an
/// earlier phase is not counted, nor hidden by being reused).
fn resident_kb() -> u64 {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory to the system.
    unsafe {
        libc::malloc_trim(0);
    }
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(SESSION_COOKIE))
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
}

/// The password step for `identifier` from `address`; answers the session cookie.
async fn sign_in(http: &reqwest::Client, base: &str, identifier: &str, address: &str) -> String {
    loop {
        let res = http
            .post(format!("{base}/api/sign_in"))
            .header("origin", base)
            .header("x-forwarded-for", address)
            .form(&[("identifier", identifier), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        if res.status() == 503 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        assert!(res.status().is_success(), "sign-in: {}", res.status());
        return session_cookie(&res).expect("a session cookie");
    }
}

fn address(n: usize) -> String {
    format!("10.{}.{}.{}", n / 62_500, (n / 250) % 250, n % 250 + 1)
}

async fn server() {
    let bench_db = support::BenchDb::create("live").await;
    let (backend, dir) = (bench_db.backend.clone(), bench_db.dir.clone());
    let ctx = Ctx::open(bench_db.config_behind_proxy(), Clock::system())
        .await
        .unwrap();
    mssp_dashboard::server::background::spawn(&ctx);

    // 1,000 accounts, each with its super admin; in the first 50 an admin with 2FA.
    let started = std::time::Instant::now();
    let mut accounts = Vec::new();
    let mut hash = String::new();
    for a in 0..ACCOUNTS {
        let (account_id, owner_id) = create_account(
            &ctx,
            NewAccount {
                account_name: &format!("Live MSSP {a}"),
                email: &format!("live{a}@bench.example"),
                username: &format!("live{a}"),
                admin_name: &format!("Live Owner {a}"),
                password: PASSWORD,
            },
        )
        .await
        .unwrap();
        if hash.is_empty() {
            hash = support::password_hash(&ctx, owner_id).await;
        }
        accounts.push(account_id);
    }
    for (a, account_id) in accounts.iter().enumerate().take(TRIGGERS) {
        let mut tx = ctx.db.pool.begin().await.unwrap();
        let id: i64 = sqlx::query(
            "INSERT INTO admins (account_id, email, username, name, password_hash, role, \
             active, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 'admin', 1, 0, 0) RETURNING id",
        )
        .bind(account_id)
        .bind(format!("lost{a}@bench.example"))
        .bind(format!("lost{a}"))
        .bind(format!("Lost Phone {a}"))
        .bind(&hash)
        .fetch_one(&mut *tx)
        .await
        .unwrap()
        .get("id");
        let totp =
            TotpSecret::from_bytes(format!("live-bench-secret-{id:06}").into_bytes()).unwrap();
        credentials::insert(&mut tx, &ctx.keyring, id, &totp, 0, 0)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    let addr = support::serve(ctx.clone()).await;
    let base = format!("http://{addr}");

    // Three sessions per super admin (10 connections: 4 + 3 + 3), signed in 8 at a time.
    let sessions_per_account = PER_ACCOUNT.div_ceil(PER_SESSION);
    let http = reqwest::Client::new();
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (http, base, next) = (http.clone(), base.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut cookies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= ACCOUNTS * sessions_per_account {
                    return cookies;
                }
                let a = i / sessions_per_account;
                let cookie = sign_in(&http, &base, &format!("live{a}"), &address(i)).await;
                cookies.push((i, cookie));
            }
        }));
    }
    let mut cookies = vec![String::new(); ACCOUNTS * sessions_per_account];
    for task in tasks {
        for (i, cookie) in task.await.unwrap() {
            cookies[i] = cookie;
        }
    }
    // The lost-phone admins wait at the code step.
    let mut waiting = Vec::new();
    for a in 0..TRIGGERS {
        waiting.push(sign_in(&http, &base, &format!("lost{a}"), &address(900_000 + a)).await);
    }
    println!(
        "{ACCOUNTS} accounts on {backend}, {} sessions signed in, in {:.0} s",
        cookies.len(),
        started.elapsed().as_secs_f64()
    );

    // The plan for the client process: one line per connection.
    let plan = dir.join("plan.txt");
    let mut lines = String::new();
    for a in 0..ACCOUNTS {
        for c in 0..PER_ACCOUNT {
            let session = a * sessions_per_account + c / PER_SESSION;
            let n = a * PER_ACCOUNT + c;
            lines += &format!("{a} {} {}\n", address(100_000 + n), cookies[session]);
        }
    }
    std::fs::write(&plan, lines).unwrap();

    let open = ACCOUNTS * PER_ACCOUNT;
    // The floor: a bare server-sent-events route on its own listener.
    let bare = mssp_dashboard::web::listen(([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let bare_addr = axum::serve::Listener::local_addr(&bare).unwrap();
    let bare_app = axum::Router::new().route(
        "/api/events",
        axum::routing::get(|| async {
            axum::response::sse::Sse::new(futures::stream::pending::<
                Result<axum::response::sse::Event, std::convert::Infallible>,
            >())
        }),
    );
    tokio::spawn(async move { axum::serve(bare, bare_app).await.unwrap() });
    tokio::time::sleep(Duration::from_secs(2)).await;
    let bare_before = resident_kb();
    let (mut child, out, mut stdin) = spawn_clients(&plan, bare_addr);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let bare_after = resident_kb();
    writeln!(stdin, "done").unwrap();
    for line in out.lines() {
        if line.map_or(true, |l| l == "end") {
            break;
        }
    }
    let _ = child.wait();
    println!(
        "floor, a bare axum SSE route: {:.1} KB per connection",
        (bare_after.saturating_sub(bare_before)) as f64 / open as f64
    );

    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = resident_kb();
    let opening = std::time::Instant::now();
    let (mut child, out, mut stdin) = spawn_clients(&plan, addr);
    println!(
        "{open} live connections open in {:.1} s",
        opening.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = resident_kb();
    println!(
        "server resident memory: {:.1} MB before, {:.1} MB with {open} connections: {:.1} KB per connection",
        before as f64 / 1024.0,
        after as f64 / 1024.0,
        (after.saturating_sub(before)) as f64 / open as f64
    );

    // One request at a time, 200 ms apart.
    let mut sent = HashMap::new();
    for (a, cookie) in waiting.iter().enumerate() {
        sent.insert(a, unix_nanos());
        let res = http
            .post(format!("{base}/api/request_2fa_reset"))
            .header("origin", &base)
            .header("cookie", cookie)
            .header("x-forwarded-for", address(900_000 + a))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "request: {}", res.status());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    writeln!(stdin, "done").unwrap();
    let mut received: HashMap<usize, Vec<u128>> = HashMap::new();
    for line in out.lines() {
        let line = line.unwrap();
        if line == "end" {
            break;
        }
        let mut parts = line.split(' ');
        let account: usize = parts.next().unwrap().parse().unwrap();
        let at: u128 = parts.next().unwrap().parse().unwrap();
        received.entry(account).or_default().push(at);
    }
    let _ = child.wait();
    let strays: usize = received
        .iter()
        .filter(|(a, _)| !sent.contains_key(a))
        .map(|(_, v)| v.len())
        .sum();
    let mut delays = Vec::new();
    let mut short = 0;
    for (a, at) in &sent {
        let got = received.get(a).map_or(&[][..], Vec::as_slice);
        if got.len() < PER_ACCOUNT {
            short += PER_ACCOUNT - got.len();
        }
        if let Some(last) = got.iter().max() {
            delays.push(Duration::from_nanos((last - at) as u64));
        }
    }
    delays.sort();
    let pick = |p: f64| delays[((p / 100.0) * (delays.len() - 1) as f64).round() as usize];
    println!(
        "request → event at the last of its account's {PER_ACCOUNT} connections, {} requests: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        delays.len(),
        pick(50.0).as_secs_f64() * 1000.0,
        pick(99.0).as_secs_f64() * 1000.0,
        delays.last().unwrap().as_secs_f64() * 1000.0
    );
    println!(
        "events missing at their account's connections: {short}; events at other accounts' connections: {strays}"
    );
    bench_db.remove().await;
}

/// Starts the client process on `plan` against `addr`; returns once every connection is open.
fn spawn_clients(
    plan: &std::path::Path,
    addr: SocketAddr,
) -> (
    std::process::Child,
    std::io::BufReader<std::process::ChildStdout>,
    std::process::ChildStdin,
) {
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .env(CLIENT_ENV, plan)
        .env("MSSP_BENCH_LIVE_ADDR", addr.to_string())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let stdin = child.stdin.take().unwrap();
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(line.starts_with("ready"), "client: {line}");
    (child, out, stdin)
}

/// The client process: holds every connection of the plan, says "ready" once all are open,
/// and on "done" prints when each reset event arrived ("account unix-nanos"), then "end".
async fn clients(plan: &str) {
    let addr: SocketAddr = std::env::var("MSSP_BENCH_LIVE_ADDR")
        .unwrap()
        .parse()
        .unwrap();
    let plan = std::fs::read_to_string(plan).unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, u128)>();
    let opened = Arc::new(tokio::sync::Semaphore::new(0));
    // At most 256 connections being opened at once (the listen backlog).
    let opening = Arc::new(tokio::sync::Semaphore::new(256));
    let mut count = 0u32;
    for line in plan.lines() {
        let mut parts = line.splitn(3, ' ');
        let account: usize = parts.next().unwrap().parse().unwrap();
        let address = parts.next().unwrap().to_string();
        let cookie = parts.next().unwrap().to_string();
        let (tx, opened, opening) = (tx.clone(), opened.clone(), opening.clone());
        count += 1;
        tokio::spawn(async move {
            let permit = opening.acquire_owned().await.unwrap();
            let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            let request = format!(
                "GET /api/events HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\
                 Cookie: {cookie}\r\nX-Forwarded-For: {address}\r\n\r\n"
            );
            stream.write_all(request.as_bytes()).await.unwrap();
            let mut buf = vec![0u8; 2048];
            let n = stream.read(&mut buf).await.unwrap();
            let head = String::from_utf8_lossy(&buf[..n]);
            assert!(head.starts_with("HTTP/1.1 200"), "live connection: {head}");
            drop(permit);
            opened.add_permits(1);
            loop {
                let n = match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                if buf[..n].windows(15).any(|w| w == b"reset_requested") {
                    let _ = tx.send((account, unix_nanos()));
                }
            }
        });
    }
    drop(tx);
    let _ = opened.acquire_many(count).await.unwrap();
    println!("ready");
    // Wait for "done" on stdin (blocking read off the runtime's workers).
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
    })
    .await
    .unwrap();
    let mut out = std::io::stdout().lock();
    while let Ok(Some((account, at))) =
        tokio::time::timeout(Duration::from_millis(100), rx.recv()).await
    {
        writeln!(out, "{account} {at}").unwrap();
    }
    writeln!(out, "end").unwrap();
    out.flush().unwrap();
    std::process::exit(0);
}
