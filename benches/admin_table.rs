//! Admin Management with 10,000 admins in one account (`MSSP_BENCH_ADMINS` for another number):
//! how long the server takes to answer page 1 (the `list_admins` server function, and the whole
//! server-rendered page), and the middle page reached by "Next" (a seek from the row before it)
//! and by its number (counting past every row before it).
//!
//!     cargo bench --features ssr --bench admin_table
//!     MSSP_BENCH_ADMINS=100000 cargo bench --features ssr --bench admin_table
//!     MSSP_BENCH_DATABASE=postgres cargo bench --features ssr --bench admin_table
//!
//! Prints min / median / p95 / p99 / max over 200 requests after 20 warm-up requests, measured from a
//! client on loopback (so it includes HTTP, session lookup and the authorisation checks).

use mssp_dashboard::server::Ctx;
use mssp_dashboard::server::clock::Clock;
use mssp_dashboard::server::seed::{NewAccount, create_account};
use std::time::{Duration, Instant};

mod support;

/// Admins in the account: `MSSP_BENCH_ADMINS`, 10,000 unless set.
fn admin_count() -> i64 {
    std::env::var("MSSP_BENCH_ADMINS")
        .ok()
        .and_then(|n| n.replace('_', "").parse().ok())
        .filter(|n| *n >= 2)
        .unwrap_or(10_000)
}
const RUNS: usize = 200;
const WARMUP: usize = 20;

#[tokio::main]
async fn main() {
    let bench_db = support::BenchDb::create("admin-table").await;
    let backend = bench_db.backend.clone();
    let ctx = Ctx::open(bench_db.config(), Clock::system()).await.unwrap();
    let admins = admin_count();
    let password = "benchmark password 1";
    let (account_id, _) = create_account(
        &ctx,
        NewAccount {
            account_name: "Bench MSSP",
            email: "super@bench.example",
            username: "benchsuper",
            admin_name: "Bench Super",
            password,
        },
    )
    .await
    .unwrap();
    // admins - 1 made-up admins beside the super admin.
    mssp_dashboard::server::seed::bulk_admins(&ctx.db, account_id, "bench", admins - 1)
        .await
        .unwrap();

    // The row in the middle of the name order: where "Next" from the page before the middle
    // page continues.
    let middle_page = (admins / 25 / 2).max(2);
    let middle_row = |order: &'static str| {
        let pool = ctx.db.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
                "SELECT id FROM admins WHERE account_id = $1 ORDER BY {order} \
                 LIMIT 1 OFFSET {}",
                (middle_page - 1) * 25 - 1
            )))
            .bind(account_id)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let middle_by_name = middle_row("LOWER(name), id").await;
    let middle_by_role = middle_row("role, id").await;
    let addr = support::serve(ctx).await;
    let base = format!("http://{addr}");
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let signed = client
        .post(format!("{base}/api/sign_in"))
        .form(&[("identifier", "benchsuper"), ("password", password)])
        .send()
        .await
        .unwrap();
    assert!(signed.status().is_success());

    println!("Admin Management, {admins} admins in one account, {backend}:");
    let list_at = |q: &'static str, sort: &'static str, page: i64, after: Option<i64>| {
        let client = client.clone();
        let base = base.clone();
        move || {
            let client = client.clone();
            let url = format!("{base}/api/list_admins");
            let mut form = vec![
                ("q", q.to_string()),
                ("sort", sort.to_string()),
                ("dir", "asc".to_string()),
                ("page", page.to_string()),
            ];
            if let Some(after) = after {
                form.push(("after", after.to_string()));
            }
            async move {
                let res = client.post(url).form(&form).send().await.unwrap();
                let status = res.status();
                let body = res.text().await.unwrap();
                assert!(
                    status.is_success() && body.contains("\"total\""),
                    "{status} {body}"
                );
            }
        }
    };
    let list = |q, sort| list_at(q, sort, 1, None);
    measure("list_admins page 1, sorted by name", list("", "name")).await;
    measure(
        &format!("list_admins page {middle_page} by name, by \"Next\""),
        list_at("", "name", middle_page, Some(middle_by_name)),
    )
    .await;
    measure(
        &format!("list_admins page {middle_page} by role, by \"Next\""),
        list_at("", "role", middle_page, Some(middle_by_role)),
    )
    .await;
    measure(
        &format!("list_admins page {middle_page} by name, by number"),
        list_at("", "name", middle_page, None),
    )
    .await;
    measure(
        "list_admins page 1, sorted by last sign-in",
        list("", "last_sign_in"),
    )
    .await;
    measure(
        "list_admins page 1, search \"user 42\"",
        list("user 42", "name"),
    )
    .await;
    let page = {
        let client = client.clone();
        let base = base.clone();
        move || {
            let client = client.clone();
            let url = format!("{base}/admin/admins");
            async move {
                let res = client.get(url).send().await.unwrap();
                assert!(res.status().is_success());
                let html = res.text().await.unwrap();
                assert!(
                    html.contains("data-admin-id"),
                    "the table rendered on the server"
                );
            }
        }
    };
    measure("GET /admin/admins (server-rendered HTML)", page).await;
    bench_db.remove().await;
}

/// 9,999 more admins (1 in 3 with TOTP, 1 in 5 with enforcement set, 1 in 50 inactive), as
/// one transaction of multi-row inserts.
async fn measure<F, Fut>(label: &str, run: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..WARMUP {
        run().await;
    }
    let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        run().await;
        times.push(start.elapsed());
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "  {label:<48} min {:>6.2} ms  median {:>6.2} ms  p95 {:>6.2} ms  p99 {:>6.2} ms  max {:>6.2} ms",
        ms(times[0]),
        ms(times[RUNS / 2]),
        ms(times[RUNS * 95 / 100]),
        ms(times[RUNS * 99 / 100]),
        ms(times[RUNS - 1])
    );
}
