//! Time limits proven over HTTP: the server's clock is moved forward (no sleeping), and the
//! same requests that passed just before a limit are refused just after it.

use crate::helpers::{Authenticator, TestApp};
use crate::on_both_backends;
use mssp_dashboard::domain::totp;

on_both_backends!(
    a_pending_sign_in_expires_after_five_minutes,
    a_password_lock_ends_after_its_period,
    a_code_lock_ends_after_its_period,
    sessions_expire_when_idle,
    sessions_have_an_absolute_lifetime,
);

/// The code an authenticator shows when the server's clock reads `now`.
fn code_at_server_time(app: &TestApp, authenticator: &Authenticator) -> String {
    let now = u64::try_from(app.clock().now()).unwrap();
    totp::code_at(&authenticator.secret, now).unwrap()
}

async fn a_pending_sign_in_expires_after_five_minutes(app: TestApp) {
    let creds = app.account("pending").await;
    let setup = app.browser();
    setup.sign_in_fully(&creds, None).await;
    setup.enable_two_factor().await;

    let browser = app.browser();
    assert_eq!(browser.sign_in(&creds).await.assert_ok(), "/login/code");
    app.clock().advance(4 * 60 + 50);
    // Still waiting for its code.
    browser
        .call("get_reset_request_state", &[])
        .await
        .assert_ok();
    app.clock().advance(11);
    let answer = browser
        .call("verify_sign_in_code", &[("code", "123456")])
        .await;
    answer.assert_error(409, "Conflict");
    assert!(
        answer.body.to_string().contains("expired"),
        "{}",
        answer.body
    );
    // The page guard agrees: the code step sends back to the password.
    assert_eq!(
        browser.page("/login/code").await.1.as_deref(),
        Some("/login")
    );
}

async fn a_password_lock_ends_after_its_period(app: TestApp) {
    let creds = app.account("locked").await;
    let browser = app.browser();
    let policy = app.ctx.config.password_policy();
    for _ in 0..policy.max_failures {
        browser
            .call(
                "sign_in",
                &[("identifier", &creds.email), ("password", "wrong guess")],
            )
            .await
            .assert_error(401, "BadCredentials");
    }
    browser
        .sign_in(&creds)
        .await
        .assert_error(429, "TooManyRequests");
    app.clock().advance(policy.base_lock_seconds - 2);
    browser
        .sign_in(&creds)
        .await
        .assert_error(429, "TooManyRequests");
    app.clock().advance(3);
    assert_eq!(browser.sign_in(&creds).await.assert_ok(), "/");
}

async fn a_code_lock_ends_after_its_period(app: TestApp) {
    let creds = app.account("codelock").await;
    let setup = app.browser();
    setup.sign_in_fully(&creds, None).await;
    let authenticator = setup.enable_two_factor().await;

    let browser = app.browser();
    assert_eq!(browser.sign_in(&creds).await.assert_ok(), "/login/code");
    let policy = app.ctx.config.code_policy();
    let wrong = authenticator.wrong_code();
    for _ in 0..policy.max_failures {
        browser
            .call("verify_sign_in_code", &[("code", &wrong)])
            .await
            .assert_error(422, "Invalid");
    }
    // Locked: even the right code is not checked.
    let right = code_at_server_time(&app, &authenticator);
    browser
        .call("verify_sign_in_code", &[("code", &right)])
        .await
        .assert_error(429, "TooManyRequests");
    app.clock().advance(policy.base_lock_seconds + 1);
    let right = code_at_server_time(&app, &authenticator);
    assert_eq!(
        browser
            .call("verify_sign_in_code", &[("code", &right)])
            .await
            .assert_ok(),
        "/"
    );
}

async fn sessions_expire_when_idle(app: TestApp) {
    let creds = app.account("idle").await;
    let browser = app.browser();
    browser.sign_in_fully(&creds, None).await;
    let idle = i64::from(app.ctx.config.session_idle_minutes) * 60;
    // Activity keeps the session alive...
    for _ in 0..3 {
        app.clock().advance(idle - 60);
        browser.call("get_profile", &[]).await.assert_ok();
    }
    // ...and a pause longer than the idle timeout ends it.
    app.clock().advance(idle + 1);
    browser
        .call("get_profile", &[])
        .await
        .assert_error(401, "Unauthenticated");
    assert_eq!(browser.page("/profile").await.1.as_deref(), Some("/login"));
}

async fn sessions_have_an_absolute_lifetime(app: TestApp) {
    let creds = app.account("absolute").await;
    let browser = app.browser();
    browser.sign_in_fully(&creds, None).await;
    let lifetime = i64::from(app.ctx.config.session_max_hours) * 3600;
    let step = i64::from(app.ctx.config.session_idle_minutes) * 60 / 2;
    let mut elapsed = 0;
    // However active, until the lifetime...
    while elapsed + step < lifetime {
        app.clock().advance(step);
        elapsed += step;
        browser.call("get_profile", &[]).await.assert_ok();
    }
    // ...and not a moment after.
    app.clock().advance(lifetime - elapsed);
    browser
        .call("get_profile", &[])
        .await
        .assert_error(401, "Unauthenticated");
}
