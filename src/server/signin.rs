//! The steps of sign-in: password, code, and the required steps after them (a new password
//! when a super admin chose the current one, the 2FA setup when enforced).

use crate::api::error::AppError;
use crate::domain::access::{SignInFacts, Stage, stage_after_password, stage_after_second_factor};
use crate::domain::throttle::Policy;
use crate::domain::{enforcement, identity, recovery, totp as policy};
use crate::server::auth::{
    Client, SignedIn, enter_stage, require_password_change, require_pending_code, session, state,
};
use crate::server::db::{accounts, admins, auth_failures, recovery_codes, sessions, totp};
use crate::server::{internal, notify, now};

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
        notify::audit(
            Some(admin.account_id),
            Some(admin.id),
            Some(admin.id),
            "sign_in_succeeded",
            "",
            client,
        )
        .await?;
        tracing::info!(admin = admin.id, "signed in");
    }
    Ok(stage.page().to_string())
}

/// The counters a sign-in step consults, by key.
fn address_key(step: &str, client: &Client) -> Option<String> {
    client.ip.as_ref().map(|ip| format!("{step}:ip:{ip}"))
}

/// Refuses with 429 while any of `keys` is locked.
async fn check_locks(keys: &[(String, Policy)]) -> Result<(), AppError> {
    let db = &state()?.db;
    let now = now();
    for (key, policy) in keys {
        let counter = auth_failures::get(db, key).await.map_err(internal)?;
        policy
            .check(counter, now)
            .map_err(|retry_after_seconds| AppError::TooManyRequests {
                retry_after_seconds,
            })?;
    }
    Ok(())
}

/// Counts a failure on each of `keys`; answers whether one of them locked now.
async fn count_failure(keys: &[(String, Policy)]) -> Result<bool, AppError> {
    let db = &state()?.db;
    let now = now();
    let mut locked = false;
    for (key, policy) in keys {
        locked |= auth_failures::record_failure(db, key, *policy, now)
            .await
            .map_err(internal)?
            .is_some();
    }
    Ok(locked)
}

/// Checks the password and moves the session to its next stage. Unknown admin, wrong
/// password: the same answer after the same work. Wrong passwords are counted per admin (per
/// name when no admin has it, so both behave alike) and per client address.
pub async fn password_step(
    identifier: &str,
    password: &str,
    client: &Client,
) -> Result<String, AppError> {
    let identifier = identity::sign_in_identifier(identifier)?;
    let password = identity::sign_in_password(password)?;
    let st = state()?;
    let address = address_key("password", client).map(|k| (k, st.config.address_policy()));
    // A locked address costs no hash.
    check_locks(address.as_slice()).await?;
    let admin = admins::find_by_identifier(&st.db, &identifier)
        .await
        .map_err(internal)?;
    let name_key = match &admin {
        Some(a) => format!("password:admin:{}", a.id),
        None => format!("password:name:{identifier}"),
    };
    let mut keys: Vec<(String, Policy)> = vec![(name_key.clone(), st.config.password_policy())];
    keys.extend(address);
    check_locks(&keys).await?;
    let matches = st
        .passwords
        .verify(password, admin.as_ref().map(|a| &a.password_hash))
        .await?;
    let admin = match admin {
        Some(admin) if matches => admin,
        other => {
            count_failure(&keys).await?;
            let target = other.as_ref();
            notify::audit(
                target.map(|a| a.account_id),
                None,
                target.map(|a| a.id),
                "sign_in_failed",
                "wrong password",
                client,
            )
            .await?;
            tracing::info!(ip = ?client.ip, "sign-in failed");
            return Err(AppError::BadCredentials);
        }
    };
    auth_failures::clear(&st.db, &name_key)
        .await
        .map_err(internal)?;
    if !admin.active {
        // Only said to someone who knows the password.
        notify::audit(
            Some(admin.account_id),
            None,
            Some(admin.id),
            "sign_in_failed",
            "inactive admin",
            client,
        )
        .await?;
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

/// What the admin typed at the code step.
enum SecondFactor {
    Totp,
    RecoveryCode(String),
}

fn second_factor(input: &str) -> Result<SecondFactor, AppError> {
    if policy::normalize_code(input).is_ok() {
        Ok(SecondFactor::Totp)
    } else if let Some(code) = recovery::normalize(input) {
        Ok(SecondFactor::RecoveryCode(code))
    } else {
        Err(AppError::invalid(
            "code",
            "Enter the 6-digit code from your authenticator app, or one of your recovery codes.",
        ))
    }
}

/// Checks the 2FA security code (or a recovery code) of a session that passed the password
/// step. Wrong codes are counted: after a few in a row the code step locks for a growing
/// delay, and the account's super admins are told (the password is known to whoever tries).
pub async fn code_step(code: &str, client: &Client) -> Result<String, AppError> {
    // Shape first: a malformed code costs nothing and tells the admin what to type.
    let factor = second_factor(code)?;
    let signed = require_pending_code().await?;
    let st = state()?;
    let admin = &signed.admin;
    let mut keys = vec![(format!("code:admin:{}", admin.id), st.config.code_policy())];
    keys.extend(address_key("code", client).map(|k| (k, st.config.address_policy())));
    check_locks(&keys).await?;
    let outcome = match &factor {
        SecondFactor::Totp => check_totp(admin.id, code).await?,
        SecondFactor::RecoveryCode(normalized) => {
            if recovery_codes::consume(&st.db, &st.keyring, admin.id, normalized, now())
                .await
                .map_err(internal)?
            {
                Ok(())
            } else {
                Err(AppError::invalid(
                    "code",
                    "That recovery code is not valid or was already used.",
                ))
            }
        }
    };
    if let Err(refused) = outcome {
        let locked = count_failure(&keys).await?;
        notify::audit(
            Some(admin.account_id),
            Some(admin.id),
            Some(admin.id),
            "sign_in_failed",
            "wrong 2FA code",
            client,
        )
        .await?;
        if locked {
            notify::audit(
                Some(admin.account_id),
                None,
                Some(admin.id),
                "lockout",
                "repeated wrong 2FA codes",
                client,
            )
            .await?;
            notify::super_admins(
                admin.account_id,
                None,
                "repeated_wrong_codes",
                &format!("Repeated wrong 2FA codes for {}", admin.name),
                &format!(
                    "Repeated wrong 2FA codes for {} ({}): their code step is locked for a while. \
                     Whoever tries knows their password.",
                    admin.name, admin.email
                ),
                "/admin/admins",
            )
            .await?;
        }
        return Err(refused);
    }
    auth_failures::clear(&st.db, &keys[0].0)
        .await
        .map_err(internal)?;
    if let SecondFactor::RecoveryCode(_) = factor {
        let left = recovery_codes::remaining(&st.db, admin.id)
            .await
            .map_err(internal)?;
        notify::audit(
            Some(admin.account_id),
            Some(admin.id),
            Some(admin.id),
            "recovery_code_used",
            &format!("{left} left"),
            client,
        )
        .await?;
        notify::admin(
            admin,
            "recovery_code_used",
            "A recovery code was used",
            &format!("A recovery code was used to sign in to your account; {left} left."),
        )
        .await?;
        notify::super_admins(
            admin.account_id,
            Some(admin.id),
            "recovery_code_used",
            &format!("{} used a recovery code", admin.name),
            &format!(
                "{} signed in with a recovery code ({left} left).",
                admin.name
            ),
            "/admin/admins",
        )
        .await?;
    }
    // The authenticator (or a recovery code) works: a pending reset request is moot.
    crate::server::resets::withdraw_pending(signed.account.id, admin.id, &admin.name, client)
        .await?;
    let facts = facts(admin, signed.account.force_2fa).await?;
    advance(
        &signed.session,
        admin,
        stage_after_second_factor(facts, now()),
        client,
    )
    .await
}

/// A TOTP code against the admin's credential; the outer error is internal, the inner one the
/// refusal to count.
async fn check_totp(admin_id: i64, code: &str) -> Result<Result<(), AppError>, AppError> {
    let st = state()?;
    let credential = totp::find(&st.db, &st.keyring, admin_id)
        .await
        .map_err(internal)?
        .ok_or_else(|| {
            AppError::Conflict(
                "Two-factor authentication is no longer set up for you. Sign in again.".into(),
            )
        })?;
    let step = match policy::verify_code(
        credential.secret.bytes(),
        code,
        now_u64(),
        Some(u64::try_from(credential.last_used_step).unwrap_or(0)),
    ) {
        Ok(step) => i64::try_from(step).map_err(internal)?,
        Err(e) => return Ok(Err(AppError::invalid("code", e.to_string()))),
    };
    if !totp::consume_step(&st.db, admin_id, step)
        .await
        .map_err(internal)?
    {
        // Another request used this code between our read and our write.
        return Ok(Err(AppError::invalid(
            "code",
            policy::CodeError::Replayed.to_string(),
        )));
    }
    Ok(Ok(()))
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
    notify::audit(
        Some(signed.admin.account_id),
        Some(signed.admin.id),
        Some(signed.admin.id),
        "password_changed",
        "initial password replaced",
        client,
    )
    .await?;
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
    client: &Client,
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
    notify::audit(
        Some(signed.admin.account_id),
        Some(signed.admin.id),
        Some(signed.admin.id),
        "password_changed",
        "",
        client,
    )
    .await?;
    Ok(())
}

pub fn now_u64() -> u64 {
    u64::try_from(now()).unwrap_or(0)
}
