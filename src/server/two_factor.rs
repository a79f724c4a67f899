//! Turning TOTP two-factor authentication on and off, and its recovery codes.

use crate::api::error::AppError;
use crate::api::types::{Profile, SetupDone, TotpSetup};
use crate::domain::access::Stage;
use crate::domain::{enforcement, recovery, totp as policy};
use crate::server::auth::{Client, SignedIn, enter_stage, state};
use crate::server::db::{admins, recovery_codes, sessions, totp};
use crate::server::secrets::TotpSecret;
use crate::server::signin::now_u64;
use crate::server::{internal, notify, now, qr, views};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Session key of the setup in progress.
const SETUP_KEY: &str = "totp_setup";
/// A setup not confirmed within this time must be started again.
const SETUP_TTL_SECONDS: i64 = 15 * 60;

/// The setup in progress, kept in the server-side session with its secret encrypted (a dump
/// of the sessions table reveals no secret either).
#[derive(Serialize, Deserialize)]
struct PendingSetup {
    admin_id: i64,
    key_id: String,
    sealed_secret: String,
    started_at: i64,
}

fn setup_context(admin_id: i64) -> String {
    format!("setup:{admin_id}")
}

fn session_error(e: tower_sessions::session::Error) -> AppError {
    internal(format!("session store: {e}"))
}

pub async fn profile(signed_in: &SignedIn) -> Result<Profile, AppError> {
    let db = &state()?.db;
    Ok(Profile {
        me: views::me(signed_in),
        totp_enabled: totp::exists(db, signed_in.admin.id)
            .await
            .map_err(internal)?,
        enforcement: enforcement::effective(
            signed_in.account.force_2fa,
            signed_in.admin.enforce_2fa,
        ),
        recovery_codes_left: recovery_codes::remaining(db, signed_in.admin.id)
            .await
            .map_err(internal)?,
    })
}

pub async fn start_setup(signed_in: &SignedIn) -> Result<TotpSetup, AppError> {
    let st = state()?;
    if totp::exists(&st.db, signed_in.admin.id)
        .await
        .map_err(internal)?
    {
        return Err(AppError::Conflict(
            "Two-factor authentication is already on.".into(),
        ));
    }
    let secret = TotpSecret::generate();
    let base32 = secret.to_base32();
    let uri = qr::otpauth_uri(&st.config.totp_issuer, &signed_in.admin.email, &secret)?;
    let (key_id, sealed_secret) = st
        .keyring
        .encrypt(secret.bytes(), &setup_context(signed_in.admin.id));
    let pending = PendingSetup {
        admin_id: signed_in.admin.id,
        key_id,
        sealed_secret,
        started_at: now(),
    };
    signed_in
        .session
        .insert(SETUP_KEY, pending)
        .await
        .map_err(session_error)?;
    Ok(TotpSetup {
        qr_svg: qr::svg(&uri)?,
        secret_grouped: policy::group_secret(&base32),
        issuer: st.config.totp_issuer.clone(),
        account: signed_in.admin.email.clone(),
        skippable: matches!(
            signed_in.auth.stage,
            Stage::SettingUpTwoFactor { optional: true, .. }
        ),
    })
}

/// Ten new recovery codes, as shown to the admin (and their normalised forms to store).
fn new_recovery_codes() -> (Vec<String>, Vec<String>) {
    let mut rng = rand::rng();
    let shown: Vec<String> = (0..recovery::COUNT)
        .map(|_| {
            let mut symbols = [0u8; 10];
            for s in &mut symbols {
                *s = rng.random_range(0..32);
            }
            recovery::format(&symbols)
        })
        .collect();
    let stored = shown
        .iter()
        .filter_map(|c| recovery::normalize(c))
        .collect();
    (shown, stored)
}

/// Ends the admin's other sessions after a change to how they sign in.
async fn end_other_sessions(signed_in: &SignedIn) -> Result<(), AppError> {
    let db = &state()?.db;
    match signed_in.session.id() {
        Some(id) => sessions::delete_for_admin_except(db, signed_in.admin.id, &id).await,
        None => sessions::delete_for_admin(db, signed_in.admin.id).await,
    }
    .map_err(internal)?;
    Ok(())
}

/// Stores the credential and ten recovery codes when `code` is right. When the setup was the
/// required step of a sign-in, the sign-in completes and `next` is the page to go to.
pub async fn confirm_setup(
    signed_in: &SignedIn,
    code: &str,
    client: &Client,
) -> Result<SetupDone, AppError> {
    policy::normalize_code(code).map_err(|e| AppError::invalid("code", e.to_string()))?;
    let session = &signed_in.session;
    let pending: Option<PendingSetup> = session.get(SETUP_KEY).await.map_err(session_error)?;
    let Some(pending) = pending.filter(|p| p.admin_id == signed_in.admin.id) else {
        return Err(AppError::Conflict(
            "There is no two-factor setup in progress. Turn on \"Enable Two-Factor Authentication\" to start one.".into(),
        ));
    };
    if now() - pending.started_at >= SETUP_TTL_SECONDS {
        session
            .remove_value(SETUP_KEY)
            .await
            .map_err(session_error)?;
        return Err(AppError::Conflict(
            "This setup has expired. Turn on \"Enable Two-Factor Authentication\" again for a new QR code.".into(),
        ));
    }
    let st = state()?;
    let secret = st
        .keyring
        .decrypt(
            &pending.key_id,
            &pending.sealed_secret,
            &setup_context(signed_in.admin.id),
        )
        .ok()
        .and_then(TotpSecret::from_bytes)
        .ok_or_else(|| internal("pending setup secret does not decrypt"))?;
    let step = policy::verify_code(secret.bytes(), code, now_u64(), None)
        .map_err(|e| AppError::invalid("code", e.to_string()))?;
    let step = i64::try_from(step).map_err(internal)?;
    let (shown, stored) = new_recovery_codes();
    let mut tx = st.db.pool.begin().await.map_err(internal)?;
    if !totp::insert(
        &mut tx,
        &st.keyring,
        signed_in.admin.id,
        &secret,
        step,
        now(),
    )
    .await
    .map_err(internal)?
    {
        return Err(AppError::Conflict(
            "Two-factor authentication is already on.".into(),
        ));
    }
    recovery_codes::replace(&mut tx, &st.keyring, signed_in.admin.id, &stored, now())
        .await
        .map_err(internal)?;
    if signed_in.admin.prompt_2fa_setup {
        sqlx::query("UPDATE admins SET prompt_2fa_setup = 0 WHERE id = $1")
            .bind(signed_in.admin.id)
            .execute(&mut *tx)
            .await
            .map_err(internal)?;
    }
    tx.commit().await.map_err(internal)?;
    session
        .remove_value(SETUP_KEY)
        .await
        .map_err(session_error)?;
    tracing::info!(
        admin = signed_in.admin.id,
        "two-factor authentication enabled"
    );
    let admin = &signed_in.admin;
    notify::audit(
        Some(admin.account_id),
        Some(admin.id),
        Some(admin.id),
        "2fa_enabled",
        "",
        client,
    )
    .await?;
    notify::admin(
        admin,
        "2fa_enabled",
        "Two-factor authentication turned on",
        "Two-factor authentication was turned on for your account.",
    )
    .await?;
    let next = if matches!(signed_in.auth.stage, Stage::SettingUpTwoFactor { .. }) {
        enter_stage(session, admin, Stage::Complete, client).await?;
        admins::record_sign_in(&st.db, admin.id, now())
            .await
            .map_err(internal)?;
        Some(Stage::Complete.page().to_string())
    } else {
        None
    };
    end_other_sessions(signed_in).await?;
    Ok(SetupDone {
        next,
        recovery_codes: shown,
    })
}

/// Checks a current TOTP code of the signed-in admin and uses up its time step.
async fn check_current_code(signed_in: &SignedIn, code: &str) -> Result<(), AppError> {
    policy::normalize_code(code).map_err(|e| AppError::invalid("code", e.to_string()))?;
    let st = state()?;
    let credential = totp::find(&st.db, &st.keyring, signed_in.admin.id)
        .await
        .map_err(internal)?
        .ok_or_else(|| AppError::Conflict("Two-factor authentication is off.".into()))?;
    let step = policy::verify_code(
        credential.secret.bytes(),
        code,
        now_u64(),
        Some(u64::try_from(credential.last_used_step).unwrap_or(0)),
    )
    .map_err(|e| AppError::invalid("code", e.to_string()))?;
    let step = i64::try_from(step).map_err(internal)?;
    if !totp::consume_step(&st.db, signed_in.admin.id, step)
        .await
        .map_err(internal)?
    {
        return Err(AppError::invalid(
            "code",
            policy::CodeError::Replayed.to_string(),
        ));
    }
    Ok(())
}

pub async fn disable(signed_in: &SignedIn, code: &str, client: &Client) -> Result<(), AppError> {
    let enforcement =
        enforcement::effective(signed_in.account.force_2fa, signed_in.admin.enforce_2fa);
    enforcement::check_can_disable(enforcement)
        .map_err(|e| AppError::Forbidden(e.reason.to_string()))?;
    check_current_code(signed_in, code)
        .await
        .map_err(|e| match e {
            AppError::Conflict(_) => {
                AppError::Conflict("Two-factor authentication is already off.".into())
            }
            other => other,
        })?;
    let db = &state()?.db;
    totp::delete(db, signed_in.admin.id)
        .await
        .map_err(internal)?;
    tracing::info!(
        admin = signed_in.admin.id,
        "two-factor authentication disabled"
    );
    let admin = &signed_in.admin;
    notify::audit(
        Some(admin.account_id),
        Some(admin.id),
        Some(admin.id),
        "2fa_disabled",
        "",
        client,
    )
    .await?;
    notify::admin(
        admin,
        "2fa_disabled",
        "Two-factor authentication turned off",
        "Two-factor authentication was turned off for your account.",
    )
    .await?;
    end_other_sessions(signed_in).await
}

/// New recovery codes (the old ones stop working); needs a current code.
pub async fn regenerate_recovery_codes(
    signed_in: &SignedIn,
    code: &str,
    client: &Client,
) -> Result<Vec<String>, AppError> {
    check_current_code(signed_in, code).await?;
    let st = state()?;
    let (shown, stored) = new_recovery_codes();
    let mut conn = st.db.pool.acquire().await.map_err(internal)?;
    recovery_codes::replace(&mut conn, &st.keyring, signed_in.admin.id, &stored, now())
        .await
        .map_err(internal)?;
    drop(conn);
    let admin = &signed_in.admin;
    notify::audit(
        Some(admin.account_id),
        Some(admin.id),
        Some(admin.id),
        "recovery_codes_regenerated",
        "",
        client,
    )
    .await?;
    Ok(shown)
}
