//! After a reset, the password alone is not enough: the next sign-in asks for the one-time
//! setup code the super admin (or the operator) handed over another way. An approval is of use
//! only to the person the super admin spoke to, not to whoever else knows the password.

use crate::helpers::{Authenticator, Browser, Creds, TestApp};
use crate::on_both_backends;
use mssp_dashboard::server::db::admins::{self, SetupPrompt};
use mssp_dashboard::server::setup_codes;

on_both_backends!(
    a_password_alone_does_not_reach_the_setup_after_a_reset,
    wrong_setup_codes_are_counted_and_lock,
    an_interrupted_setup_asks_for_the_same_code_again,
    an_expired_code_is_replaced_by_a_new_one,
    only_a_super_admin_of_the_account_gives_a_new_code,
    an_offered_setup_skipped_with_the_code_clears_it,
    a_sign_in_that_raced_the_reset_is_sent_to_the_setup_code,
    a_skip_does_not_wipe_a_code_given_meanwhile,
);

/// A signed-in super admin, and an admin with 2FA whose reset request was approved (with the
/// setup required or only offered). Answers the approval's setup code too.
async fn reset_admin(app: &TestApp, require_setup: bool) -> (Creds, Browser, Creds, String) {
    let owner = app.account("codes").await;
    let super_admin = app.browser();
    super_admin.sign_in_fully(&owner, None).await;
    let mut admin = super_admin
        .add_admin(owner.account_id, "lost", "admin")
        .await;
    let browser = app.browser();
    browser.sign_in_first_time(&mut admin).await;
    browser.enable_two_factor().await;
    let waiting = app.browser();
    assert_eq!(waiting.sign_in(&admin).await.assert_ok(), "/login/code");
    waiting.call("request_2fa_reset", &[]).await.assert_ok();
    let detail = super_admin
        .call("get_admin", &[("id", &admin.admin_id.to_string())])
        .await;
    let request_id = detail.assert_ok()["row"]["reset_request"]["request_id"].to_string();
    let approved = super_admin
        .call(
            "approve_2fa_reset",
            &[
                ("request_id", &request_id),
                (
                    "require_setup",
                    if require_setup { "true" } else { "false" },
                ),
            ],
        )
        .await;
    let shown = &approved.assert_ok()["setup_code"];
    assert_eq!(shown["admin_name"], format!("Admin {}", admin.username));
    assert_eq!(shown["valid_days"], 7);
    let code = shown["code"].as_str().unwrap().to_string();
    (owner, super_admin, admin, code)
}

fn setup_code_state(detail: &serde_json::Value) -> String {
    match &detail["setup_code_due"] {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Object(o) => o.keys().next().unwrap().clone(),
        other => other.to_string(),
    }
}

async fn a_password_alone_does_not_reach_the_setup_after_a_reset(app: TestApp) {
    let (_owner, super_admin, admin, code) = reset_admin(&app, true).await;
    assert_eq!(code.len(), 14, "{code}");
    // The Edit page says the next sign-in asks for it.
    let detail = super_admin
        .call("get_admin", &[("id", &admin.admin_id.to_string())])
        .await;
    assert_eq!(setup_code_state(detail.assert_ok()), "Valid");

    // Whoever else knows the password: the setup code step, and nothing else.
    let thief = app.browser();
    assert_eq!(thief.sign_in(&admin).await.assert_ok(), "/login/setup-code");
    thief
        .call("start_totp_setup", &[("current_password", &admin.password)])
        .await
        .assert_error(401, "SetupCodeRequired");
    thief
        .call("skip_2fa_setup", &[])
        .await
        .assert_error(401, "SetupCodeRequired");
    thief
        .call("get_profile", &[])
        .await
        .assert_error(401, "SetupCodeRequired");
    for path in ["/", "/profile", "/login/setup-2fa", "/login/code"] {
        assert_eq!(
            thief.page(path).await.1.as_deref(),
            Some("/login/setup-code"),
            "{path}"
        );
    }
    // Not a TOTP code, not a recovery code: the shape is explained; a wrong one is refused.
    for shape in ["123456", "ABCDE-23456", ""] {
        let refused = thief
            .call("verify_setup_code", &[("setup_code", shape)])
            .await;
        refused.assert_error(422, "Invalid");
        assert_eq!(refused.body["Invalid"]["field"], "setup_code");
    }
    thief
        .call("verify_setup_code", &[("setup_code", "2345-6789-ABCD")])
        .await
        .assert_error(422, "Invalid");

    // The admin, with the code typed loosely: the setup, required, and then signed in.
    let admin_browser = app.browser();
    assert_eq!(
        admin_browser.sign_in(&admin).await.assert_ok(),
        "/login/setup-code"
    );
    let typed = code.to_lowercase().replace('-', " ");
    assert_eq!(
        admin_browser
            .call("verify_setup_code", &[("setup_code", &typed)])
            .await
            .assert_ok(),
        "/login/setup-2fa"
    );
    let setup = admin_browser.start_setup().await;
    assert_eq!(setup.assert_ok()["skippable"], false);
    let mut fresh = Authenticator::from_page(setup.body["secret_grouped"].as_str().unwrap());
    let totp = fresh.next_code().await;
    admin_browser
        .call("confirm_totp_setup", &[("code", &totp)])
        .await
        .assert_ok();
    // The code did its work: it is gone, the next sign-in asks for the authenticator.
    let detail = super_admin
        .call("get_admin", &[("id", &admin.admin_id.to_string())])
        .await;
    assert_eq!(
        detail.assert_ok()["setup_code_due"],
        serde_json::Value::Null
    );
    let later = app.browser();
    assert_eq!(later.sign_in(&admin).await.assert_ok(), "/login/code");
    later
        .call("verify_setup_code", &[("setup_code", &code)])
        .await
        .assert_error(409, "Conflict");
    // The audit log shows the code was used.
    let used: i64 = sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM audit_log WHERE target_id = $1 AND event = 'setup_code_used'",
    )
    .bind(admin.admin_id)
    .fetch_one(&app.ctx.db.pool)
    .await
    .unwrap();
    assert_eq!(used, 1);
}

async fn wrong_setup_codes_are_counted_and_lock(app: TestApp) {
    let (_owner, _super_admin, admin, code) = reset_admin(&app, true).await;
    let limit = app.ctx.config.code_policy().max_failures;
    let thief = app.browser();
    assert_eq!(thief.sign_in(&admin).await.assert_ok(), "/login/setup-code");
    for i in 0..limit {
        thief
            .call(
                "verify_setup_code",
                &[("setup_code", &format!("2345-6789-ABC{}", 2 + i % 8))],
            )
            .await
            .assert_error(422, "Invalid");
    }
    // Locked: even the right code waits (a 60-bit code is not guessed five at a time).
    thief
        .call("verify_setup_code", &[("setup_code", &code)])
        .await
        .assert_error(429, "TooManyRequests");
    app.clock()
        .advance(app.ctx.config.code_policy().base_lock_seconds + 1);
    let admin_browser = app.browser();
    assert_eq!(
        admin_browser.sign_in(&admin).await.assert_ok(),
        "/login/setup-code"
    );
    assert_eq!(
        admin_browser
            .call("verify_setup_code", &[("setup_code", &code)])
            .await
            .assert_ok(),
        "/login/setup-2fa"
    );
}

async fn an_interrupted_setup_asks_for_the_same_code_again(app: TestApp) {
    let (_owner, _super_admin, admin, code) = reset_admin(&app, true).await;
    let first = app.browser();
    first.sign_in(&admin).await.assert_ok();
    first
        .call("verify_setup_code", &[("setup_code", &code)])
        .await
        .assert_ok();
    first.start_setup().await.assert_ok();
    // The tab is closed before the setup is confirmed: the next sign-in asks for the code
    // again, and the same code still works.
    let second = app.browser();
    assert_eq!(
        second.sign_in(&admin).await.assert_ok(),
        "/login/setup-code"
    );
    assert_eq!(
        second
            .call("verify_setup_code", &[("setup_code", &code)])
            .await
            .assert_ok(),
        "/login/setup-2fa"
    );
}

async fn an_expired_code_is_replaced_by_a_new_one(app: TestApp) {
    let (owner, _, admin, code) = reset_admin(&app, true).await;
    app.clock()
        .advance(mssp_dashboard::domain::setup_code::VALID_DAYS * 86_400);
    // (a week later the super admin signs in again)
    let super_admin = app.browser();
    super_admin.sign_in_fully(&owner, None).await;
    let detail = super_admin
        .call("get_admin", &[("id", &admin.admin_id.to_string())])
        .await;
    assert_eq!(setup_code_state(detail.assert_ok()), "Expired");
    let browser = app.browser();
    assert_eq!(
        browser.sign_in(&admin).await.assert_ok(),
        "/login/setup-code"
    );
    let expired = browser
        .call("verify_setup_code", &[("setup_code", &code)])
        .await;
    expired.assert_error(409, "Conflict");
    assert!(
        expired.body["Conflict"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{}",
        expired.body
    );
    // The super admin gives a new one; the old one stops working.
    let issued = super_admin
        .call(
            "new_setup_code",
            &[("admin_id", &admin.admin_id.to_string())],
        )
        .await;
    let new_code = issued.assert_ok()["setup_code"]["code"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_code, code);
    let browser = app.browser();
    browser.sign_in(&admin).await.assert_ok();
    browser
        .call("verify_setup_code", &[("setup_code", &code)])
        .await
        .assert_error(422, "Invalid");
    assert_eq!(
        browser
            .call("verify_setup_code", &[("setup_code", &new_code)])
            .await
            .assert_ok(),
        "/login/setup-2fa"
    );
}

async fn only_a_super_admin_of_the_account_gives_a_new_code(app: TestApp) {
    let (owner, super_admin, admin, _code) = reset_admin(&app, true).await;
    let id = admin.admin_id.to_string();
    // Another account's super admin: not found, as if the admin did not exist.
    let theirs = app.account("elsewhere").await;
    let stranger = app.browser();
    stranger.sign_in_fully(&theirs, None).await;
    stranger
        .call("new_setup_code", &[("admin_id", &id)])
        .await
        .assert_error(404, "NotFound");
    // An admin of the account who is no super admin.
    let mut plain = super_admin
        .add_admin(owner.account_id, "plain", "admin")
        .await;
    let plain_browser = app.browser();
    plain_browser.sign_in_first_time(&mut plain).await;
    plain_browser
        .call("new_setup_code", &[("admin_id", &id)])
        .await
        .assert_error(403, "Forbidden");
    // Not for oneself; not for an admin who was not reset (or has 2FA).
    super_admin
        .call(
            "new_setup_code",
            &[("admin_id", &owner.admin_id.to_string())],
        )
        .await
        .assert_error(403, "Forbidden");
    super_admin
        .call(
            "new_setup_code",
            &[("admin_id", &plain.admin_id.to_string())],
        )
        .await
        .assert_error(409, "Conflict");
    for bad in ["", "x", "-1"] {
        let answer = super_admin
            .call("new_setup_code", &[("admin_id", bad)])
            .await;
        assert!(
            [400, 404, 422].contains(&answer.status.as_u16()),
            "{bad:?}: {}",
            answer.status
        );
    }
    // None of the refusals wrote anything.
    let issued: i64 = sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM audit_log WHERE event = '2fa_setup_code_issued'",
    )
    .fetch_one(&app.ctx.db.pool)
    .await
    .unwrap();
    assert_eq!(issued, 0);
}

async fn an_offered_setup_skipped_with_the_code_clears_it(app: TestApp) {
    let (_owner, super_admin, admin, code) = reset_admin(&app, false).await;
    let browser = app.browser();
    assert_eq!(
        browser.sign_in(&admin).await.assert_ok(),
        "/login/setup-code"
    );
    browser
        .call("verify_setup_code", &[("setup_code", &code)])
        .await
        .assert_ok();
    assert_eq!(browser.start_setup().await.assert_ok()["skippable"], true);
    browser.call("skip_2fa_setup", &[]).await.assert_ok();
    // The super admin chose "offered": from now on the password alone reaches the offer...
    let again = app.browser();
    assert_eq!(again.sign_in(&admin).await.assert_ok(), "/login/setup-2fa");
    let detail = super_admin
        .call("get_admin", &[("id", &admin.admin_id.to_string())])
        .await;
    assert_eq!(setup_code_state(detail.assert_ok()), "None");
    // ...unless they give a new setup code, which also signs out whoever is signed in as them.
    again.call("skip_2fa_setup", &[]).await.assert_ok();
    again.call("get_profile", &[]).await.assert_ok();
    let issued = super_admin
        .call(
            "new_setup_code",
            &[("admin_id", &admin.admin_id.to_string())],
        )
        .await;
    assert!(
        issued.assert_ok()["message"]
            .as_str()
            .unwrap()
            .contains("their 2 sessions were signed out"),
        "{}",
        issued.body
    );
    for ended in [&browser, &again] {
        ended
            .call("get_profile", &[])
            .await
            .assert_error(401, "Unauthenticated");
    }
    let third = app.browser();
    assert_eq!(third.sign_in(&admin).await.assert_ok(), "/login/setup-code");
}

/// A password checked just before a reset committed: the session it creates may carry the old
/// facts (no code due). Simulated by giving a code to an admin who is signed in, without ending
/// their session: at its next request the session is sent to the setup code step.
async fn a_sign_in_that_raced_the_reset_is_sent_to_the_setup_code(app: TestApp) {
    let owner = app.account("race").await;
    let super_admin = app.browser();
    super_admin.sign_in_fully(&owner, None).await;
    let mut admin = super_admin
        .add_admin(owner.account_id, "racer", "admin")
        .await;
    let raced = app.browser();
    assert_eq!(raced.sign_in_first_time(&mut admin).await, "/");
    raced.call("get_profile", &[]).await.assert_ok();
    let now = app.clock().now();
    let mut tx = app.ctx.db.pool.begin().await.unwrap();
    admins::set_setup_prompt_in(&mut tx, admin.admin_id, SetupPrompt::Required, now)
        .await
        .unwrap();
    let code = setup_codes::issue_in(&app.ctx, &mut tx, admin.admin_id, now)
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    // A page first: to the setup code step. Then not the profile's setup (with the password it
    // knows), not anything else.
    assert_eq!(
        raced.page("/profile").await.1.as_deref(),
        Some("/login/setup-code")
    );
    raced
        .call("get_profile", &[])
        .await
        .assert_error(401, "SetupCodeRequired");
    raced
        .call("start_totp_setup", &[("current_password", &admin.password)])
        .await
        .assert_error(401, "SetupCodeRequired");
    // With the code, the session goes on to the setup.
    assert_eq!(
        raced
            .call("verify_setup_code", &[("setup_code", &code)])
            .await
            .assert_ok(),
        "/login/setup-2fa"
    );
    raced.start_setup().await.assert_ok();
}

/// A skip decided on a row read before a new code was written writes nothing (the race is
/// forced at the database layer: a request reads the row fresh).
async fn a_skip_does_not_wipe_a_code_given_meanwhile(app: TestApp) {
    let (_owner, _super_admin, admin, _code) = reset_admin(&app, false).await;
    let before = admins::find(&app.ctx.db, admin.admin_id)
        .await
        .unwrap()
        .unwrap()
        .setup_code
        .expect("a code is due");
    sqlx::query("UPDATE admins SET setup_code = $1 WHERE id = $2")
        .bind("k00000000:given-meanwhile")
        .bind(admin.admin_id)
        .execute(&app.ctx.db.pool)
        .await
        .unwrap();
    let now = app.clock().now();
    assert!(
        !admins::record_setup_skipped(
            &mut app.ctx.db.pool.acquire().await.unwrap(),
            admin.admin_id,
            Some(&before.0),
            now
        )
        .await
        .unwrap()
    );
    let after = admins::find(&app.ctx.db, admin.admin_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        after.setup_code.map(|(mac, _)| mac).as_deref(),
        Some("k00000000:given-meanwhile"),
        "the code given meanwhile was wiped"
    );
    assert_eq!(after.setup_skipped_at, None);
}
