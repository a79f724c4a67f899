//! `/healthz`, `/readyz` and the Prometheus metrics on their own address.

use crate::helpers::{TestApp, browser_at};
use crate::on_both_backends;
use serde_json::Value;

on_both_backends!(
    probes_answer_without_a_session_and_name_what_is_not_ready,
    metrics_count_sign_ins_on_their_own_address_only,
);

/// The public `/readyz` (status and a word) and the details the metrics listener gives.
async fn readyz(app: &TestApp, private: &str) -> (u16, String, Value) {
    let res = reqwest::get(format!("{}/readyz", app.base)).await.unwrap();
    let status = res.status().as_u16();
    let said = res.text().await.unwrap();
    let details = reqwest::get(format!("{private}/readyz")).await.unwrap();
    let private_status = details.status().as_u16();
    let details: Value = details.json().await.unwrap();
    assert_eq!(details["ready"], private_status == 200);
    (status, said, details)
}

/// The metrics listener of `app`, on a port of its own.
async fn private_listener(app: &TestApp) -> String {
    let handle = mssp_dashboard::server::metrics::install().unwrap();
    let listener = mssp_dashboard::web::listen(([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let addr = axum::serve::Listener::local_addr(&listener).unwrap();
    let router = mssp_dashboard::web::metrics_router(handle, app.ctx.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

async fn probes_answer_without_a_session_and_name_what_is_not_ready(app: TestApp) {
    let private = private_listener(&app).await;
    // An admin with recovery codes, made first: the sign-in's hashes take a while under load,
    // and the cached check below must still be fresh (2 s) when it is asked again.
    let owner = app.account("ready").await;
    let browser = app.browser();
    browser.sign_in_fully(&owner, None).await;
    browser.enable_two_factor().await;
    // No session, no redirect to the sign-in page, no cookie (the rate limit does not apply
    // either: `request_floods_are_cut_off`).
    for _ in 0..3 {
        let res = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(format!("{}/healthz", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert!(res.headers().get("set-cookie").is_none());
        assert_eq!(res.text().await.unwrap(), "ok\n");
    }
    let (status, said, details) = readyz(&app, &private).await;
    assert_eq!((status, said.as_str()), (200, "ready\n"));
    assert_eq!(
        details,
        serde_json::json!({"ready": true, "database": "ok", "migrations": "ok", "keys": "ok"})
    );

    // Secrets sealed with a key this instance does not hold (another instance rotated).
    sqlx::query("UPDATE recovery_codes SET key_id = 'rotated-elsewhere'")
        .execute(&app.ctx.db.pool)
        .await
        .unwrap();
    // A check is answered for two seconds, whoever asks: probes cannot load the database. The
    // private listener checks afresh.
    let (status, _, details) = readyz(&app, &private).await;
    assert_eq!(status, 200, "the answer of the last check");
    assert_eq!(details["keys"], "1 missing");
    app.clock().advance(2);
    let (status, said, details) = readyz(&app, &private).await;
    assert_eq!((status, said.as_str()), (503, "not ready\n"));
    assert_eq!(details["keys"], "1 missing", "only on the private listener");
    assert_eq!(details["ready"], false);

    // A migration of this build not applied.
    sqlx::query(
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)",
    )
    .execute(&app.ctx.db.pool)
    .await
    .unwrap();
    app.clock().advance(2);
    let (status, _, details) = readyz(&app, &private).await;
    assert_eq!(
        (status, details["migrations"].as_str()),
        (503, Some("1 pending"))
    );

    // The database gone.
    app.ctx.db.pool.close().await;
    app.clock().advance(2);
    let (status, _, details) = readyz(&app, &private).await;
    assert_eq!(status, 503);
    assert_eq!(details["database"], "unreachable");
    // Still alive: a restart would not help, a load balancer just stops sending.
    let res = reqwest::get(format!("{}/healthz", app.base)).await.unwrap();
    assert_eq!(res.status(), 200);
}

/// The value of the first sample of `name` whose labels include all of `labels`.
fn sample(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter(|line| labels.iter().all(|l| line.contains(l)))
        .find_map(|line| line.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0.0)
}

async fn metrics_count_sign_ins_on_their_own_address_only(app: TestApp) {
    let private = private_listener(&app).await;
    let scrape = || async {
        let res = reqwest::get(format!("{private}/metrics")).await.unwrap();
        assert_eq!(res.status(), 200);
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain; version=0.0.4")
        );
        res.text().await.unwrap()
    };
    let before = scrape().await;

    let owner = app.account("metrics").await;
    let browser = app.browser();
    let mut wrong = owner.clone();
    wrong.password = "not the password at all".into();
    browser
        .sign_in(&wrong)
        .await
        .assert_error(401, "BadCredentials");
    browser.sign_in_fully(&owner, None).await;
    let (_, live) = browser.live().await;
    let live = live.unwrap();

    let after = scrape().await;
    let steps = "mssp_sign_in_steps_total";
    for outcome in ["outcome=\"refused\"", "outcome=\"ok\""] {
        let labels = ["step=\"password\"", outcome];
        assert!(
            sample(&after, steps, &labels) >= sample(&before, steps, &labels) + 1.0,
            "{outcome}: {after}"
        );
    }
    let calls = "mssp_server_fn_duration_seconds_count";
    let labels = ["fn=\"sign_in\"", "status=\"401\""];
    assert!(sample(&after, calls, &labels) >= sample(&before, calls, &labels) + 1.0);
    let hashes = "mssp_password_hash_seconds_count";
    assert!(sample(&after, hashes, &[]) >= sample(&before, hashes, &[]) + 2.0);
    assert!(sample(&after, "mssp_live_connections", &[]) >= 1.0);
    drop(live);

    // Not beside the pages: there `/metrics` is just a page nobody signed in may see.
    let res = browser_at(&app.base)
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    let body = res.text().await.unwrap();
    assert!(!body.contains("mssp_sign_in_steps_total"), "{body}");
}
