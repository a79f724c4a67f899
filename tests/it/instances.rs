//! Two instances on one PostgreSQL database, as "Several instances" in the README runs them:
//! live events cross from one to the other, a sign-in moves between them, a code is accepted
//! once across both, and the relay survives the loss of its database connection. And the pool
//! of one instance survives the loss of its connections.

use crate::helpers::{Backend, TestApp, restart, spawn_app, within_limit};
use serde_json::Value;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_events_sign_ins_and_codes() {
    within_limit(two_instances(spawn_app(Backend::Postgres).await)).await;
}

/// The database ends every connection of the server's pool while they sit idle (a restart, a
/// failover, an operator's `pg_terminate_backend`): the next requests get fresh ones, since a
/// connection idle for a second or more is pinged before use (`PING_IF_IDLE_FOR`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_the_database_ended_are_not_handed_to_requests() {
    within_limit(async {
        let app = spawn_app(Backend::Postgres).await;
        let creds = app.account("ended").await;
        let admin = app.browser();
        admin.sign_in_fully(&creds, None).await;
        // From a connection of its own, so that none of the pool's survives.
        let outside = sqlx::AnyPool::connect(&app.ctx.config.database_url)
            .await
            .unwrap();
        let ended: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() \
             AND backend_type = 'client backend' AND usename = current_user \
             AND query NOT LIKE 'LISTEN%') AS t",
        )
        .fetch_one(&outside)
        .await
        .unwrap();
        outside.close().await;
        assert!(ended >= 1, "the pool had no connection to end");
        tokio::time::sleep(Duration::from_millis(1_200)).await;
        for _ in 0..3 {
            admin.call("get_profile", &[]).await.assert_ok();
        }
        app.browser().sign_in_fully(&creds, None).await;
    })
    .await;
}

/// The next event of `kind` within `WAIT`, skipping others.
async fn next_of(live: &mut crate::helpers::LiveStream, kind: &str) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let event = live
            .next_within(left)
            .await
            .unwrap_or_else(|| panic!("no {kind} event within {WAIT:?}"));
        if event["type"] == kind {
            return event;
        }
    }
}

/// Ends the relay connections (`LISTEN`) of every instance on the test's database.
async fn kill_relays(app: &TestApp) -> i64 {
    let killed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%') AS t",
    )
    .fetch_one(&app.ctx.db.pool)
    .await
    .unwrap();
    killed
}

async fn two_instances(a: TestApp) {
    let b = restart(&a).await;
    // Both relays listen before anything is published.
    for _ in 0..100 {
        let listening: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND query LIKE 'LISTEN%'",
        )
        .fetch_one(&a.ctx.db.pool)
        .await
        .unwrap();
        if listening >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The super admin has a tab on each instance.
    let owner = a.account("instances").await;
    let super_on_a = a.browser();
    super_on_a.sign_in_fully(&owner, None).await;
    let super_on_b = super_on_a.at(&b);
    let (_, live_a) = super_on_a.live().await;
    let (status, live_b) = super_on_b.live().await;
    assert_eq!(status, 200, "the session made on A is valid on B");
    let (mut live_a, mut live_b) = (live_a.unwrap(), live_b.unwrap());

    // An admin with 2FA, set up through A.
    let mut admin = super_on_a
        .add_admin(owner.account_id, "twoinst", "admin")
        .await;
    let browser = a.browser();
    browser.sign_in_first_time(&mut admin).await;
    let mut authenticator = browser.enable_two_factor().await;
    browser.call("sign_out", &[]).await.assert_ok();

    // A sign-in started on A completes on B.
    let moving = a.browser();
    assert_eq!(moving.sign_in(&admin).await.assert_ok(), "/login/code");
    let code = authenticator.next_code().await;
    moving
        .at(&b)
        .call("verify_sign_in_code", &[("code", &code)])
        .await
        .assert_ok();
    moving.at(&b).call("get_profile", &[]).await.assert_ok();
    moving.call("get_profile", &[]).await.assert_ok();

    // A code used on A is refused on B.
    let code = authenticator.next_code().await;
    let on_a = a.browser();
    on_a.sign_in(&admin).await.assert_ok();
    on_a.call("verify_sign_in_code", &[("code", &code)])
        .await
        .assert_ok();
    let on_b = crate::helpers::browser_at(&b);
    on_b.sign_in(&admin).await.assert_ok();
    on_b.call("verify_sign_in_code", &[("code", &code)])
        .await
        .assert_error(422, "Invalid");

    // A reset requested on A reaches the super admin's tab on B (and on A).
    let waiting = a.browser();
    waiting.sign_in(&admin).await.assert_ok();
    waiting.call("request_2fa_reset", &[]).await.assert_ok();
    let heard_b = next_of(&mut live_b, "reset_requested").await;
    assert_eq!(heard_b["admin_id"], admin.admin_id);
    let heard_a = next_of(&mut live_a, "reset_requested").await;
    let request_id = heard_a["request_id"].as_i64().unwrap();
    assert_eq!(heard_b["request_id"], request_id);

    // Approved on B: the badge clears on A.
    super_on_b
        .call(
            "approve_2fa_reset",
            &[("request_id", &request_id.to_string())],
        )
        .await
        .assert_ok();
    let resolved = next_of(&mut live_a, "reset_resolved").await;
    assert_eq!(resolved["status"], "approved");
    assert_eq!(resolved["request_id"], request_id);
    assert_eq!(
        next_of(&mut live_b, "reset_resolved").await["request_id"],
        request_id
    );

    // The relays lose their database connections: each reconnects and tells its tabs to fetch
    // again (events sent meanwhile are not replayed)...
    assert_eq!(kill_relays(&a).await, 2, "one relay per instance");
    next_of(&mut live_a, "resync").await;
    next_of(&mut live_b, "resync").await;
    // ...and events flow again, both ways.
    let mut second = super_on_a
        .add_admin(owner.account_id, "afterkill", "admin")
        .await;
    let browser = b_browser(&b);
    browser.sign_in_first_time(&mut second).await;
    browser.enable_two_factor().await;
    browser.call("sign_out", &[]).await.assert_ok();
    let waiting = b_browser(&b);
    waiting.sign_in(&second).await.assert_ok();
    waiting.call("request_2fa_reset", &[]).await.assert_ok();
    let heard = next_of(&mut live_a, "reset_requested").await;
    assert_eq!(heard["admin_id"], second.admin_id, "B to A after the kill");
    let request_id = heard["request_id"].as_i64().unwrap();
    super_on_a
        .call("deny_2fa_reset", &[("request_id", &request_id.to_string())])
        .await
        .assert_ok();
    let denied = next_of(&mut live_b, "reset_resolved").await;
    assert_eq!(denied["status"], "denied", "A to B after the kill");
}

fn b_browser(b: &str) -> crate::helpers::Browser {
    crate::helpers::browser_at(b)
}
