//! The two steps of sign-in.

use crate::api::error::AppError;
use crate::domain::access::{CODE_PATH, HOME_PATH, Stage};
use crate::domain::enforcement::{self, AfterPassword};
use crate::domain::{identity, totp as policy};
use crate::server::auth::{Client, enter_stage, require_pending_code, session, state};
use crate::server::db::{accounts, admins, totp};
use crate::server::{internal, now};

/// Checks the password and moves the session to the code step or signs in. Unknown admin,
/// wrong password: the same answer after the same work.
pub async fn password_step(
    identifier: &str,
    password: &str,
    client: &Client,
) -> Result<String, AppError> {
    let identifier = identity::sign_in_identifier(identifier)?;
    let password = identity::sign_in_password(password)?;
    let st = state()?;
    let admin = admins::find_by_identifier(&st.db, &identifier)
        .await
        .map_err(internal)?;
    let matches = st
        .passwords
        .verify(password, admin.as_ref().map(|a| &a.password_hash))
        .await?;
    let admin = match admin {
        Some(admin) if matches => admin,
        _ => {
            tracing::info!(ip = ?client.ip, "sign-in failed");
            return Err(AppError::BadCredentials);
        }
    };
    if !admin.active {
        // Only said to someone who knows the password.
        return Err(AppError::Forbidden(
            "This admin is deactivated. Ask your super admin to reactivate you.".into(),
        ));
    }
    let account = accounts::find(&st.db, admin.account_id)
        .await
        .map_err(internal)?
        .ok_or_else(|| internal("admin without account"))?;
    let has_totp = totp::exists(&st.db, admin.id).await.map_err(internal)?;
    let enforcement = enforcement::effective(account.force_2fa, admin.enforce_2fa);
    let session = session()?;
    match enforcement::after_password(has_totp, enforcement) {
        AfterPassword::AskForCode => {
            enter_stage(
                &session,
                &admin,
                Stage::AwaitingCode { since: now() },
                client,
            )
            .await?;
            Ok(CODE_PATH.to_string())
        }
        AfterPassword::SetUpTwoFactor | AfterPassword::SignedIn => {
            enter_stage(&session, &admin, Stage::Complete, client).await?;
            admins::record_sign_in(&st.db, admin.id, now())
                .await
                .map_err(internal)?;
            tracing::info!(admin = admin.id, "signed in without second factor");
            Ok(HOME_PATH.to_string())
        }
    }
}

/// Checks the 2FA security code of a session that passed the password step.
pub async fn code_step(code: &str, client: &Client) -> Result<String, AppError> {
    // Shape first: a malformed code costs nothing and tells the admin what to type.
    policy::normalize_code(code).map_err(|e| AppError::invalid("code", e.to_string()))?;
    let (session, _auth, admin) = require_pending_code().await?;
    let st = state()?;
    let credential = totp::find(&st.db, admin.id)
        .await
        .map_err(internal)?
        .ok_or_else(|| {
            AppError::Conflict(
                "Two-factor authentication is no longer set up for you. Sign in again.".into(),
            )
        })?;
    let step = policy::verify_code(
        credential.secret.bytes(),
        code,
        now_u64(),
        Some(u64::try_from(credential.last_used_step).unwrap_or(0)),
    )
    .map_err(|e| AppError::invalid("code", e.to_string()))?;
    let step = i64::try_from(step).map_err(internal)?;
    if !totp::consume_step(&st.db, admin.id, step)
        .await
        .map_err(internal)?
    {
        // Another request used this code between our read and our write.
        return Err(AppError::invalid(
            "code",
            policy::CodeError::Replayed.to_string(),
        ));
    }
    enter_stage(&session, &admin, Stage::Complete, client).await?;
    admins::record_sign_in(&st.db, admin.id, now())
        .await
        .map_err(internal)?;
    tracing::info!(admin = admin.id, "signed in with second factor");
    Ok(HOME_PATH.to_string())
}

pub fn now_u64() -> u64 {
    u64::try_from(now()).unwrap_or(0)
}
