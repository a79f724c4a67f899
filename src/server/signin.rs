//! The steps of sign-in: password, code, and the required steps after them (a new password
//! when a super admin chose the current one, the 2FA setup when enforced).

use crate::api::error::AppError;
use crate::domain::access::{SignInFacts, Stage, stage_after_password, stage_after_second_factor};
use crate::domain::{enforcement, identity, totp as policy};
use crate::server::auth::{
    Client, SignedIn, enter_stage, require_password_change, require_pending_code, session, state,
};
use crate::server::db::{accounts, admins, sessions, totp};
use crate::server::{internal, now};

async fn facts(admin: &admins::Admin, account_forces_2fa: bool) -> Result<SignInFacts, AppError> {
    let db = &state()?.db;
    Ok(SignInFacts {
        has_totp: totp::exists(db, admin.id).await.map_err(internal)?,
        must_change_password: admin.must_change_password,
        enforcement: enforcement::effective(account_forces_2fa, admin.enforce_2fa),
        prompt_setup: admin.prompt_2fa_setup,
    })
}

/// Moves the session to `stage`; answers the page where sign-in continues.
async fn advance(
    session: &tower_sessions::Session,
    admin: &admins::Admin,
    stage: Stage,
    client: &Client,
) -> Result<String, AppError> {
    enter_stage(session, admin, stage, client).await?;
    if stage == Stage::Complete {
        admins::record_sign_in(&state()?.db, admin.id, now())
            .await
            .map_err(internal)?;
        tracing::info!(admin = admin.id, "signed in");
    }
    Ok(stage.page().to_string())
}

/// Checks the password and moves the session to its next stage. Unknown admin, wrong
/// password: the same answer after the same work.
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
    let facts = facts(&admin, account.force_2fa).await?;
    advance(
        &session()?,
        &admin,
        stage_after_password(facts, now()),
        client,
    )
    .await
}

/// Checks the 2FA security code of a session that passed the password step.
pub async fn code_step(code: &str, client: &Client) -> Result<String, AppError> {
    // Shape first: a malformed code costs nothing and tells the admin what to type.
    policy::normalize_code(code).map_err(|e| AppError::invalid("code", e.to_string()))?;
    let signed = require_pending_code().await?;
    let db = &state()?.db;
    let credential = totp::find(db, signed.admin.id)
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
    if !totp::consume_step(db, signed.admin.id, step)
        .await
        .map_err(internal)?
    {
        // Another request used this code between our read and our write.
        return Err(AppError::invalid(
            "code",
            policy::CodeError::Replayed.to_string(),
        ));
    }
    // The authenticator works after all: a pending reset request is moot.
    crate::server::resets::withdraw_pending(
        signed.account.id,
        signed.admin.id,
        &signed.admin.name,
        client,
    )
    .await?;
    let facts = facts(&signed.admin, signed.account.force_2fa).await?;
    advance(
        &signed.session,
        &signed.admin,
        stage_after_second_factor(facts, now()),
        client,
    )
    .await
}

/// "Skip for now" on a setup offered after a reset; refused when 2FA is enforced.
pub async fn skip_setup(client: &Client) -> Result<String, AppError> {
    let signed = crate::server::auth::require_enrolment().await?;
    match signed.auth.stage {
        Stage::SettingUpTwoFactor { optional: true, .. } => {}
        Stage::SettingUpTwoFactor { .. } => {
            return Err(AppError::Forbidden(
                "Two-factor authentication is required for you: set it up to continue.".into(),
            ));
        }
        _ => return Err(AppError::Conflict("There is no setup to skip.".into())),
    }
    admins::set_prompt_2fa_setup(&state()?.db, signed.admin.id, false)
        .await
        .map_err(internal)?;
    advance(&signed.session, &signed.admin, Stage::Complete, client).await
}

fn check_new_password(
    signed: &SignedIn,
    new_password: &str,
    confirm: &str,
) -> Result<(), AppError> {
    identity::new_password(new_password)?;
    if new_password != confirm {
        return Err(AppError::invalid(
            "confirm_password",
            "The two passwords differ.",
        ));
    }
    let lower = new_password.to_lowercase();
    if lower.contains(&signed.admin.username) || lower.contains(&signed.admin.email) {
        return Err(AppError::invalid(
            "new_password",
            "Choose a password that does not contain your username or email.",
        ));
    }
    Ok(())
}

/// Stores a new password; refuses the current one.
async fn store_new_password(signed: &SignedIn, new_password: &str) -> Result<(), AppError> {
    let st = state()?;
    if st
        .passwords
        .verify(new_password, Some(&signed.admin.password_hash))
        .await?
    {
        return Err(AppError::invalid(
            "new_password",
            "Choose a password different from the current one.",
        ));
    }
    let hash = st.passwords.hash(new_password).await?;
    admins::set_password(&st.db, signed.admin.id, &hash, now())
        .await
        .map_err(internal)?;
    Ok(())
}

/// The required step after signing in with a password a super admin chose.
pub async fn set_initial_password(
    new_password: &str,
    confirm: &str,
    client: &Client,
) -> Result<String, AppError> {
    let signed = require_password_change().await?;
    check_new_password(&signed, new_password, confirm).map_err(rename_field)?;
    store_new_password(&signed, new_password)
        .await
        .map_err(rename_field)?;
    tracing::info!(admin = signed.admin.id, "initial password replaced");
    let mut facts = facts(&signed.admin, signed.account.force_2fa).await?;
    facts.must_change_password = false;
    advance(
        &signed.session,
        &signed.admin,
        stage_after_second_factor(facts, now()),
        client,
    )
    .await
}

/// `identity::new_password` names its field "password"; the forms call it "new_password".
fn rename_field(e: AppError) -> AppError {
    match e {
        AppError::Invalid { field, message } if field == "password" => {
            AppError::invalid("new_password", message)
        }
        other => other,
    }
}

/// "Change password" on the profile: needs the current password; ends the admin's other
/// sessions.
pub async fn change_password(
    signed: &SignedIn,
    current: &str,
    new_password: &str,
    confirm: &str,
) -> Result<(), AppError> {
    let st = state()?;
    if current.is_empty() || current.chars().count() > identity::MAX_PASSWORD_CHARS {
        return Err(AppError::invalid(
            "current_password",
            "Enter your current password.",
        ));
    }
    if !st
        .passwords
        .verify(current, Some(&signed.admin.password_hash))
        .await?
    {
        return Err(AppError::invalid(
            "current_password",
            "That is not your current password.",
        ));
    }
    check_new_password(signed, new_password, confirm).map_err(rename_field)?;
    store_new_password(signed, new_password)
        .await
        .map_err(rename_field)?;
    // The old password may be known to someone: end every other session, and give this one a
    // new id.
    signed.session.cycle_id().await.map_err(internal)?;
    signed.session.save().await.map_err(internal)?;
    if let Some(id) = signed.session.id() {
        sessions::delete_for_admin_except(&st.db, signed.admin.id, &id)
            .await
            .map_err(internal)?;
    }
    tracing::info!(admin = signed.admin.id, "password changed");
    Ok(())
}

pub fn now_u64() -> u64 {
    u64::try_from(now()).unwrap_or(0)
}
