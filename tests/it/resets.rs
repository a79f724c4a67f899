//! "Request 2FA Reset": the request, the live notification, email, approve and deny, the rules
//! and the isolation between accounts.

use crate::helpers::{Authenticator, Browser, Creds, TestApp};
use crate::on_both_backends;
use mssp_dashboard::server::db::totp as credentials;
use serde_json::{Value, json};
use sqlx::Row;
use std::time::Duration;

on_both_backends!(
    request_notify_live_and_approve,
    deny_keeps_two_factor_and_is_told_once,
    only_another_super_admin_of_the_account_decides_once,
    other_accounts_see_nothing_and_touch_nothing,
    the_live_connection_is_only_for_who_may_listen,
    requests_need_a_password_and_two_factor_and_are_rate_limited,
    signing_in_with_a_code_withdraws_the_request,
    the_operator_reset_is_the_same_reset,
);

const WAIT: Duration = Duration::from_secs(5);

/// An account with a super admin (signed in) and an admin with 2FA on (signed out).
async fn setup(app: &TestApp) -> (Creds, Browser, Creds, Authenticator) {
    let owner = app.account("resetowner").await;
    let super_admin = app.browser();
    super_admin.sign_in_fully(&owner, None).await;
    let mut admin = super_admin
        .add_admin(owner.account_id, "lostphone", "admin")
        .await;
    let browser = app.browser();
    browser.sign_in_first_time(&mut admin).await;
    let authenticator = browser.enable_two_factor().await;
    browser.call("sign_out", &[]).await.assert_ok();
    (owner, super_admin, admin, authenticator)
}

fn list_args() -> [(&'static str, &'static str); 4] {
    [("q", ""), ("sort", "name"), ("dir", "asc"), ("page", "1")]
}

async fn row_of(browser: &Browser, admin_id: i64) -> Value {
    let table = browser.call("list_admins", &list_args()).await;
    table.assert_ok()["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == admin_id)
        .cloned()
        .unwrap()
}

/// The 2FA reset events of the audit log about `target`, in order.
async fn audit_events(app: &TestApp, target: i64) -> Vec<String> {
    sqlx::query(
        "SELECT event FROM audit_log WHERE target_id = $1 AND event LIKE '2fa_reset%' ORDER BY id",
    )
    .bind(target)
    .fetch_all(&app.ctx.db.pool)
    .await
    .unwrap()
    .iter()
    .map(|r| r.get::<String, _>("event"))
    .collect()
}

async fn request_notify_live_and_approve(app: TestApp) {
    let smtp = crate::smtp::start().await;
    // This case needs SMTP: a second app on the same database, configured with the listener.
    let app = with_smtp(app, &smtp.url).await;
    let (owner, super_admin, admin, _lost) = setup(&app).await;
    let (status, live) = super_admin.live().await;
    assert_eq!(status, 200);
    let mut live = live.unwrap();

    // The admin, past the password, asks for a reset.
    let waiting = app.browser();
    assert_eq!(waiting.sign_in(&admin).await.assert_ok(), "/login/code");
    let (status, own) = waiting.live().await;
    assert_eq!(
        status, 200,
        "a sign-in waiting for its code may hear its own outcome"
    );
    let mut own = own.unwrap();
    let answer = waiting.call("request_2fa_reset", &[]).await;
    assert!(answer.assert_ok()["Pending"]["requested_at"].is_i64());
    // Asking again answers the same request and notifies nobody again.
    waiting.call("request_2fa_reset", &[]).await.assert_ok();

    let event = live
        .next_within(WAIT)
        .await
        .expect("the super admin hears of it at once");
    assert_eq!(event["type"], "reset_requested");
    assert_eq!(event["admin_id"], admin.admin_id);
    assert_eq!(event["admin_name"], format!("Admin {}", admin.username));
    assert!(
        live.next_within(Duration::from_millis(500)).await.is_none(),
        "only one notification"
    );
    let bell = super_admin.call("list_notifications", &[]).await;
    assert_eq!(bell.assert_ok()["unread"], 1);
    assert!(
        bell.body["items"][0]["message"]
            .as_str()
            .unwrap()
            .contains("requested a 2FA reset")
    );
    let row = row_of(&super_admin, admin.admin_id).await;
    let request_id = row["reset_request"]["request_id"]
        .as_i64()
        .expect("the badge's request");
    // The email reached the loopback SMTP listener.
    let is_reset_mail = |m: &crate::smtp::Received| m.data.contains("2FA reset requested by");
    let mut mail = None;
    for _ in 0..50 {
        mail = smtp
            .inbox
            .lock()
            .unwrap()
            .iter()
            .find(|m| is_reset_mail(m))
            .cloned();
        if mail.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mail = mail.expect("an email to the super admin");
    assert_eq!(mail.rcpt_to, vec![owner.email.clone()]);
    assert!(
        mail.data.contains("2FA reset requested by"),
        "{}",
        mail.data
    );
    assert_eq!(
        smtp.inbox
            .lock()
            .unwrap()
            .iter()
            .filter(|m| is_reset_mail(m))
            .count(),
        1
    );
    // The admin heard by email when their 2FA was turned on.
    assert!(
        smtp.inbox
            .lock()
            .unwrap()
            .iter()
            .any(|m| m.rcpt_to == vec![admin.email.clone()]
                && m.data.contains("Two-factor authentication turned on"))
    );

    // Approve: the credential and the admin's sessions are gone, live, in every tab.
    let approved = super_admin
        .call(
            "approve_2fa_reset",
            &[("request_id", &request_id.to_string())],
        )
        .await;
    let setup_code = approved.assert_ok()["setup_code"]["code"]
        .as_str()
        .expect("an approval shows the setup code")
        .to_string();
    let resolved = live.next_within(WAIT).await.unwrap();
    assert_eq!(resolved["type"], "reset_resolved");
    assert_eq!(resolved["status"], "approved");
    let told = own
        .next_within(WAIT)
        .await
        .expect("the waiting page hears the outcome");
    assert_eq!(told["status"], "approved");
    assert!(
        !credentials::exists(&app.ctx.db, admin.admin_id)
            .await
            .unwrap()
    );
    assert_eq!(
        row_of(&super_admin, admin.admin_id).await["reset_request"],
        Value::Null
    );
    waiting
        .call("get_reset_request_state", &[])
        .await
        .assert_error(409, "Conflict");
    // Twice: one outcome, a clear message.
    let again = super_admin
        .call(
            "approve_2fa_reset",
            &[("request_id", &request_id.to_string())],
        )
        .await;
    again.assert_error(409, "Conflict");
    assert!(
        again.body["Conflict"]
            .as_str()
            .unwrap()
            .contains("already approved")
    );
    // Next sign-in: the setup code, then the setup, required (the default of an approval).
    let next = app.browser();
    assert_eq!(next.sign_in(&admin).await.assert_ok(), "/login/setup-code");
    assert_eq!(
        next.call("verify_setup_code", &[("setup_code", &setup_code)])
            .await
            .assert_ok(),
        "/login/setup-2fa"
    );
    let setup = next.start_setup().await;
    assert_eq!(setup.assert_ok()["skippable"], false);
    next.call("skip_2fa_setup", &[])
        .await
        .assert_error(403, "Forbidden");
    let mut fresh = Authenticator::from_page(setup.body["secret_grouped"].as_str().unwrap());
    let code = fresh.next_code().await;
    assert_eq!(
        next.call("confirm_totp_setup", &[("code", &code)])
            .await
            .assert_ok()["next"],
        "/"
    );
    // The history and the audit log.
    let history = super_admin
        .call(
            "list_reset_requests",
            &[("admin_id", &admin.admin_id.to_string())],
        )
        .await;
    assert_eq!(history.assert_ok()[0]["status"], "approved");
    assert_eq!(
        history.body[0]["decided_by"],
        format!("Admin {}", owner.username)
    );
    assert_eq!(
        audit_events(&app, admin.admin_id).await,
        ["2fa_reset_requested", "2fa_reset_approved"]
    );
    assert_eq!(
        audit_events(&app, owner.admin_id).await,
        ["2fa_reset_notified"]
    );
    // The admin was told by email that a setup code comes another way; no email carries it.
    let mut told_by_mail = false;
    for _ in 0..50 {
        told_by_mail = smtp.inbox.lock().unwrap().iter().any(|m| {
            m.rcpt_to == vec![admin.email.clone()] && m.data.contains("asks for a setup code")
        });
        if told_by_mail {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(told_by_mail, "the admin's reset email");
    assert!(
        smtp.inbox
            .lock()
            .unwrap()
            .iter()
            .all(|m| !m.data.contains(&setup_code)),
        "a setup code in an email"
    );
}

async fn with_smtp(app: TestApp, url: &str) -> TestApp {
    let mut config = (*app.ctx.config).clone();
    config.smtp_url = Some(url.to_string());
    config.smtp_from = "MSSP Dashboard <dashboard@example.com>".into();
    crate::helpers::respawn(app, config).await
}

async fn deny_keeps_two_factor_and_is_told_once(app: TestApp) {
    let (_owner, super_admin, admin, mut authenticator) = setup(&app).await;
    let waiting = app.browser();
    waiting.sign_in(&admin).await.assert_ok();
    waiting.call("request_2fa_reset", &[]).await.assert_ok();
    let request_id =
        row_of(&super_admin, admin.admin_id).await["reset_request"]["request_id"].clone();
    super_admin
        .call("deny_2fa_reset", &[("request_id", &request_id.to_string())])
        .await
        .assert_ok();
    assert!(
        credentials::exists(&app.ctx.db, admin.admin_id)
            .await
            .unwrap()
    );
    let approve = super_admin
        .call(
            "approve_2fa_reset",
            &[("request_id", &request_id.to_string())],
        )
        .await;
    approve.assert_error(409, "Conflict");
    assert!(
        approve.body["Conflict"]
            .as_str()
            .unwrap()
            .contains("already denied")
    );
    // Told at the next attempt, once.
    let next = app.browser();
    next.sign_in(&admin).await.assert_ok();
    assert!(
        next.call("get_reset_request_state", &[]).await.assert_ok()["Denied"]["decided_at"]
            .is_i64()
    );
    assert_eq!(
        next.call("get_reset_request_state", &[]).await.assert_ok(),
        "None"
    );
    // The authenticator still works.
    let code = authenticator.next_code().await;
    next.call("verify_sign_in_code", &[("code", &code)])
        .await
        .assert_ok();
    assert_eq!(
        audit_events(&app, admin.admin_id).await,
        ["2fa_reset_requested", "2fa_reset_denied"]
    );
}

async fn only_another_super_admin_of_the_account_decides_once(app: TestApp) {
    let (owner, first, admin, _) = setup(&app).await;
    // A second super admin (promotion is an operator's job, not the app's).
    let mut second_creds = first
        .add_admin(owner.account_id, "secondsuper", "admin")
        .await;
    sqlx::query("UPDATE admins SET role = 'super_admin' WHERE id = $1")
        .bind(second_creds.admin_id)
        .execute(&app.ctx.db.pool)
        .await
        .unwrap();
    let second = app.browser();
    second.sign_in_first_time(&mut second_creds).await;
    // The plain admin cannot decide anything.
    let waiting = app.browser();
    waiting.sign_in(&admin).await.assert_ok();
    waiting.call("request_2fa_reset", &[]).await.assert_ok();
    let request_id =
        row_of(&first, admin.admin_id).await["reset_request"]["request_id"].to_string();
    // Two super admins at once: one outcome.
    let args = [("request_id", request_id.as_str())];
    let (a, b) = tokio::join!(
        first.call("approve_2fa_reset", &args),
        second.call("deny_2fa_reset", &args)
    );
    let mut outcomes = [a.status.as_u16(), b.status.as_u16()];
    outcomes.sort();
    assert_eq!(outcomes, [200, 409], "{} {}", a.body, b.body);
    let loser = if a.status == 409 { &a } else { &b };
    assert!(
        loser.body["Conflict"].as_str().unwrap().contains("already"),
        "{}",
        loser.body
    );
    // A super admin's own request: the other super admin decides, not them.
    let mut lost = first.enable_two_factor().await;
    let own = app.browser();
    assert_eq!(own.sign_in(&owner).await.assert_ok(), "/login/code");
    own.call("request_2fa_reset", &[]).await.assert_ok();
    let own_request =
        row_of(&second, owner.admin_id).await["reset_request"]["request_id"].to_string();
    let refused = first
        .call("approve_2fa_reset", &[("request_id", &own_request)])
        .await;
    refused.assert_error(403, "Forbidden");
    assert!(
        refused.body["Forbidden"]
            .as_str()
            .unwrap()
            .contains("reset-2fa")
    );
    assert!(
        credentials::exists(&app.ctx.db, owner.admin_id)
            .await
            .unwrap()
    );
    second
        .call("approve_2fa_reset", &[("request_id", &own_request)])
        .await
        .assert_ok();
    assert!(
        !credentials::exists(&app.ctx.db, owner.admin_id)
            .await
            .unwrap()
    );
    // Approving also ended the first super admin's sessions.
    first
        .call("get_profile", &[])
        .await
        .assert_error(401, "Unauthenticated");
    let _ = lost.next_code().await;
}

async fn other_accounts_see_nothing_and_touch_nothing(app: TestApp) {
    let (_owner, super_admin, admin, _) = setup(&app).await;
    let stranger_creds = app.account("stranger").await;
    let stranger = app.browser();
    stranger.sign_in_fully(&stranger_creds, None).await;
    let (_, stranger_live) = stranger.live().await;
    let mut stranger_live = stranger_live.unwrap();
    let waiting = app.browser();
    waiting.sign_in(&admin).await.assert_ok();
    waiting.call("request_2fa_reset", &[]).await.assert_ok();
    let request_id =
        row_of(&super_admin, admin.admin_id).await["reset_request"]["request_id"].to_string();
    // Forged and foreign ids answer alike: not found, nothing changed.
    for name in ["approve_2fa_reset", "deny_2fa_reset"] {
        let foreign = stranger.call(name, &[("request_id", &request_id)]).await;
        let forged = stranger.call(name, &[("request_id", "987654321")]).await;
        foreign.assert_error(404, "NotFound");
        assert_eq!(foreign.body, forged.body);
    }
    stranger
        .call(
            "list_reset_requests",
            &[("admin_id", &admin.admin_id.to_string())],
        )
        .await
        .assert_error(404, "NotFound");
    stranger
        .call("approve_2fa_reset", &[("request_id", "not a number")])
        .await
        .assert_error(400, "BadRequest");
    assert!(
        credentials::exists(&app.ctx.db, admin.admin_id)
            .await
            .unwrap()
    );
    assert!(row_of(&super_admin, admin.admin_id).await["reset_request"].is_object());
    assert_eq!(
        stranger.call("list_notifications", &[]).await.assert_ok()["unread"],
        0
    );
    assert!(
        stranger_live
            .next_within(Duration::from_secs(1))
            .await
            .is_none(),
        "another account's event leaked"
    );
}

async fn the_live_connection_is_only_for_who_may_listen(app: TestApp) {
    let (owner, super_admin, admin, _) = setup(&app).await;
    // Signed out.
    assert_eq!(app.browser().live().await.0, 401);
    // A plain admin, fully signed in.
    let mut plain = super_admin
        .add_admin(owner.account_id, "plainlive", "admin")
        .await;
    let plain_browser = app.browser();
    plain_browser.sign_in_first_time(&mut plain).await;
    assert_eq!(plain_browser.live().await.0, 401);
    // A super admin waiting for the password change or the setup is not signed in yet.
    // (The super admin sets 2FA up first: forcing it reaches their own session too.)
    super_admin.enable_two_factor().await;
    super_admin
        .call("save_account_settings", &[("force_2fa", "true")])
        .await
        .assert_ok();
    let mut other = super_admin
        .add_admin(owner.account_id, "forcedlive", "admin")
        .await;
    let forced = app.browser();
    assert_eq!(
        forced.sign_in_first_time(&mut other).await,
        "/login/setup-2fa"
    );
    assert_eq!(forced.live().await.0, 401);
    super_admin
        .call("save_account_settings", &[("force_2fa", "false")])
        .await
        .assert_ok();
    // A waiting sign-in hears only its own outcome, not the account's events.
    let mut third = super_admin
        .add_admin(owner.account_id, "otherlive", "admin")
        .await;
    let third_browser = app.browser();
    assert_eq!(third_browser.sign_in_first_time(&mut third).await, "/");
    third_browser.enable_two_factor().await;
    let waiting = app.browser();
    waiting.sign_in(&admin).await.assert_ok();
    let (status, stream) = waiting.live().await;
    assert_eq!(status, 200);
    let mut stream = stream.unwrap();
    let third_waiting = app.browser();
    third_waiting.sign_in(&third).await.assert_ok();
    third_waiting
        .call("request_2fa_reset", &[])
        .await
        .assert_ok();
    assert!(stream.next_within(Duration::from_secs(1)).await.is_none());
    // The super admin's connection ends with their session.
    let (_, stream) = super_admin.live().await;
    assert!(stream.is_some());
    super_admin.call("sign_out", &[]).await.assert_ok();
    assert_eq!(super_admin.live().await.0, 401);
}

async fn requests_need_a_password_and_two_factor_and_are_rate_limited(app: TestApp) {
    let (owner, super_admin, admin, _) = setup(&app).await;
    // No password step: nothing to ask for.
    app.browser()
        .call("request_2fa_reset", &[])
        .await
        .assert_error(409, "Conflict");
    // No 2FA: the sign-in completes with the password, there is no code step to ask from.
    let no_2fa = app.browser();
    no_2fa.sign_in_fully(&owner, None).await;
    no_2fa
        .call("request_2fa_reset", &[])
        .await
        .assert_error(409, "Conflict");
    let count: i64 = sqlx::query("SELECT COUNT(*) AS n FROM reset_requests")
        .fetch_one(&app.ctx.db.pool)
        .await
        .unwrap()
        .get("n");
    assert_eq!(count, 0);
    // Five calls an hour per admin; the sixth waits.
    let waiting = app.browser();
    waiting.sign_in(&admin).await.assert_ok();
    for _ in 0..5 {
        waiting.call("request_2fa_reset", &[]).await.assert_ok();
    }
    let res = waiting
        .http
        .post(format!("{}/api/request_2fa_reset", waiting.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    let retry: u32 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&retry));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["TooManyRequests"]["retry_after_seconds"], json!(retry));
    let bell = super_admin.call("list_notifications", &[]).await;
    assert_eq!(bell.assert_ok()["unread"], 1);
}

async fn signing_in_with_a_code_withdraws_the_request(app: TestApp) {
    let (_owner, super_admin, admin, mut authenticator) = setup(&app).await;
    let waiting = app.browser();
    waiting.sign_in(&admin).await.assert_ok();
    waiting.call("request_2fa_reset", &[]).await.assert_ok();
    let (_, live) = super_admin.live().await;
    let mut live = live.unwrap();
    let request_id =
        row_of(&super_admin, admin.admin_id).await["reset_request"]["request_id"].to_string();
    // The phone turned up.
    let code = authenticator.next_code().await;
    waiting
        .call("verify_sign_in_code", &[("code", &code)])
        .await
        .assert_ok();
    let event = live.next_within(WAIT).await.unwrap();
    assert_eq!(
        (event["type"].as_str(), event["status"].as_str()),
        (Some("reset_resolved"), Some("withdrawn"))
    );
    assert_eq!(
        row_of(&super_admin, admin.admin_id).await["reset_request"],
        Value::Null
    );
    let late = super_admin
        .call("approve_2fa_reset", &[("request_id", &request_id)])
        .await;
    late.assert_error(409, "Conflict");
    assert!(
        credentials::exists(&app.ctx.db, admin.admin_id)
            .await
            .unwrap()
    );
}

/// `mssp-dashboard reset-2fa` (the real binary, on the test's database and key file) does what
/// an approval does: the credential and codes go, every session ends, the pending request is
/// answered, the next sign-in offers the setup, and the audit log says who.
async fn the_operator_reset_is_the_same_reset(app: TestApp) {
    let (owner, super_admin, admin, _lost) = setup(&app).await;
    let waiting = app.browser();
    assert_eq!(waiting.sign_in(&admin).await.assert_ok(), "/login/code");
    waiting.call("request_2fa_reset", &[]).await.assert_ok();
    let other_session = app.browser();
    assert_eq!(
        other_session.sign_in(&admin).await.assert_ok(),
        "/login/code"
    );

    let config = &app.ctx.config;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mssp-dashboard"))
        .current_dir(std::env::temp_dir())
        .args(["reset-2fa", "--user", &admin.email])
        .env("DATABASE_URL", &config.database_url)
        .env("MSSP_KEY_FILE", config.key_file.as_ref().unwrap())
        .env_remove("MSSP_SECRET_KEYS")
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("Removed the two-factor credential"),
        "{stdout}"
    );
    assert!(stdout.contains("pending reset request"), "{stdout}");
    let setup_code = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Setup code: "))
        .expect("reset-2fa prints the setup code")
        .to_string();

    assert!(
        !credentials::exists(&app.ctx.db, admin.admin_id)
            .await
            .unwrap()
    );
    for ended in [&waiting, &other_session] {
        ended
            .call("get_reset_request_state", &[])
            .await
            .assert_error(409, "Conflict");
    }
    // The badge is gone: the request was answered.
    assert_eq!(
        row_of(&super_admin, admin.admin_id).await["reset_request"],
        Value::Null
    );
    let history = super_admin
        .call(
            "list_reset_requests",
            &[("admin_id", &admin.admin_id.to_string())],
        )
        .await;
    assert_eq!(history.assert_ok()[0]["status"], "approved");
    assert_eq!(
        audit_events(&app, admin.admin_id).await,
        ["2fa_reset_requested", "2fa_reset_by_operator"]
    );
    // The next sign-in asks for the code the operator handed over, then the setup.
    let next = app.browser();
    assert_eq!(next.sign_in(&admin).await.assert_ok(), "/login/setup-code");
    assert_eq!(
        next.call("verify_setup_code", &[("setup_code", &setup_code)])
            .await
            .assert_ok(),
        "/login/setup-2fa"
    );
    let _ = owner;
}
