//! Security keys and passkeys (WebAuthn) beside TOTP, with a software authenticator
//! (webauthn-authenticator-rs's soft token) answering the ceremonies the server starts:
//! registration from the profile, sign-in with the key, removal confirmed by a key, a cloned
//! key refused and reported, enforcement met by either factor or by a key alone ("Require
//! security keys"), and a reset approval removing the keys.

use crate::helpers::{Authenticator, Browser, Creds, TestApp};
use crate::on_both_backends;
use mssp_dashboard::server::db::admin_table;
use serde_json::Value;
use sqlx::Row;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softtoken::SoftToken;
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse, Url};

on_both_backends!(
    a_key_is_a_second_factor_from_registration_to_removal,
    a_cloned_key_is_refused_and_reported,
    either_factor_meets_an_enforcement_unless_keys_are_required,
    a_reset_approval_removes_the_keys,
    a_browser_remembered_with_a_code_skips_nothing_once_a_key_is_wanted,
);

/// A security key: the soft token and the origin it answers for (the test server's port at
/// `localhost`, the relying party of the default public address).
struct Key {
    token: SoftToken,
    origin: Url,
}

impl Key {
    fn new(app: &TestApp) -> Key {
        let port = Url::parse(&app.base).unwrap().port().unwrap();
        Key {
            token: SoftToken::new(true).unwrap().0,
            origin: Url::parse(&format!("http://localhost:{port}")).unwrap(),
        }
    }

    /// A copy holding the same private key and counter: a cloned key.
    fn clone_token(&self) -> Key {
        Key {
            token: SoftToken::from_cbor(&self.token.to_cbor().unwrap()).unwrap(),
            origin: self.origin.clone(),
        }
    }

    /// The key's answer to a registration the server started.
    fn register(&mut self, ceremony: &Value) -> String {
        let options: CreationChallengeResponse =
            serde_json::from_str(ceremony["options_json"].as_str().unwrap()).unwrap();
        let answer = self
            .token
            .do_registration(self.origin.clone(), options)
            .unwrap();
        serde_json::to_string(&answer).unwrap()
    }

    /// The key's answer to an assertion the server started.
    fn assert(&mut self, ceremony: &Value) -> String {
        let options: RequestChallengeResponse =
            serde_json::from_str(ceremony["options_json"].as_str().unwrap()).unwrap();
        let answer = self
            .token
            .do_authentication(self.origin.clone(), options)
            .unwrap();
        serde_json::to_string(&answer).unwrap()
    }
}

/// "Add a security key" from the profile of the signed-in admin `creds`; answers `SetupDone`.
async fn add_key(browser: &Browser, creds: &Creds, key: &mut Key, name: &str) -> Value {
    let ceremony = browser
        .call(
            "start_key_registration",
            &[("key_name", name), ("current_password", &creds.password)],
        )
        .await;
    let answer = key.register(ceremony.assert_ok());
    browser
        .call("finish_key_registration", &[("credential", &answer)])
        .await
        .assert_ok()
        .clone()
}

/// At the code step: "Use your security key"; answers the server's answer.
async fn sign_in_with(browser: &Browser, key: &mut Key) -> crate::helpers::Answer {
    let ceremony = browser.call("start_key_sign_in", &[]).await;
    let answer = key.assert(ceremony.assert_ok());
    browser
        .call("finish_key_sign_in", &[("credential", &answer)])
        .await
}

async fn profile(browser: &Browser) -> Value {
    browser.call("get_profile", &[]).await.assert_ok().clone()
}

async fn row_of(browser: &Browser, admin_id: i64) -> Value {
    let table = browser
        .call(
            "list_admins",
            &[("q", ""), ("sort", "name"), ("dir", "asc"), ("page", "1")],
        )
        .await;
    table.assert_ok()["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == admin_id)
        .cloned()
        .unwrap()
}

/// The kept admin counts agree with a full count.
async fn counts_agree(app: &TestApp, account_id: i64) {
    let db = &app.ctx.db;
    assert_eq!(
        admin_table::counts(db, account_id).await.unwrap(),
        admin_table::recount(db, account_id).await.unwrap()
    );
}

async fn audit_count(app: &TestApp, admin_id: i64, event: &str) -> i64 {
    sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE target_id = $1 AND event = $2")
        .bind(admin_id)
        .bind(event)
        .fetch_one(&app.ctx.db.pool)
        .await
        .unwrap()
        .get("n")
}

async fn a_key_is_a_second_factor_from_registration_to_removal(app: TestApp) {
    let owner = app.account("keyowner").await;
    let browser = app.browser();
    browser.sign_in_fully(&owner, None).await;
    let shown = profile(&browser).await;
    assert_eq!(shown["keys_available"], true);
    assert_eq!(shown["security_keys"].as_array().unwrap().len(), 0);

    // From the profile the password is asked, and the name must be a name.
    browser
        .call("start_key_registration", &[("key_name", "YubiKey")])
        .await
        .assert_error(422, "Invalid");
    for bad in ["", "   ", &"k".repeat(61), "bell\u{7}"] {
        browser
            .call(
                "start_key_registration",
                &[("key_name", bad), ("current_password", &owner.password)],
            )
            .await
            .assert_error(422, "Invalid");
    }
    // A finish without a start, or with an answer that is not one, changes nothing.
    browser
        .call("finish_key_registration", &[("credential", "{}")])
        .await
        .assert_error(422, "Invalid");
    browser
        .call("finish_key_registration", &[("credential", "not json")])
        .await
        .assert_error(422, "Invalid");

    let mut key = Key::new(&app);
    let done = add_key(&browser, &owner, &mut key, "  YubiKey 5C  ").await;
    // The first factor comes with recovery codes.
    assert_eq!(done["recovery_codes"].as_array().unwrap().len(), 10);
    let shown = profile(&browser).await;
    let keys = shown["security_keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["name"], "YubiKey 5C");
    assert!(keys[0]["last_used_at"].is_null());
    assert_eq!(shown["totp_enabled"], false);
    assert_eq!(shown["recovery_codes_left"], 10);
    assert_eq!(
        audit_count(&app, owner.admin_id, "security_key_added").await,
        1
    );
    // The same key again: the browser would refuse it (excluded); the server does too.
    let again = browser
        .call(
            "start_key_registration",
            &[("key_name", "again"), ("current_password", &owner.password)],
        )
        .await;
    let options: CreationChallengeResponse =
        serde_json::from_str(again.assert_ok()["options_json"].as_str().unwrap()).unwrap();
    assert_eq!(
        options
            .public_key
            .exclude_credentials
            .as_ref()
            .map(Vec::len),
        Some(1)
    );
    // The table: 2FA active, with a key; the kept counts follow.
    let row = row_of(&browser, owner.admin_id).await;
    assert_eq!(row["two_factor_active"], true);
    assert_eq!(row["factors"]["keys"], 1);
    assert_eq!(row["factors"]["totp"], false);
    counts_agree(&app, owner.account_id).await;
    browser.call("sign_out", &[]).await.assert_ok();

    // Sign-in asks for the second factor; the key comes first, the code field takes recovery
    // codes (there is no app).
    let laptop = app.browser();
    assert_eq!(laptop.sign_in(&owner).await.assert_ok(), "/login/code");
    let step = laptop.call("get_code_step", &[]).await;
    assert_eq!(step.assert_ok()["has_key"], true);
    assert_eq!(step.assert_ok()["has_totp"], false);
    assert_eq!(step.assert_ok()["code_accepted"], true);
    laptop
        .call("verify_sign_in_code", &[("code", "123456")])
        .await
        .assert_error(422, "Invalid");
    // Another admin's key, answering that admin's sign-in, is refused here; so is an answer
    // whose signature was altered. Each counts like a wrong code.
    let stranger_creds = app.account("keystranger").await;
    let stranger_browser = app.browser();
    stranger_browser.sign_in_fully(&stranger_creds, None).await;
    let mut stranger = Key::new(&app);
    add_key(
        &stranger_browser,
        &stranger_creds,
        &mut stranger,
        "Stranger key",
    )
    .await;
    let elsewhere = app.browser();
    elsewhere.sign_in(&stranger_creds).await.assert_ok();
    let ceremony = elsewhere.call("start_key_sign_in", &[]).await;
    let foreign = stranger.assert(ceremony.assert_ok());
    laptop.call("start_key_sign_in", &[]).await.assert_ok();
    laptop
        .call("finish_key_sign_in", &[("credential", &foreign)])
        .await
        .assert_error(422, "Invalid");
    let ceremony = laptop.call("start_key_sign_in", &[]).await;
    let mut altered: Value = serde_json::from_str(&key.assert(ceremony.assert_ok())).unwrap();
    let signature = altered["response"]["signature"]
        .as_str()
        .unwrap()
        .to_string();
    let flipped = if signature.starts_with('A') { "B" } else { "A" };
    altered["response"]["signature"] = Value::from(format!("{flipped}{}", &signature[1..]));
    laptop
        .call(
            "finish_key_sign_in",
            &[("credential", &altered.to_string())],
        )
        .await
        .assert_error(422, "Invalid");
    assert_eq!(
        audit_count(&app, owner.admin_id, "sign_in_failed").await,
        2,
        "a refused key is a failed sign-in"
    );
    // Each ceremony is used once: its answer, sent again, finds nothing to finish.
    laptop
        .call("finish_key_sign_in", &[("credential", &foreign)])
        .await
        .assert_error(409, "Conflict");
    let ceremony = laptop.call("start_key_sign_in", &[]).await;
    let answer = key.assert(ceremony.assert_ok());
    let done = laptop
        .call("finish_key_sign_in", &[("credential", &answer)])
        .await;
    assert_eq!(done.assert_ok(), "/");
    assert_eq!(
        laptop.call("current_admin", &[]).await.assert_ok()["email"],
        owner.email.as_str()
    );
    // A signed answer replayed in another sign-in (another challenge) is refused.
    let phone = app.browser();
    assert_eq!(phone.sign_in(&owner).await.assert_ok(), "/login/code");
    phone.call("start_key_sign_in", &[]).await.assert_ok();
    phone
        .call("finish_key_sign_in", &[("credential", &answer)])
        .await
        .assert_error(422, "Invalid");
    let used = profile(&laptop).await;
    assert!(used["security_keys"][0]["last_used_at"].is_i64());
    // New recovery codes, confirmed with the key (there is no app to give a code).
    let ceremony = laptop.call("start_key_confirmation", &[]).await;
    let confirm = key.assert(ceremony.assert_ok());
    let fresh = laptop
        .call("regenerate_recovery_codes", &[("credential", &confirm)])
        .await;
    assert_eq!(fresh.assert_ok().as_array().unwrap().len(), 10);
    laptop
        .call("regenerate_recovery_codes", &[("credential", &confirm)])
        .await
        .assert_error(409, "Conflict");

    // Removing needs a current second factor: none, or a stranger's key, is refused.
    let id = used["security_keys"][0]["id"].as_i64().unwrap().to_string();
    laptop
        .call("remove_security_key", &[("key_id", &id)])
        .await
        .assert_error(422, "Invalid");
    laptop.call("start_key_confirmation", &[]).await.assert_ok();
    laptop
        .call(
            "remove_security_key",
            &[("key_id", &id), ("credential", &foreign)],
        )
        .await
        .assert_error(422, "Invalid");
    // An id that is not one of the admin's keys is not found.
    let ceremony = laptop.call("start_key_confirmation", &[]).await;
    let confirm = key.assert(ceremony.assert_ok());
    laptop
        .call(
            "remove_security_key",
            &[("key_id", "987654"), ("credential", &confirm)],
        )
        .await
        .assert_error(404, "NotFound");
    // A sign-in's answer (another session's challenge) does not confirm a removal.
    let ceremony = phone.call("start_key_sign_in", &[]).await;
    let sign_in_answer = key.assert(ceremony.assert_ok());
    laptop
        .call(
            "remove_security_key",
            &[("key_id", &id), ("credential", &sign_in_answer)],
        )
        .await
        .assert_error(422, "Invalid");
    assert_eq!(
        profile(&laptop).await["security_keys"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let ceremony = laptop.call("start_key_confirmation", &[]).await;
    let confirm = key.assert(ceremony.assert_ok());
    laptop
        .call(
            "remove_security_key",
            &[("key_id", &id), ("credential", &confirm)],
        )
        .await
        .assert_ok();
    let shown = profile(&laptop).await;
    assert_eq!(shown["security_keys"].as_array().unwrap().len(), 0);
    // The last factor went: 2FA is off, its recovery codes with it; the table follows.
    assert_eq!(shown["recovery_codes_left"], 0);
    assert_eq!(
        row_of(&laptop, owner.admin_id).await["two_factor_active"],
        false
    );
    counts_agree(&app, owner.account_id).await;
    assert_eq!(
        audit_count(&app, owner.admin_id, "security_key_removed").await,
        1
    );
    laptop.call("sign_out", &[]).await.assert_ok();
    assert_eq!(laptop.sign_in(&owner).await.assert_ok(), "/");
}

async fn a_cloned_key_is_refused_and_reported(app: TestApp) {
    let owner = app.account("keyclone").await;
    let super_admin = app.browser();
    super_admin.sign_in_fully(&owner, None).await;
    let mut admin = super_admin
        .add_admin(owner.account_id, "keyclonee", "admin")
        .await;
    let browser = app.browser();
    browser.sign_in_first_time(&mut admin).await;
    let mut key = Key::new(&app);
    let done = add_key(&browser, &admin, &mut key, "Desk key").await;
    let recovery = done["recovery_codes"][0].as_str().unwrap().to_string();
    // Copied now; the original goes on signing in.
    let mut copy = key.clone_token();
    for _ in 0..2 {
        let b = app.browser();
        b.sign_in(&admin).await.assert_ok();
        assert_eq!(sign_in_with(&b, &mut key).await.assert_ok(), "/");
    }
    // The copy's counter is behind the stored one: refused, and the super admins are told.
    let thief = app.browser();
    thief.sign_in(&admin).await.assert_ok();
    sign_in_with(&thief, &mut copy)
        .await
        .assert_error(403, "Forbidden");
    assert_eq!(
        audit_count(&app, admin.admin_id, "security_key_clone_suspected").await,
        1
    );
    let bell = super_admin.call("list_notifications", &[]).await;
    assert!(
        bell.assert_ok().to_string().contains("a cloned key does"),
        "{bell:?}"
    );
    // Counted like a wrong code: the thief's sign-in got nowhere.
    assert_eq!(
        thief.call("current_admin", &[]).await.assert_ok(),
        &Value::Null
    );
    // The key is suspended, both copies with it: a thief whose copy answered first with a
    // higher counter would otherwise go on signing in, and the owner's key be the one refused.
    // Neither is asked for any more; the admin signs in with a recovery code.
    let b = app.browser();
    b.sign_in(&admin).await.assert_ok();
    let refused = b.call("start_key_sign_in", &[]).await;
    refused.assert_error(403, "Forbidden");
    assert!(
        refused.body.to_string().contains("suspended"),
        "{refused:?}"
    );
    assert_eq!(
        b.call("verify_sign_in_code", &[("code", &recovery)])
            .await
            .assert_ok(),
        "/"
    );
    let keys = &profile(&b).await["security_keys"];
    assert_eq!(keys[0]["suspended"], true, "{keys}");
    // Reported once, however often the copy tries again.
    let again = app.browser();
    again.sign_in(&admin).await.assert_ok();
    again
        .call("start_key_sign_in", &[])
        .await
        .assert_error(403, "Forbidden");
    assert_eq!(
        audit_count(&app, admin.admin_id, "security_key_clone_suspected").await,
        1
    );
    // It still counts as a factor (2FA stays on), and a reset approval removes it.
    assert_eq!(
        row_of(&super_admin, admin.admin_id).await["factors"]["keys"],
        1
    );
    // The way back without a reset: the same key registered anew (the suspended credential is
    // not excluded, so the key makes a new one), which then confirms the suspended one's
    // removal and signs in.
    add_key(&b, &admin, &mut key, "Desk key again").await;
    let listed = profile(&b).await["security_keys"].clone();
    let suspended_id = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["suspended"] == true)
        .unwrap()["id"]
        .as_i64()
        .unwrap()
        .to_string();
    let ceremony = b.call("start_key_confirmation", &[]).await;
    let confirm = key.assert(ceremony.assert_ok());
    b.call(
        "remove_security_key",
        &[("key_id", &suspended_id), ("credential", &confirm)],
    )
    .await
    .assert_ok();
    let listed = profile(&b).await["security_keys"].clone();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["suspended"], false);
    let c = app.browser();
    c.sign_in(&admin).await.assert_ok();
    assert_eq!(sign_in_with(&c, &mut key).await.assert_ok(), "/");
}

async fn either_factor_meets_an_enforcement_unless_keys_are_required(app: TestApp) {
    let owner = app.account("keyforce").await;
    let super_admin = app.browser();
    super_admin.sign_in_fully(&owner, None).await;
    let mut totp = super_admin.enable_two_factor().await;
    let mut admin = super_admin
        .add_admin(owner.account_id, "keyforcee", "admin")
        .await;
    let browser = app.browser();
    browser.sign_in_first_time(&mut admin).await;
    let mut key = Key::new(&app);
    let done = add_key(&browser, &admin, &mut key, "Laptop passkey").await;
    let recovery: Vec<String> = done["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    browser.call("sign_out", &[]).await.assert_ok();

    // Force two-factor authentication: the key meets it.
    super_admin
        .call("save_account_settings", &[("force_2fa", "true")])
        .await
        .assert_ok();
    let b = app.browser();
    b.sign_in(&admin).await.assert_ok();
    assert_eq!(sign_in_with(&b, &mut key).await.assert_ok(), "/");
    // An admin with the app alone, signed in now.
    let (app_only, mut app_only_totp, app_only_browser) =
        admin_with_app_only(&app, &super_admin, &owner, "keyapponly").await;

    // "Require security keys" is refused to a super admin without a key of their own (they
    // would lock themselves out), and nothing changes.
    super_admin
        .call(
            "save_account_settings",
            &[("force_2fa", "true"), ("require_keys", "true")],
        )
        .await
        .assert_error(422, "Invalid");
    assert_eq!(
        super_admin
            .call("get_account_settings", &[])
            .await
            .assert_ok()["require_keys"],
        false
    );
    let mut owner_key = Key::new(&app);
    let done = add_key(&super_admin, &owner, &mut owner_key, "Owner key").await;
    // The recovery codes came with the app and stay.
    assert_eq!(done["recovery_codes"].as_array().unwrap().len(), 0);
    assert_eq!(profile(&super_admin).await["recovery_codes_left"], 10);
    let saved = super_admin
        .call(
            "save_account_settings",
            &[("force_2fa", "true"), ("require_keys", "true")],
        )
        .await;
    assert_eq!(saved.assert_ok()["require_keys"], true);
    assert_eq!(
        row_of(&super_admin, owner.admin_id).await["needs_key"],
        false
    );
    // The table shows who still needs a key.
    let row = row_of(&super_admin, app_only.admin_id).await;
    assert_eq!(row["needs_key"], true);
    assert_eq!(row["factors"]["totp"], true);
    counts_agree(&app, owner.account_id).await;

    // The app-only admin's open session is sent to add a key at its next request; a new
    // sign-in takes the app code and then asks for a key, not the app, with no password again.
    app_only_browser
        .call("get_profile", &[])
        .await
        .assert_error(403, "TwoFactorSetupRequired");
    let other = app.browser();
    other.sign_in(&app_only).await.assert_ok();
    let code = app_only_totp.next_code().await;
    assert_eq!(
        other
            .call("verify_sign_in_code", &[("code", &code)])
            .await
            .assert_ok(),
        "/login/setup-2fa"
    );
    let setup = other
        .call("start_totp_setup", &[("current_password", "")])
        .await;
    assert_eq!(setup.assert_ok()["key_required"], true);
    assert_eq!(setup.assert_ok()["qr_svg"], "");
    let mut app_only_key = Key::new(&app);
    let ceremony = other
        .call("start_key_registration", &[("key_name", "First key")])
        .await;
    let answer = app_only_key.register(ceremony.assert_ok());
    let done = other
        .call("finish_key_registration", &[("credential", &answer)])
        .await;
    assert_eq!(done.assert_ok()["next"], "/");
    assert_eq!(
        row_of(&super_admin, app_only.admin_id).await["needs_key"],
        false
    );

    // With a key, the app's code is no longer accepted at sign-in (a phished code is useless);
    // a recovery code still is, as the way back in without the key.
    let third = app.browser();
    third.sign_in(&owner).await.assert_ok();
    assert_eq!(
        third.call("get_code_step", &[]).await.assert_ok()["code_accepted"],
        false
    );
    let code = totp.next_code().await;
    third
        .call("verify_sign_in_code", &[("code", &code)])
        .await
        .assert_error(403, "Forbidden");
    assert_eq!(sign_in_with(&third, &mut owner_key).await.assert_ok(), "/");
    // Signed in with the key, an app code confirms nothing that outlasts the sign-in: not new
    // recovery codes (a phished code and a recovery code would otherwise make ten more).
    let code = totp.next_code().await;
    third
        .call("regenerate_recovery_codes", &[("code", &code)])
        .await
        .assert_error(403, "Forbidden");
    assert_eq!(profile(&third).await["recovery_codes_left"], 10);
    let ceremony = third.call("start_key_confirmation", &[]).await;
    let confirm = owner_key.assert(ceremony.assert_ok());
    let renewed = third
        .call("regenerate_recovery_codes", &[("credential", &confirm)])
        .await;
    assert_eq!(renewed.assert_ok().as_array().unwrap().len(), 10);
    let fourth = app.browser();
    fourth.sign_in(&admin).await.assert_ok();
    assert_eq!(
        fourth
            .call("verify_sign_in_code", &[("code", &recovery[0])])
            .await
            .assert_ok(),
        "/"
    );
    // Another key added there is a lasting way in that needed the password only (after a
    // recovery code, say): the super admins are told.
    let mut second = Key::new(&app);
    add_key(&fourth, &admin, &mut second, "Second key").await;
    let bell = super_admin.call("list_notifications", &[]).await;
    assert!(
        bell.assert_ok()
            .to_string()
            .contains("added the security key \\\"Second key\\\""),
        "{bell:?}"
    );
    // The app may go (the key meets the requirement); the last key may not.
    let code = totp.next_code().await;
    third
        .call("disable_totp", &[("code", &code)])
        .await
        .assert_ok();
    let id = profile(&third).await["security_keys"][0]["id"]
        .as_i64()
        .unwrap()
        .to_string();
    let ceremony = third.call("start_key_confirmation", &[]).await;
    let confirm = owner_key.assert(ceremony.assert_ok());
    third
        .call(
            "remove_security_key",
            &[("key_id", &id), ("credential", &confirm)],
        )
        .await
        .assert_error(403, "Forbidden");
    assert_eq!(
        profile(&third).await["security_keys"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    counts_agree(&app, owner.account_id).await;

    // Turned off: nobody needs a key.
    third
        .call(
            "save_account_settings",
            &[("force_2fa", "true"), ("require_keys", "false")],
        )
        .await
        .assert_ok();
    let row = row_of(&third, admin.admin_id).await;
    assert_eq!(row["needs_key"], false);
}

/// An admin of `owner`'s account with the authenticator app only, signed in (their browser):
/// "Enforce 2FA" off for them while they set the app up from the profile, then back to the
/// account's setting.
async fn admin_with_app_only(
    app: &TestApp,
    super_admin: &Browser,
    owner: &Creds,
    label: &str,
) -> (Creds, Authenticator, Browser) {
    let mut admin = super_admin
        .add_admin(owner.account_id, label, "admin")
        .await;
    let browser = app.browser();
    let id = admin.admin_id.to_string();
    let set_enforcement = |value: &'static str| {
        let id = id.clone();
        let name = format!("Admin {label}");
        async move {
            super_admin
                .call(
                    "update_admin",
                    &[
                        ("id", &id),
                        ("name", &name),
                        ("role", "admin"),
                        ("active", "true"),
                        ("enforce_2fa", value),
                    ],
                )
                .await
                .assert_ok();
        }
    };
    set_enforcement("off").await;
    assert_eq!(browser.sign_in_first_time(&mut admin).await, "/");
    let authenticator = browser.enable_two_factor().await;
    set_enforcement("account").await;
    (admin, authenticator, browser)
}

async fn a_reset_approval_removes_the_keys(app: TestApp) {
    let owner = app.account("keyreset").await;
    let super_admin = app.browser();
    super_admin.sign_in_fully(&owner, None).await;
    let mut admin = super_admin
        .add_admin(owner.account_id, "keylost", "admin")
        .await;
    let browser = app.browser();
    browser.sign_in_first_time(&mut admin).await;
    let mut key = Key::new(&app);
    add_key(&browser, &admin, &mut key, "Lost key").await;
    browser.call("sign_out", &[]).await.assert_ok();
    // The key is lost: "Request 2FA Reset" at the code step, approved.
    let waiting = app.browser();
    assert_eq!(waiting.sign_in(&admin).await.assert_ok(), "/login/code");
    waiting.call("request_2fa_reset", &[]).await.assert_ok();
    let request_id = row_of(&super_admin, admin.admin_id).await["reset_request"]["request_id"]
        .as_i64()
        .unwrap();
    super_admin
        .call(
            "approve_2fa_reset",
            &[("request_id", &request_id.to_string())],
        )
        .await
        .assert_ok();
    let left: i64 = sqlx::query("SELECT COUNT(*) AS n FROM security_keys WHERE admin_id = $1")
        .bind(admin.admin_id)
        .fetch_one(&app.ctx.db.pool)
        .await
        .unwrap()
        .get("n");
    assert_eq!(left, 0);
    let row = row_of(&super_admin, admin.admin_id).await;
    assert_eq!(row["two_factor_active"], false);
    assert_eq!(row["factors"]["keys"], 0);
    counts_agree(&app, owner.account_id).await;
    // The next sign-in asks for the setup code, not the key.
    let next = app.browser();
    assert_eq!(next.sign_in(&admin).await.assert_ok(), "/login/setup-code");
    next.call("start_key_sign_in", &[])
        .await
        .assert_error(409, "Conflict");
}

async fn a_browser_remembered_with_a_code_skips_nothing_once_a_key_is_wanted(app: TestApp) {
    let owner = app.account("keyremember").await;
    let super_admin = app.browser();
    super_admin.sign_in_fully(&owner, None).await;
    let mut totp = super_admin.enable_two_factor().await;
    let mut key = Key::new(&app);
    add_key(&super_admin, &owner, &mut key, "Owner key").await;
    let settings = |force: &'static str| {
        let super_admin = &super_admin;
        async move {
            super_admin
                .call(
                    "save_account_settings",
                    &[
                        ("force_2fa", force),
                        ("require_keys", "true"),
                        ("remember_days", "14"),
                    ],
                )
                .await
                .assert_ok()
                .clone()
        }
    };
    // Keys required, but 2FA not enforced: nothing is asked of anyone yet, and an app code
    // remembers this browser (a phished one, say).
    settings("false").await;
    let laptop = app.browser();
    assert_eq!(laptop.sign_in(&owner).await.assert_ok(), "/login/code");
    let step = laptop.call("get_code_step", &[]).await;
    assert_eq!(step.assert_ok()["remember_days"], 14);
    assert_eq!(step.assert_ok()["code_accepted"], true);
    let code = totp.next_code().await;
    laptop
        .call(
            "verify_sign_in_code",
            &[("code", &code), ("remember_browser", "true")],
        )
        .await
        .assert_ok();
    laptop.call("sign_out", &[]).await.assert_ok();
    assert_eq!(laptop.sign_in(&owner).await.assert_ok(), "/");
    laptop.call("sign_out", &[]).await.assert_ok();

    // 2FA enforced now ("Require security keys" unchanged): that browser skips nothing, the
    // key is asked and no browser is offered to be remembered, even after a key.
    settings("true").await;
    assert_eq!(laptop.sign_in(&owner).await.assert_ok(), "/login/code");
    let step = laptop.call("get_code_step", &[]).await;
    assert_eq!(step.assert_ok()["remember_days"], Value::Null);
    assert_eq!(step.assert_ok()["code_accepted"], false);
    let ceremony = laptop.call("start_key_sign_in", &[]).await;
    let answer = key.assert(ceremony.assert_ok());
    assert_eq!(
        laptop
            .call(
                "finish_key_sign_in",
                &[("credential", &answer), ("remember_browser", "true")],
            )
            .await
            .assert_ok(),
        "/"
    );
    laptop.call("sign_out", &[]).await.assert_ok();
    assert_eq!(laptop.sign_in(&owner).await.assert_ok(), "/login/code");
    assert_eq!(
        audit_count(&app, owner.admin_id, "browser_remembered").await,
        1
    );
}
