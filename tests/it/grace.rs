//! Enforcement with a deadline: "Force two-factor authentication" and "Enforce 2FA" with a grace
//! period. Until it ends an admin without 2FA is asked at each sign-in and may go on ("Remind me
//! next time"); from then on the setup is required, at the next sign-in or the next request.

use crate::helpers::{Browser, TestApp};
use crate::on_both_backends;
use serde_json::Value;

on_both_backends!(
    an_account_grace_period_asks_at_each_sign_in_until_its_deadline,
    an_admin_grace_period_cannot_be_skipped_once_it_ends,
);

const DAY: i64 = 24 * 60 * 60;

async fn table(super_admin: &Browser) -> Value {
    super_admin
        .call(
            "list_admins",
            &[("q", ""), ("sort", "name"), ("dir", "asc"), ("page", "1")],
        )
        .await
        .assert_ok()
        .clone()
}

/// The chart's (in grace period, enforced and not set up) of the super admin's account.
async fn grace_counts(super_admin: &Browser) -> (i64, i64) {
    let overview = table(super_admin).await["overview"].clone();
    (
        overview["in_grace_period"].as_i64().unwrap(),
        overview["enforced_not_set_up"].as_i64().unwrap(),
    )
}

fn row(table: &Value, id: i64) -> Value {
    table["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap()
        .clone()
}

async fn an_account_grace_period_asks_at_each_sign_in_until_its_deadline(app: TestApp) {
    let owner = app.account("graceful").await;
    let super_admin = app.browser();
    super_admin.sign_in_fully(&owner, None).await;
    let mut admin = super_admin
        .add_admin(owner.account_id, "graced", "admin")
        .await;
    let now = app.clock().now();
    let saved = super_admin
        .call(
            "save_account_settings",
            &[("force_2fa", "true"), ("grace_days", "7")],
        )
        .await;
    let grace = saved.assert_ok()["grace"].clone();
    assert_eq!(grace["days_left"], 7);
    let until = grace["until"].as_i64().unwrap();
    assert!(
        (now + 7 * DAY..now + 7 * DAY + 60).contains(&until),
        "{grace}"
    );
    // The super admin, without 2FA too, is not sent to the setup: the period is theirs as well.
    assert_eq!(grace_counts(&super_admin).await, (2, 0));
    // Sending back the days the form showed keeps the deadline; bad days change nothing.
    let again = super_admin
        .call(
            "save_account_settings",
            &[
                ("force_2fa", "true"),
                ("grace_days", "7"),
                ("grace_shown", "7"),
            ],
        )
        .await;
    assert_eq!(again.assert_ok()["grace"]["until"], until);
    for bad in ["91", "-1", "seven", "1.5"] {
        let refused = super_admin
            .call(
                "save_account_settings",
                &[("force_2fa", "true"), ("grace_days", bad)],
            )
            .await;
        refused.assert_error(422, "Invalid");
        assert_eq!(refused.body["Invalid"]["field"], "grace_days", "{bad}");
    }
    let settings = super_admin.call("get_account_settings", &[]).await;
    assert_eq!(settings.assert_ok()["grace"]["until"], until);
    // The super admin exempts themselves ("Enforce 2FA" off), to sign in with a password alone
    // after the clock moves (the test's authenticator follows the real clock).
    super_admin
        .call_owned(
            "update_admin",
            &[
                ("id", owner.admin_id.to_string()),
                ("name", "Graceful Owner".to_string()),
                ("role", "super_admin".to_string()),
                ("active", "true".to_string()),
                ("enforce_2fa", "off".to_string()),
            ],
        )
        .await
        .assert_ok();

    // The admin is asked, with the days left, and may go on.
    let browser = app.browser();
    assert_eq!(
        browser.sign_in_first_time(&mut admin).await,
        "/login/setup-2fa"
    );
    let setup = browser.start_setup().await;
    assert_eq!(setup.assert_ok()["skippable"], true);
    assert_eq!(setup.body["grace"]["days_left"], 7);
    assert_eq!(browser.call("skip_2fa_setup", &[]).await.assert_ok(), "/");
    assert_eq!(
        browser.call("current_admin", &[]).await.assert_ok()["email"],
        admin.email.as_str()
    );
    // The table shows the deadline and the chart counts the admin in the grace period.
    let shown = table(&super_admin).await;
    assert_eq!(
        row(&shown, admin.admin_id)["enforcement"],
        serde_json::json!({"enforced": true, "source": "Account", "deadline": until})
    );
    assert_eq!(shown["overview"]["in_grace_period"], 1);
    // Asked again at the next sign-in, a day later with a day less.
    app.clock().advance(DAY);
    let next_day = app.browser();
    assert_eq!(
        next_day.sign_in(&admin).await.assert_ok(),
        "/login/setup-2fa"
    );
    assert_eq!(
        next_day.start_setup().await.assert_ok()["grace"]["days_left"],
        6
    );

    // Signed in two minutes before the deadline; at the deadline the open session is sent to
    // the setup at its next request...
    app.clock().advance(until - 120 - app.clock().now());
    let signed_in = app.browser();
    assert_eq!(
        signed_in.sign_in(&admin).await.assert_ok(),
        "/login/setup-2fa"
    );
    assert_eq!(signed_in.call("skip_2fa_setup", &[]).await.assert_ok(), "/");
    signed_in.call("get_profile", &[]).await.assert_ok();
    app.clock().advance(180);
    signed_in
        .call("get_profile", &[])
        .await
        .assert_error(403, "TwoFactorSetupRequired");
    // ...and a sign-in is, with no way round it.
    let late = app.browser();
    assert_eq!(late.sign_in(&admin).await.assert_ok(), "/login/setup-2fa");
    let setup = late.start_setup().await;
    assert_eq!(setup.assert_ok()["skippable"], false);
    assert_eq!(setup.body["grace"], Value::Null);
    late.call("skip_2fa_setup", &[])
        .await
        .assert_error(403, "Forbidden");
    let super_admin = app.browser();
    super_admin.sign_in_fully(&owner, None).await;
    assert_eq!(grace_counts(&super_admin).await, (0, 1));
    // A new grace period starts from now; 0 days means at once.
    let renewed = super_admin
        .call(
            "save_account_settings",
            &[("force_2fa", "true"), ("grace_days", "2")],
        )
        .await;
    let renewed_until = renewed.assert_ok()["grace"]["until"].as_i64().unwrap();
    assert!(renewed_until >= app.clock().now() + 2 * DAY - 60);
    let at_once = super_admin
        .call(
            "save_account_settings",
            &[("force_2fa", "true"), ("grace_days", "0")],
        )
        .await;
    assert_eq!(at_once.assert_ok()["grace"], Value::Null);
    let again = app.browser();
    assert_eq!(again.sign_in(&admin).await.assert_ok(), "/login/setup-2fa");
    assert_eq!(again.start_setup().await.assert_ok()["skippable"], false);
}

async fn an_admin_grace_period_cannot_be_skipped_once_it_ends(app: TestApp) {
    let owner = app.account("graceone").await;
    let super_admin = app.browser();
    super_admin.sign_in_fully(&owner, None).await;
    let mut admin = super_admin
        .add_admin(owner.account_id, "oneadmin", "sub_admin")
        .await;
    let set = |mode: &str, days: &str| {
        vec![
            ("id", admin.admin_id.to_string()),
            ("name", "One Admin".to_string()),
            ("role", "sub_admin".to_string()),
            ("active", "true".to_string()),
            ("enforce_2fa", mode.to_string()),
            ("grace_days", days.to_string()),
            // As the form sends it: the days it showed (here, unchanged).
            ("grace_shown", days.to_string()),
        ]
    };
    // Days are read only with "on".
    super_admin
        .call_owned("update_admin", &set("off", "-1"))
        .await
        .assert_ok();
    let refused = super_admin
        .call_owned("update_admin", &set("on", "100"))
        .await;
    refused.assert_error(422, "Invalid");
    assert_eq!(refused.body["Invalid"]["field"], "grace_days");
    super_admin
        .call_owned("update_admin", &set("on", "3"))
        .await
        .assert_ok();
    let detail = super_admin
        .call("get_admin", &[("id", &admin.admin_id.to_string())])
        .await;
    assert_eq!(detail.assert_ok()["grace"]["days_left"], 3);
    let until = detail.body["grace"]["until"].as_i64().unwrap();
    assert_eq!(grace_counts(&super_admin).await, (1, 0));
    // Saving the edit form unchanged keeps the date.
    super_admin
        .call_owned("update_admin", &set("on", "3"))
        .await
        .assert_ok();
    let detail = super_admin
        .call("get_admin", &[("id", &admin.admin_id.to_string())])
        .await;
    assert_eq!(detail.assert_ok()["grace"]["until"], until);
    // A form opened a day ago (3 days left then, 2 now) sent back unchanged keeps the date too:
    // a save never moves a deadline later by itself.
    app.clock().advance(DAY);
    let super_admin = app.browser();
    super_admin.sign_in_fully(&owner, None).await;
    super_admin
        .call_owned("update_admin", &set("on", "3"))
        .await
        .assert_ok();
    let detail = super_admin
        .call("get_admin", &[("id", &admin.admin_id.to_string())])
        .await;
    assert_eq!(detail.assert_ok()["grace"]["until"], until);
    assert_eq!(detail.body["grace"]["days_left"], 2);

    let first = app.browser();
    assert_eq!(
        first.sign_in_first_time(&mut admin).await,
        "/login/setup-2fa"
    );
    assert_eq!(first.call("skip_2fa_setup", &[]).await.assert_ok(), "/");
    // A minute before the end: one browser is asked, another goes on; a minute after it, the
    // first cannot skip any more and the second is sent to the setup.
    app.clock().advance(until - 60 - app.clock().now());
    let asked = app.browser();
    assert_eq!(asked.sign_in(&admin).await.assert_ok(), "/login/setup-2fa");
    assert_eq!(asked.start_setup().await.assert_ok()["skippable"], true);
    let went_on = app.browser();
    assert_eq!(
        went_on.sign_in(&admin).await.assert_ok(),
        "/login/setup-2fa"
    );
    assert_eq!(went_on.call("skip_2fa_setup", &[]).await.assert_ok(), "/");
    app.clock().advance(120);
    asked
        .call("skip_2fa_setup", &[])
        .await
        .assert_error(403, "Forbidden");
    went_on
        .call("get_profile", &[])
        .await
        .assert_error(403, "TwoFactorSetupRequired");
    // The super admin (no 2FA, the account not forcing it) was never affected.
    let super_admin = app.browser();
    super_admin.sign_in_fully(&owner, None).await;
    assert_eq!(grace_counts(&super_admin).await, (0, 1));
}
