//! Turning TOTP two-factor authentication on and off, and its recovery codes.

use crate::domain::access::{PENDING_SECOND_FACTOR_TTL_SECONDS, Stage};
use crate::domain::{enforcement, recovery, totp as policy};
use crate::model::AppError;
use crate::model::types::{Grace, Profile, SetupDone, TotpSetup};
use crate::server::auth::{Client, Origin, SignedIn, enter_stage};
use crate::server::db::admins::{self, SetupPrompt};
use crate::server::db::{recovery_codes, totp};
use crate::server::notify::{self, Event};
use crate::server::secrets::TotpSecret;
use crate::server::signin::{self, unix_u64};
use crate::server::throttle::{self, Secret, Subject};
use crate::server::{Ctx, OrInternal, internal, known_browser, qr, views};
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
    Ok(Profile {
        me: views::me(signed_in),
        totp_enabled: signed_in.admin.has_totp,
        enforcement: enforcement::effective(
            signed_in.account.enforcement_rule(),
            signed_in.admin.enforcement_rule(),
        ),
        recovery_codes_left: recovery_codes::remaining(db, signed_in.admin.id)
            .await
            .or_internal()?,
    })
}

/// Draws a new secret for the setup. From the profile it asks for the current password first
/// (a stolen session cannot enrol the thief's authenticator); as the required step of a
/// sign-in the password was checked moments ago.
pub async fn start_setup(
    ctx: &Ctx,
    signed_in: &SignedIn,
    client: &Client,
    current_password: &str,
) -> Result<TotpSetup, AppError> {
    let now = ctx.now();
    if totp::exists(&ctx.db, signed_in.admin.id)
        .await
        .or_internal()?
    {
        return Err(AppError::Conflict(
            "Two-factor authentication is already on.".into(),
        ));
    }
    // The password is asked again unless this is the setup step of a sign-in whose password
    // was given moments ago. A session sent to the setup because 2FA became required while it
    // was open must prove the password too: it may be a stolen one.
    let fresh_sign_in = matches!(signed_in.auth.stage, Stage::SettingUpTwoFactor { .. })
        && !signed_in.auth.password_due
        && now - signed_in.auth.signed_in_at < PENDING_SECOND_FACTOR_TTL_SECONDS;
    if !fresh_sign_in {
        signin::confirm_password(ctx, signed_in, client, current_password, now).await?;
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
        skippable: matches!(
            signed_in.auth.stage,
            Stage::SettingUpTwoFactor { optional: true, .. }
        ) && !enforcement::effective(
            signed_in.account.enforcement_rule(),
            signed_in.admin.enforcement_rule(),
        )
        .required(now),
        after_reset: signed_in.admin.prompt_2fa_setup,
        grace: Grace::of(
            &enforcement::effective(
                signed_in.account.enforcement_rule(),
                signed_in.admin.enforcement_rule(),
            ),
            now,
        )
        .filter(|_| !signed_in.admin.setup_required),
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
    let (shown, stored) = new_recovery_codes();
    let mut tx = ctx.db.pool.begin().await.or_internal()?;
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
    recovery_codes::replace(&mut tx, &ctx.keyring, signed_in.admin.id, &stored, now)
        .await
        .or_internal()?;
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
    let next = if matches!(signed_in.auth.stage, Stage::SettingUpTwoFactor { .. }) {
        enter_stage(
            ctx,
            session,
            admin,
            Stage::Complete,
            Origin::Session,
            client,
            now,
        )
        .await?;
        admins::record_sign_in(&ctx.db, admin.id, now)
            .await
            .or_internal()?;
        known_browser::remember(ctx, client, admin.id);
        Some(Stage::Complete.page().to_string())
    } else {
        None
    };
    signin::end_other_sessions(ctx, signed_in).await?;
    Ok(SetupDone {
        next,
        recovery_codes: shown,
    })
}

/// Checks a current TOTP code of the signed-in admin and uses up its time step.
async fn check_current_code(
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
        Ok(()) => attempt.succeeded(ctx, now).await,
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
    let enforcement = enforcement::effective(
        signed_in.account.enforcement_rule(),
        signed_in.admin.enforcement_rule(),
    );
    enforcement::check_can_disable(enforcement)
        .map_err(|e| AppError::Forbidden(e.reason.to_string()))?;
    check_current_code(ctx, signed_in, client, code, now)
        .await
        .map_err(|e| match e {
            AppError::Conflict(_) => {
                AppError::Conflict("Two-factor authentication is already off.".into())
            }
            other => other,
        })?;
    totp::delete(&ctx.db, signed_in.admin.id)
        .await
        .or_internal()?;
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

/// New recovery codes (the old ones stop working); needs a current code.
pub async fn regenerate_recovery_codes(
    ctx: &Ctx,
    signed_in: &SignedIn,
    client: &Client,
    code: &str,
) -> Result<Vec<String>, AppError> {
    let now = ctx.now();
    check_current_code(ctx, signed_in, client, code, now).await?;
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
