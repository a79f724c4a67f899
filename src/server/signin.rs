//! The steps of sign-in: password, code, and the required steps after them (a new password
//! when a super admin chose the current one, the 2FA setup when enforced).

use crate::domain::access::{SignInFacts, Stage, stage_after_password, stage_after_second_factor};
use crate::domain::throttle::Policy;
use crate::domain::{enforcement, identity, recovery, totp as policy};
use crate::model::AppError;
use crate::server::auth::{Client, SignedIn, enter_stage, require_pending_code};
use crate::server::db::{accounts, admins, auth_failures, recovery_codes, sessions, totp};
use crate::server::notify::{self, Event, Notice};
use crate::server::{Ctx, OrInternal, internal};
use tower_sessions::Session;

async fn facts(
    ctx: &Ctx,
    admin: &admins::Admin,
    account_forces_2fa: bool,
) -> Result<SignInFacts, AppError> {
    Ok(SignInFacts {
        has_totp: totp::exists(&ctx.db, admin.id).await.or_internal()?,
        must_change_password: admin.must_change_password,
        enforcement: enforcement::effective(account_forces_2fa, admin.enforce_2fa),
        prompt_setup: admin.prompt_2fa_setup,
    })
}

/// Moves the session to `stage`; answers the page where sign-in continues.
async fn advance(
    ctx: &Ctx,
    session: &Session,
    admin: &admins::Admin,
    stage: Stage,
    client: &Client,
    now: i64,
) -> Result<String, AppError> {
    enter_stage(ctx, session, admin, stage, client, now).await?;
    if stage == Stage::Complete {
        admins::record_sign_in(&ctx.db, admin.id, now)
            .await
            .or_internal()?;
        notify::audit(
            ctx,
            Event::by_self(admin, "sign_in_succeeded", ""),
            client,
            now,
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
async fn check_locks(ctx: &Ctx, keys: &[(String, Policy)], now: i64) -> Result<(), AppError> {
    for (key, policy) in keys {
        let counter = auth_failures::get(&ctx.db, key).await.or_internal()?;
        policy
            .check(counter, now)
            .map_err(|retry_after_seconds| AppError::TooManyRequests {
                retry_after_seconds,
            })?;
    }
    Ok(())
}

/// Counts a failure on each of `keys`; answers whether one of them locked now.
async fn count_failure(ctx: &Ctx, keys: &[(String, Policy)], now: i64) -> Result<bool, AppError> {
    let mut locked = false;
    for (key, policy) in keys {
        locked |= auth_failures::record_failure(&ctx.db, key, *policy, now)
            .await
            .or_internal()?
            .is_some();
    }
    Ok(locked)
}

/// Checks the password and moves the session to its next stage. Unknown admin, wrong
/// password: the same answer after the same work. Wrong passwords are counted per admin (per
/// name when no admin has it, so both behave alike) and per client address.
pub async fn password_step(
    ctx: &Ctx,
    session: &Session,
    client: &Client,
    identifier: &str,
    password: &str,
) -> Result<String, AppError> {
    let identifier = identity::sign_in_identifier(identifier)?;
    let password = identity::sign_in_password(password)?;
    let now = ctx.now();
    let address = address_key("password", client).map(|k| (k, ctx.config.address_policy()));
    // A locked address costs no hash.
    check_locks(ctx, address.as_slice(), now).await?;
    let admin = admins::find_by_identifier(&ctx.db, &identifier)
        .await
        .or_internal()?;
    let name_key = match &admin {
        Some(a) => format!("password:admin:{}", a.id),
        None => format!("password:name:{identifier}"),
    };
    let mut keys: Vec<(String, Policy)> = vec![(name_key.clone(), ctx.config.password_policy())];
    keys.extend(address);
    check_locks(ctx, &keys, now).await?;
    let matches = ctx
        .passwords
        .verify(password, admin.as_ref().map(|a| &a.password_hash))
        .await?;
    let admin = match admin {
        Some(admin) if matches => admin,
        other => {
            count_failure(ctx, &keys, now).await?;
            let target = other.as_ref();
            notify::audit(
                ctx,
                Event {
                    account_id: target.map(|a| a.account_id),
                    actor_id: None,
                    target_id: target.map(|a| a.id),
                    event: "sign_in_failed",
                    detail: "wrong password",
                },
                client,
                now,
            )
            .await?;
            tracing::info!(ip = ?client.ip, "sign-in failed");
            return Err(AppError::BadCredentials);
        }
    };
    auth_failures::clear(&ctx.db, &name_key)
        .await
        .or_internal()?;
    if !admin.active {
        // Only said to someone who knows the password.
        notify::audit(
            ctx,
            Event {
                actor_id: None,
                ..Event::by_self(&admin, "sign_in_failed", "inactive admin")
            },
            client,
            now,
        )
        .await?;
        return Err(AppError::Forbidden(
            "This admin is deactivated. Ask your super admin to reactivate you.".into(),
        ));
    }
    let account = accounts::find(&ctx.db, admin.account_id)
        .await
        .or_internal()?
        .ok_or_else(|| internal("admin without account"))?;
    let facts = facts(ctx, &admin, account.force_2fa).await?;
    advance(
        ctx,
        session,
        &admin,
        stage_after_password(facts, now),
        client,
        now,
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
pub async fn code_step(
    ctx: &Ctx,
    session: &Session,
    client: &Client,
    code: &str,
) -> Result<String, AppError> {
    // Shape first: a malformed code costs nothing and tells the admin what to type.
    let factor = second_factor(code)?;
    let signed = require_pending_code(ctx, session).await?;
    let now = ctx.now();
    let admin = &signed.admin;
    let mut keys = vec![(format!("code:admin:{}", admin.id), ctx.config.code_policy())];
    keys.extend(address_key("code", client).map(|k| (k, ctx.config.address_policy())));
    check_locks(ctx, &keys, now).await?;
    let outcome = match &factor {
        SecondFactor::Totp => check_totp(ctx, admin.id, code, now).await?,
        SecondFactor::RecoveryCode(normalized) => {
            if recovery_codes::consume(&ctx.db, &ctx.keyring, admin.id, normalized, now)
                .await
                .or_internal()?
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
        let locked = count_failure(ctx, &keys, now).await?;
        notify::audit(
            ctx,
            Event::by_self(admin, "sign_in_failed", "wrong 2FA code"),
            client,
            now,
        )
        .await?;
        if locked {
            notify::audit(
                ctx,
                Event {
                    actor_id: None,
                    ..Event::by_self(admin, "lockout", "repeated wrong 2FA codes")
                },
                client,
                now,
            )
            .await?;
            notify::super_admins(
                ctx,
                admin.account_id,
                None,
                Notice {
                    kind: "repeated_wrong_codes",
                    subject: &format!("Repeated wrong 2FA codes for {}", admin.name),
                    message: &format!(
                        "Repeated wrong 2FA codes for {} ({}): their code step is locked for a while. \
                         Whoever tries knows their password.",
                        admin.name, admin.email
                    ),
                    link: "/admin/admins",
                },
                now,
            )
            .await?;
        }
        return Err(refused);
    }
    auth_failures::clear(&ctx.db, &keys[0].0)
        .await
        .or_internal()?;
    if let SecondFactor::RecoveryCode(_) = factor {
        let left = recovery_codes::remaining(&ctx.db, admin.id)
            .await
            .or_internal()?;
        notify::audit(
            ctx,
            Event::by_self(admin, "recovery_code_used", &format!("{left} left")),
            client,
            now,
        )
        .await?;
        notify::admin(
            ctx,
            admin,
            "recovery_code_used",
            "A recovery code was used",
            &format!("A recovery code was used to sign in to your account; {left} left."),
            now,
        )
        .await?;
        notify::super_admins(
            ctx,
            admin.account_id,
            Some(admin.id),
            Notice {
                kind: "recovery_code_used",
                subject: &format!("{} used a recovery code", admin.name),
                message: &format!(
                    "{} signed in with a recovery code ({left} left).",
                    admin.name
                ),
                link: "/admin/admins",
            },
            now,
        )
        .await?;
    }
    // The authenticator (or a recovery code) works: a pending reset request is moot.
    crate::server::resets::withdraw_pending(ctx, admin, client, now).await?;
    let facts = facts(ctx, admin, signed.account.force_2fa).await?;
    advance(
        ctx,
        &signed.session,
        admin,
        stage_after_second_factor(facts, now),
        client,
        now,
    )
    .await
}

/// A TOTP code against the admin's credential; the outer error is internal, the inner one the
/// refusal to count.
async fn check_totp(
    ctx: &Ctx,
    admin_id: i64,
    code: &str,
    now: i64,
) -> Result<Result<(), AppError>, AppError> {
    let credential = totp::find(&ctx.db, &ctx.keyring, admin_id)
        .await
        .or_internal()?
        .ok_or_else(|| {
            AppError::Conflict(
                "Two-factor authentication is no longer set up for you. Sign in again.".into(),
            )
        })?;
    let step = match policy::verify_code(
        credential.secret.bytes(),
        code,
        unix_u64(now),
        Some(u64::try_from(credential.last_used_step).unwrap_or(0)),
    ) {
        Ok(step) => i64::try_from(step).or_internal()?,
        Err(e) => return Ok(Err(AppError::invalid("code", e.to_string()))),
    };
    if !totp::consume_step(&ctx.db, admin_id, step)
        .await
        .or_internal()?
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
pub async fn skip_setup(ctx: &Ctx, signed: &SignedIn, client: &Client) -> Result<String, AppError> {
    match signed.auth.stage {
        Stage::SettingUpTwoFactor { optional: true, .. } => {}
        Stage::SettingUpTwoFactor { .. } => {
            return Err(AppError::Forbidden(
                "Two-factor authentication is required for you: set it up to continue.".into(),
            ));
        }
        _ => return Err(AppError::Conflict("There is no setup to skip.".into())),
    }
    admins::set_prompt_2fa_setup(&ctx.db, signed.admin.id, false)
        .await
        .or_internal()?;
    let now = ctx.now();
    advance(
        ctx,
        &signed.session,
        &signed.admin,
        Stage::Complete,
        client,
        now,
    )
    .await
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
async fn store_new_password(
    ctx: &Ctx,
    signed: &SignedIn,
    new_password: &str,
    now: i64,
) -> Result<(), AppError> {
    if ctx
        .passwords
        .verify(new_password, Some(&signed.admin.password_hash))
        .await?
    {
        return Err(AppError::invalid(
            "new_password",
            "Choose a password different from the current one.",
        ));
    }
    let hash = ctx.passwords.hash(new_password).await?;
    admins::set_password(&ctx.db, signed.admin.id, &hash, now)
        .await
        .or_internal()?;
    Ok(())
}

/// The required step after signing in with a password a super admin chose.
pub async fn set_initial_password(
    ctx: &Ctx,
    signed: &SignedIn,
    client: &Client,
    new_password: &str,
    confirm: &str,
) -> Result<String, AppError> {
    let now = ctx.now();
    check_new_password(signed, new_password, confirm).map_err(rename_field)?;
    store_new_password(ctx, signed, new_password, now)
        .await
        .map_err(rename_field)?;
    tracing::info!(admin = signed.admin.id, "initial password replaced");
    notify::audit(
        ctx,
        Event::by_self(
            &signed.admin,
            "password_changed",
            "initial password replaced",
        ),
        client,
        now,
    )
    .await?;
    let mut facts = facts(ctx, &signed.admin, signed.account.force_2fa).await?;
    facts.must_change_password = false;
    advance(
        ctx,
        &signed.session,
        &signed.admin,
        stage_after_second_factor(facts, now),
        client,
        now,
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
    ctx: &Ctx,
    signed: &SignedIn,
    client: &Client,
    current: &str,
    new_password: &str,
    confirm: &str,
) -> Result<(), AppError> {
    let now = ctx.now();
    if current.is_empty() || current.chars().count() > identity::MAX_PASSWORD_CHARS {
        return Err(AppError::invalid(
            "current_password",
            "Enter your current password.",
        ));
    }
    if !ctx
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
    store_new_password(ctx, signed, new_password, now)
        .await
        .map_err(rename_field)?;
    // The old password may be known to someone: end every other session, and give this one a
    // new id.
    signed.session.cycle_id().await.or_internal()?;
    signed.session.save().await.or_internal()?;
    if let Some(id) = signed.session.id() {
        sessions::delete_for_admin_except(&ctx.db, signed.admin.id, &id)
            .await
            .or_internal()?;
    }
    tracing::info!(admin = signed.admin.id, "password changed");
    notify::audit(
        ctx,
        Event::by_self(&signed.admin, "password_changed", ""),
        client,
        now,
    )
    .await?;
    Ok(())
}

/// Unix time as TOTP counts it (never before 1970).
pub fn unix_u64(now: i64) -> u64 {
    u64::try_from(now).unwrap_or(0)
}

/// Signs out: ends the session on the server (and says so in the audit log).
pub async fn sign_out(ctx: &Ctx, session: &Session, client: &Client) -> Result<(), AppError> {
    if let Some(auth) = crate::server::auth::current_auth(ctx, session).await? {
        let admin = Some(auth.admin_id);
        notify::audit(
            ctx,
            Event {
                account_id: Some(auth.account_id),
                actor_id: admin,
                target_id: admin,
                event: "session_ended",
                detail: "signed out",
            },
            client,
            ctx.now(),
        )
        .await?;
    }
    crate::server::auth::end_session(session).await
}
