//! Turning TOTP on and off from the profile.

use crate::helpers::{Authenticator, TestApp};
use crate::on_both_backends;
use mssp_dashboard::server::db::totp as credentials;

on_both_backends!(
    setup_shows_a_qr_code_and_stores_nothing_until_a_correct_code,
    confirmation_without_a_setup_is_refused,
    disabling_needs_a_current_code,
    disabling_is_refused_while_enforced,
);

async fn setup_shows_a_qr_code_and_stores_nothing_until_a_correct_code(app: TestApp) {
    let creds = app.account("setup").await;
    let browser = app.browser();
    browser.sign_in_fully(&creds, None).await;
    let profile = browser.call("get_profile", &[]).await;
    assert_eq!(profile.assert_ok()["totp_enabled"], false);

    let setup = browser.start_setup().await;
    let setup = setup.assert_ok();
    let svg = setup["qr_svg"].as_str().unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("<path"),
        "{}",
        &svg[..100.min(svg.len())]
    );
    let shown = setup["secret_grouped"].as_str().unwrap();
    // 160 bits = 32 base32 characters, shown in 8 groups of 4.
    assert_eq!(shown.split(' ').count(), 8, "{shown}");
    assert_eq!(setup["account"], creds.email.as_str());
    assert_eq!(setup["issuer"], "MSSP Dashboard");

    // A wrong code (and a malformed one) leaves 2FA off.
    let mut authenticator = Authenticator::from_page(shown);
    browser
        .call(
            "confirm_totp_setup",
            &[("code", &authenticator.wrong_code())],
        )
        .await
        .assert_error(422, "Invalid");
    browser
        .call("confirm_totp_setup", &[("code", "12345")])
        .await
        .assert_error(422, "Invalid");
    assert!(
        !credentials::exists(&app.ctx.db, creds.admin_id)
            .await
            .unwrap()
    );

    let code = authenticator.next_code().await;
    browser
        .call("confirm_totp_setup", &[("code", &code)])
        .await
        .assert_ok();
    assert!(
        credentials::exists(&app.ctx.db, creds.admin_id)
            .await
            .unwrap()
    );
    assert_eq!(
        browser.call("get_profile", &[]).await.assert_ok()["totp_enabled"],
        true
    );
    // The setup is used up, and 2FA is already on.
    browser
        .call("confirm_totp_setup", &[("code", &code)])
        .await
        .assert_error(409, "Conflict");
    browser.start_setup().await.assert_error(409, "Conflict");
}

async fn confirmation_without_a_setup_is_refused(app: TestApp) {
    let creds = app.account("nosetup").await;
    let browser = app.browser();
    browser.sign_in_fully(&creds, None).await;
    let answer = browser
        .call("confirm_totp_setup", &[("code", "123456")])
        .await;
    answer.assert_error(409, "Conflict");
    assert!(
        answer.body["Conflict"]
            .as_str()
            .unwrap()
            .contains("no two-factor setup in progress")
    );
    assert!(
        !credentials::exists(&app.ctx.db, creds.admin_id)
            .await
            .unwrap()
    );
    // A setup started in one session cannot be confirmed from another.
    browser.start_setup().await.assert_ok();
    let other = app.browser();
    other.sign_in_fully(&creds, None).await;
    other
        .call("confirm_totp_setup", &[("code", "123456")])
        .await
        .assert_error(409, "Conflict");
}

async fn disabling_needs_a_current_code(app: TestApp) {
    let creds = app.account("disable").await;
    let browser = app.browser();
    browser.sign_in_fully(&creds, None).await;
    let mut authenticator = browser.enable_two_factor().await;
    browser
        .call("disable_totp", &[("code", &authenticator.wrong_code())])
        .await
        .assert_error(422, "Invalid");
    assert!(
        credentials::exists(&app.ctx.db, creds.admin_id)
            .await
            .unwrap()
    );
    let code = authenticator.next_code().await;
    browser
        .call("disable_totp", &[("code", &code)])
        .await
        .assert_ok();
    assert!(
        !credentials::exists(&app.ctx.db, creds.admin_id)
            .await
            .unwrap()
    );
    browser
        .call("disable_totp", &[("code", &code)])
        .await
        .assert_error(409, "Conflict");
    // Next sign-in needs the password only.
    browser.call("sign_out", &[]).await.assert_ok();
    assert_eq!(browser.sign_in(&creds).await.assert_ok(), "/");
}

async fn disabling_is_refused_while_enforced(app: TestApp) {
    let creds = app.account("enforced").await;
    let browser = app.browser();
    browser.sign_in_fully(&creds, None).await;
    let mut authenticator = browser.enable_two_factor().await;
    // The super admin's "Enforce 2FA" for this admin (its form comes with Administration).
    sqlx::query("UPDATE admins SET enforce_2fa = 1 WHERE id = $1")
        .bind(creds.admin_id)
        .execute(&app.ctx.db.pool)
        .await
        .unwrap();
    let code = authenticator.next_code().await;
    let refused = browser.call("disable_totp", &[("code", &code)]).await;
    refused.assert_error(403, "Forbidden");
    assert!(
        refused.body["Forbidden"]
            .as_str()
            .unwrap()
            .contains("Enforce 2FA")
    );
    assert!(
        credentials::exists(&app.ctx.db, creds.admin_id)
            .await
            .unwrap()
    );
    let profile = browser.call("get_profile", &[]).await;
    assert_eq!(profile.assert_ok()["enforcement"]["enforced"], true);
    assert_eq!(profile.body["enforcement"]["source"], "Admin");
}
