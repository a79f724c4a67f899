//! Turning TOTP two-factor authentication on and off from the profile.

use crate::api::error::AppError;
use crate::api::types::{Profile, TotpSetup};
use crate::domain::access::Stage;
use crate::domain::enforcement;
use crate::domain::totp as policy;
use crate::server::auth::{Client, SignedIn, enter_stage, state};
use crate::server::db::{admins, totp};
use crate::server::secrets::TotpSecret;
use crate::server::signin::now_u64;
use crate::server::{internal, now, qr, views};
use serde::{Deserialize, Serialize};

/// Session key of the setup in progress.
const SETUP_KEY: &str = "totp_setup";
/// A setup not confirmed within this time must be started again.
const SETUP_TTL_SECONDS: i64 = 15 * 60;

#[derive(Serialize, Deserialize)]
struct PendingSetup {
    admin_id: i64,
    secret_base32: String,
    started_at: i64,
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
    let pending = PendingSetup {
        admin_id: signed_in.admin.id,
        secret_base32: base32.clone(),
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

/// Stores the credential when `code` is right. When the setup was the required step of a
/// sign-in, the sign-in completes and the answer is the page to go to.
pub async fn confirm_setup(
    signed_in: &SignedIn,
    code: &str,
    client: &Client,
) -> Result<Option<String>, AppError> {
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
    let secret = TotpSecret::from_base32(&pending.secret_base32)
        .ok_or_else(|| internal("bad pending secret"))?;
    let step = policy::verify_code(secret.bytes(), code, now_u64(), None)
        .map_err(|e| AppError::invalid("code", e.to_string()))?;
    let step = i64::try_from(step).map_err(internal)?;
    let db = &state()?.db;
    if !totp::insert(db, signed_in.admin.id, &secret, step, now())
        .await
        .map_err(internal)?
    {
        return Err(AppError::Conflict(
            "Two-factor authentication is already on.".into(),
        ));
    }
    session
        .remove_value(SETUP_KEY)
        .await
        .map_err(session_error)?;
    tracing::info!(
        admin = signed_in.admin.id,
        "two-factor authentication enabled"
    );
    if signed_in.admin.prompt_2fa_setup {
        admins::set_prompt_2fa_setup(db, signed_in.admin.id, false)
            .await
            .map_err(internal)?;
    }
    if matches!(signed_in.auth.stage, Stage::SettingUpTwoFactor { .. }) {
        enter_stage(session, &signed_in.admin, Stage::Complete, client).await?;
        admins::record_sign_in(db, signed_in.admin.id, now())
            .await
            .map_err(internal)?;
        return Ok(Some(Stage::Complete.page().to_string()));
    }
    Ok(None)
}

pub async fn disable(signed_in: &SignedIn, code: &str) -> Result<(), AppError> {
    let enforcement =
        enforcement::effective(signed_in.account.force_2fa, signed_in.admin.enforce_2fa);
    enforcement::check_can_disable(enforcement)
        .map_err(|e| AppError::Forbidden(e.reason.to_string()))?;
    policy::normalize_code(code).map_err(|e| AppError::invalid("code", e.to_string()))?;
    let db = &state()?.db;
    let credential = totp::find(db, signed_in.admin.id)
        .await
        .map_err(internal)?
        .ok_or_else(|| AppError::Conflict("Two-factor authentication is already off.".into()))?;
    let step = policy::verify_code(
        credential.secret.bytes(),
        code,
        now_u64(),
        Some(u64::try_from(credential.last_used_step).unwrap_or(0)),
    )
    .map_err(|e| AppError::invalid("code", e.to_string()))?;
    let step = i64::try_from(step).map_err(internal)?;
    if !totp::consume_step(db, signed_in.admin.id, step)
        .await
        .map_err(internal)?
    {
        return Err(AppError::invalid(
            "code",
            policy::CodeError::Replayed.to_string(),
        ));
    }
    totp::delete(db, signed_in.admin.id)
        .await
        .map_err(internal)?;
    tracing::info!(
        admin = signed_in.admin.id,
        "two-factor authentication disabled"
    );
    Ok(())
}
