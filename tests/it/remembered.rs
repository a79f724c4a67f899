//! Remember this browser: "Don't ask for a code on this browser for N days". Allowed per
//! account (off by default, at most 30 days); the password is always asked; a remembered
//! browser is bound to its admin and revoked by "Sign out all other sessions", turning 2FA off
//! (and so on), "Forget" on the profile, the account's setting lowered or off, and its days
//! running out.

use crate::helpers::{Authenticator, Browser, Creds, TestApp};
use crate::on_both_backends;
use serde_json::Value;

on_both_backends!(
    a_remembered_browser_skips_the_code_until_it_is_revoked,
    the_account_setting_decides_and_bad_days_are_refused,
    a_stored_browser_counts_for_its_own_admin_generation_and_epoch_only,
);

const DAY: i64 = 24 * 60 * 60;

/// The code step, asking to remember this browser; the sign-in completes.
async fn code_remembering(browser: &Browser, app: &mut Authenticator) {
    let code = app.next_code().await;
    let done = browser
        .call(
            "verify_sign_in_code",
            &[("code", &code), ("remember_browser", "true")],
        )
        .await;
    assert_eq!(done.assert_ok(), "/");
}

/// Password and code, asking to remember this browser.
async fn sign_in_remembering(browser: &Browser, creds: &Creds, app: &mut Authenticator) {
    assert_eq!(browser.sign_in(creds).await.assert_ok(), "/login/code");
    code_remembering(browser, app).await;
}

async fn next_after_password(browser: &Browser, creds: &Creds) -> String {
    let next = browser.sign_in(creds).await;
    next.assert_ok().as_str().unwrap().to_string()
}

async fn allow(super_admin: &Browser, days: &str) -> Value {
    super_admin
        .call(
            "save_account_settings",
            &[("force_2fa", "false"), ("remember_days", days)],
        )
        .await
        .assert_ok()
        .clone()
}

async fn a_remembered_browser_skips_the_code_until_it_is_revoked(app: TestApp) {
    let owner = app.account("remember").await;
    let super_admin = app.browser();
    super_admin.sign_in_fully(&owner, None).await;
    let mut authenticator = super_admin.enable_two_factor().await;
    assert_eq!(allow(&super_admin, "14").await["remember_days"], 14);
    // Another admin of the account, with 2FA too.
    let mut other = super_admin
        .add_admin(owner.account_id, "rememberother", "admin")
        .await;
    let other_browser = app.browser();
    assert_eq!(other_browser.sign_in_first_time(&mut other).await, "/");
    let mut other_app = other_browser.enable_two_factor().await;

    // The code step offers it; remembered, the next sign-in from this browser skips the code.
    let laptop = app.browser();
    assert_eq!(next_after_password(&laptop, &owner).await, "/login/code");
    assert_eq!(
        laptop.call("get_code_step", &[]).await.assert_ok()["remember_days"],
        14
    );
    code_remembering(&laptop, &mut authenticator).await;
    laptop.call("sign_out", &[]).await.assert_ok();
    assert_eq!(next_after_password(&laptop, &owner).await, "/");
    assert_eq!(
        laptop.call("current_admin", &[]).await.assert_ok()["email"],
        owner.email.as_str()
    );
    // Never the password.
    let wrong = Creds {
        password: "not the password at all".into(),
        ..owner.clone()
    };
    laptop
        .sign_in(&wrong)
        .await
        .assert_error(401, "BadCredentials");
    // Another browser is asked; so is another admin on this browser (the token is the owner's).
    assert_eq!(
        next_after_password(&app.browser(), &owner).await,
        "/login/code"
    );
    assert_eq!(next_after_password(&laptop, &other).await, "/login/code");
    let code = other_app.next_code().await;
    laptop
        .call("verify_sign_in_code", &[("code", &code)])
        .await
        .assert_ok();
    laptop.call("sign_out", &[]).await.assert_ok();
    // The profile lists it, this browser first; "Forget" asks for the code again.
    assert_eq!(next_after_password(&laptop, &owner).await, "/");
    let listed = laptop.call("list_remembered_browsers", &[]).await;
    let listed = listed.assert_ok().as_array().unwrap().clone();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["current"], true);
    let until = listed[0]["until"].as_i64().unwrap();
    let now = app.clock().now();
    assert!((now + 14 * DAY - 60..=now + 14 * DAY).contains(&until));
    assert!(listed[0]["last_used_at"].is_i64());
    let handle = listed[0]["handle"].as_str().unwrap().to_string();
    // Not another admin's to forget.
    other_browser
        .call("forget_remembered_browser", &[("handle", &handle)])
        .await
        .assert_error(404, "NotFound");
    other_browser
        .call("forget_remembered_browser", &[("handle", "not-a-handle")])
        .await
        .assert_error(422, "Invalid");
    laptop
        .call("forget_remembered_browser", &[("handle", &handle)])
        .await
        .assert_ok();
    laptop.call("sign_out", &[]).await.assert_ok();
    assert_eq!(next_after_password(&laptop, &owner).await, "/login/code");

    // "Sign out all other sessions" from another browser revokes it.
    code_remembering(&laptop, &mut authenticator).await;
    laptop.call("sign_out", &[]).await.assert_ok();
    assert_eq!(next_after_password(&laptop, &owner).await, "/");
    laptop.call("sign_out", &[]).await.assert_ok();
    let desk = app.browser();
    desk.sign_in_fully(&owner, Some(&mut authenticator)).await;
    desk.call("end_other_sessions", &[]).await.assert_ok();
    assert_eq!(next_after_password(&laptop, &owner).await, "/login/code");

    // Turning 2FA off revokes it: on again, the browser is asked for the code.
    code_remembering(&laptop, &mut authenticator).await;
    let code = authenticator.next_code().await;
    laptop
        .call("disable_totp", &[("code", &code)])
        .await
        .assert_ok();
    let mut authenticator = laptop.enable_two_factor().await;
    laptop.call("sign_out", &[]).await.assert_ok();
    assert_eq!(next_after_password(&laptop, &owner).await, "/login/code");

    // The days run out.
    sign_in_remembering(&laptop, &owner, &mut authenticator).await;
    laptop.call("sign_out", &[]).await.assert_ok();
    app.clock().advance(14 * DAY - 120);
    assert_eq!(next_after_password(&laptop, &owner).await, "/");
    laptop.call("sign_out", &[]).await.assert_ok();
    app.clock().advance(180);
    assert_eq!(next_after_password(&laptop, &owner).await, "/login/code");
    // The sweep deletes what can no longer count: that expired one.
    let swept = mssp_dashboard::server::db::remembered_browsers::delete_stale(
        &app.ctx.db,
        app.clock().now(),
    )
    .await
    .unwrap();
    assert_eq!(swept, 1);
}

async fn the_account_setting_decides_and_bad_days_are_refused(app: TestApp) {
    let owner = app.account("rememberset").await;
    let super_admin = app.browser();
    super_admin.sign_in_fully(&owner, None).await;
    let setup = super_admin.start_setup().await;
    let mut authenticator =
        Authenticator::from_page(setup.assert_ok()["secret_grouped"].as_str().unwrap());
    let code = authenticator.next_code().await;
    let done = super_admin
        .call("confirm_totp_setup", &[("code", &code)])
        .await;
    let recovery_code = done.assert_ok()["recovery_codes"][0]
        .as_str()
        .unwrap()
        .to_string();
    // Off by default: not offered, and asking anyway remembers nothing.
    let settings = super_admin.call("get_account_settings", &[]).await;
    assert_eq!(settings.assert_ok()["remember_days"], 0);
    let laptop = app.browser();
    assert_eq!(next_after_password(&laptop, &owner).await, "/login/code");
    assert_eq!(
        laptop.call("get_code_step", &[]).await.assert_ok()["remember_days"],
        Value::Null
    );
    code_remembering(&laptop, &mut authenticator).await;
    laptop.call("sign_out", &[]).await.assert_ok();
    assert_eq!(next_after_password(&laptop, &owner).await, "/login/code");
    // Bad days are refused and change nothing (nor the other setting of the form).
    for bad in ["31", "-1", "a week", "1.5"] {
        let refused = super_admin
            .call(
                "save_account_settings",
                &[("force_2fa", "true"), ("remember_days", bad)],
            )
            .await;
        refused.assert_error(422, "Invalid");
        assert_eq!(refused.body["Invalid"]["field"], "remember_days", "{bad}");
    }
    let settings = super_admin.call("get_account_settings", &[]).await;
    assert_eq!(
        (
            &settings.assert_ok()["remember_days"],
            &settings.body["force_2fa"]
        ),
        (&Value::from(0), &Value::from(false))
    );
    // Allowed for 30 days and remembered; lowered to 1, every browser remembered before is
    // forgotten (raising it again does not bring them back)...
    allow(&super_admin, "30").await;
    // A recovery code signs in but remembers nothing: it is for emergencies.
    laptop
        .call(
            "verify_sign_in_code",
            &[("code", &recovery_code), ("remember_browser", "true")],
        )
        .await
        .assert_ok();
    laptop.call("sign_out", &[]).await.assert_ok();
    assert_eq!(next_after_password(&laptop, &owner).await, "/login/code");
    code_remembering(&laptop, &mut authenticator).await;
    laptop.call("sign_out", &[]).await.assert_ok();
    assert_eq!(next_after_password(&laptop, &owner).await, "/");
    laptop.call("sign_out", &[]).await.assert_ok();
    allow(&super_admin, "1").await;
    assert_eq!(next_after_password(&laptop, &owner).await, "/login/code");
    allow(&super_admin, "30").await;
    assert_eq!(next_after_password(&laptop, &owner).await, "/login/code");
    // ...and so does turning it off.
    code_remembering(&laptop, &mut authenticator).await;
    laptop.call("sign_out", &[]).await.assert_ok();
    assert_eq!(next_after_password(&laptop, &owner).await, "/");
    laptop.call("sign_out", &[]).await.assert_ok();
    allow(&super_admin, "0").await;
    assert_eq!(next_after_password(&laptop, &owner).await, "/login/code");
    // Remembered under 1 day: asked again once the day is over.
    allow(&super_admin, "1").await;
    code_remembering(&laptop, &mut authenticator).await;
    laptop.call("sign_out", &[]).await.assert_ok();
    assert_eq!(next_after_password(&laptop, &owner).await, "/");
    laptop.call("sign_out", &[]).await.assert_ok();
    app.clock().advance(DAY + 1);
    assert_eq!(next_after_password(&laptop, &owner).await, "/login/code");
}

/// The lookup itself, where the browser tests above cannot tell the bindings apart (two admins
/// there may differ in generation as well): a row counts for its admin, generation and epoch
/// only, and until it expires; marking it used needs its admin too.
async fn a_stored_browser_counts_for_its_own_admin_generation_and_epoch_only(app: TestApp) {
    use mssp_dashboard::server::db::remembered_browsers::{self as rows, Current, NewRemembered};
    let a = app.account("bindinga").await;
    let b = app.account("bindingb").await;
    let db = &app.ctx.db;
    let now = app.clock().now();
    let hash = "ab".repeat(32);
    rows::insert(
        db,
        NewRemembered {
            token_hash: &hash,
            admin_id: a.admin_id,
            generation: 3,
            epoch: 2,
            now,
            expires_at: now + DAY,
            user_agent: None,
            client_ip: None,
        },
    )
    .await
    .unwrap();
    let current = Current {
        admin_id: a.admin_id,
        generation: 3,
        epoch: 2,
    };
    assert!(rows::find(db, &hash, current, now).await.unwrap().is_some());
    for other in [
        Current {
            admin_id: b.admin_id,
            ..current
        },
        Current {
            generation: 4,
            ..current
        },
        Current {
            epoch: 3,
            ..current
        },
    ] {
        assert!(
            rows::find(db, &hash, other, now).await.unwrap().is_none(),
            "{other:?}"
        );
    }
    assert!(
        rows::find(db, &hash, current, now + DAY)
            .await
            .unwrap()
            .is_none()
    );
    assert!(!rows::touch(db, &hash, b.admin_id, now).await.unwrap());
    assert!(rows::touch(db, &hash, a.admin_id, now).await.unwrap());
}
