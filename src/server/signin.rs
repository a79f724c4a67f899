//! The steps of sign-in: password, code, and the required steps after them (a new password
//! when a super admin chose the current one, the 2FA setup when enforced).

use crate::domain::access::{SignInFacts, Stage, stage_after_password, stage_after_second_factor};
use crate::domain::{enforcement, identity, recovery, setup_code, totp as policy};
use crate::model::AppError;
pub use crate::server::auth::end_other_sessions;
use crate::server::auth::{
    Client, Origin, SignedIn, enter_stage, require_pending_code, require_pending_setup_code,
};
use crate::server::db::{accounts, admins, recovery_codes, totp};
use crate::server::notify::{self, Event, Notice};
use crate::server::password::Tenant;
use crate::server::throttle::{self, Attempt, Secret, Subject};
use crate::server::{Ctx, OrInternal, known_browser, remembered, setup_codes};
use tower_sessions::Session;

/// What the next stage depends on, as of the admin's read at the start of this step (the
/// password step reads again after the hash; every later request checks again, see
/// `auth::apply_setup_code` and `auth::apply_enforcement`).
fn facts(admin: &admins::Admin, account: &accounts::Account) -> SignInFacts {
    SignInFacts {
        factors: admin.factors,
        keys_required: account.require_keys,
        setup_code_due: !admin.factors.any() && setup_codes::due(admin),
        must_change_password: admin.must_change_password,
        enforcement: enforcement::effective(account.enforcement_rule(), admin.enforcement_rule()),
        prompt_setup: admin.prompt_2fa_setup,
        setup_required: admin.setup_required,
    }
}

/// A write transaction ([`crate::server::db::Db::write`]).
type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// Moves the session to `stage` in `tx`, the step's transaction, which may hold the step's own
/// writes already; answers the page where sign-in continues. With the move: the delete of the
/// old session record, for a completed sign-in its record (the admin's last sign-in, the audit
/// log), and last the `passed` attempt counted a success; all commit together or not at all.
/// Should they not (the session ended meanwhile, an error), the success is counted on its own:
/// a right secret is never held against the counters. The new session record is stored when
/// the response leaves, after the commit; then a completed sign-in makes this browser known.
#[allow(clippy::too_many_arguments)]
pub async fn advance(
    ctx: &Ctx,
    mut tx: Tx,
    session: &Session,
    admin: &admins::Admin,
    stage: Stage,
    from: Origin,
    client: &Client,
    now: i64,
    passed: Option<Attempt>,
) -> Result<String, AppError> {
    let moved: Result<(), AppError> = async {
        if stage == Stage::Complete {
            // The admin's row before the session's, the order in which a reset or a
            // deactivation (`sessions::end_for_admin`) takes them: the two never wait for each
            // other.
            admins::record_sign_in(&mut tx, admin.id, now)
                .await
                .or_internal()?;
        }
        enter_stage(ctx, &mut tx, session, admin, stage, from, client, now).await?;
        if stage == Stage::Complete {
            notify::audit_in(
                &mut tx,
                Event::by_self(admin, "sign_in_succeeded", ""),
                client,
                now,
            )
            .await?;
        }
        Ok(())
    }
    .await;
    match (moved, passed) {
        (Ok(()), Some(attempt)) => attempt.succeeded(&mut tx, now).await?,
        (Ok(()), None) => {}
        (Err(e), Some(attempt)) => {
            drop(tx);
            attempt.succeeded_alone(ctx, now).await?;
            return Err(e);
        }
        (Err(e), None) => return Err(e),
    }
    tx.commit().await.or_internal()?;
    if stage == Stage::Complete {
        known_browser::remember(ctx, client, admin.id);
        tracing::info!(admin = admin.id, "signed in");
    }
    Ok(stage.page().to_string())
}

/// Checks the password and moves the session to its next stage. Unknown admin, wrong
/// password: the same answer after the same work. Every attempt is counted before the hash
/// (see `throttle`): on the browser's own counter when it signed in as this admin before, else
/// on the admin's counter for unknown browsers (a name's, when no admin has it) and the address.
pub async fn password_step(
    ctx: &Ctx,
    session: &Session,
    client: &Client,
    identifier: &str,
    password: &str,
) -> Result<String, AppError> {
    let identifier = identity::sign_in_identifier(identifier)?;
    let password = identity::sign_in_password(password)?;
    // Under overload, a full hash queue answers before the admin is even read: the `Busy`
    // answers (each browser tries again) cost no database work. A browser known for some
    // admin may still find a place in the known browsers' reserve (`has_room` below decides).
    if ctx
        .passwords
        .is_full(|| known_browser::known_for_someone(ctx, client))
    {
        return Err(AppError::Busy);
    }
    let now = ctx.now();
    let admin = admins::find_by_identifier(&ctx.db, &identifier)
        .await
        .or_internal()?;
    let subject = match &admin {
        Some(admin) => Subject::Admin(admin),
        None => Subject::Unknown(&identifier),
    };
    // The share of the hash queue this attempt takes: the browser's own when it signed in as
    // this admin before, else the account's (or the one of names no admin has).
    let tenant = match &admin {
        Some(admin) if admin.active && known_browser::find(ctx, client, admin.id).is_some() => {
            Tenant::KnownBrowsers(admin.account_id)
        }
        Some(admin) => Tenant::Account(admin.account_id),
        None => Tenant::Nobody,
    };
    // A full hash queue answers at once, before anything is written for the attempt (under
    // overload every retry would otherwise cost the counters' writes and their undoing).
    if !ctx.passwords.has_room(tenant) {
        return Err(AppError::Busy);
    }
    // A locked counter costs no hash.
    let attempt = throttle::admit(ctx, client, Secret::Password, subject, now).await?;
    let checked = ctx
        .passwords
        .verify(tenant, password, admin.as_ref().map(|a| &a.password_hash))
        .await;
    let matches = match checked {
        Ok(matches) => matches,
        // Never checked (the hashing queue is full): the attempt does not count.
        Err(e) => {
            attempt.abandon(ctx).await?;
            return Err(e);
        }
    };
    let admin = match admin {
        Some(admin) if matches => admin,
        other => {
            let target = other.as_ref();
            attempt
                .failed(
                    ctx,
                    target,
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
    // The hash took a while: what the next step depends on (a reset that committed meanwhile,
    // a deactivation) is read again. If the password changed meanwhile, the one this step
    // checked may be the one just replaced: the sign-in is refused, as if it had come a moment
    // later. The session takes the generation of this read: sessions ended after it (a reset,
    // a deactivation) take this one with them at its first use.
    let checked = admin;
    let read = ctx
        .admin_with_account(checked.account_id, checked.id)
        .await
        .or_internal()?
        .filter(|(now_read, _)| now_read.password_hash == checked.password_hash);
    let (admin, account) = match read {
        Some((admin, account)) if admin.active => (admin, account),
        other => {
            // The password was right: the attempt is not held against the counters.
            attempt.succeeded_alone(ctx, now).await?;
            let Some((inactive, _)) = other else {
                return Err(AppError::BadCredentials);
            };
            // Only said to someone who knows the password.
            notify::audit(
                ctx,
                Event {
                    actor_id: None,
                    ..Event::by_self(&inactive, "sign_in_failed", "inactive admin")
                },
                client,
                now,
            )
            .await?;
            return Err(AppError::Forbidden(
                "This admin is deactivated. Ask your super admin to reactivate you.".into(),
            ));
        }
    };
    let facts = facts(&admin, &account);
    let mut stage = stage_after_password(facts, now);
    // A browser remembered for this admin ("Don't ask for a code on this browser") skips the
    // code, never the password.
    let skips_code = matches!(stage, Stage::AwaitingCode { .. })
        && remembered::recognises(ctx, client, &admin, &account, now).await?;
    if skips_code {
        stage = stage_after_second_factor(facts, now);
    }
    // Nothing may read through the pool in the step's transaction (`advance`): the session
    // is loaded first.
    crate::server::auth::load(session).await?;
    let mut tx = ctx.db.write().await.or_internal()?;
    if skips_code {
        notify::audit_in(
            &mut tx,
            Event::by_self(&admin, "code_skipped", "remembered browser"),
            client,
            now,
        )
        .await?;
    }
    advance(
        ctx,
        tx,
        session,
        &admin,
        stage,
        Origin::Password,
        client,
        now,
        Some(attempt),
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
    remember_browser: bool,
) -> Result<String, AppError> {
    // Shape first: a malformed code costs nothing and tells the admin what to type.
    let factor = second_factor(code)?;
    let signed = require_pending_code(ctx, session).await?;
    let now = ctx.now();
    let admin = &signed.admin;
    // "Require security keys": an admin who has a key signs in with it, not with an app code
    // that can be phished. Recovery codes still work: they are the way back in when the key
    // cannot be used (lost, or the dashboard moved to another domain), without which the
    // setting could lock a whole account out.
    if matches!(factor, SecondFactor::Totp)
        && !signed
            .account
            .requirement(admin.enforcement_rule())
            .accepts_code(admin.factors)
    {
        return Err(AppError::Forbidden(
            "Your account requires a security key to sign in (Require security keys): use \
             yours, or one of your recovery codes. If you lost both, use \"Request 2FA Reset\"."
                .into(),
        ));
    }
    if matches!(factor, SecondFactor::Totp) && !admin.factors.totp {
        return Err(AppError::invalid(
            "code",
            "You have no authenticator app set up: use your security key, or one of your \
             recovery codes.",
        ));
    }
    let attempt = throttle::admit(ctx, client, Secret::Code, Subject::Admin(admin), now).await?;
    let outcome = match &factor {
        SecondFactor::Totp => match check_totp(ctx, admin.id, code, now).await {
            Ok(outcome) => outcome,
            Err(e) => {
                attempt.abandon(ctx).await?;
                return Err(e);
            }
        },
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
        attempt
            .failed(
                ctx,
                Some(admin),
                Event::by_self(admin, "sign_in_failed", "wrong 2FA code"),
                client,
                now,
            )
            .await?;
        return Err(refused);
    }
    let passed = match factor {
        SecondFactor::Totp => Passed::Totp,
        SecondFactor::RecoveryCode(_) => Passed::RecoveryCode,
    };
    second_factor_passed(ctx, &signed, client, attempt, passed, remember_browser, now).await
}

/// How the second factor of a sign-in was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Passed {
    Totp,
    RecoveryCode,
    SecurityKey,
}

/// The sign-in `signed` passed its second factor, given in `attempt`: tells about a recovery
/// code, withdraws a pending reset request, then counts the attempt a success and moves the
/// session on in one transaction, and remembers the browser when asked. Answers the page to go
/// to.
pub async fn second_factor_passed(
    ctx: &Ctx,
    signed: &SignedIn,
    client: &Client,
    attempt: Attempt,
    passed: Passed,
    remember_browser: bool,
    now: i64,
) -> Result<String, AppError> {
    let admin = &signed.admin;
    if passed == Passed::RecoveryCode {
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
    // The authenticator (or a key, or a recovery code) works: a pending reset request is moot.
    if admin.reset_pending {
        crate::server::resets::withdraw_pending(ctx, admin, client, now).await?;
    }
    let facts = facts(admin, &signed.account);
    let stage = stage_after_second_factor(facts, now);
    let tx = ctx.db.write().await.or_internal()?;
    let next = advance(
        ctx,
        tx,
        &signed.session,
        admin,
        stage,
        Origin::Session,
        client,
        now,
        Some(attempt),
    )
    .await?;
    // Once the sign-in is complete (a required new password would forget it at once), and for
    // an authenticator code or a key only: a recovery code is for emergencies, not for 30 days
    // without one. The admin is signed in by now: a failure here costs the remembering, not
    // the sign-in.
    if remember_browser
        && passed != Passed::RecoveryCode
        && stage == Stage::Complete
        && let Err(e) = remembered::remember(ctx, client, admin, &signed.account, now).await
    {
        tracing::warn!(admin = admin.id, "remembering a browser failed: {e}");
    }
    Ok(next)
}

/// Checks the setup code a super admin (or the operator) handed over with a reset. It is
/// counted like a security code (a few wrong ones lock the step, and the super admins are
/// told); it stays valid until the admin has set 2FA up again, so an interrupted setup can be
/// taken up at the next sign-in.
pub async fn setup_code_step(
    ctx: &Ctx,
    session: &Session,
    client: &Client,
    code: &str,
) -> Result<String, AppError> {
    if setup_code::normalize(code).is_none() {
        return Err(AppError::invalid(
            "setup_code",
            "Enter the setup code your super admin gave you: 12 letters and digits, like \
             ABCD-EFGH-JKLM.",
        ));
    }
    let signed = require_pending_setup_code(ctx, session).await?;
    let now = ctx.now();
    let admin = &signed.admin;
    let Some((_, expires_at)) = admin.setup_code else {
        // Cleared meanwhile (the admin finished the setup elsewhere): start again.
        return Err(AppError::Conflict(
            "No setup code is due any more. Sign in again.".into(),
        ));
    };
    let attempt = throttle::admit(ctx, client, Secret::Code, Subject::Admin(admin), now).await?;
    if !setup_codes::matches(ctx, admin, code) {
        attempt
            .failed(
                ctx,
                Some(admin),
                Event::by_self(admin, "sign_in_failed", "wrong setup code"),
                client,
                now,
            )
            .await?;
        return Err(AppError::invalid(
            "setup_code",
            "That setup code is not right. Check it with your super admin.",
        ));
    }
    if !setup_code::is_valid(expires_at, now) {
        // The code was right: the attempt is not held against the counters.
        attempt.succeeded_alone(ctx, now).await?;
        return Err(AppError::Conflict(
            "This setup code has expired. Ask your super admin for a new one (Administration → \
             Admin Management → your name → New setup code)."
                .into(),
        ));
    }
    let mut tx = ctx.db.write().await.or_internal()?;
    notify::audit_in(
        &mut tx,
        Event::by_self(admin, "setup_code_used", ""),
        client,
        now,
    )
    .await?;
    advance(
        ctx,
        tx,
        &signed.session,
        admin,
        stage_after_second_factor(facts(admin, &signed.account), now),
        Origin::Session,
        client,
        now,
        Some(attempt),
    )
    .await
}

/// A TOTP code against the admin's credential; the outer error is internal, the inner one the
/// refusal to count.
pub async fn check_totp(
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

/// "Skip for now" on a setup offered after a reset, or "Remind me next time" in an enforcement's
/// grace period; refused when 2FA is required.
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
    // Offered again at the next sign-in; the table shows the skip.
    let now = ctx.now();
    // The stage was decided at the password: 2FA may have become required since (turned on,
    // or the grace period ended).
    if enforcement::effective(
        signed.account.enforcement_rule(),
        signed.admin.enforcement_rule(),
    )
    .required(now)
    {
        return Err(AppError::Forbidden(
            "Two-factor authentication is required for you now: set it up to continue.".into(),
        ));
    }
    let seen_code = signed
        .admin
        .setup_code
        .as_ref()
        .map(|(mac, _)| mac.as_str());
    // The skip, its audit entry and the move land together.
    let mut tx = ctx.db.write().await.or_internal()?;
    if !admins::record_setup_skipped(&mut tx, signed.admin.id, seen_code, now)
        .await
        .or_internal()?
    {
        return Err(AppError::Conflict(
            "Your two-factor authentication was changed meanwhile. Sign in again.".into(),
        ));
    }
    notify::audit_in(
        &mut tx,
        Event::by_self(&signed.admin, "2fa_setup_skipped", ""),
        client,
        now,
    )
    .await?;
    advance(
        ctx,
        tx,
        &signed.session,
        &signed.admin,
        Stage::Complete,
        Origin::Session,
        client,
        now,
        None,
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
    let tenant = Tenant::Account(signed.admin.account_id);
    if ctx
        .passwords
        .verify(tenant, new_password, Some(&signed.admin.password_hash))
        .await?
    {
        return Err(AppError::invalid(
            "new_password",
            "Choose a password different from the current one.",
        ));
    }
    let hash = ctx.passwords.hash(tenant, new_password).await?;
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
    // Only while a change is due: a stale first sign-in (another browser, the leaked initial
    // password) cannot replace the password the admin chose since.
    if !signed.admin.must_change_password {
        return Err(AppError::Conflict(
            "Your password was changed already. Sign in with it.".into(),
        ));
    }
    check_new_password(signed, new_password, confirm).map_err(rename_field)?;
    store_new_password(ctx, signed, new_password, now)
        .await
        .map_err(rename_field)?;
    // Whoever else signed in with the initial password is signed out.
    end_other_sessions(ctx, signed).await?;
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
    let mut facts = facts(&signed.admin, &signed.account);
    facts.must_change_password = false;
    let tx = ctx.db.write().await.or_internal()?;
    advance(
        ctx,
        tx,
        &signed.session,
        &signed.admin,
        stage_after_second_factor(facts, now),
        Origin::Session,
        client,
        now,
        None,
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

/// Re-authentication of a signed-in admin before a sensitive change: their current password
/// (field `current_password`), throttled like the password step.
pub async fn confirm_password(
    ctx: &Ctx,
    signed: &SignedIn,
    client: &Client,
    current: &str,
    now: i64,
) -> Result<(), AppError> {
    if current.is_empty() || current.chars().count() > identity::MAX_PASSWORD_CHARS {
        return Err(AppError::invalid(
            "current_password",
            "Enter your current password.",
        ));
    }
    let admin = &signed.admin;
    let attempt =
        throttle::admit(ctx, client, Secret::Password, Subject::Admin(admin), now).await?;
    // A signed-in session's own browser: strangers hammering the account cannot make it busy.
    let checked = ctx
        .passwords
        .verify(
            Tenant::KnownBrowsers(admin.account_id),
            current,
            Some(&admin.password_hash),
        )
        .await;
    let matches = match checked {
        Ok(matches) => matches,
        Err(e) => {
            attempt.abandon(ctx).await?;
            return Err(e);
        }
    };
    if matches {
        attempt.succeeded_alone(ctx, now).await
    } else {
        attempt
            .failed(
                ctx,
                Some(admin),
                Event::by_self(admin, "reauthentication_failed", "wrong current password"),
                client,
                now,
            )
            .await?;
        Err(AppError::invalid(
            "current_password",
            "That is not your current password.",
        ))
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
    confirm_password(ctx, signed, client, current, now).await?;
    check_new_password(signed, new_password, confirm).map_err(rename_field)?;
    store_new_password(ctx, signed, new_password, now)
        .await
        .map_err(rename_field)?;
    // In the log whatever happens to the sessions next.
    notify::audit(
        ctx,
        Event::by_self(&signed.admin, "password_changed", ""),
        client,
        now,
    )
    .await?;
    tracing::info!(admin = signed.admin.id, "password changed");
    // The old password may be known to someone: end every other session, and give this one a
    // new id: claimed first (deleted, if still stored), so that a sign-out of it that ran
    // meanwhile is not undone by storing it again under the new id.
    let id = signed.session.id().ok_or(AppError::Unauthenticated)?;
    if crate::server::db::sessions::delete_stored(
        &mut *ctx.db.pool.acquire().await.or_internal()?,
        &id,
    )
    .await
    .or_internal()?
    .is_some()
    {
        crate::server::db::sessions::cycle_claimed(&signed.session, id)
            .await
            .or_internal()?;
        signed.session.save().await.or_internal()?;
    }
    // When this session is gone (signed out meanwhile), every session of the admin ends.
    end_other_sessions(ctx, signed).await?;
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
