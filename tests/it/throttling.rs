//! Throttling an attacker cannot turn against the owner: counters per known browser, for
//! unknown browsers and per address; attempts counted before any secret is checked; every
//! re-check of a signed-in session counted like a sign-in; one account's hashing cannot starve
//! the others, and strangers filling the whole hash queue cannot starve an admin's usual
//! browser; the background sweeps never wait inside an attempt.

use crate::helpers::{Authenticator, Backend, Browser, Creds, TestApp, spawn_app_with};
use crate::on_both_backends;
use mssp_dashboard::server::db::sessions::SqlSessionStore;
use mssp_dashboard::server::db::{auth_failures, rate_limits};
use std::time::Duration;

on_both_backends!(
    a_stranger_cannot_lock_the_owner_out_of_a_known_browser,
    fifty_codes_at_once_are_checked_at_most_five_times,
    a_signed_in_session_guessing_codes_is_locked_like_a_sign_in,
    a_signed_in_session_guessing_the_password_is_locked_like_a_sign_in,
    turning_two_factor_on_asks_for_the_password,
);

/// An account whose super admin is signed in (with a live connection) and an admin of it with
/// 2FA on, signed out; the admin's browser is known (it completed a sign-in).
async fn account_with_admin(app: &TestApp) -> (Browser, Creds, Browser, Authenticator) {
    let owner = app.account("throttle").await;
    let super_admin = app.browser();
    super_admin.sign_in_fully(&owner, None).await;
    let mut admin = super_admin
        .add_admin(owner.account_id, "target", "admin")
        .await;
    let known = app.browser();
    known.sign_in_first_time(&mut admin).await;
    let authenticator = known.enable_two_factor().await;
    known.call("sign_out", &[]).await.assert_ok();
    (super_admin, admin, known, authenticator)
}

fn device_cookie(browser: &Browser) -> Option<String> {
    use reqwest::cookie::CookieStore;
    let header = browser.jar.cookies(&browser.base.parse().unwrap())?;
    header
        .to_str()
        .unwrap()
        .split("; ")
        .find_map(|c| c.strip_prefix("mssp_device=").map(str::to_string))
}

async fn a_stranger_cannot_lock_the_owner_out_of_a_known_browser(app: TestApp) {
    let (super_admin, admin, known, mut authenticator) = account_with_admin(&app).await;
    assert!(
        device_cookie(&known).is_some(),
        "a completed sign-in makes the browser known"
    );
    let (_, live) = super_admin.live().await;
    let mut live = live.unwrap();
    let policy = app.ctx.config.password_policy();

    // A stranger guesses the password until the counter for unknown browsers locks...
    let stranger = app.browser();
    for _ in 0..policy.max_failures {
        stranger
            .call(
                "sign_in",
                &[("identifier", &admin.email), ("password", "a wrong guess")],
            )
            .await
            .assert_error(401, "BadCredentials");
    }
    stranger
        .sign_in(&admin)
        .await
        .assert_error(429, "TooManyRequests");
    // ...a new browser of the owner is slowed too while it lasts...
    let new_browser = app.browser();
    new_browser
        .sign_in(&admin)
        .await
        .assert_error(429, "TooManyRequests");
    // ...but the owner's known browser signs in at once.
    assert_eq!(known.sign_in(&admin).await.assert_ok(), "/login/code");
    let code = authenticator.next_code().await;
    known
        .call("verify_sign_in_code", &[("code", &code)])
        .await
        .assert_ok();

    // The super admins are told, once for this lock period.
    let mut notices = 0;
    while let Some(event) = live.next_within(Duration::from_secs(2)).await {
        if event["type"] == "notice"
            && event["message"]
                .as_str()
                .unwrap()
                .contains("Repeated wrong passwords")
        {
            notices += 1;
        }
    }
    assert_eq!(notices, 1);
    // Guessing on while locked tells nobody again (locked attempts are not even counted).
    for _ in 0..5 {
        stranger
            .call(
                "sign_in",
                &[("identifier", &admin.email), ("password", "a wrong guess")],
            )
            .await
            .assert_error(429, "TooManyRequests");
    }
    assert!(live.next_within(Duration::from_secs(1)).await.is_none());

    // A super admin who made sure it is really them unlocks new browsers at once...
    super_admin
        .call(
            "unlock_admin_sign_in",
            &[("id", &admin.admin_id.to_string())],
        )
        .await
        .assert_ok();
    assert_eq!(new_browser.sign_in(&admin).await.assert_ok(), "/login/code");
    // ...and without them the lock ends by itself after its period: never locked for good.
    for _ in 0..policy.max_failures {
        stranger
            .call(
                "sign_in",
                &[("identifier", &admin.email), ("password", "a wrong guess")],
            )
            .await
            .assert_error(401, "BadCredentials");
    }
    let later = app.browser();
    later
        .sign_in(&admin)
        .await
        .assert_error(429, "TooManyRequests");
    app.clock().advance(policy.base_lock_seconds * 2 + 1);
    assert_eq!(later.sign_in(&admin).await.assert_ok(), "/login/code");
}

async fn fifty_codes_at_once_are_checked_at_most_five_times(app: TestApp) {
    let (_, admin, _, authenticator) = account_with_admin(&app).await;
    let attacker = std::sync::Arc::new(app.browser());
    assert_eq!(attacker.sign_in(&admin).await.assert_ok(), "/login/code");
    let wrong = authenticator.wrong_code();
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let attacker = attacker.clone();
        let wrong = wrong.clone();
        tasks.push(tokio::spawn(async move {
            attacker
                .call("verify_sign_in_code", &[("code", &wrong)])
                .await
                .status
                .as_u16()
        }));
    }
    let mut checked = 0;
    let mut refused = 0;
    for task in tasks {
        match task.await.unwrap() {
            422 => checked += 1,
            429 => refused += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    let limit = app.ctx.config.code_policy().max_failures;
    assert!(checked <= limit, "{checked} codes were checked");
    assert_eq!(checked + refused, 50);
}

async fn a_signed_in_session_guessing_codes_is_locked_like_a_sign_in(app: TestApp) {
    let (_, admin, known, mut authenticator) = account_with_admin(&app).await;
    known.sign_in_fully(&admin, Some(&mut authenticator)).await;
    let limit = app.ctx.config.code_policy().max_failures;
    // Turning 2FA off and new recovery codes share one counter.
    for i in 0..limit {
        let call = if i % 2 == 0 {
            "disable_totp"
        } else {
            "regenerate_recovery_codes"
        };
        known
            .call(call, &[("code", &authenticator.wrong_code())])
            .await
            .assert_error(422, "Invalid");
    }
    let right = authenticator.next_code().await;
    known
        .call("regenerate_recovery_codes", &[("code", &right)])
        .await
        .assert_error(429, "TooManyRequests");
    app.clock()
        .advance(app.ctx.config.code_policy().base_lock_seconds + 1);
    // (the clock moved: the code an authenticator shows now)
    let now = u64::try_from(app.clock().now()).unwrap();
    let right = mssp_dashboard::domain::totp::code_at(&authenticator.secret, now).unwrap();
    known
        .call("regenerate_recovery_codes", &[("code", &right)])
        .await
        .assert_ok();
}

async fn a_signed_in_session_guessing_the_password_is_locked_like_a_sign_in(app: TestApp) {
    let creds = app.account("changer").await;
    let browser = app.browser();
    browser.sign_in_fully(&creds, None).await;
    let limit = app.ctx.config.password_policy().max_failures;
    let change = |current: String| {
        let browser = &browser;
        async move {
            browser
                .call(
                    "change_password",
                    &[
                        ("current_password", current.as_str()),
                        ("new_password", "a brand new passphrase 1"),
                        ("confirm_password", "a brand new passphrase 1"),
                    ],
                )
                .await
        }
    };
    for _ in 0..limit {
        change("not my password".into())
            .await
            .assert_error(422, "Invalid");
    }
    change(creds.password.clone())
        .await
        .assert_error(429, "TooManyRequests");
    // So is turning 2FA on, which asks for the same password.
    browser
        .call("start_totp_setup", &[("current_password", &creds.password)])
        .await
        .assert_error(429, "TooManyRequests");
}

async fn turning_two_factor_on_asks_for_the_password(app: TestApp) {
    let creds = app.account("reauth").await;
    let browser = app.browser();
    browser.sign_in_fully(&creds, None).await;
    for (password, field_error) in [("", true), ("not my password", true)] {
        let answer = browser
            .call("start_totp_setup", &[("current_password", password)])
            .await;
        answer.assert_error(422, "Invalid");
        assert_eq!(
            answer.body["Invalid"]["field"], "current_password",
            "{field_error}"
        );
    }
    // Without the password, nothing was started: there is no setup to confirm.
    browser
        .call("confirm_totp_setup", &[("code", "123456")])
        .await
        .assert_error(409, "Conflict");
    browser.enable_two_factor().await;
}

/// An app that runs one hash at a time with four places to wait, and never locks a counter:
/// for the tests of the hash queue's fairness (guessing is not what they are about).
async fn one_hash_at_a_time(backend: Backend) -> TestApp {
    spawn_app_with(backend, |c| {
        c.hash_concurrency = 1;
        c.hash_queue = 4;
        c.password_max_failures = 100_000;
        c.address_max_failures = 100_000;
    })
    .await
}

/// One account hammering password checks from four browsers leaves the others their share of
/// the hashing: their sign-ins are not turned away as busy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_account_cannot_starve_the_others_of_password_hashing() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let app = one_hash_at_a_time(backend).await;
        let noisy = app.account("noisy").await;
        let quiet = app.account("quiet").await;
        let mut flooders = Vec::new();
        for _ in 0..4 {
            let browser = app.browser();
            browser.sign_in_fully(&noisy, None).await;
            flooders.push(std::sync::Arc::new(browser));
        }
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut tasks = Vec::new();
        for browser in &flooders {
            for _ in 0..4 {
                let browser = browser.clone();
                let stop = stop.clone();
                tasks.push(tokio::spawn(async move {
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        browser
                            .call(
                                "change_password",
                                &[
                                    ("current_password", "not the password"),
                                    ("new_password", "a brand new passphrase 1"),
                                    ("confirm_password", "a brand new passphrase 1"),
                                ],
                            )
                            .await;
                    }
                }));
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut busy = 0;
        for _ in 0..10 {
            let browser = app.browser();
            let answer = browser.sign_in(&quiet).await;
            match answer.status.as_u16() {
                200 => {}
                503 => busy += 1,
                other => panic!("unexpected {other}: {}", answer.body),
            }
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(
            busy, 0,
            "{backend:?}: the quiet account was turned away {busy} times"
        );
    }
}

/// Strangers who fill every place of the hash queue (guessing at the names of several accounts'
/// admins, and at a name nobody has) still leave an admin's usual browser a place: its sign-in
/// waits its turn instead of being turned away as busy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_filling_the_hash_queue_leave_the_owners_browser_a_place() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let app = one_hash_at_a_time(backend).await;
        let owner = app.account("owner").await;
        let usual = app.browser();
        usual.sign_in_fully(&owner, None).await;
        let mut names = vec![owner.username.clone(), "nobody-has-this-name".to_string()];
        let mut targets = Vec::new();
        for n in 0..5 {
            let target = app.account(&format!("target{n}")).await;
            names.push(target.username.clone());
            targets.push(target);
        }
        // A browser known for another admin, naming the owner: its token is not the owner's,
        // so it gets no place beyond the queue.
        let outsider = app.browser();
        outsider.sign_in_fully(&targets[0], None).await;
        let stop = Arc::new(AtomicBool::new(false));
        let strangers_turned_away = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for name in &names {
            for _ in 0..3 {
                let (browser, name) = (app.browser(), name.clone());
                let (stop, busy) = (stop.clone(), strangers_turned_away.clone());
                tasks.push(tokio::spawn(async move {
                    while !stop.load(Relaxed) {
                        let answer = browser
                            .call(
                                "sign_in",
                                &[("identifier", &name), ("password", "not the password")],
                            )
                            .await;
                        if answer.status.as_u16() == 503 {
                            busy.fetch_add(1, Relaxed);
                        }
                    }
                }));
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (mut turned_away, mut outsider_turned_away) = (0, 0);
        for _ in 0..10 {
            let answer = usual.sign_in(&owner).await;
            match answer.status.as_u16() {
                200 => {}
                503 => turned_away += 1,
                other => panic!("unexpected {other}: {}", answer.body),
            }
            let answer = outsider
                .call(
                    "sign_in",
                    &[("identifier", &owner.username), ("password", "a guess")],
                )
                .await;
            match answer.status.as_u16() {
                401 => {}
                503 => outsider_turned_away += 1,
                other => panic!("unexpected {other}: {}", answer.body),
            }
        }
        stop.store(true, Relaxed);
        for task in tasks {
            task.await.unwrap();
        }
        assert!(
            strangers_turned_away.load(Relaxed) > 0,
            "{backend:?}: the strangers filled the queue"
        );
        assert_eq!(
            turned_away, 0,
            "{backend:?}: the owner's usual browser was turned away {turned_away} times"
        );
        assert!(
            outsider_turned_away > 0,
            "{backend:?}: a browser known for another admin waited beyond the queue"
        );
    }
}

/// The sweep of old failure counters never waits inside an attempt's transaction. An attempt
/// counts on the address's counter, then the admin's; a sweep that took the admin's old counter
/// and then waited for the address's (held by the attempt, which waited for the admin's)
/// deadlocked, and PostgreSQL aborted one of them, often the attempt. PostgreSQL only: SQLite
/// has one writer at a time, so its sweep waits for a whole transaction, never inside one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_of_old_counters_never_waits_inside_an_attempt() {
    crate::helpers::within_limit(async {
        // Without the background tasks: their own sweep would race this one.
        let app = crate::helpers::spawn_app_quiet(Backend::Postgres).await;
        let db = &app.ctx.db;
        let now = app.clock().now();
        let policy = app.ctx.config.address_policy();
        let stored = |key: &'static str| async move {
            sqlx::query_scalar::<_, i64>("SELECT failures FROM auth_failures WHERE key = $1")
                .bind(key)
                .fetch_optional(&db.pool)
                .await
                .unwrap()
        };
        let (admin, address) = ("password:untrusted:sweep-owner", "password:ip:203.0.113.0");
        // Two counters nobody failed on for two days: the admin's stored first, so that a
        // sweep in the table's order meets it before the address's.
        for key in [admin, address] {
            sqlx::query(
                "INSERT INTO auth_failures (key, failures, last_failure_at, locked_until) \
                 VALUES ($1, 1, $2, 0)",
            )
            .bind(key)
            .bind(now - 2 * 86_400)
            .execute(&db.pool)
            .await
            .unwrap();
        }
        let counters = [(address, policy), (admin, policy)];
        let seen = auth_failures::check_all(&mut db.pool.acquire().await.unwrap(), &counters, now)
            .await
            .unwrap()
            .unwrap();
        // An attempt has counted on the address's counter, not yet on the admin's.
        let mut attempt = db.write().await.unwrap();
        let on_address = auth_failures::admit(&mut attempt, address, policy, now, seen[0])
            .await
            .unwrap()
            .unwrap();
        // The sweep ends while the attempt is open: it passes over the address's counter and
        // deletes the admin's.
        let swept = tokio::time::timeout(
            Duration::from_secs(10),
            auth_failures::delete_stale(db, now, 86_400),
        )
        .await
        .expect("the sweep waited for the attempt's transaction")
        .unwrap();
        assert_eq!(swept, 1);
        assert_eq!(
            stored(admin).await,
            None,
            "the admin's old counter is swept"
        );
        assert_eq!(
            stored(address).await,
            Some(1),
            "the address's is passed over"
        );
        // The attempt counts on the admin's counter afresh and commits.
        auth_failures::admit(&mut attempt, admin, policy, now, seen[1])
            .await
            .unwrap()
            .unwrap();
        attempt.commit().await.unwrap();
        assert_eq!(
            stored(admin).await,
            Some(1),
            "the attempt is counted on the admin"
        );
        let counted =
            auth_failures::check_all(&mut db.pool.acquire().await.unwrap(), &counters, now)
                .await
                .unwrap()
                .unwrap();
        assert_eq!(counted[0], on_address.written, "and on the address");
    })
    .await;
}

/// Every background sweep deletes what can no longer count and keeps the rest, on both
/// backends: the server only logs a sweep that fails, so nothing else would notice one.
/// (Remembered browsers: `remembered.rs`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sweep_deletes_what_is_stale_and_keeps_the_rest() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        crate::helpers::within_limit(async {
            let app = crate::helpers::spawn_app_quiet(backend).await;
            let db = &app.ctx.db;
            let now = app.clock().now();
            let keys = |table: &'static str, key: &'static str| async move {
                sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(format!(
                    "SELECT {key} FROM {table} ORDER BY {key}"
                )))
                .fetch_all(&db.pool)
                .await
                .unwrap()
            };
            let three_days_ago = now - 3 * 86_400;
            for (key, at) in [("old", three_days_ago), ("new", now)] {
                sqlx::query(
                    "INSERT INTO auth_failures (key, failures, last_failure_at, locked_until) \
                     VALUES ($1, 1, $2, 0)",
                )
                .bind(key)
                .bind(at)
                .execute(&db.pool)
                .await
                .unwrap();
                sqlx::query("INSERT INTO rate_limits (key, window_start, hits) VALUES ($1, $2, 1)")
                    .bind(key)
                    .bind(at)
                    .execute(&db.pool)
                    .await
                    .unwrap();
                // The old one expired two days ago, the new one expires tomorrow.
                sqlx::query(
                    "INSERT INTO sessions (id_hash, data, expires_at, created_at, last_seen_at) \
                     VALUES ($1, '{}', $2, $3, $3)",
                )
                .bind(key)
                .bind(at + 86_400)
                .bind(at)
                .execute(&db.pool)
                .await
                .unwrap();
            }
            // A counter locked until tomorrow is kept however old its last failure.
            sqlx::query(
                "INSERT INTO auth_failures (key, failures, last_failure_at, locked_until) \
                 VALUES ('locked', 5, $1, $2)",
            )
            .bind(three_days_ago)
            .bind(now + 86_400)
            .execute(&db.pool)
            .await
            .unwrap();

            let swept = auth_failures::delete_stale(db, now, 86_400).await.unwrap();
            assert_eq!(swept, 1, "{backend:?}");
            assert_eq!(keys("auth_failures", "key").await, ["locked", "new"]);
            let swept = rate_limits::delete_stale(db, now, 2 * 86_400)
                .await
                .unwrap();
            assert_eq!(swept, 1, "{backend:?}");
            assert_eq!(keys("rate_limits", "key").await, ["new"]);
            let store = SqlSessionStore::new(db.clone(), app.clock().clone());
            assert_eq!(store.delete_expired().await.unwrap(), 1, "{backend:?}");
            assert_eq!(keys("sessions", "id_hash").await, ["new"]);
        })
        .await;
    }
}
