//! Keys for secrets at rest cannot be lost silently: a start without the key the database
//! needs is refused with what to do, no key is created while encrypted data exists, a key file
//! others can read is refused, and a key lost for good is forgotten only on purpose.

use crate::helpers::{Authenticator, Creds, TestApp, respawn};
use crate::on_both_backends;
use mssp_dashboard::server::Ctx;
use mssp_dashboard::server::clock::Clock;
use mssp_dashboard::server::db::admins;
use mssp_dashboard::server::db::totp as credentials;
use mssp_dashboard::server::setup_codes;

on_both_backends!(
    a_missing_key_file_stops_the_start_and_destroys_nothing,
    a_key_file_others_can_read_is_refused,
    another_key_under_the_same_id_is_refused,
    keys_from_the_environment_must_hold_every_key_the_database_uses,
    a_key_lost_for_good_is_forgotten_only_on_purpose,
);

async fn with_two_factor(app: &TestApp) -> (Creds, Authenticator) {
    let creds = app.account("keys").await;
    let browser = app.browser();
    browser.sign_in_fully(&creds, None).await;
    let authenticator = browser.enable_two_factor().await;
    (creds, authenticator)
}

fn key_file(app: &TestApp) -> std::path::PathBuf {
    app.ctx.config.key_file.clone().unwrap()
}

async fn a_missing_key_file_stops_the_start_and_destroys_nothing(app: TestApp) {
    let (creds, mut authenticator) = with_two_factor(&app).await;
    let key_id = app.ctx.keyring.current_id();
    let path = key_file(&app);
    let away = path.with_extension("moved");
    std::fs::rename(&path, &away).unwrap();

    let refused = Ctx::open((*app.ctx.config).clone(), Clock::system())
        .await
        .unwrap_err();
    for needed in [
        key_id.as_str(),
        path.file_name().unwrap().to_str().unwrap(),
        "restore the key file",
        "MSSP_KEY_FILE",
        "forget-key",
    ] {
        assert!(
            refused.contains(needed),
            "{needed:?} missing from: {refused}"
        );
    }
    assert!(
        !path.exists(),
        "no new key may be created while secrets exist"
    );

    // The file is back: the same sign-in with a code works.
    std::fs::rename(&away, &path).unwrap();
    let config = (*app.ctx.config).clone();
    let app = respawn(app, config).await;
    let browser = app.browser();
    browser
        .sign_in_fully(&creds, Some(&mut authenticator))
        .await;
}

async fn a_key_file_others_can_read_is_refused(app: TestApp) {
    use std::os::unix::fs::PermissionsExt;
    let path = key_file(&app);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let refused = Ctx::open((*app.ctx.config).clone(), Clock::system())
        .await
        .unwrap_err();
    assert!(refused.contains("chmod 600"), "{refused}");
}

async fn another_key_under_the_same_id_is_refused(app: TestApp) {
    with_two_factor(&app).await;
    let path = key_file(&app);
    let id = app.ctx.keyring.current_id();
    // A key made anew (by hand, or by a tool) under the lost key's name.
    std::fs::remove_file(&path).unwrap();
    let other = mssp_dashboard::server::keyring::Keyring::load(None, &path, true).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace(&other.current_id(), &id)).unwrap();
    let refused = Ctx::open((*app.ctx.config).clone(), Clock::system())
        .await
        .unwrap_err();
    assert!(refused.contains(&id), "{refused}");
    assert!(
        refused.contains("a different key holds that id"),
        "{refused}"
    );
}

async fn keys_from_the_environment_must_hold_every_key_the_database_uses(app: TestApp) {
    with_two_factor(&app).await;
    let mut config = (*app.ctx.config).clone();
    config.secret_keys = Some(format!("other:{}", "A".repeat(43)));
    let refused = Ctx::open(config, Clock::system()).await.unwrap_err();
    assert!(refused.contains("MSSP_SECRET_KEYS"), "{refused}");
    assert!(refused.contains(&app.ctx.keyring.current_id()), "{refused}");
}

async fn a_key_lost_for_good_is_forgotten_only_on_purpose(app: TestApp) {
    let (creds, mut lost) = with_two_factor(&app).await;
    // Another admin waits to set 2FA up again, with a setup code kept under the same key.
    let owner = app.browser();
    owner.sign_in_fully(&creds, Some(&mut lost)).await;
    let mut waiting = owner.add_admin(creds.account_id, "waiting", "admin").await;
    app.browser().sign_in_first_time(&mut waiting).await;
    let now = app.clock().now();
    let mut conn = app.ctx.db.pool.acquire().await.unwrap();
    admins::set_setup_prompt_in(
        &mut conn,
        waiting.admin_id,
        admins::SetupPrompt::Required,
        now,
    )
    .await
    .unwrap();
    assert!(
        setup_codes::issue_in(&app.ctx, &mut conn, waiting.admin_id, now)
            .await
            .unwrap()
            .is_some()
    );
    drop(conn);
    let id = app.ctx.keyring.current_id();
    std::fs::remove_file(key_file(&app)).unwrap();
    let config = (*app.ctx.config).clone();
    let forget = |yes: bool| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_mssp-dashboard"));
        command
            .current_dir(std::env::temp_dir())
            .args(["forget-key", "--key-id", &id])
            .env("DATABASE_URL", &config.database_url)
            .env("MSSP_KEY_FILE", config.key_file.as_ref().unwrap())
            .env_remove("MSSP_SECRET_KEYS")
            .env("RUST_LOG", "error");
        if yes {
            command.arg("--yes");
        }
        command.output().unwrap()
    };
    // Without --yes nothing happens.
    let out = forget(false);
    assert!(!out.status.success());
    assert!(
        credentials::exists(&app.ctx.db, creds.admin_id)
            .await
            .unwrap()
    );
    let out = forget(true);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !credentials::exists(&app.ctx.db, creds.admin_id)
            .await
            .unwrap()
    );
    // The setup code under the lost key could never be checked: it is gone, and said so.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Forgot 1 setup code(s)"), "{stdout}");
    let admin = admins::find(&app.ctx.db, waiting.admin_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(admin.setup_code, None);
    // The server starts again (with a new key), and the admin sets 2FA up again.
    let app = respawn(app, config.clone()).await;
    assert_ne!(app.ctx.keyring.current_id(), id);
    let browser = app.browser();
    assert_eq!(
        browser.sign_in(&creds).await.assert_ok(),
        "/login/setup-2fa"
    );
}
