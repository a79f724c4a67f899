//! Server-side sessions: cookie flags, id rotation, surviving a restart.

use crate::helpers::{SESSION, TestApp, browser_at, restart};
use crate::on_both_backends;

on_both_backends!(
    session_id_changes_at_each_step_of_sign_in,
    cookie_is_http_only_and_same_site,
    sessions_survive_a_restart,
    session_ids_are_stored_hashed,
    a_session_stored_after_its_admins_sessions_were_ended_is_refused,
    a_later_step_claims_its_session_before_it_gets_a_new_id,
    a_password_change_does_not_bring_back_its_session_signed_out_meanwhile,
    a_planted_session_that_ran_out_does_not_carry_the_next_sign_in,
    an_ended_session_is_stored_again_only_under_a_new_id,
);

/// "Change password" gives its session a new id. A sign-out of that session that commits while
/// the change runs (another request of the same browser) stays done: the session is not
/// stored again under the new id, and, as when a reset ended it, every session of the admin
/// ends (the answer: signed out). The password change itself stands, and is in the log.
async fn a_password_change_does_not_bring_back_its_session_signed_out_meanwhile(app: TestApp) {
    use mssp_dashboard::server::auth::{Client, require_admin};
    use mssp_dashboard::server::db::sessions;
    use mssp_dashboard::server::signin;
    use sqlx::Row;
    use std::sync::Arc;
    use tower_sessions::Session;
    let creds = app.account("pw-signed-out").await;
    let browser = app.browser();
    browser.sign_in_fully(&creds, None).await;
    let id = browser.session_cookie().unwrap().parse().unwrap();
    // The change's request has loaded its session...
    let session = Session::new(Some(id), Arc::new(app.ctx.session_store()), None);
    let signed = require_admin(&app.ctx, &session).await.unwrap();
    // ...when a sign-out of it commits.
    assert!(
        sessions::delete_stored(&mut app.ctx.db.pool.acquire().await.unwrap(), &id)
            .await
            .unwrap()
            .is_some()
    );
    let client = Client {
        ip: None,
        user_agent: None,
        cookies: None,
    };
    let new_password = "a brand new password 42";
    let other = app.browser();
    other.sign_in_fully(&creds, None).await;
    assert!(matches!(
        signin::change_password(
            &app.ctx,
            &signed,
            &client,
            &creds.password,
            new_password,
            new_password,
        )
        .await,
        Err(mssp_dashboard::model::AppError::Unauthenticated)
    ));
    // What the session layer does at the end of the request.
    if session.is_modified() && !session.is_empty().await {
        session.save().await.unwrap();
    }
    let stored = app.stored_sessions(creds.admin_id).await;
    assert_eq!(
        stored, 0,
        "the signed-out session is not stored again, the other one ended"
    );
    let logged: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM audit_log WHERE target_id = $1 AND event = 'password_changed'",
    )
    .bind(creds.admin_id)
    .fetch_one(&app.ctx.db.pool)
    .await
    .unwrap()
    .get("n");
    assert_eq!(logged, 1);
    let fresh = app.browser();
    let changed = crate::helpers::Creds {
        password: new_password.into(),
        ..creds
    };
    fresh.sign_in(&changed).await.assert_ok();
}

/// A later sign-in step claims its session by deleting its record (`delete_stored`): of two
/// requests that loaded the same session, only the first gets its generation (the other is
/// refused, see `auth::enter_stage`). It then moves to a new id with `cycle_claimed`, which
/// skips `cycle_id`'s second delete of the claimed id, and of that id only.
async fn a_later_step_claims_its_session_before_it_gets_a_new_id(app: TestApp) {
    use mssp_dashboard::server::db::sessions;
    use std::sync::Arc;
    use tower_sessions::Session;
    let store = Arc::new(app.ctx.session_store());
    let stored = |id| sessions::stored_generation(&app.ctx.db, id);
    // A session stored with `step` in it: its id.
    let saved = |step: i64| {
        let session = Session::new(None, store.clone(), None);
        async move {
            session.insert("step", step).await.unwrap();
            session.save().await.unwrap();
            session.id().unwrap()
        }
    };
    let id = saved(1).await;
    let one = Session::new(Some(id), store.clone(), None);
    assert_eq!(one.get::<i64>("step").await.unwrap(), Some(1));
    assert_eq!(
        sessions::delete_stored(&mut app.ctx.db.pool.acquire().await.unwrap(), &id)
            .await
            .unwrap(),
        Some(0)
    );
    assert_eq!(
        sessions::delete_stored(&mut app.ctx.db.pool.acquire().await.unwrap(), &id)
            .await
            .unwrap(),
        None,
        "claimed by the first"
    );
    sessions::cycle_claimed(&one, id).await.unwrap();
    assert_eq!(one.id(), None, "a new id, stored at the next save");
    one.save().await.unwrap();
    let new = one.id().unwrap();
    assert_ne!(new, id);
    assert_eq!(stored(&new).await.unwrap(), Some(0));
    assert_eq!(stored(&id).await.unwrap(), None);
    // A session cycled under another id's claim has its own record deleted as usual.
    let other_id = saved(2).await;
    let loaded = Session::new(Some(other_id), store.clone(), None);
    assert_eq!(loaded.get::<i64>("step").await.unwrap(), Some(2));
    sessions::cycle_claimed(&loaded, id).await.unwrap();
    assert_eq!(stored(&other_id).await.unwrap(), None);
}

async fn session_id_changes_at_each_step_of_sign_in(app: TestApp) {
    let creds = app.account("rotate").await;
    let setup = app.browser();
    setup.sign_in_fully(&creds, None).await;
    let mut authenticator = setup.enable_two_factor().await;

    let browser = app.browser();
    // A session that exists before sign-in (here: a pending sign-in of another attempt).
    browser.sign_in(&creds).await.assert_ok();
    let before = browser.session_cookie().unwrap();
    browser.sign_in(&creds).await.assert_ok();
    let after_password = browser.session_cookie().unwrap();
    assert_ne!(before, after_password);
    let code = authenticator.next_code().await;
    browser
        .call("verify_sign_in_code", &[("code", &code)])
        .await
        .assert_ok();
    let after_code = browser.session_cookie().unwrap();
    assert_ne!(after_password, after_code);
    // The pre-sign-in ids are dead.
    for old in [before, after_password] {
        let fixated = app.browser();
        fixated
            .jar
            .add_cookie_str(&format!("{SESSION}={old}"), &app.base.parse().unwrap());
        assert_eq!(
            fixated.call("current_admin", &[]).await.assert_ok(),
            &serde_json::Value::Null
        );
    }
}

/// Session fixation through a session that ran out: an attacker's pending sign-in (its code
/// step unanswered), its cookie planted in the owner's browser and left past the step's time.
/// The owner's password step on that browser deletes its record (`auth::enter_stage`, in the
/// step's transaction) and is stored under an id drawn afresh (`sessions::cycle_claimed`); a
/// session with nothing stored moves to a new id too (`sessions::cycle`). Also an id planted
/// that was never stored.
async fn a_planted_session_that_ran_out_does_not_carry_the_next_sign_in(app: TestApp) {
    use mssp_dashboard::domain::access::PENDING_SECOND_FACTOR_TTL_SECONDS;
    let attacker_creds = app.account("fixation-attacker").await;
    let owner_creds = app.account("fixation-owner").await;
    let setup = app.browser();
    setup.sign_in_fully(&attacker_creds, None).await;
    setup.enable_two_factor().await;
    let attacker = app.browser();
    assert_eq!(
        attacker.sign_in(&attacker_creds).await.assert_ok(),
        "/login/code"
    );
    let planted = attacker.session_cookie().unwrap();
    app.clock().advance(PENDING_SECOND_FACTOR_TTL_SECONDS);

    let owner = app.browser();
    owner
        .jar
        .add_cookie_str(&format!("{SESSION}={planted}"), &app.base.parse().unwrap());
    owner.sign_in_fully(&owner_creds, None).await;
    let signed_in = owner.session_cookie().unwrap();
    assert_ne!(signed_in, planted, "stored under the planted id");
    assert_eq!(
        owner.call("current_admin", &[]).await.assert_ok()["email"],
        owner_creds.email.as_str()
    );
    // The attacker's cookie names no session any more.
    assert_eq!(
        attacker.call("current_admin", &[]).await.assert_ok(),
        &serde_json::Value::Null
    );

    // An id planted without ever being stored: the sign-in moves away from it too.
    let never_stored = tower_sessions::session::Id::default().to_string();
    let owner = app.browser();
    owner.jar.add_cookie_str(
        &format!("{SESSION}={never_stored}"),
        &app.base.parse().unwrap(),
    );
    owner.sign_in_fully(&owner_creds, None).await;
    assert_ne!(owner.session_cookie().unwrap(), never_stored);
}

/// `end_session` (tower-sessions' `flush`, then a new id): what the same request stores
/// afterwards is under an id drawn afresh, never the ended one's, and costs no second delete.
async fn an_ended_session_is_stored_again_only_under_a_new_id(app: TestApp) {
    use mssp_dashboard::server::auth::end_session;
    use mssp_dashboard::server::db::sessions;
    use std::sync::Arc;
    use tower_sessions::Session;
    let store = Arc::new(app.ctx.session_store());
    let first = Session::new(None, store.clone(), None);
    first.insert("step", 1).await.unwrap();
    first.save().await.unwrap();
    let id = first.id().unwrap();

    let loaded = Session::new(Some(id), store.clone(), None);
    assert_eq!(loaded.get::<i64>("step").await.unwrap(), Some(1));
    end_session(&loaded).await.unwrap();
    assert_eq!(
        sessions::stored_generation(&app.ctx.db, &id).await.unwrap(),
        None
    );
    loaded.insert("step", 2).await.unwrap();
    loaded.save().await.unwrap();
    let again = loaded.id().unwrap();
    assert_ne!(again, id, "stored again under the ended id");
    assert_eq!(
        sessions::stored_generation(&app.ctx.db, &id).await.unwrap(),
        None
    );
}

async fn cookie_is_http_only_and_same_site(app: TestApp) {
    let creds = app.account("cookie").await;
    let res = reqwest::Client::new()
        .post(format!("{}/api/sign_in", app.base))
        .form(&[
            ("identifier", creds.email.as_str()),
            ("password", creds.password.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with(&format!("{SESSION}=")))
        .expect("session cookie set at sign-in");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    // Not configured for https in tests, so not Secure.
    assert!(!cookie.contains("Secure"), "{cookie}");
}

async fn sessions_survive_a_restart(app: TestApp) {
    let creds = app.account("restart").await;
    let browser = app.browser();
    browser.sign_in_fully(&creds, None).await;
    let cookie = browser.session_cookie().unwrap();
    let base = restart(&app).await;
    let after = browser_at(&base);
    after
        .jar
        .add_cookie_str(&format!("{SESSION}={cookie}"), &base.parse().unwrap());
    let me = after.call("current_admin", &[]).await;
    assert_eq!(me.assert_ok()["email"], creds.email.as_str());
}

async fn session_ids_are_stored_hashed(app: TestApp) {
    use sqlx::Row;
    let creds = app.account("hashed").await;
    let browser = app.browser();
    browser.sign_in_fully(&creds, None).await;
    let cookie = browser.session_cookie().unwrap();
    let rows = sqlx::query("SELECT id_hash, data FROM sessions")
        .fetch_all(&app.ctx.db.pool)
        .await
        .unwrap();
    assert!(!rows.is_empty());
    for row in rows {
        let id: String = row.get("id_hash");
        let data: String = row.get("data");
        assert!(!id.contains(&cookie) && !data.contains(&cookie));
    }
}

/// A sign-in step that read the admin before a reset (or a deactivation) ended all their
/// sessions stores its new session afterwards: the generation it carries is the old one, and
/// the session is refused at its first use. Simulated by moving the generation on without
/// deleting the rows, which is what such a session finds.
async fn a_session_stored_after_its_admins_sessions_were_ended_is_refused(app: TestApp) {
    let creds = app.account("generation").await;
    let first = app.browser();
    first.sign_in_fully(&creds, None).await;
    let second = app.browser();
    second.sign_in_fully(&creds, None).await;
    sqlx::query("UPDATE admins SET session_generation = session_generation + 1 WHERE id = $1")
        .bind(creds.admin_id)
        .execute(&app.ctx.db.pool)
        .await
        .unwrap();
    for browser in [&first, &second] {
        browser
            .call("get_profile", &[])
            .await
            .assert_error(401, "Unauthenticated");
    }
    // A new sign-in takes the new generation; "sign out other sessions" moves it on again and
    // keeps the session that asked.
    let first = app.browser();
    first.sign_in_fully(&creds, None).await;
    let second = app.browser();
    second.sign_in_fully(&creds, None).await;
    assert_eq!(first.call("end_other_sessions", &[]).await.assert_ok(), 1);
    first.call("get_profile", &[]).await.assert_ok();
    second
        .call("get_profile", &[])
        .await
        .assert_error(401, "Unauthenticated");
}
