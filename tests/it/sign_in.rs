//! Sign-in with a password, the code step, and what a half-signed-in session may do.

use crate::helpers::TestApp;
use crate::on_both_backends;
use mssp_dashboard::server::db::admins;

on_both_backends!(
    signs_in_with_username_or_email,
    wrong_password_and_unknown_user_get_the_same_answer,
    inactive_admin_cannot_sign_in,
    second_step_after_password_when_two_factor_is_on,
    a_code_is_accepted_once,
    partial_session_is_refused_everywhere,
    code_step_without_password_step_is_refused,
    sign_out_ends_the_session_on_the_server,
);

async fn signs_in_with_username_or_email(app: TestApp) {
    let creds = app.account("signin").await;
    for identifier in [creds.username.clone(), creds.email.to_uppercase()] {
        let browser = app.browser();
        let next = browser
            .call(
                "sign_in",
                &[("identifier", &identifier), ("password", &creds.password)],
            )
            .await;
        assert_eq!(next.assert_ok(), "/");
        let me = browser.call("current_admin", &[]).await;
        assert_eq!(me.assert_ok()["email"], creds.email.as_str());
        assert_eq!(me.body["role"], "super_admin");
        let (status, _) = browser.page("/profile").await;
        assert_eq!(status, 200);
    }
    let admin = admins::find_in_account(&app.ctx.db, creds.account_id, creds.admin_id)
        .await
        .unwrap()
        .unwrap();
    assert!(admin.last_sign_in_at.is_some());
}

async fn wrong_password_and_unknown_user_get_the_same_answer(app: TestApp) {
    let creds = app.account("wrongpw").await;
    let browser = app.browser();
    let wrong = browser
        .call(
            "sign_in",
            &[
                ("identifier", &creds.email),
                ("password", "not the password"),
            ],
        )
        .await;
    let unknown = browser
        .call(
            "sign_in",
            &[
                ("identifier", "nobody@example.com"),
                ("password", "not the password"),
            ],
        )
        .await;
    wrong.assert_error(401, "BadCredentials");
    assert_eq!(wrong.body, unknown.body);
    assert_eq!(wrong.status, unknown.status);
    // Nothing was granted.
    assert_eq!(
        browser.call("current_admin", &[]).await.assert_ok(),
        &serde_json::Value::Null
    );
    browser
        .call("get_profile", &[])
        .await
        .assert_error(401, "Unauthenticated");
}

async fn inactive_admin_cannot_sign_in(app: TestApp) {
    let creds = app.account("inactive").await;
    admins::set_active(&app.ctx.db, creds.admin_id, false, 0)
        .await
        .unwrap();
    let browser = app.browser();
    browser.sign_in(&creds).await.assert_error(403, "Forbidden");
    browser
        .call("get_profile", &[])
        .await
        .assert_error(401, "Unauthenticated");
    // A wrong password for an inactive admin says nothing about the admin.
    let wrong = browser
        .call(
            "sign_in",
            &[("identifier", &creds.email), ("password", "wrong password")],
        )
        .await;
    wrong.assert_error(401, "BadCredentials");
}

async fn second_step_after_password_when_two_factor_is_on(app: TestApp) {
    let creds = app.account("twostep").await;
    let browser = app.browser();
    browser.sign_in_fully(&creds, None).await;
    let mut authenticator = browser.enable_two_factor().await;
    browser.call("sign_out", &[]).await.assert_ok();

    let browser = app.browser();
    assert_eq!(browser.sign_in(&creds).await.assert_ok(), "/login/code");
    // Password alone grants nothing.
    assert_eq!(
        browser.call("current_admin", &[]).await.assert_ok(),
        &serde_json::Value::Null
    );
    // A wrong code is refused next to the field, and the session stays pending.
    let wrong = browser
        .call(
            "verify_sign_in_code",
            &[("code", &authenticator.wrong_code())],
        )
        .await;
    wrong.assert_error(422, "Invalid");
    assert_eq!(wrong.body["Invalid"]["field"], "code");
    assert_eq!(
        browser.call("current_admin", &[]).await.assert_ok(),
        &serde_json::Value::Null
    );
    let code = authenticator.next_code().await;
    assert_eq!(
        browser
            .call("verify_sign_in_code", &[("code", &code)])
            .await
            .assert_ok(),
        "/"
    );
    assert_eq!(
        browser.call("current_admin", &[]).await.assert_ok()["email"],
        creds.email.as_str()
    );
    assert_eq!(
        browser.call("get_profile", &[]).await.assert_ok()["totp_enabled"],
        true
    );
}

async fn a_code_is_accepted_once(app: TestApp) {
    let creds = app.account("replay").await;
    let setup_browser = app.browser();
    setup_browser.sign_in_fully(&creds, None).await;
    let mut authenticator = setup_browser.enable_two_factor().await;

    // First browser uses a code.
    let first = app.browser();
    first.sign_in(&creds).await.assert_ok();
    let code = authenticator.next_code().await;
    first
        .call("verify_sign_in_code", &[("code", &code)])
        .await
        .assert_ok();

    // Someone who saw that code tries it in another browser: refused as a replay.
    let second = app.browser();
    second.sign_in(&creds).await.assert_ok();
    let replay = second.call("verify_sign_in_code", &[("code", &code)]).await;
    replay.assert_error(422, "Invalid");
    assert!(
        replay.body["Invalid"]["message"]
            .as_str()
            .unwrap()
            .contains("already used")
    );
    // So is the code of an older step.
    let older = authenticator.code_for_step(authenticator.last_step().unwrap() - 1);
    second
        .call("verify_sign_in_code", &[("code", &older)])
        .await
        .assert_error(422, "Invalid");
    assert_eq!(
        second.call("current_admin", &[]).await.assert_ok(),
        &serde_json::Value::Null
    );
    // A new code works.
    let fresh = authenticator.next_code().await;
    second
        .call("verify_sign_in_code", &[("code", &fresh)])
        .await
        .assert_ok();
}

async fn partial_session_is_refused_everywhere(app: TestApp) {
    let creds = app.account("partial").await;
    let browser = app.browser();
    browser.sign_in_fully(&creds, None).await;
    browser.enable_two_factor().await;
    browser.call("sign_out", &[]).await.assert_ok();

    let browser = app.browser();
    assert_eq!(browser.sign_in(&creds).await.assert_ok(), "/login/code");
    // Every server function that needs a signed-in admin, with valid arguments.
    let protected = crate::helpers::PROTECTED_CALLS;
    for (name, args) in protected {
        let answer = browser.call(name, args).await;
        answer.assert_error(401, "SecondFactorRequired");
    }
    // ... and so is the step after it.
    browser
        .call(
            "set_initial_password",
            &[
                ("new_password", "a new password 1"),
                ("confirm_password", "a new password 1"),
            ],
        )
        .await
        .assert_error(401, "SecondFactorRequired");
    // The functions a half-signed-in browser may call.
    let open = crate::helpers::OPEN_CALLS;
    // Every registered server function is in one of the two lists, so a new one cannot be
    // added without deciding which it is.
    let mut registered: Vec<String> = server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.trim_start_matches("/api/").to_string())
        .collect();
    registered.sort();
    let mut listed: Vec<String> = protected
        .iter()
        .map(|(n, _)| n.to_string())
        .chain(open.iter().map(|n| n.to_string()))
        .collect();
    listed.sort();
    assert_eq!(registered, listed);
    // Pages send the browser back to the code step.
    for path in ["/", "/profile", "/admin"] {
        let (status, location) = browser.page(path).await;
        assert_eq!(status, 303, "{path}");
        assert_eq!(location.as_deref(), Some("/login/code"), "{path}");
    }
    let (status, _) = browser.page("/login/code").await;
    assert_eq!(status, 200);
}

async fn code_step_without_password_step_is_refused(app: TestApp) {
    let browser = app.browser();
    browser
        .call("verify_sign_in_code", &[("code", "123456")])
        .await
        .assert_error(409, "Conflict");
    // Signed in without 2FA: there is no code step either.
    let creds = app.account("nocode").await;
    browser.sign_in_fully(&creds, None).await;
    browser
        .call("verify_sign_in_code", &[("code", "123456")])
        .await
        .assert_error(409, "Conflict");
    let (status, location) = app.browser().page("/login/code").await;
    assert_eq!(
        (status.as_u16(), location.as_deref()),
        (303, Some("/login"))
    );
}

async fn sign_out_ends_the_session_on_the_server(app: TestApp) {
    let creds = app.account("signout").await;
    let browser = app.browser();
    browser.sign_in_fully(&creds, None).await;
    let cookie = browser
        .session_cookie()
        .expect("a session cookie after sign-in");
    browser.call("sign_out", &[]).await.assert_ok();
    assert_eq!(
        browser.call("current_admin", &[]).await.assert_ok(),
        &serde_json::Value::Null
    );
    // The old cookie, kept by an attacker, no longer works.
    let thief = app.browser();
    thief.jar.add_cookie_str(
        &format!("{}={cookie}", crate::helpers::SESSION),
        &app.base.parse().unwrap(),
    );
    thief
        .call("get_profile", &[])
        .await
        .assert_error(401, "Unauthenticated");
    let (status, location) = thief.page("/profile").await;
    assert_eq!(
        (status.as_u16(), location.as_deref()),
        (303, Some("/login"))
    );
}
