//! Reset requests a super admin of a large account finds, judges and decides safely: pending
//! requests first and filtered, the evidence before deciding, the choice of setup after a reset,
//! a reason with a denial, and no pretending when nobody can approve.

use crate::helpers::{Authenticator, Browser, Creds, TestApp, ids};
use crate::on_both_backends;
use serde_json::Value;

on_both_backends!(
    pending_requests_come_first_and_can_be_filtered,
    the_review_shows_the_evidence,
    a_denial_carries_its_reason_to_the_requester,
    a_reset_may_only_offer_the_setup_and_the_table_shows_a_skip,
    a_sole_super_admin_is_told_nobody_can_approve,
);

/// An account with a signed-in super admin and `n` admins with 2FA (signed out).
async fn account(app: &TestApp, n: usize) -> (Creds, Browser, Vec<(Creds, Authenticator)>) {
    let owner = app.account("review").await;
    let super_admin = app.browser();
    super_admin.sign_in_fully(&owner, None).await;
    let mut admins = Vec::new();
    for i in 0..n {
        let mut admin = super_admin
            .add_admin(owner.account_id, &format!("zed{i}"), "admin")
            .await;
        let browser = app.browser();
        browser.sign_in_first_time(&mut admin).await;
        let authenticator = browser.enable_two_factor().await;
        admins.push((admin, authenticator));
    }
    (owner, super_admin, admins)
}

async fn list(browser: &Browser, sort: &str, pending: bool) -> Value {
    let pending = if pending { "true" } else { "false" };
    browser
        .call(
            "list_admins",
            &[
                ("q", ""),
                ("sort", sort),
                ("dir", "asc"),
                ("page", "1"),
                ("pending", pending),
            ],
        )
        .await
        .assert_ok()
        .clone()
}

async fn request_reset(app: &TestApp, admin: &Creds) -> Browser {
    let waiting = app.browser();
    assert_eq!(waiting.sign_in(admin).await.assert_ok(), "/login/code");
    let answer = waiting.call("request_2fa_reset", &[]).await;
    assert!(answer.assert_ok()["Pending"].is_object(), "{}", answer.body);
    waiting
}

async fn pending_requests_come_first_and_can_be_filtered(app: TestApp) {
    let (owner, super_admin, admins) = account(&app, 3).await;
    // Named "zed…": by name they come after the super admin.
    let last = &admins[2].0;
    request_reset(&app, last).await;
    let default = list(&super_admin, "", false).await;
    assert_eq!(ids(&default)[0], last.admin_id, "pending first by default");
    assert_eq!(default["pending_total"], 1);
    assert_eq!(default["total"], 4);
    // An explicit sort is that sort alone.
    let by_name = list(&super_admin, "name", false).await;
    assert_eq!(ids(&by_name)[0], owner.admin_id);
    // "Pending resets (1)": only them, under any sort.
    let only = list(&super_admin, "email", true).await;
    assert_eq!(ids(&only), vec![last.admin_id]);
    assert_eq!(only["total"], 1);
    assert_eq!(
        super_admin
            .call("count_pending_resets", &[])
            .await
            .assert_ok(),
        &Value::from(1)
    );
    // The notification deep-links to the admin's page.
    let bell = super_admin.call("list_notifications", &[]).await;
    assert_eq!(
        bell.assert_ok()["items"][0]["link"],
        format!("/admin/admins/{}", last.admin_id)
    );
}

async fn the_review_shows_the_evidence(app: TestApp) {
    let (_owner, super_admin, admins) = account(&app, 2).await;
    // From a browser the admin has signed in on, and from their usual address.
    let (known_admin, mut authenticator) = (&admins[0].0, admins[0].1.clone_for_test());
    let known = crate::helpers::browser_as(
        &app.base,
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    );
    known
        .sign_in_fully(known_admin, Some(&mut authenticator))
        .await;
    known.call("sign_out", &[]).await.assert_ok();
    assert_eq!(known.sign_in(known_admin).await.assert_ok(), "/login/code");
    known.call("request_2fa_reset", &[]).await.assert_ok();
    // From a browser that never signed in as the other one.
    request_reset(&app, &admins[1].0).await;

    let table = list(&super_admin, "", true).await;
    let request_of = |admin_id: i64| {
        table["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == admin_id)
            .unwrap()["reset_request"]["request_id"]
            .to_string()
    };
    let review = super_admin
        .call(
            "get_reset_review",
            &[("request_id", &request_of(known_admin.admin_id))],
        )
        .await;
    let review = review.assert_ok();
    assert_eq!(review["from_known_browser"], true);
    assert_eq!(review["requested_ip"], "127.0.0.1");
    assert!(review["sign_ins_from_address"].as_i64().unwrap() >= 1);
    let device = review["device"].as_str().unwrap();
    assert!(
        device.contains("Chrome") && device.contains("Windows"),
        "{device}"
    );
    let stranger = super_admin
        .call(
            "get_reset_review",
            &[("request_id", &request_of(admins[1].0.admin_id))],
        )
        .await;
    assert_eq!(stranger.assert_ok()["from_known_browser"], false);
    // (this client sent no user agent: no device to show)
    assert_eq!(stranger.body["device"], Value::Null);
    // Another account's super admin sees nothing of it.
    let other = app.account("reviewother").await;
    let other_browser = app.browser();
    other_browser.sign_in_fully(&other, None).await;
    other_browser
        .call(
            "get_reset_review",
            &[("request_id", &request_of(known_admin.admin_id))],
        )
        .await
        .assert_error(404, "NotFound");
}

async fn a_denial_carries_its_reason_to_the_requester(app: TestApp) {
    let (_owner, super_admin, admins) = account(&app, 1).await;
    let admin = &admins[0].0;
    let waiting = request_reset(&app, admin).await;
    let request =
        list(&super_admin, "", true).await["rows"][0]["reset_request"]["request_id"].to_string();
    // A reason longer than 500 characters is refused, nothing decided.
    super_admin
        .call(
            "deny_2fa_reset",
            &[("request_id", &request), ("reason", &"x".repeat(501))],
        )
        .await
        .assert_error(422, "Invalid");
    // So is one that hides characters: a terminal escape, a right-to-left override.
    for hidden in ["Call \u{1b}[2Jme", "Call me on \u{202E}enohp"] {
        super_admin
            .call(
                "deny_2fa_reset",
                &[("request_id", &request), ("reason", hidden)],
            )
            .await
            .assert_error(422, "Invalid");
    }
    let decided = super_admin
        .call(
            "deny_2fa_reset",
            &[
                ("request_id", &request),
                ("reason", "Call me on my desk phone first.\r\nThanks"),
            ],
        )
        .await;
    assert!(
        decided.assert_ok()["message"]
            .as_str()
            .unwrap()
            .contains("was denied"),
        "{}",
        decided.body
    );
    let told = waiting.call("get_reset_request_state", &[]).await;
    assert_eq!(
        told.assert_ok()["Denied"]["reason"],
        "Call me on my desk phone first.\nThanks"
    );
}

async fn a_reset_may_only_offer_the_setup_and_the_table_shows_a_skip(app: TestApp) {
    let (_owner, super_admin, admins) = account(&app, 1).await;
    let admin = &admins[0].0;
    request_reset(&app, admin).await;
    let request =
        list(&super_admin, "", true).await["rows"][0]["reset_request"]["request_id"].to_string();
    let decided = super_admin
        .call(
            "approve_2fa_reset",
            &[("request_id", &request), ("require_setup", "false")],
        )
        .await;
    let message = decided.assert_ok()["message"].as_str().unwrap().to_string();
    assert!(message.contains("may skip it"), "{message}");
    assert!(message.contains("signed out"), "{message}");
    let code = decided.body["setup_code"]["code"].as_str().unwrap();
    // Skipped (after the setup code): offered again at the next sign-in, and the table says so.
    let next = app.browser();
    assert_eq!(next.sign_in(admin).await.assert_ok(), "/login/setup-code");
    next.call("verify_setup_code", &[("setup_code", code)])
        .await
        .assert_ok();
    next.call("skip_2fa_setup", &[]).await.assert_ok();
    let row = list(&super_admin, "name", false).await["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == admin.admin_id)
        .cloned()
        .unwrap();
    assert!(row["setup_skipped_at"].is_i64(), "{row}");
    let again = app.browser();
    assert_eq!(again.sign_in(admin).await.assert_ok(), "/login/setup-2fa");
    // Setting it up clears the mark.
    again.enable_two_factor().await;
    let row = list(&super_admin, "name", false).await["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == admin.admin_id)
        .cloned()
        .unwrap();
    assert_eq!(row["setup_skipped_at"], Value::Null);
    // The setup offers the otpauth:// link for a phone.
    let profile = again.call("get_profile", &[]).await;
    profile.assert_ok();
}

async fn a_sole_super_admin_is_told_nobody_can_approve(app: TestApp) {
    let owner = app.account("sole").await;
    let browser = app.browser();
    browser.sign_in_fully(&owner, None).await;
    let setup = browser.start_setup().await;
    assert!(
        setup.assert_ok()["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    let mut authenticator =
        Authenticator::from_page(setup.body["secret_grouped"].as_str().unwrap());
    let code = authenticator.next_code().await;
    browser
        .call("confirm_totp_setup", &[("code", &code)])
        .await
        .assert_ok();
    let waiting = app.browser();
    assert_eq!(waiting.sign_in(&owner).await.assert_ok(), "/login/code");
    let answer = waiting.call("request_2fa_reset", &[]).await;
    assert_eq!(
        answer.assert_ok(),
        &Value::String("NobodyCanApprove".into())
    );
    // Nothing was made: no request, no notification.
    assert_eq!(
        waiting
            .call("get_reset_request_state", &[])
            .await
            .assert_ok(),
        &Value::String("None".into())
    );
}
