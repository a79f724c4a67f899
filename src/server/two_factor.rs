//! Turning TOTP two-factor authentication on and off, and its recovery codes.

use crate::domain::access::{PENDING_SECOND_FACTOR_TTL_SECONDS, Stage};
use crate::domain::factors::Factors;
use crate::domain::{enforcement, recovery, totp as policy};
use crate::model::AppError;
use crate::model::types::{Grace, Profile, SecurityKeyInfo, SetupDone, TotpSetup};
use crate::server::auth::{Client, Origin, SignedIn};
use crate::server::db::admins::{self, SetupPrompt};
use crate::server::db::{recovery_codes, security_keys, totp};
use crate::server::notify::{self, Event};
use crate::server::secrets::TotpSecret;
use crate::server::signin::{self, unix_u64};
use crate::server::throttle::{self, Secret, Subject};
use crate::server::{Ctx, OrInternal, internal, qr, views};
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

pub async fn profile(ctx: &Ctx, signed_in: &SignedIn) -> Result<Profile, AppError> {
    let db = &ctx.db;
    let requirement = signed_in
        .account
        .requirement(signed_in.admin.enforcement_rule());
    Ok(Profile {
        me: views::me(signed_in),
        totp_enabled: signed_in.admin.factors.totp,
        // The admin's read says whether there are any: none costs no query.
        security_keys: if signed_in.admin.factors.keys > 0 {
            security_keys::list(db, signed_in.admin.id)
                .await
                .or_internal()?
        } else {
            Vec::new()
        }
        .into_iter()
        .map(|k| SecurityKeyInfo {
            id: k.id,
            name: k.name,
            added_at: k.created_at,
            last_used_at: k.last_used_at,
            suspended: k.suspended_at.is_some(),
        })
        .collect(),
        keys_available: ctx.webauthn.is_some(),
        key_required: requirement.wants_key(),
        code_confirms: signed_in.admin.factors.totp
            && requirement.accepts_code(signed_in.admin.factors),
        enforcement: enforcement::effective(
            signed_in.account.enforcement_rule(),
            signed_in.admin.enforcement_rule(),
        ),
        recovery_codes_left: recovery_codes::remaining(db, signed_in.admin.id)
            .await
            .or_internal()?,
    })
}

/// The setup step of a sign-in whose password was given moments ago: enrolling a factor there
/// needs no password again. A session sent to the setup because 2FA became required while it
/// was open must prove the password: it may be a stolen one.
pub fn fresh_sign_in(signed_in: &SignedIn, now: i64) -> bool {
    matches!(signed_in.auth.stage, Stage::SettingUpTwoFactor { .. })
        && !signed_in.auth.password_due
        && now - signed_in.auth.signed_in_at < PENDING_SECOND_FACTOR_TTL_SECONDS
}

/// Draws a new secret for the setup. From the profile it asks for the current password first
/// (a stolen session cannot enrol the thief's authenticator); as the required step of a
/// sign-in the password was checked moments ago. At a setup step that wants a security key
/// ("Require security keys") no secret is drawn: the answer says so (`key_required`) with the
/// app's fields empty.
pub async fn start_setup(
    ctx: &Ctx,
    signed_in: &SignedIn,
    client: &Client,
    current_password: &str,
) -> Result<TotpSetup, AppError> {
    let now = ctx.now();
    let requirement = signed_in
        .account
        .requirement(signed_in.admin.enforcement_rule());
    let key_step =
        matches!(signed_in.auth.stage, Stage::SettingUpTwoFactor { .. }) && requirement.wants_key();
    if !key_step
        && totp::exists(&ctx.db, signed_in.admin.id)
            .await
            .or_internal()?
    {
        return Err(AppError::Conflict(
            "Two-factor authentication is already on.".into(),
        ));
    }
    if !fresh_sign_in(signed_in, now) {
        signin::confirm_password(ctx, signed_in, client, current_password, now).await?;
    }
    let skippable = matches!(
        signed_in.auth.stage,
        Stage::SettingUpTwoFactor { optional: true, .. }
    ) && !requirement.enforcement.required(now);
    let grace =
        Grace::of(&requirement.enforcement, now).filter(|_| !signed_in.admin.setup_required);
    if key_step {
        return Ok(TotpSetup {
            qr_svg: String::new(),
            otpauth_uri: String::new(),
            secret_grouped: String::new(),
            issuer: ctx.config.totp_issuer.clone(),
            account: signed_in.admin.email.clone(),
            skippable,
            after_reset: signed_in.admin.prompt_2fa_setup,
            grace,
            key_required: true,
            keys_available: ctx.webauthn.is_some(),
        });
    }
    let secret = TotpSecret::generate();
    let base32 = secret.to_base32();
    let uri = qr::otpauth_uri(&ctx.config.totp_issuer, &signed_in.admin.email, &secret)?;
    let (key_id, sealed_secret) = ctx
        .keyring
        .encrypt(secret.bytes(), &setup_context(signed_in.admin.id));
    let pending = PendingSetup {
        admin_id: signed_in.admin.id,
        key_id,
        sealed_secret,
        started_at: now,
    };
    signed_in
        .session
        .insert(SETUP_KEY, pending)
        .await
        .map_err(session_error)?;
    Ok(TotpSetup {
        qr_svg: qr::svg(&uri)?,
        otpauth_uri: uri.clone(),
        secret_grouped: policy::group_secret(&base32),
        issuer: ctx.config.totp_issuer.clone(),
        account: signed_in.admin.email.clone(),
        // Offered as skippable only while it still is: the stage was decided at the password,
        // and a grace period may have ended since ("Skip" would be refused).
        skippable,
        after_reset: signed_in.admin.prompt_2fa_setup,
        grace,
        key_required: false,
        keys_available: ctx.webauthn.is_some(),
    })
}

/// Ten new recovery codes, as shown to the admin (and their normalised forms to store).
pub fn new_recovery_codes() -> (Vec<String>, Vec<String>) {
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

/// Stores the credential and ten recovery codes when `code` is right. When the setup was the
/// required step of a sign-in, the sign-in completes and `next` is the page to go to.
pub async fn confirm_setup(
    ctx: &Ctx,
    signed_in: &SignedIn,
    client: &Client,
    code: &str,
) -> Result<SetupDone, AppError> {
    let now = ctx.now();
    policy::normalize_code(code).map_err(|e| AppError::invalid("code", e.to_string()))?;
    let session = &signed_in.session;
    let pending: Option<PendingSetup> = session.get(SETUP_KEY).await.map_err(session_error)?;
    let Some(pending) = pending.filter(|p| p.admin_id == signed_in.admin.id) else {
        return Err(AppError::Conflict(
            "There is no two-factor setup in progress. Turn on \"Enable Two-Factor Authentication\" to start one.".into(),
        ));
    };
    if now - pending.started_at >= SETUP_TTL_SECONDS {
        session
            .remove_value(SETUP_KEY)
            .await
            .map_err(session_error)?;
        return Err(AppError::Conflict(
            "This setup has expired. Turn on \"Enable Two-Factor Authentication\" again for a new QR code.".into(),
        ));
    }
    let secret = ctx
        .keyring
        .decrypt(
            &pending.key_id,
            &pending.sealed_secret,
            &setup_context(signed_in.admin.id),
        )
        .ok()
        .and_then(TotpSecret::from_bytes)
        .ok_or_else(|| internal("pending setup secret does not decrypt"))?;
    let step = policy::verify_code(secret.bytes(), code, unix_u64(now), None)
        .map_err(|e| AppError::invalid("code", e.to_string()))?;
    let step = i64::try_from(step).or_internal()?;
    let first_factor = !signed_in.admin.factors.any();
    let (shown, stored) = new_recovery_codes();
    let mut tx = ctx.db.write().await.or_internal()?;
    if !totp::insert(
        &mut tx,
        &ctx.keyring,
        signed_in.admin.id,
        &secret,
        step,
        now,
    )
    .await
    .or_internal()?
    {
        return Err(AppError::Conflict(
            "Two-factor authentication is already on.".into(),
        ));
    }
    // The recovery codes come with the first factor; an admin who has a key keeps theirs.
    if first_factor {
        recovery_codes::replace(&mut tx, &ctx.keyring, signed_in.admin.id, &stored, now)
            .await
            .or_internal()?;
    }
    if signed_in.admin.prompt_2fa_setup || signed_in.admin.setup_skipped_at.is_some() {
        admins::set_setup_prompt_in(&mut tx, signed_in.admin.id, SetupPrompt::None, now)
            .await
            .or_internal()?;
    }
    tx.commit().await.or_internal()?;
    session
        .remove_value(SETUP_KEY)
        .await
        .map_err(session_error)?;
    tracing::info!(
        admin = signed_in.admin.id,
        "two-factor authentication enabled"
    );
    let admin = &signed_in.admin;
    notify::audit(ctx, Event::by_self(admin, "2fa_enabled", ""), client, now).await?;
    notify::admin(
        ctx,
        admin,
        "2fa_enabled",
        "Two-factor authentication turned on",
        "Two-factor authentication was turned on for your account.",
        now,
    )
    .await?;
    let factors = Factors {
        totp: true,
        ..admin.factors
    };
    let next = enrolled(ctx, signed_in, client, factors, first_factor, now).await?;
    Ok(SetupDone {
        next,
        recovery_codes: if first_factor { shown } else { Vec::new() },
    })
}

/// A factor was just enrolled and the admin now has `factors`. The setup step of a sign-in
/// completes the sign-in when that meets what is required ("Require security keys" may still
/// want a key); answers the page to go to then. The first factor signs out the admin's other
/// sessions (they were made without one).
pub async fn enrolled(
    ctx: &Ctx,
    signed_in: &SignedIn,
    client: &Client,
    factors: Factors,
    first_factor: bool,
    now: i64,
) -> Result<Option<String>, AppError> {
    let admin = &signed_in.admin;
    let requirement = signed_in.account.requirement(admin.enforcement_rule());
    let next = if matches!(signed_in.auth.stage, Stage::SettingUpTwoFactor { .. })
        && requirement.met_by(factors)
    {
        // The sign-in completes as any other does (recorded, audited, the browser known).
        let tx = ctx.db.write().await.or_internal()?;
        let page = signin::advance(
            ctx,
            tx,
            &signed_in.session,
            admin,
            Stage::Complete,
            Origin::Session,
            client,
            now,
            None,
        )
        .await?;
        Some(page)
    } else {
        None
    };
    if first_factor {
        signin::end_other_sessions(ctx, signed_in).await?;
    }
    Ok(next)
}

/// Checks a current TOTP code of the signed-in admin and uses up its time step.
pub async fn check_current_code(
    ctx: &Ctx,
    signed_in: &SignedIn,
    client: &Client,
    code: &str,
    now: i64,
) -> Result<(), AppError> {
    policy::normalize_code(code).map_err(|e| AppError::invalid("code", e.to_string()))?;
    let admin = &signed_in.admin;
    if !totp::exists(&ctx.db, admin.id).await.or_internal()? {
        return Err(AppError::Conflict(
            "Two-factor authentication is off.".into(),
        ));
    }
    let attempt = throttle::admit(ctx, client, Secret::Code, Subject::Admin(admin), now).await?;
    let outcome = match signin::check_totp(ctx, admin.id, code, now).await {
        Ok(outcome) => outcome,
        Err(e) => {
            attempt.abandon(ctx).await?;
            return Err(e);
        }
    };
    match outcome {
        Ok(()) => attempt.succeeded_alone(ctx, now).await,
        Err(refused) => {
            attempt
                .failed(
                    ctx,
                    Some(admin),
                    Event::by_self(admin, "reauthentication_failed", "wrong 2FA code"),
                    client,
                    now,
                )
                .await?;
            Err(refused)
        }
    }
}

pub async fn disable(
    ctx: &Ctx,
    signed_in: &SignedIn,
    client: &Client,
    code: &str,
) -> Result<(), AppError> {
    let now = ctx.now();
    let admin = &signed_in.admin;
    // Refused while an enforcement counts on it: a key left may do instead.
    signed_in
        .account
        .requirement(admin.enforcement_rule())
        .check_removal(admin.factors.without_totp())
        .map_err(|reason| AppError::Forbidden(reason.to_string()))?;
    check_current_code(ctx, signed_in, client, code, now)
        .await
        .map_err(|e| match e {
            AppError::Conflict(_) => {
                AppError::Conflict("Two-factor authentication is already off.".into())
            }
            other => other,
        })?;
    // The recovery codes stay while a security key is left: they stand in for it.
    let mut conn = ctx.db.pool.acquire().await.or_internal()?;
    if admin.factors.keys > 0 {
        totp::delete_credential_in(&mut conn, admin.id)
            .await
            .or_internal()?;
    } else {
        totp::delete_in(&mut conn, admin.id).await.or_internal()?;
    }
    drop(conn);
    tracing::info!(
        admin = signed_in.admin.id,
        "two-factor authentication disabled"
    );
    let admin = &signed_in.admin;
    notify::audit(ctx, Event::by_self(admin, "2fa_disabled", ""), client, now).await?;
    notify::admin(
        ctx,
        admin,
        "2fa_disabled",
        "Two-factor authentication turned off",
        "Two-factor authentication was turned off for your account.",
        now,
    )
    .await?;
    signin::end_other_sessions(ctx, signed_in).await?;
    Ok(())
}

/// New recovery codes (the old ones stop working); needs a current second factor (a code from
/// the app, or a security key).
pub async fn regenerate_recovery_codes(
    ctx: &Ctx,
    signed_in: &SignedIn,
    client: &Client,
    confirmation: crate::server::security_keys::Confirmation<'_>,
) -> Result<Vec<String>, AppError> {
    let now = ctx.now();
    if !signed_in.admin.factors.any() {
        return Err(AppError::Conflict(
            "Two-factor authentication is off.".into(),
        ));
    }
    crate::server::security_keys::confirm(ctx, signed_in, client, confirmation, now).await?;
    let (shown, stored) = new_recovery_codes();
    let mut conn = ctx.db.pool.acquire().await.or_internal()?;
    recovery_codes::replace(&mut conn, &ctx.keyring, signed_in.admin.id, &stored, now)
        .await
        .or_internal()?;
    drop(conn);
    notify::audit(
        ctx,
        Event::by_self(&signed_in.admin, "recovery_codes_regenerated", ""),
        client,
        now,
    )
    .await?;
    Ok(shown)
}
