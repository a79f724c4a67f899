//! Administration: settings, Admin Management, enforcement, forced enrolment, isolation.

use crate::helpers::{Authenticator, TestApp, admin_calls, ids};
use crate::on_both_backends;
use mssp_dashboard::server::db::totp as credentials;
use serde_json::Value;

on_both_backends!(
    only_a_fully_signed_in_super_admin_may_administer,
    other_accounts_are_invisible_and_untouchable,
    force_two_factor_sends_admins_to_setup_after_their_new_password,
    enforce_2fa_per_admin_overrides_the_account,
    add_admin_refuses_bad_input_and_duplicates,
    edits_are_checked_and_the_last_super_admin_stays,
    two_super_admins_cannot_demote_each_other_at_once,
    deactivating_an_admin_ends_their_sessions,
    the_table_searches_sorts_and_pages,
    next_and_previous_seek_to_the_pages_that_numbers_count_to,
    password_change_needs_the_current_one_and_ends_other_sessions,
    the_kept_counts_agree_with_a_full_count_after_every_change,
);

fn names(table: &Value) -> Vec<String> {
    table["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect()
}

async fn only_a_fully_signed_in_super_admin_may_administer(app: TestApp) {
    let owner = app.account("owner").await;
    let super_admin = app.browser();
    super_admin.sign_in_fully(&owner, None).await;
    let mut admin = super_admin
        .add_admin(owner.account_id, "plain", "admin")
        .await;
    let mut sub = super_admin
        .add_admin(owner.account_id, "sub", "sub_admin")
        .await;
    let target = super_admin
        .add_admin(owner.account_id, "target", "admin")
        .await;
    // An admin and a sub-admin, fully signed in: 403 with a clear message, on pages too.
    for creds in [&mut admin, &mut sub] {
        let browser = app.browser();
        assert_eq!(browser.sign_in_first_time(creds).await, "/");
        for (name, args) in admin_calls(target.admin_id) {
            let answer = browser.call_owned(name, &args).await;
            answer.assert_error(403, "Forbidden");
            assert!(
                answer.body["Forbidden"]
                    .as_str()
                    .unwrap()
                    .contains("super admin"),
                "{name}"
            );
        }
        for path in [
            "/admin/admins",
            "/admin/settings",
            &format!("/admin/admins/{}", owner.admin_id),
        ] {
            let (status, _) = browser.page(path).await;
            assert_eq!(status, 403, "{path}");
        }
        // The entry point leads to Admin Management, which refuses.
        let (status, location) = browser.page("/admin").await;
        assert_eq!(
            (status.as_u16(), location.as_deref()),
            (303, Some("/admin/admins"))
        );
    }
    // Signed out: 401.
    let anonymous = app.browser();
    for (name, args) in admin_calls(target.admin_id) {
        anonymous
            .call_owned(name, &args)
            .await
            .assert_error(401, "Unauthenticated");
    }
    // The super admin with the code step pending: 401.
    let mut authenticator = super_admin.enable_two_factor().await;
    let pending = app.browser();
    assert_eq!(pending.sign_in(&owner).await.assert_ok(), "/login/code");
    for (name, args) in admin_calls(target.admin_id) {
        pending
            .call_owned(name, &args)
            .await
            .assert_error(401, "SecondFactorRequired");
    }
    // None of the refused calls changed anything.
    let settings = super_admin.call("get_account_settings", &[]).await;
    assert_eq!(settings.assert_ok()["force_2fa"], false);
    let detail = super_admin
        .call("get_admin", &[("id", &target.admin_id.to_string())])
        .await;
    assert_eq!(
        detail.assert_ok()["row"]["name"],
        format!("Admin {}", target.username)
    );
    assert_eq!(detail.body["enforce_2fa"], Value::Null);
    let table = super_admin
        .call(
            "list_admins",
            &[("q", ""), ("sort", "name"), ("dir", "asc"), ("page", "1")],
        )
        .await;
    assert_eq!(table.assert_ok()["total"], 4);
    // Past the code step, the super admin may call each one.
    let code = authenticator.next_code().await;
    pending
        .call("verify_sign_in_code", &[("code", &code)])
        .await
        .assert_ok();
    for (name, args) in admin_calls(target.admin_id) {
        pending.call_owned(name, &args).await.assert_ok();
    }
    let detail = super_admin
        .call("get_admin", &[("id", &target.admin_id.to_string())])
        .await;
    assert_eq!(detail.assert_ok()["row"]["name"], "Renamed");
    assert_eq!(detail.body["enforce_2fa"], true);
}

async fn other_accounts_are_invisible_and_untouchable(app: TestApp) {
    let ours = app.account("ours").await;
    let theirs = app.account("theirs").await;
    let us = app.browser();
    us.sign_in_fully(&ours, None).await;
    let them = app.browser();
    them.sign_in_fully(&theirs, None).await;
    let their_admin = them
        .add_admin(theirs.account_id, "theiradmin", "admin")
        .await;

    // Every id-taking function answers for a foreign id exactly as for an id that does not exist.
    for foreign in [theirs.admin_id, their_admin.admin_id] {
        let get_foreign = us.call("get_admin", &[("id", &foreign.to_string())]).await;
        let get_missing = us.call("get_admin", &[("id", "999999999")]).await;
        get_foreign.assert_error(404, "NotFound");
        assert_eq!(get_foreign.body, get_missing.body);
        let update = |id: String| {
            vec![
                ("id", id),
                ("name", "Hijacked".to_string()),
                ("role", "admin".to_string()),
                ("active", "false".to_string()),
                ("enforce_2fa", "on".to_string()),
            ]
        };
        let upd_foreign = us
            .call_owned("update_admin", &update(foreign.to_string()))
            .await;
        let upd_missing = us
            .call_owned("update_admin", &update("999999999".into()))
            .await;
        upd_foreign.assert_error(404, "NotFound");
        assert_eq!(upd_foreign.body, upd_missing.body);
    }
    // Their admins are untouched and still sign in.
    let detail = them
        .call("get_admin", &[("id", &their_admin.admin_id.to_string())])
        .await;
    assert_eq!(
        detail.assert_ok()["row"]["name"],
        format!("Admin {}", their_admin.username)
    );
    assert_eq!(detail.body["row"]["active"], true);
    assert_eq!(detail.body["enforce_2fa"], Value::Null);
    // Lists and settings are per account.
    let our_list = us
        .call(
            "list_admins",
            &[("q", ""), ("sort", "name"), ("dir", "asc"), ("page", "1")],
        )
        .await;
    assert_eq!(our_list.assert_ok()["total"], 1);
    let search = us
        .call(
            "list_admins",
            &[
                ("q", &their_admin.username),
                ("sort", "name"),
                ("dir", "asc"),
                ("page", "1"),
            ],
        )
        .await;
    assert_eq!(search.assert_ok()["total"], 0);
    us.call("save_account_settings", &[("force_2fa", "true")])
        .await
        .assert_ok();
    assert_eq!(
        them.call("get_account_settings", &[]).await.assert_ok()["force_2fa"],
        false
    );
}

async fn force_two_factor_sends_admins_to_setup_after_their_new_password(app: TestApp) {
    let owner = app.account("force").await;
    let super_admin = app.browser();
    super_admin.sign_in_fully(&owner, None).await;
    let mut admin = super_admin
        .add_admin(owner.account_id, "forced", "admin")
        .await;
    let saved = super_admin
        .call("save_account_settings", &[("force_2fa", "true")])
        .await;
    assert_eq!(saved.assert_ok()["force_2fa"], true);

    let browser = app.browser();
    // First the new password, then the setup.
    assert_eq!(
        browser.sign_in_first_time(&mut admin).await,
        "/login/setup-2fa"
    );
    // Until the setup is done nothing else is granted.
    for (name, args) in crate::helpers::PROTECTED_CALLS {
        // The setup itself: the app, or a security key.
        if matches!(
            *name,
            "start_totp_setup"
                | "confirm_totp_setup"
                | "start_key_registration"
                | "finish_key_registration"
        ) {
            continue;
        }
        browser
            .call(name, args)
            .await
            .assert_error(403, "TwoFactorSetupRequired");
    }
    for path in ["/", "/profile", "/admin"] {
        let (status, location) = browser.page(path).await;
        assert_eq!(
            (status.as_u16(), location.as_deref()),
            (303, Some("/login/setup-2fa")),
            "{path}"
        );
    }
    assert_eq!(
        browser.call("current_admin", &[]).await.assert_ok(),
        &Value::Null
    );
    // The setup completes the sign-in.
    let setup = browser.start_setup().await;
    let mut authenticator =
        Authenticator::from_page(setup.assert_ok()["secret_grouped"].as_str().unwrap());
    let code = authenticator.next_code().await;
    let done = browser.call("confirm_totp_setup", &[("code", &code)]).await;
    assert_eq!(done.assert_ok()["next"], "/");
    assert_eq!(done.body["recovery_codes"].as_array().unwrap().len(), 10);
    assert_eq!(
        browser.call("current_admin", &[]).await.assert_ok()["email"],
        admin.email.as_str()
    );
    // Enforced: cannot be turned off.
    let code = authenticator.next_code().await;
    let refused = browser.call("disable_totp", &[("code", &code)]).await;
    refused.assert_error(403, "Forbidden");
    assert!(
        refused.body["Forbidden"]
            .as_str()
            .unwrap()
            .contains("Force two-factor authentication")
    );
    // The super admin, also without 2FA, is sent to the setup at the next sign-in too...
    let again = app.browser();
    assert_eq!(again.sign_in(&owner).await.assert_ok(), "/login/setup-2fa");
    // ...and their open session at its next request.
    super_admin
        .call(
            "list_admins",
            &[("q", ""), ("sort", "name"), ("dir", "asc"), ("page", "1")],
        )
        .await
        .assert_error(403, "TwoFactorSetupRequired");
    super_admin.enable_two_factor().await;
    // The table shows it.
    let table = super_admin
        .call(
            "list_admins",
            &[("q", ""), ("sort", "name"), ("dir", "asc"), ("page", "1")],
        )
        .await;
    let table = table.assert_ok();
    assert_eq!(table["overview"]["active_admins"], 2);
    assert_eq!(table["overview"]["two_factor_active"], 2);
    assert_eq!(table["overview"]["enforced_not_set_up"], 0);
    let row = table["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == admin.admin_id)
        .unwrap();
    assert_eq!(row["two_factor_active"], true);
    assert_eq!(row["enforcement"]["enforced"], true);
    assert_eq!(row["enforcement"]["source"], "Account");
}

async fn enforce_2fa_per_admin_overrides_the_account(app: TestApp) {
    let owner = app.account("peradmin").await;
    let super_admin = app.browser();
    super_admin.sign_in_fully(&owner, None).await;
    // Forcing 2FA reaches the super admin's own session: they have it.
    super_admin.enable_two_factor().await;
    let mut exempt = super_admin
        .add_admin(owner.account_id, "exempt", "admin")
        .await;
    let mut required = super_admin
        .add_admin(owner.account_id, "required", "sub_admin")
        .await;
    super_admin
        .call("save_account_settings", &[("force_2fa", "true")])
        .await
        .assert_ok();
    let set = |id: i64, mode: &str| {
        vec![
            ("id", id.to_string()),
            ("name", "Kept Name".to_string()),
            ("role", "admin".to_string()),
            ("active", "true".to_string()),
            ("enforce_2fa", mode.to_string()),
        ]
    };
    super_admin
        .call_owned("update_admin", &set(exempt.admin_id, "off"))
        .await
        .assert_ok();
    let detail = super_admin
        .call("get_admin", &[("id", &exempt.admin_id.to_string())])
        .await;
    assert_eq!(detail.assert_ok()["enforce_2fa"], false);
    assert_eq!(
        detail.body["row"]["enforcement"],
        serde_json::json!({"enforced": false, "source": "Admin", "deadline": null})
    );
    // Exempt: signs in without setup although the account forces 2FA.
    assert_eq!(app.browser().sign_in_first_time(&mut exempt).await, "/");
    // Back to the account setting: enforced again.
    super_admin
        .call_owned("update_admin", &set(exempt.admin_id, "account"))
        .await
        .assert_ok();
    assert_eq!(
        app.browser().sign_in(&exempt).await.assert_ok(),
        "/login/setup-2fa"
    );
    // Account off, admin on: enforced for this admin only.
    super_admin
        .call("save_account_settings", &[("force_2fa", "false")])
        .await
        .assert_ok();
    super_admin
        .call_owned("update_admin", &set(required.admin_id, "on"))
        .await
        .assert_ok();
    assert_eq!(
        app.browser().sign_in_first_time(&mut required).await,
        "/login/setup-2fa"
    );
    assert_eq!(app.browser().sign_in(&exempt).await.assert_ok(), "/");
    // Bad values change nothing.
    let bad = super_admin
        .call_owned("update_admin", &set(required.admin_id, "maybe"))
        .await;
    bad.assert_error(422, "Invalid");
    assert_eq!(bad.body["Invalid"]["field"], "enforce_2fa");
    let detail = super_admin
        .call("get_admin", &[("id", &required.admin_id.to_string())])
        .await;
    assert_eq!(detail.assert_ok()["enforce_2fa"], true);
    assert_eq!(detail.body["row"]["role"], "admin");
}

async fn add_admin_refuses_bad_input_and_duplicates(app: TestApp) {
    let owner = app.account("addbad").await;
    let super_admin = app.browser();
    super_admin.sign_in_fully(&owner, None).await;
    let existing = super_admin
        .add_admin(owner.account_id, "exists", "admin")
        .await;
    let form = |email: &str, username: &str, name: &str, role: &str, password: &str| {
        vec![
            ("email", email.to_string()),
            ("username", username.to_string()),
            ("name", name.to_string()),
            ("role", role.to_string()),
            ("password", password.to_string()),
        ]
    };
    let ok_pw = "initial password 1";
    let cases = [
        (
            form(&existing.email, "fresh1", "N", "admin", ok_pw),
            "email",
        ),
        (
            form(
                &existing.email.to_uppercase(),
                "fresh2",
                "N",
                "admin",
                ok_pw,
            ),
            "email",
        ),
        (
            form(
                "fresh3@example.com",
                &existing.username,
                "N",
                "admin",
                ok_pw,
            ),
            "username",
        ),
        (
            form("fresh4@example.com", "fresh4", "N", "super_admin", ok_pw),
            "role",
        ),
        (
            form("fresh5@example.com", "fresh5", "N", "root", ok_pw),
            "role",
        ),
        (form("not-an-email", "fresh6", "N", "admin", ok_pw), "email"),
        (
            form("fresh7@example.com", "fresh7", "   ", "admin", ok_pw),
            "name",
        ),
        (
            form(
                "fresh8@example.com",
                "fresh8",
                &"n".repeat(101),
                "admin",
                ok_pw,
            ),
            "name",
        ),
        (
            form("fresh9@example.com", "fresh9", "N", "admin", "short"),
            "password",
        ),
        (
            form(
                "fresh10@example.com",
                "no spaces allowed",
                "N",
                "admin",
                ok_pw,
            ),
            "username",
        ),
    ];
    for (args, field) in cases {
        let answer = super_admin.call_owned("add_admin", &args).await;
        answer.assert_error(422, "Invalid");
        assert_eq!(answer.body["Invalid"]["field"], field, "{args:?}");
    }
    // A 10 MB name never gets read.
    let huge = form(
        "fresh11@example.com",
        "fresh11",
        &"n".repeat(10 * 1024 * 1024),
        "admin",
        ok_pw,
    );
    let form_body: Vec<(&str, &str)> = huge.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let sent = super_admin
        .http
        .post(format!("{}/api/add_admin", super_admin.base))
        .form(&form_body)
        .send()
        .await;
    if let Ok(res) = sent {
        assert_eq!(res.status(), 413);
    }
    // Nothing was created.
    let table = super_admin
        .call(
            "list_admins",
            &[("q", ""), ("sort", "name"), ("dir", "asc"), ("page", "1")],
        )
        .await;
    assert_eq!(table.assert_ok()["total"], 2);
}

async fn edits_are_checked_and_the_last_super_admin_stays(app: TestApp) {
    let owner = app.account("edit").await;
    let super_admin = app.browser();
    super_admin.sign_in_fully(&owner, None).await;
    let admin = super_admin
        .add_admin(owner.account_id, "edited", "admin")
        .await;
    let edit = |id: i64, name: &str, role: &str, active: &str| {
        vec![
            ("id", id.to_string()),
            ("name", name.to_string()),
            ("role", role.to_string()),
            ("active", active.to_string()),
            ("enforce_2fa", "account".to_string()),
        ]
    };
    // Promotion through the form: refused.
    let promote = super_admin
        .call_owned(
            "update_admin",
            &edit(admin.admin_id, "X", "super_admin", "true"),
        )
        .await;
    promote.assert_error(422, "Invalid");
    assert_eq!(promote.body["Invalid"]["field"], "role");
    // Bad names and roles.
    super_admin
        .call_owned("update_admin", &edit(admin.admin_id, "", "admin", "true"))
        .await
        .assert_error(422, "Invalid");
    super_admin
        .call_owned("update_admin", &edit(admin.admin_id, "X", "owner", "true"))
        .await
        .assert_error(422, "Invalid");
    let bad_active = super_admin
        .call_owned("update_admin", &edit(admin.admin_id, "X", "admin", "maybe"))
        .await;
    bad_active.assert_error(400, "BadRequest");
    // The only super admin cannot demote or deactivate themselves.
    for (role, active) in [
        ("admin", "true"),
        ("sub_admin", "true"),
        ("super_admin", "false"),
    ] {
        let answer = super_admin
            .call_owned("update_admin", &edit(owner.admin_id, "Me", role, active))
            .await;
        answer.assert_error(409, "Conflict");
        assert!(
            answer.body["Conflict"]
                .as_str()
                .unwrap()
                .contains("without an active super admin")
        );
    }
    // Renaming themselves is fine.
    super_admin
        .call_owned(
            "update_admin",
            &edit(owner.admin_id, "Renamed Me", "super_admin", "true"),
        )
        .await
        .assert_ok();
    // A good edit of the admin.
    super_admin
        .call_owned(
            "update_admin",
            &edit(admin.admin_id, "Now Sub", "sub_admin", "true"),
        )
        .await
        .assert_ok();
    let detail = super_admin
        .call("get_admin", &[("id", &admin.admin_id.to_string())])
        .await;
    assert_eq!(detail.assert_ok()["row"]["name"], "Now Sub");
    assert_eq!(detail.body["row"]["role"], "sub_admin");
    let me = super_admin
        .call("get_admin", &[("id", &owner.admin_id.to_string())])
        .await;
    assert_eq!(me.assert_ok()["row"]["name"], "Renamed Me");
    assert_eq!(me.body["row"]["role"], "super_admin");
    assert_eq!(me.body["is_self"], true);
}

async fn two_super_admins_cannot_demote_each_other_at_once(app: TestApp) {
    let owner = app.account("race").await;
    let first = app.browser();
    first.sign_in_fully(&owner, None).await;
    let mut other = first.add_admin(owner.account_id, "second", "admin").await;
    // A second super admin (there is no promotion in the app: the operator does this).
    sqlx::query("UPDATE admins SET role = 'super_admin' WHERE id = $1")
        .bind(other.admin_id)
        .execute(&app.ctx.db.pool)
        .await
        .unwrap();
    let second = app.browser();
    assert_eq!(second.sign_in_first_time(&mut other).await, "/");
    let demote = |id: i64| {
        vec![
            ("id", id.to_string()),
            ("name", "Demoted".to_string()),
            ("role", "admin".to_string()),
            ("active", "true".to_string()),
            ("enforce_2fa", "account".to_string()),
        ]
    };
    let (demote_other, demote_owner) = (demote(other.admin_id), demote(owner.admin_id));
    let (a, b) = tokio::join!(
        first.call_owned("update_admin", &demote_other),
        second.call_owned("update_admin", &demote_owner),
    );
    // One wins. The other is refused: by the lock (409, the last super admin stays) or, when
    // the winner was quicker, because it is no longer a super admin at all (403).
    let mut outcomes = [a.status.as_u16(), b.status.as_u16()];
    outcomes.sort();
    assert!(
        outcomes == [200, 403] || outcomes == [200, 409],
        "{outcomes:?} {} {}",
        a.body,
        b.body
    );
    let supers: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM admins WHERE account_id = $1 AND role = 'super_admin'",
    )
    .bind(owner.account_id)
    .fetch_one(&app.ctx.db.pool)
    .await
    .unwrap();
    assert_eq!(supers, 1);
}

async fn deactivating_an_admin_ends_their_sessions(app: TestApp) {
    let owner = app.account("deact").await;
    let super_admin = app.browser();
    super_admin.sign_in_fully(&owner, None).await;
    let mut admin = super_admin
        .add_admin(owner.account_id, "leaver", "admin")
        .await;
    let theirs = app.browser();
    assert_eq!(theirs.sign_in_first_time(&mut admin).await, "/");
    theirs.call("get_profile", &[]).await.assert_ok();
    super_admin
        .call(
            "update_admin",
            &[
                ("id", &admin.admin_id.to_string()),
                ("name", "Leaver"),
                ("role", "admin"),
                ("active", "false"),
                ("enforce_2fa", "account"),
            ],
        )
        .await
        .assert_ok();
    theirs
        .call("get_profile", &[])
        .await
        .assert_error(401, "Unauthenticated");
    app.browser()
        .sign_in(&admin)
        .await
        .assert_error(403, "Forbidden");
    let table = super_admin
        .call(
            "list_admins",
            &[
                ("q", "leaver"),
                ("sort", "name"),
                ("dir", "asc"),
                ("page", "1"),
            ],
        )
        .await;
    assert_eq!(table.assert_ok()["rows"][0]["active"], false);
    assert_eq!(table.body["overview"]["active_admins"], 1);
}

async fn the_table_searches_sorts_and_pages(app: TestApp) {
    let owner = app.account("table").await;
    let super_admin = app.browser();
    super_admin.sign_in_fully(&owner, None).await;
    // 29 more admins: 30 in all, two pages of 25.
    for i in 0..29 {
        let creds = super_admin
            .add_admin(owner.account_id, &format!("t{i:02}"), "admin")
            .await;
        sqlx::query("UPDATE admins SET name = $1 WHERE id = $2")
            .bind(format!(
                "Person {i:02}{}",
                if i % 10 == 3 { " 100%_match" } else { "" }
            ))
            .bind(creds.admin_id)
            .execute(&app.ctx.db.pool)
            .await
            .unwrap();
    }
    let list = |q: &str, sort: &str, dir: &str, page: &str| {
        let (q, sort, dir, page) = (
            q.to_string(),
            sort.to_string(),
            dir.to_string(),
            page.to_string(),
        );
        let browser = &super_admin;
        async move {
            let answer = browser
                .call(
                    "list_admins",
                    &[("q", &q), ("sort", &sort), ("dir", &dir), ("page", &page)],
                )
                .await;
            answer.assert_ok().clone()
        }
    };
    let first = list("", "name", "asc", "1").await;
    assert_eq!(first["total"], 30);
    assert_eq!(first["pages"], 2);
    assert_eq!(first["rows"].as_array().unwrap().len(), 25);
    let second = list("", "name", "asc", "2").await;
    assert_eq!(second["rows"].as_array().unwrap().len(), 5);
    let mut all = names(&first);
    all.extend(names(&second));
    let mut sorted = all.clone();
    sorted.sort_by_key(|n| n.to_lowercase());
    assert_eq!(all, sorted);
    let desc = list("", "name", "desc", "1").await;
    assert_eq!(names(&desc)[0], *sorted.last().unwrap());
    // Search is case-insensitive, and % and _ are literal characters.
    let found = list("PERSON 1", "name", "asc", "1").await;
    assert_eq!(found["total"], 10);
    let literal = list("100%_", "name", "asc", "1").await;
    assert_eq!(
        names(&literal),
        vec![
            "Person 03 100%_match",
            "Person 13 100%_match",
            "Person 23 100%_match"
        ]
    );
    assert_eq!(list("%", "name", "asc", "1").await["total"], 3);
    // Through the trigram index (three characters or more): names renamed since are found
    // by their new text only; quotes and short searches are plain text too.
    assert_eq!(list("person 2", "name", "asc", "1").await["total"], 9);
    assert_eq!(
        list("admin ", "name", "asc", "1").await["total"],
        1,
        "the owner"
    );
    assert_eq!(list("a\"b", "name", "asc", "1").await["total"], 0);
    assert_eq!(list("\"", "name", "asc", "1").await["total"], 0);
    assert_eq!(list("%_", "name", "asc", "1").await["total"], 3);
    // A NUL (or any control character) is dropped, not an error.
    assert_eq!(list("\0pers\0on 2", "name", "asc", "1").await["total"], 9);
    // Unknown sort keys and pages past the end do not fail.
    let odd = list("", "password_hash", "up", "99").await;
    assert_eq!(odd["rows"].as_array().unwrap().len(), 0);
    assert_eq!(odd["total"], 30);
    for key in ["username", "email", "role", "2fa", "last_sign_in"] {
        assert_eq!(
            list("", key, "desc", "1").await["rows"]
                .as_array()
                .unwrap()
                .len(),
            25,
            "{key}"
        );
    }
}

async fn password_change_needs_the_current_one_and_ends_other_sessions(app: TestApp) {
    let mut owner = app.account("pwchange").await;
    let here = app.browser();
    here.sign_in_fully(&owner, None).await;
    let elsewhere = app.browser();
    elsewhere.sign_in_fully(&owner, None).await;
    let change = |current: &str, new: &str, confirm: &str| {
        vec![
            ("current_password", current.to_string()),
            ("new_password", new.to_string()),
            ("confirm_password", confirm.to_string()),
        ]
    };
    let new_password = "a brand new passphrase";
    let wrong = here
        .call_owned(
            "change_password",
            &change("not it", new_password, new_password),
        )
        .await;
    wrong.assert_error(422, "Invalid");
    assert_eq!(wrong.body["Invalid"]["field"], "current_password");
    let differ = here
        .call_owned(
            "change_password",
            &change(&owner.password, new_password, "something else"),
        )
        .await;
    assert_eq!(differ.body["Invalid"]["field"], "confirm_password");
    let short = here
        .call_owned(
            "change_password",
            &change(&owner.password, "short", "short"),
        )
        .await;
    assert_eq!(short.body["Invalid"]["field"], "new_password");
    let same = here
        .call_owned(
            "change_password",
            &change(&owner.password, &owner.password, &owner.password),
        )
        .await;
    assert_eq!(same.body["Invalid"]["field"], "new_password");
    // Nothing changed so far: the other session still works.
    elsewhere.call("get_profile", &[]).await.assert_ok();
    here.call_owned(
        "change_password",
        &change(&owner.password, new_password, new_password),
    )
    .await
    .assert_ok();
    here.call("get_profile", &[]).await.assert_ok();
    elsewhere
        .call("get_profile", &[])
        .await
        .assert_error(401, "Unauthenticated");
    app.browser()
        .sign_in(&owner)
        .await
        .assert_error(401, "BadCredentials");
    owner.password = new_password.to_string();
    app.browser().sign_in_fully(&owner, None).await;
    assert!(
        !credentials::exists(&app.ctx.db, owner.admin_id)
            .await
            .unwrap()
    );
}

/// The counts Admin Management shows (kept current by triggers) against a full count, after
/// every kind of write that moves them.
async fn the_kept_counts_agree_with_a_full_count_after_every_change(app: TestApp) {
    use mssp_dashboard::server::db::admin_table::{counts, recount};
    let owner = app.account("counted").await;
    let other = app.account("untouched").await;
    let db = &app.ctx.db;
    let check = |step: &'static str| async move {
        let kept = counts(db, owner.account_id).await.unwrap();
        assert_eq!(kept, recount(db, owner.account_id).await.unwrap(), "{step}");
        kept
    };
    let kept = check("a new account").await;
    assert_eq!(
        (kept.admins, kept.active, kept.active_default_no_totp),
        (1, 1, 1)
    );

    let super_admin = app.browser();
    super_admin.sign_in_fully(&owner, None).await;
    let mut admins = Vec::new();
    for (label, role) in [("c1", "admin"), ("c2", "sub_admin"), ("c3", "admin")] {
        admins.push(super_admin.add_admin(owner.account_id, label, role).await);
    }
    check("admins added").await;
    let edit = |id: i64, active: &'static str, enforce: &'static str| {
        let super_admin = &super_admin;
        async move {
            super_admin
                .call_owned(
                    "update_admin",
                    &[
                        ("id", id.to_string()),
                        ("name", "Counted".into()),
                        ("role", "admin".into()),
                        ("active", active.into()),
                        ("enforce_2fa", enforce.into()),
                    ],
                )
                .await
                .assert_ok();
        }
    };
    edit(admins[0].admin_id, "true", "on").await;
    edit(admins[1].admin_id, "true", "off").await;
    check("enforcement set per admin").await;

    // 2FA on for two of them (one enforced, one following the account).
    let mut authenticators = Vec::new();
    for i in [0, 2] {
        let browser = app.browser();
        browser.sign_in_first_time(&mut admins[i]).await;
        authenticators.push((browser.enable_two_factor().await, browser));
    }
    let kept = check("2FA turned on").await;
    assert_eq!(kept.active_totp, 2);

    edit(admins[0].admin_id, "false", "on").await;
    check("an admin with 2FA deactivated").await;
    edit(admins[0].admin_id, "true", "account").await;
    check("reactivated, following the account").await;
    edit(admins[1].admin_id, "false", "account").await;
    check("an admin without 2FA deactivated").await;

    // 2FA off by the admin, and reset on request.
    let (authenticator, browser) = &mut authenticators[1];
    let code = authenticator.next_code().await;
    browser
        .call("disable_totp", &[("code", &code)])
        .await
        .assert_ok();
    check("2FA turned off").await;
    let waiting = app.browser();
    assert_eq!(waiting.sign_in(&admins[0]).await.assert_ok(), "/login/code");
    waiting.call("request_2fa_reset", &[]).await.assert_ok();
    let request_id: i64 = sqlx::query_scalar(
        "SELECT id FROM reset_requests WHERE admin_id = $1 AND status = 'pending'",
    )
    .bind(admins[0].admin_id)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    super_admin
        .call(
            "approve_2fa_reset",
            &[("request_id", &request_id.to_string())],
        )
        .await
        .assert_ok();
    let kept = check("2FA reset").await;
    assert_eq!(kept.active_totp, 0);

    // Many at once, and nothing moved in the other account.
    mssp_dashboard::server::seed::bulk_admins(db, owner.account_id, "counted", 300)
        .await
        .unwrap();
    let kept = check("300 added in bulk").await;
    assert_eq!(kept.admins, 304);
    let theirs = counts(db, other.account_id).await.unwrap();
    assert_eq!(theirs, recount(db, other.account_id).await.unwrap());
    assert_eq!(theirs.admins, 1);
}

async fn next_and_previous_seek_to_the_pages_that_numbers_count_to(app: TestApp) {
    let owner = app.account("keyset").await;
    let super_admin = app.browser();
    super_admin.sign_in_fully(&owner, None).await;
    let db = &app.ctx.db;
    let account = owner.account_id;
    // 80 admins, four pages: some never signed in, some sharing a name and a time (ties are
    // broken by id), a third with TOTP, and two with a pending reset request.
    mssp_dashboard::server::seed::bulk_admins(db, account, "ks", 79)
        .await
        .unwrap();
    sqlx::query("UPDATE admins SET last_sign_in_at = NULL WHERE account_id = $1 AND id % 7 = 0")
        .bind(account)
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE admins SET name = 'Same Name', last_sign_in_at = 1700000000 \
         WHERE account_id = $1 AND id % 11 = 0",
    )
    .bind(account)
    .execute(&db.pool)
    .await
    .unwrap();
    let requested: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM admins WHERE account_id = $1 AND email LIKE '%@ks.example' \
         ORDER BY id LIMIT 2",
    )
    .bind(account)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    for id in &requested {
        sqlx::query(
            "INSERT INTO reset_requests (account_id, admin_id, status, requested_at) \
             VALUES ($1, $2, 'pending', $3)",
        )
        .bind(account)
        .bind(id)
        .bind(crate::helpers::now() as i64)
        .execute(&db.pool)
        .await
        .unwrap();
    }
    let list = |sort: &str, dir: &str, page: i64, cursor: Option<(&'static str, i64)>| {
        let mut form = vec![
            ("q", String::new()),
            ("sort", sort.to_string()),
            ("dir", dir.to_string()),
            ("page", page.to_string()),
        ];
        if let Some((name, id)) = cursor {
            form.push((name, id.to_string()));
        }
        let browser = &super_admin;
        async move {
            let answer = browser.call_owned("list_admins", &form).await;
            answer.assert_ok().clone()
        }
    };
    let orders = [
        ("", "asc"),
        ("name", "asc"),
        ("name", "desc"),
        ("username", "asc"),
        ("email", "desc"),
        ("role", "asc"),
        ("role", "desc"),
        ("2fa", "asc"),
        ("2fa", "desc"),
        ("last_sign_in", "asc"),
        ("last_sign_in", "desc"),
    ];
    for (sort, dir) in orders {
        let mut numbered = Vec::new();
        for page in 1..=4 {
            numbered.push(ids(&list(sort, dir, page, None).await));
        }
        assert_eq!(
            numbered.iter().map(Vec::len).collect::<Vec<_>>(),
            [25, 25, 25, 5],
            "{sort} {dir}"
        );
        let mut seen: Vec<i64> = numbered.concat();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 80, "{sort} {dir}: every admin once");
        if sort.is_empty() {
            assert_eq!(numbered[0][..2], requested[..], "pending requests first");
        }
        // "Next" from page 1 to the last, then "Previous" back.
        for page in 2..=4 {
            let last = *numbered[page - 2].last().unwrap();
            let next = list(sort, dir, page as i64, Some(("after", last))).await;
            assert_eq!(
                ids(&next),
                numbered[page - 1],
                "{sort} {dir} next to {page}"
            );
            assert_eq!(next["page"], page as i64);
        }
        for page in (1..=3).rev() {
            let first = numbered[page][0];
            let previous = list(sort, dir, page as i64, Some(("before", first))).await;
            assert_eq!(
                ids(&previous),
                numbered[page - 1],
                "{sort} {dir} previous to {page}"
            );
        }
    }

    // The seek continues from the row, not from a count: an admin added at the top between
    // page 1 and "Next" does not push page 1's last row onto page 2.
    let page1 = ids(&list("name", "asc", 1, None).await);
    let newcomer = super_admin
        .add_admin(account, "aaa-newcomer", "admin")
        .await;
    sqlx::query("UPDATE admins SET name = '0 First' WHERE id = $1")
        .bind(newcomer.admin_id)
        .execute(&db.pool)
        .await
        .unwrap();
    let by_number = ids(&list("name", "asc", 2, None).await);
    assert_eq!(by_number[0], page1[24], "counting shifts the rows by one");
    let by_seek = ids(&list("name", "asc", 2, Some(("after", page1[24]))).await);
    assert_eq!(by_seek[..24], by_number[1..], "seeking does not");
    assert!(!by_seek.contains(&page1[24]));

    // A cursor that is not this account's admin (or no admin) places nothing: the page is
    // counted by its number, and tells nothing about the other admin.
    let other = app.account("keyset-other").await;
    for stranger in [other.admin_id, i64::MAX, -3] {
        for cursor in ["after", "before"] {
            let page = list("name", "asc", 2, Some((cursor, stranger))).await;
            assert_eq!(ids(&page), by_number, "{cursor}={stranger}");
        }
    }
    super_admin
        .call(
            "list_admins",
            &[
                ("q", ""),
                ("sort", "name"),
                ("dir", "asc"),
                ("page", "2"),
                ("after", "not a number"),
            ],
        )
        .await
        .assert_error(400, "BadRequest");
}
