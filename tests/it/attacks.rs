//! The attack suite: each test is an attack that fails if its defence is removed.

use crate::helpers::{Answer, Authenticator, Backend, Browser, Creds, TestApp, spawn_app_with};
use mssp_dashboard::server::db::totp as credentials;
use mssp_dashboard::web::SECURE_SESSION_COOKIE;
use serde_json::Value;
use sqlx::Row;
use std::time::Duration;

/// Runs each case on SQLite and PostgreSQL with configuration changes.
macro_rules! attack {
    ($name:ident, $config:expr) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app =
                    $crate::helpers::spawn_app_with($crate::helpers::Backend::Sqlite, $config)
                        .await;
                $crate::helpers::within_limit(super::$name(app)).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let app =
                    $crate::helpers::spawn_app_with($crate::helpers::Backend::Postgres, $config)
                        .await;
                $crate::helpers::within_limit(super::$name(app)).await;
            }
        }
    };
}

attack!(code_brute_force_locks_the_code_step, |c| c
    .code_lock_seconds =
    2);
attack!(password_spraying_from_one_address_is_slowed, |c| c
    .address_max_failures =
    6);
attack!(password_guessing_on_one_admin_is_slowed, |c| c
    .password_max_failures =
    3);
attack!(recovery_codes_pass_once_and_tell_the_super_admins, |_| {});
attack!(a_forged_cross_site_post_is_refused, |_| {});
attack!(a_database_dump_reveals_no_totp_secret, |_| {});
attack!(every_server_function_survives_garbage, |_| {});
attack!(security_headers_on_every_page, |_| {});
attack!(request_floods_are_cut_off, |c| c.requests_per_second = 1);
attack!(changing_how_one_signs_in_ends_other_sessions, |_| {});
attack!(
    the_audit_log_records_and_exports_for_super_admins_only,
    |_| {}
);
attack!(rotating_the_key_keeps_every_secret_readable, |_| {});
attack!(
    a_password_replaced_while_it_was_checked_signs_nobody_in,
    |c| c.hash_concurrency = 1
);
attack!(a_session_ended_by_a_reset_cannot_revive_itself, |_| {});

async fn signed_in_with_2fa(app: &TestApp, label: &str) -> (Creds, Browser, Authenticator) {
    let creds = app.account(label).await;
    let browser = app.browser();
    browser.sign_in_fully(&creds, None).await;
    let authenticator = browser.enable_two_factor().await;
    (creds, browser, authenticator)
}

async fn code_brute_force_locks_the_code_step(app: TestApp) {
    let (owner, super_admin, _) = signed_in_with_2fa(&app, "owner").await;
    let (_, live) = super_admin.live().await;
    let mut live = live.unwrap();
    let mut victim = super_admin
        .add_admin(owner.account_id, "victim", "admin")
        .await;
    let victim_browser = app.browser();
    victim_browser.sign_in_first_time(&mut victim).await;
    let mut authenticator = victim_browser.enable_two_factor().await;
    victim_browser.call("sign_out", &[]).await.assert_ok();

    // The attacker knows the password and guesses codes.
    let attacker = app.browser();
    attacker.sign_in(&victim).await.assert_ok();
    for _ in 0..5 {
        let wrong = authenticator.wrong_code();
        attacker
            .call("verify_sign_in_code", &[("code", &wrong)])
            .await
            .assert_error(422, "Invalid");
    }
    let locked = attacker
        .call(
            "verify_sign_in_code",
            &[("code", &authenticator.wrong_code())],
        )
        .await;
    locked.assert_error(429, "TooManyRequests");
    // Even the right code is refused while locked, with Retry-After.
    let code = authenticator.next_code().await;
    let res = attacker
        .http
        .post(format!("{}/api/verify_sign_in_code", attacker.base))
        .form(&[("code", code.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    // The super admins are told, live.
    let mut told = false;
    while let Some(event) = live.next_within(Duration::from_secs(3)).await {
        if event["type"] == "notice"
            && event["message"]
                .as_str()
                .unwrap()
                .contains("Repeated wrong 2FA codes")
        {
            told = true;
            break;
        }
    }
    assert!(told, "no live notice of repeated wrong codes");
    let bell = super_admin.call("list_notifications", &[]).await;
    assert!(
        bell.assert_ok()["items"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Repeated wrong 2FA codes")
    );
    // The lock expires (2 s in this configuration); a correct code then works.
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let code = authenticator.next_code().await;
    let owner_browser = app.browser();
    owner_browser.sign_in(&victim).await.assert_ok();
    owner_browser
        .call("verify_sign_in_code", &[("code", &code)])
        .await
        .assert_ok();
    // The lock survives a restart: it is in the database.
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM audit_log WHERE event = 'lockout' AND target_id = $1",
    )
    .bind(victim.admin_id)
    .fetch_one(&app.ctx.db.pool)
    .await
    .unwrap();
    assert_eq!(row.get::<i64, _>("n"), 1);
}

async fn password_spraying_from_one_address_is_slowed(app: TestApp) {
    let real = app.account("sprayed").await;
    let attacker = app.browser();
    // One guess against each of many names, from one address.
    for i in 0..6 {
        attacker
            .call(
                "sign_in",
                &[
                    ("identifier", &format!("user{i}@example.com")),
                    ("password", "Summer2026!"),
                ],
            )
            .await
            .assert_error(401, "BadCredentials");
    }
    // The address is now slowed down: even a right password waits.
    let slowed = attacker.sign_in(&real).await;
    slowed.assert_error(429, "TooManyRequests");
    assert!(
        slowed.body["TooManyRequests"]["retry_after_seconds"]
            .as_u64()
            .unwrap()
            >= 1
    );
    // It is kept in the database (survives a restart).
    let base = crate::helpers::restart(&app).await;
    let after_restart = crate::helpers::browser_at(&base);
    after_restart
        .sign_in(&real)
        .await
        .assert_error(429, "TooManyRequests");
}

async fn password_guessing_on_one_admin_is_slowed(app: TestApp) {
    let victim = app.account("guessed").await;
    let attacker = app.browser();
    for _ in 0..3 {
        attacker
            .call(
                "sign_in",
                &[("identifier", &victim.email), ("password", "wrong guess")],
            )
            .await
            .assert_error(401, "BadCredentials");
    }
    attacker
        .sign_in(&victim)
        .await
        .assert_error(429, "TooManyRequests");
    // An unknown name behaves the same, so the lock tells nothing about who exists.
    for _ in 0..3 {
        attacker
            .call(
                "sign_in",
                &[
                    ("identifier", "nobody@example.com"),
                    ("password", "wrong guess"),
                ],
            )
            .await
            .assert_error(401, "BadCredentials");
    }
    attacker
        .call(
            "sign_in",
            &[
                ("identifier", "nobody@example.com"),
                ("password", "wrong guess"),
            ],
        )
        .await
        .assert_error(429, "TooManyRequests");
}

async fn recovery_codes_pass_once_and_tell_the_super_admins(app: TestApp) {
    let owner = app.account("rcowner").await;
    let super_admin = app.browser();
    super_admin.sign_in_fully(&owner, None).await;
    let mut admin = super_admin
        .add_admin(owner.account_id, "rcadmin", "admin")
        .await;
    let browser = app.browser();
    browser.sign_in_first_time(&mut admin).await;
    let setup = browser.start_setup().await;
    let mut authenticator =
        Authenticator::from_page(setup.assert_ok()["secret_grouped"].as_str().unwrap());
    let code = authenticator.next_code().await;
    let done = browser.call("confirm_totp_setup", &[("code", &code)]).await;
    let codes: Vec<String> = done.assert_ok()["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes.len(), 10);
    assert_eq!(
        browser.call("get_profile", &[]).await.assert_ok()["recovery_codes_left"],
        10
    );
    // Stored as keyed hashes: the codes themselves are nowhere in the database.
    let stored: Vec<String> =
        sqlx::query("SELECT code_mac FROM recovery_codes WHERE admin_id = $1")
            .bind(admin.admin_id)
            .fetch_all(&app.ctx.db.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get("code_mac"))
            .collect();
    assert_eq!(stored.len(), 10);
    for code in &codes {
        assert!(stored.iter().all(|s| !s.contains(&code.replace('-', ""))));
    }
    // A lost phone: a recovery code (typed in lower case, with a space) passes the code step.
    let lost = app.browser();
    lost.sign_in(&admin).await.assert_ok();
    let typed = codes[3].to_lowercase().replace('-', " ");
    assert_eq!(
        lost.call("verify_sign_in_code", &[("code", &typed)])
            .await
            .assert_ok(),
        "/"
    );
    assert_eq!(
        lost.call("get_profile", &[]).await.assert_ok()["recovery_codes_left"],
        9
    );
    // The super admin and the admin are told.
    let bell = super_admin.call("list_notifications", &[]).await;
    assert!(
        bell.assert_ok()["items"][0]["message"]
            .as_str()
            .unwrap()
            .contains("recovery code")
    );
    let own_bell = lost.call("list_notifications", &[]).await;
    assert!(
        own_bell.assert_ok()["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["message"]
                .as_str()
                .unwrap()
                .contains("recovery code was used"))
    );
    // Replayed: refused.
    let again = app.browser();
    again.sign_in(&admin).await.assert_ok();
    let replay = again
        .call("verify_sign_in_code", &[("code", &codes[3])])
        .await;
    replay.assert_error(422, "Invalid");
    assert!(
        replay.body["Invalid"]["message"]
            .as_str()
            .unwrap()
            .contains("recovery code")
    );
    // New codes need a current code, and replace the old ones.
    lost.call(
        "regenerate_recovery_codes",
        &[("code", &authenticator.wrong_code())],
    )
    .await
    .assert_error(422, "Invalid");
    let code = authenticator.next_code().await;
    let fresh = lost
        .call("regenerate_recovery_codes", &[("code", &code)])
        .await;
    assert_eq!(fresh.assert_ok().as_array().unwrap().len(), 10);
    again
        .call("verify_sign_in_code", &[("code", &codes[5])])
        .await
        .assert_error(422, "Invalid");
    // A reset removes them with the credential.
    assert_eq!(
        lost.call("get_profile", &[]).await.assert_ok()["recovery_codes_left"],
        10
    );
}

async fn a_forged_cross_site_post_is_refused(app: TestApp) {
    let (creds, browser, _) = signed_in_with_2fa(&app, "csrf").await;
    let _ = creds;
    // The victim's browser, carrying their cookie, is made to post from another site.
    for (header, value) in [
        ("origin", "https://evil.example"),
        ("referer", "https://evil.example/page"),
        ("origin", "null"),
    ] {
        let res = browser
            .http
            .post(format!("{}/api/disable_totp", browser.base))
            .header(header, value)
            .form(&[("code", "123456")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{header}: {value}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["Forbidden"], "Cross-site request refused.");
    }
    let res = browser
        .http
        .post(format!("{}/api/sign_out", browser.base))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // Still signed in and 2FA still on.
    assert_eq!(
        browser.call("get_profile", &[]).await.assert_ok()["totp_enabled"],
        true
    );
    // From our own pages it works.
    let res = browser
        .http
        .post(format!("{}/api/get_profile", browser.base))
        .header("origin", &browser.base)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

/// Every text column of every table, as one string.
async fn dump(app: &TestApp) -> String {
    let mut out = String::new();
    for table in [
        "accounts",
        "admins",
        "totp_credentials",
        "sessions",
        "recovery_codes",
        "audit_log",
        "notifications",
        "reset_requests",
    ] {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT * FROM {table}")))
            .fetch_all(&app.ctx.db.pool)
            .await
            .unwrap();
        for row in rows {
            for i in 0..row.len() {
                if let Ok(Some(text)) = row.try_get::<Option<String>, _>(i) {
                    out.push_str(&text);
                    out.push('\n');
                }
            }
        }
    }
    out
}

async fn a_database_dump_reveals_no_totp_secret(app: TestApp) {
    let (creds, _, authenticator) = signed_in_with_2fa(&app, "dump").await;
    // A second setup in progress (another admin) keeps its secret in the session.
    let other = app.account("dumppending").await;
    let pending = app.browser();
    pending.sign_in_fully(&other, None).await;
    let setup = pending.start_setup().await;
    let pending_secret: String = setup.assert_ok()["secret_grouped"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .collect();
    let dumped = dump(&app).await;
    let secret_b32 = totp_rs::Secret::from(authenticator.secret.clone()).to_base32();
    for needle in [
        secret_b32.clone(),
        secret_b32.to_lowercase(),
        hex_of(&authenticator.secret),
        pending_secret.clone(),
        pending_secret.to_lowercase(),
    ] {
        assert!(!dumped.contains(&needle), "the dump contains a secret");
    }
    // Yet the app still reads it: the secret decrypts to the one the page showed.
    let stored = credentials::find(&app.ctx.db, &app.ctx.keyring, creds.admin_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.secret.bytes(), authenticator.secret.as_slice());
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn every_server_function_survives_garbage(app: TestApp) {
    let (_, browser, _) = signed_in_with_2fa(&app, "garbage").await;
    let anonymous = app.browser();
    let ten_mb = vec![b'a'; 10 * 1024 * 1024];
    let mut random = Vec::with_capacity(4096);
    let mut x: u32 = 0x9e37_79b9;
    for _ in 0..4096 {
        // xorshift: arbitrary bytes, the same every run.
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        random.push((x & 0xff) as u8);
    }
    let paths: Vec<String> = server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.trim_start_matches("/api/").to_string())
        .collect();
    assert!(paths.len() > 20);
    for name in &paths {
        for who in [&browser, &anonymous] {
            // Signing out would end the session this test checks at the end.
            if name == "sign_out" && std::ptr::eq(who, &browser) {
                continue;
            }
            for body in [random.clone(), b"=&=&%%%&a=%FF%FE".to_vec(), Vec::new()] {
                let answer = who
                    .call_raw(name, "application/x-www-form-urlencoded", body)
                    .await;
                assert!(
                    answer.status.is_client_error()
                        || (answer.status.is_success()
                            && [
                                "sign_out",
                                "current_admin",
                                "list_notifications",
                                "get_profile",
                                "list_sessions",
                                "count_pending_resets",
                                "end_other_sessions",
                                "mark_notifications_read",
                                "start_totp_setup",
                                "get_account_settings",
                                "list_remembered_browsers"
                            ]
                            .contains(&name.as_str())),
                    "{name}: {} {}",
                    answer.status,
                    answer.body
                );
            }
            let sent = who
                .http
                .post(format!("{}/api/{name}", who.base))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(ten_mb.clone())
                .send()
                .await;
            if let Ok(res) = sent {
                assert_eq!(res.status(), 413, "{name}");
                // The unread rest of the body makes the connection useless: the client is
                // told so and does not reuse it (it did, and broke the next request).
                assert_eq!(res.headers()["connection"], "close", "{name}");
            }
        }
    }
    // The app is still up and the session still valid.
    browser.call("get_profile", &[]).await.assert_ok();
}

async fn security_headers_on_every_page(app: TestApp) {
    let (_, browser, _) = signed_in_with_2fa(&app, "headers").await;
    let anonymous = app.browser();
    for (path, who) in [
        ("/", &browser),
        ("/profile", &browser),
        ("/admin/admins", &browser),
        ("/login", &anonymous),
    ] {
        let res = who
            .http
            .get(format!("{}{path}", who.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let headers = res.headers().clone();
        let csp = headers["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(csp.contains("script-src 'nonce-"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "same-origin");
        assert_eq!(headers["cache-control"], "no-store", "{path}");
        // Every inline script carries this response's nonce.
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .unwrap()
            .split('\'')
            .next()
            .unwrap()
            .to_string();
        let html = res.text().await.unwrap();
        let scripts = html.matches("<script").count();
        let with_nonce = html.matches(&format!("nonce=\"{nonce}\"")).count();
        assert!(
            scripts > 0 && with_nonce >= scripts,
            "{path}: {scripts} scripts, {with_nonce} with the nonce"
        );
    }
    // Two responses, two nonces.
    let a = browser
        .http
        .get(format!("{}/login", browser.base))
        .send()
        .await
        .unwrap();
    let b = browser
        .http
        .get(format!("{}/login", browser.base))
        .send()
        .await
        .unwrap();
    assert_ne!(
        a.headers()["content-security-policy"],
        b.headers()["content-security-policy"]
    );
    // Over https: HSTS and a __Host- cookie.
    let secure = spawn_app_with(Backend::Sqlite, |c| c.cookie_secure = true).await;
    let creds = secure.account("secure").await;
    let res = reqwest::Client::new()
        .post(format!("{}/api/sign_in", secure.base))
        .form(&[
            ("identifier", creds.email.as_str()),
            ("password", creds.password.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        res.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );
    let cookies: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    // The session, and the known-browser token of the completed sign-in: both __Host-.
    for name in [SECURE_SESSION_COOKIE, "__Host-mssp_device"] {
        let cookie = cookies
            .iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} in {cookies:?}"));
        assert!(
            cookie.contains("Secure")
                && cookie.contains("HttpOnly")
                && cookie.contains("Path=/")
                && !cookie.contains("Domain"),
            "{cookie}"
        );
    }
}

async fn request_floods_are_cut_off(app: TestApp) {
    let browser = app.browser();
    let mut limited = None;
    for _ in 0..40 {
        let answer = browser.call("current_admin", &[]).await;
        if answer.status == 429 {
            limited = Some(answer);
            break;
        }
    }
    let limited = limited.expect("40 requests at once from one address were all served");
    assert!(
        limited.body["TooManyRequests"]["retry_after_seconds"]
            .as_u64()
            .unwrap()
            >= 1
    );
    // The load balancer's probes from the same address still get through: a flood does not
    // take the instance out of service.
    for path in ["/healthz", "/readyz"] {
        let res = browser
            .http
            .get(format!("{}{path}", browser.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
    }
}

async fn changing_how_one_signs_in_ends_other_sessions(app: TestApp) {
    let creds = app.account("others").await;
    let here = app.browser();
    here.sign_in_fully(&creds, None).await;
    let elsewhere = app.browser();
    elsewhere.sign_in_fully(&creds, None).await;
    let sessions = here.call("list_sessions", &[]).await;
    assert_eq!(sessions.assert_ok().as_array().unwrap().len(), 2);
    assert_eq!(
        sessions
            .body
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["current"] == true)
            .count(),
        1
    );
    // Enabling 2FA ends the other session.
    let mut authenticator = here.enable_two_factor().await;
    elsewhere
        .call("get_profile", &[])
        .await
        .assert_error(401, "Unauthenticated");
    here.call("get_profile", &[]).await.assert_ok();
    // So does disabling it.
    let third = app.browser();
    third.sign_in_fully(&creds, Some(&mut authenticator)).await;
    let code = authenticator.next_code().await;
    here.call("disable_totp", &[("code", &code)])
        .await
        .assert_ok();
    third
        .call("get_profile", &[])
        .await
        .assert_error(401, "Unauthenticated");
    // Signing one session out from the profile, and all others.
    let a = app.browser();
    a.sign_in_fully(&creds, None).await;
    let b = app.browser();
    b.sign_in_fully(&creds, None).await;
    let list = here.call("list_sessions", &[]).await;
    let other = list
        .assert_ok()
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap()["handle"]
        .as_str()
        .unwrap()
        .to_string();
    here.call("end_session", &[("handle", &other)])
        .await
        .assert_ok();
    here.call("end_session", &[("handle", &other)])
        .await
        .assert_error(404, "NotFound");
    here.call("end_session", &[("handle", "'; DROP TABLE sessions; --")])
        .await
        .assert_error(422, "Invalid");
    assert_eq!(here.call("end_other_sessions", &[]).await.assert_ok(), 1);
    for gone in [&a, &b] {
        gone.call("get_profile", &[])
            .await
            .assert_error(401, "Unauthenticated");
    }
    // Another admin's session cannot be ended with its handle.
    let stranger = app.account("stranger").await;
    let theirs = app.browser();
    theirs.sign_in_fully(&stranger, None).await;
    let their_handle = theirs.call("list_sessions", &[]).await.assert_ok()[0]["handle"]
        .as_str()
        .unwrap()
        .to_string();
    here.call("end_session", &[("handle", &their_handle)])
        .await
        .assert_error(404, "NotFound");
    theirs.call("get_profile", &[]).await.assert_ok();
}

async fn the_audit_log_records_and_exports_for_super_admins_only(app: TestApp) {
    let (owner, super_admin, _) = signed_in_with_2fa(&app, "audit").await;
    let mut admin = super_admin
        .add_admin(owner.account_id, "audited", "admin")
        .await;
    let browser = app.browser();
    browser.sign_in_first_time(&mut admin).await;
    // (with 2FA, so that forcing it below leaves this admin signed in)
    browser.enable_two_factor().await;
    browser
        .call(
            "sign_in",
            &[("identifier", &admin.email), ("password", "wrong")],
        )
        .await
        .assert_error(401, "BadCredentials");
    super_admin
        .call("save_account_settings", &[("force_2fa", "true")])
        .await
        .assert_ok();
    let log = audit_log(&super_admin, "", "", "").await;
    let events: Vec<String> = log.assert_ok()["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect();
    for expected in [
        "2fa_enabled",
        "admin_created",
        "password_changed",
        "sign_in_failed",
        "sign_in_succeeded",
        "enforcement_changed",
    ] {
        assert!(
            events.iter().any(|e| e == expected),
            "{expected} missing from {events:?}"
        );
    }
    // Filters: by admin, by event, by date.
    let by_admin = audit_log(
        &super_admin,
        &admin.admin_id.to_string(),
        "sign_in_failed",
        "",
    )
    .await;
    let entries = by_admin.assert_ok()["entries"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["address"], "127.0.0.1");
    let future = audit_log(&super_admin, "", "", "2999-01-01").await;
    assert_eq!(future.assert_ok()["total"], 0);
    audit_log(&super_admin, "", "", "last week")
        .await
        .assert_error(422, "Invalid");
    // CSV for the super admin; refused to others.
    let csv = super_admin
        .http
        .get(format!(
            "{}/admin/audit.csv?event=admin_created",
            super_admin.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = csv.text().await.unwrap();
    assert!(text.starts_with("time_utc,event,actor,target,detail,client_address"));
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.contains(&admin.email));
    let plain = browser
        .http
        .get(format!("{}/admin/audit.csv", browser.base))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 403);
    let anonymous = app
        .browser()
        .http
        .get(format!("{}/admin/audit.csv", app.base))
        .send()
        .await
        .unwrap();
    assert!(anonymous.status().is_redirection() || anonymous.status() == 401);
    // Another account sees none of it.
    let stranger = app.account("auditstranger").await;
    let theirs = app.browser();
    theirs.sign_in_fully(&stranger, None).await;
    let their_log = audit_log(&theirs, &admin.admin_id.to_string(), "", "").await;
    assert_eq!(their_log.assert_ok()["total"], 0);
}

async fn rotating_the_key_keeps_every_secret_readable(app: TestApp) {
    let (creds, _, mut authenticator) = signed_in_with_2fa(&app, "rotate").await;
    let before: String = sqlx::query("SELECT key_id FROM totp_credentials WHERE admin_id = $1")
        .bind(creds.admin_id)
        .fetch_one(&app.ctx.db.pool)
        .await
        .unwrap()
        .get("key_id");
    let new_id = app.ctx.keyring.rotate().unwrap();
    let resealed = credentials::reseal_all(&app.ctx.db, &app.ctx.keyring)
        .await
        .unwrap();
    assert_eq!(resealed, 1);
    let after: String = sqlx::query("SELECT key_id FROM totp_credentials WHERE admin_id = $1")
        .bind(creds.admin_id)
        .fetch_one(&app.ctx.db.pool)
        .await
        .unwrap()
        .get("key_id");
    assert_ne!(before, after);
    assert_eq!(after, new_id);
    // Sign-in with a code still works, also on a freshly started instance reading the file.
    let base = crate::helpers::restart(&app).await;
    let browser = crate::helpers::browser_at(&base);
    browser
        .sign_in_fully(&creds, Some(&mut authenticator))
        .await;
}

/// Page 1 of the audit log as `browser` sees it, filtered by admin id, event and start date
/// ("" for any).
async fn audit_log(browser: &Browser, admin: &str, event: &str, from: &str) -> Answer {
    browser
        .call(
            "list_audit_log",
            &[
                ("admin", admin),
                ("event", event),
                ("from", from),
                ("to", ""),
                ("page", "1"),
            ],
        )
        .await
}

/// Someone who knows the old password signs in just as the owner replaces it: the attempt
/// whose hash ran across the change is refused (the checked password may be the replaced one),
/// and no session of the old password is left. One hash at a time: the attacker's attempt
/// waits behind another admin's, and the new password is stored while it waits (as a change
/// from the profile commits it: here written directly, since that change would itself wait for
/// the one hash place).
async fn a_password_replaced_while_it_was_checked_signs_nobody_in(app: TestApp) {
    let victim = app.account("replaced").await;
    let other = app.account("ahead").await;
    let replaced = mssp_dashboard::server::password::Passwords::new(1, 1)
        .hash(
            mssp_dashboard::server::password::Tenant::Nobody,
            "a brand new passphrase 42",
        )
        .await
        .unwrap();
    // A round is lost when the other admin's hash was done before the attacker's attempt
    // reached the queue (a loaded machine): that attempt never waited, and signed in with the
    // password as it was. Then the race is run again, with fresh browsers.
    for _ in 0..10 {
        let ahead = app.browser();
        let attacker = app.browser();
        let (first, (attempt, changed)) = tokio::join!(ahead.sign_in(&other), async {
            // Behind the other admin's hash.
            tokio::time::sleep(Duration::from_millis(1)).await;
            let attempt = attacker.sign_in(&victim);
            tokio::pin!(attempt);
            let queued = async {
                while app.ctx.passwords.waiting() == 0 {
                    tokio::time::sleep(Duration::from_micros(200)).await;
                }
            };
            tokio::select! {
                answer = &mut attempt => (answer, false),
                () = queued => {
                    sqlx::query("UPDATE admins SET password_hash = $1 WHERE id = $2")
                        .bind(replaced.as_stored())
                        .bind(victim.admin_id)
                        .execute(&app.ctx.db.pool)
                        .await
                        .unwrap();
                    (attempt.await, true)
                }
            }
        });
        first.assert_ok();
        if !changed {
            continue;
        }
        attempt.assert_error(401, "BadCredentials");
        attacker
            .call("get_profile", &[])
            .await
            .assert_error(401, "Unauthenticated");
        return;
    }
    panic!("in 10 rounds the attacker's attempt never waited behind the other hash");
}

/// A session whose admin was reset while one of its requests ran cannot bring itself back:
/// that request's "sign out other sessions" (or new password) compares the generation it saw
/// and ends nothing, instead of moving the generation on past the reset. And the session kept
/// by "sign out other sessions" stays signed in even when a request of it that started before
/// writes its older copy back.
async fn a_session_ended_by_a_reset_cannot_revive_itself(app: TestApp) {
    use mssp_dashboard::server::db::sessions;
    let creds = app.account("revive").await;
    let stale = app.browser();
    stale.sign_in_fully(&creds, None).await;
    let id: tower_sessions::session::Id = stale.session_cookie().unwrap().parse().unwrap();
    let generation = |app: &TestApp| {
        let pool = app.ctx.db.pool.clone();
        async move {
            sqlx::query("SELECT session_generation FROM admins WHERE id = $1")
                .bind(creds.admin_id)
                .fetch_one(&pool)
                .await
                .unwrap()
                .get::<i64, _>("session_generation")
        }
    };
    let seen = generation(&app).await;
    // The reset commits while the session's request is past its check...
    let mut tx = app.ctx.db.pool.begin().await.unwrap();
    sessions::end_for_admin(&mut tx, creds.admin_id)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(generation(&app).await, seen + 1);
    // ...and that request then ends the admin's other sessions, keeping its own: which is no
    // longer of the admin's generation, so every session is ended instead.
    assert_eq!(
        sessions::end_for_admin_except(&app.ctx.db, creds.admin_id, Some(&id), seen)
            .await
            .unwrap(),
        None
    );
    let stored = app.stored_sessions(creds.admin_id).await;
    assert_eq!(stored, 0, "no session of the admin is kept");
    stale
        .call("get_profile", &[])
        .await
        .assert_error(401, "Unauthenticated");

    // The kept session: its stored copy from before "sign out other sessions", written back by
    // a request that was still running, does not sign it out.
    let kept = app.browser();
    kept.sign_in_fully(&creds, None).await;
    let other = app.browser();
    other.sign_in_fully(&creds, None).await;
    let before: String = sqlx::query("SELECT data FROM sessions WHERE id_hash = $1")
        .bind(sessions::id_hash(
            &kept.session_cookie().unwrap().parse().unwrap(),
        ))
        .fetch_one(&app.ctx.db.pool)
        .await
        .unwrap()
        .get("data");
    assert_eq!(kept.call("end_other_sessions", &[]).await.assert_ok(), 1);
    sqlx::query("UPDATE sessions SET data = $1 WHERE id_hash = $2")
        .bind(&before)
        .bind(sessions::id_hash(
            &kept.session_cookie().unwrap().parse().unwrap(),
        ))
        .execute(&app.ctx.db.pool)
        .await
        .unwrap();
    kept.call("get_profile", &[]).await.assert_ok();
    other
        .call("get_profile", &[])
        .await
        .assert_error(401, "Unauthenticated");
}
