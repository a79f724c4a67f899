//! Who is asking: the session, its sign-in stage, and the admin behind it.
//!
//! Every server function starts with one of `require_admin`, `require_super_admin`,
//! `require_pending_code`...; they read the session on the server and check stage, expiry, the
//! admin's account and that the admin is still active.

use crate::domain::access::Stage;
use crate::domain::network::{TrustedProxies, client_address};
use crate::model::AppError;
use crate::server::db::sessions::{self, AUTH_KEY, SessionAuth};
use crate::server::db::{accounts, admins};
use crate::server::{Ctx, OrInternal, internal, setup_codes};
use axum::extract::ConnectInfo;
use http::request::Parts;
use std::net::SocketAddr;
use tower_sessions::Session;

/// The client as the server sees it.
#[derive(Clone, Debug, Default)]
pub struct Client {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The browser's cookies (the known-browser token is read and set through them).
    pub cookies: Option<tower_cookies::Cookies>,
}

/// The client's address of a request: the peer, or behind trusted proxies the right-most
/// `X-Forwarded-For` entry that is not one of them.
pub fn client_ip(
    headers: &http::HeaderMap,
    extensions: &http::Extensions,
    proxies: Option<&TrustedProxies>,
) -> Option<std::net::IpAddr> {
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    client_address(peer, Some(&forwarded), proxies)
}

impl Client {
    /// The client of a request: its address, user agent and cookies.
    pub fn from_parts(parts: &Parts, proxies: Option<&TrustedProxies>) -> Client {
        let user_agent = parts
            .headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(300).collect());
        Client {
            ip: client_ip(&parts.headers, &parts.extensions, proxies).map(|ip| ip.to_string()),
            user_agent,
            cookies: parts.extensions.get::<tower_cookies::Cookies>().cloned(),
        }
    }
}

fn session_error(e: tower_sessions::session::Error) -> AppError {
    internal(format!("session store: {e}"))
}

/// The session's sign-in state. A pending step that ran out, a session idle for longer than
/// the idle timeout, or one older than its absolute lifetime ends the session. Activity is
/// noted at most once a minute, which keeps the idle timeout (the cookie's and the store's
/// expiry) moving.
pub async fn current_auth(ctx: &Ctx, session: &Session) -> Result<Option<SessionAuth>, AppError> {
    let auth: Option<SessionAuth> = session.get(AUTH_KEY).await.map_err(session_error)?;
    let Some(mut auth) = auth else {
        return Ok(None);
    };
    let now = ctx.now();
    if !is_live(ctx, &auth, now) {
        end_session(session).await?;
        return Ok(None);
    }
    if now - auth.last_seen >= 60 {
        auth.last_seen = now;
        session
            .insert(AUTH_KEY, &auth)
            .await
            .map_err(session_error)?;
    }
    Ok(Some(auth))
}

/// Reads the session's stored record, if its cookie names one, so that what follows finds it
/// in memory (see [`enter_stage`]).
pub async fn load(session: &Session) -> Result<(), AppError> {
    let _: Option<SessionAuth> = session.get(AUTH_KEY).await.map_err(session_error)?;
    Ok(())
}

/// Whether a session's sign-in state is still good at `now`: its pending step has not run out,
/// and it is neither idle for longer than the idle timeout nor older than its lifetime.
fn is_live(ctx: &Ctx, auth: &SessionAuth, now: i64) -> bool {
    let config = &ctx.config;
    let too_old = now - auth.signed_in_at >= i64::from(config.session_max_hours) * 3600;
    let idle = now - auth.last_seen >= i64::from(config.session_idle_minutes) * 60;
    !(auth.stage.is_expired(now) || too_old || idle)
}

/// Where a move to another stage starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The password step: a new sign-in, under the generation of the admin as the step read it
    /// (before the hash, and checked again after it).
    Password,
    /// A later step of the session's own sign-in (code, setup code, new password, setup).
    Session,
}

/// Moves the session to `stage` for `admin`, under a new session id (no fixation); the
/// stored record of the old id is deleted through `conn`, the caller's transaction. The
/// session must be loaded already ([`load`], or any read of it): loading it here would take a
/// second connection from the pool while the transaction holds the write lock.
// The step's context, the transaction and what moves where: nothing here groups naturally.
#[allow(clippy::too_many_arguments)]
pub async fn enter_stage(
    ctx: &Ctx,
    conn: &mut sqlx::AnyConnection,
    session: &Session,
    admin: &admins::Admin,
    stage: Stage,
    from: Origin,
    client: &Client,
    now: i64,
) -> Result<(), AppError> {
    // As this request left it (a new password moves the generation on before the next stage).
    // It writes nothing here, not even to end a session that ran out meanwhile (that is for its
    // next request, `current_auth`): the caller's transaction holds the write lock, and on
    // SQLite a write through the pool would wait for it.
    let previous: Option<SessionAuth> = session.get(AUTH_KEY).await.map_err(session_error)?;
    let previous = previous.filter(|auth| is_live(ctx, auth, now));
    // A later step keeps the time of the password step (the absolute lifetime counts from it)
    // and the session's generation: if all the admin's sessions were ended since the session
    // was made (a reset, a deactivation) the new one is refused at its first use.
    let (signed_in_at, setup_code_passed, generation) = match (from, &previous) {
        (Origin::Password, _) => (now, false, admin.session_generation),
        (Origin::Session, Some(prev)) if prev.admin_id == admin.id => (
            prev.signed_in_at,
            // Leaving the setup code step forward is passing it (only its check does that).
            prev.setup_code_passed || matches!(prev.stage, Stage::AwaitingSetupCode { .. }),
            prev.generation,
        ),
        // The session ran out while this step ran.
        (Origin::Session, _) => return Err(AppError::Unauthenticated),
    };
    // Always a new id (no fixation). The record of the old one is deleted here, in the
    // caller's transaction, so `cycle_id` deletes nothing itself (`sessions::cycle_claimed`);
    // with no record stored (`id()` is `None`) there is nothing to delete.
    // A later step's session must still be stored: one ended meanwhile (signed out, ended from
    // the profile, or by another step of the same session) does not come back under a new id.
    // Its generation is the stored one ("sign out other sessions" of this session may have
    // moved it on since this request loaded it).
    let generation = match (from, session.id()) {
        (Origin::Password, None) => {
            sessions::cycle(session).await.map_err(session_error)?;
            generation
        }
        (Origin::Password, Some(id)) => {
            sessions::delete_stored(conn, &id).await.or_internal()?;
            sessions::cycle_claimed(session, id)
                .await
                .map_err(session_error)?;
            generation
        }
        (Origin::Session, id) => {
            let id = id.ok_or(AppError::Unauthenticated)?;
            let stored = sessions::delete_stored(conn, &id)
                .await
                .or_internal()?
                .ok_or(AppError::Unauthenticated)?;
            // Its record is gone already: the new id costs no second delete.
            sessions::cycle_claimed(session, id)
                .await
                .map_err(session_error)?;
            stored
        }
    };
    let auth = SessionAuth {
        admin_id: admin.id,
        account_id: admin.account_id,
        stage,
        signed_in_at,
        user_agent: client.user_agent.clone(),
        client_ip: client.ip.clone(),
        last_seen: now,
        password_due: false,
        setup_code_passed,
        generation,
    };
    session
        .insert(AUTH_KEY, auth)
        .await
        .map_err(session_error)?;
    Ok(())
}

/// Ends every session of the admin but this one (a new password, "sign out other sessions");
/// this one takes the admin's new session generation. If all the admin's sessions were ended
/// meanwhile (a reset, a deactivation), this one is ended too.
pub async fn end_other_sessions(ctx: &Ctx, signed: &SignedIn) -> Result<u64, AppError> {
    // The session as it is now (this request may have moved it to another stage).
    let auth: Option<SessionAuth> = signed.session.get(AUTH_KEY).await.map_err(session_error)?;
    let auth = auth.ok_or(AppError::Unauthenticated)?;
    // No id: this request gave the session a new one, stored when the response leaves.
    let id = signed.session.id();
    let Some((ended, generation)) =
        sessions::end_for_admin_except(&ctx.db, signed.admin.id, id.as_ref(), auth.generation)
            .await
            .or_internal()?
    else {
        end_session(&signed.session).await?;
        return Err(AppError::Unauthenticated);
    };
    signed
        .session
        .insert(AUTH_KEY, SessionAuth { generation, ..auth })
        .await
        .map_err(session_error)?;
    Ok(ended)
}

/// Ends the session on the server and clears the cookie. The emptied session also leaves its
/// id (tower-sessions' `flush` keeps it): should the same request store it again, that is
/// under an id drawn afresh, never the one its browser sent.
pub async fn end_session(session: &Session) -> Result<(), AppError> {
    let ended = session.id();
    #[allow(clippy::disallowed_methods)] // the one place that flushes, see clippy.toml
    session.flush().await.map_err(session_error)?;
    if let Some(id) = ended {
        // `flush` deleted its record: the new id costs no second delete.
        sessions::cycle_claimed(session, id)
            .await
            .map_err(session_error)?;
    }
    Ok(())
}

/// The admin behind a session, with their account, read fresh from the database so that a
/// deactivated admin or a changed role counts at once.
pub struct SignedIn {
    pub session: Session,
    pub auth: SessionAuth,
    pub admin: admins::Admin,
    pub account: accounts::Account,
}

/// The error for a session that is not at one of the wanted stages.
fn not_at(stage: Stage) -> AppError {
    match stage {
        Stage::AwaitingCode { .. } => AppError::SecondFactorRequired,
        Stage::AwaitingSetupCode { .. } => AppError::SetupCodeRequired,
        Stage::ChangingPassword { .. } => AppError::PasswordChangeRequired,
        Stage::SettingUpTwoFactor { .. } => AppError::TwoFactorSetupRequired,
        Stage::Complete => AppError::Forbidden("You are already signed in.".into()),
    }
}

/// The admin of a session whose stage `allowed` accepts.
async fn require_stage(
    ctx: &Ctx,
    session: &Session,
    allowed: impl Fn(Stage) -> bool,
) -> Result<SignedIn, AppError> {
    let auth = current_auth(ctx, session)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    if !allowed(auth.stage) {
        return Err(not_at(auth.stage));
    }
    let found = ctx
        .admin_with_account(auth.account_id, auth.admin_id)
        .await
        .or_internal()?;
    let Some((admin, account)) = found.filter(|(a, _)| a.active) else {
        end_session(session).await?;
        return Err(AppError::Unauthenticated);
    };
    let auth = current_generation(ctx, session, auth, &admin).await?;
    let auth = apply_setup_code(ctx, session, auth, &admin).await?;
    let auth = apply_enforcement(ctx, session, auth, &admin, &account).await?;
    if !allowed(auth.stage) {
        return Err(not_at(auth.stage));
    }
    Ok(SignedIn {
        session: session.clone(),
        auth,
        admin,
        account,
    })
}

/// A session of an older generation than its admin's was ended with all the admin's others (it
/// was being made by a step in flight meanwhile). The generation this request loaded may also
/// be one that "sign out other sessions" of this very session moved on since: the stored one
/// decides, and only a session still stored under the old one is deleted.
async fn current_generation(
    ctx: &Ctx,
    session: &Session,
    mut auth: SessionAuth,
    admin: &admins::Admin,
) -> Result<SessionAuth, AppError> {
    if auth.generation == admin.session_generation {
        return Ok(auth);
    }
    let id = session.id().ok_or(AppError::Unauthenticated)?;
    if sessions::stored_generation(&ctx.db, &id)
        .await
        .or_internal()?
        == Some(admin.session_generation)
    {
        auth.generation = admin.session_generation;
        return Ok(auth);
    }
    sessions::delete_of_generation(&ctx.db, &id, auth.generation)
        .await
        .or_internal()?;
    Err(AppError::Unauthenticated)
}

/// A session past the password whose admin has a setup code due (2FA reset, not set up again)
/// and that did not pass the setup code step is sent to it: a sign-in that raced the reset (its
/// password checked just before the reset committed) gets no further than a fresh one would.
async fn apply_setup_code(
    ctx: &Ctx,
    session: &Session,
    mut auth: SessionAuth,
    admin: &admins::Admin,
) -> Result<SessionAuth, AppError> {
    if auth.setup_code_passed
        || matches!(
            auth.stage,
            Stage::AwaitingCode { .. } | Stage::AwaitingSetupCode { .. }
        )
        || !setup_codes::due(admin)
        || admin.factors.any()
    {
        return Ok(auth);
    }
    auth.stage = Stage::AwaitingSetupCode { since: ctx.now() };
    session
        .insert(AUTH_KEY, &auth)
        .await
        .map_err(session_error)?;
    tracing::warn!(
        admin = admin.id,
        "a session past the password without the setup code: sent to the setup code step"
    );
    Ok(auth)
}

/// A signed-in admin who must have 2FA now and has none (Force two-factor authentication or
/// Enforce 2FA turned on while they were signed in, or its grace period ended) is sent to the
/// setup at their next request.
async fn apply_enforcement(
    ctx: &Ctx,
    session: &Session,
    mut auth: SessionAuth,
    admin: &admins::Admin,
    account: &accounts::Account,
) -> Result<SessionAuth, AppError> {
    if auth.stage != Stage::Complete
        || !account
            .requirement(admin.enforcement_rule())
            .setup_due(admin.factors, ctx.now())
    {
        return Ok(auth);
    }
    auth.stage = Stage::SettingUpTwoFactor {
        since: ctx.now(),
        optional: false,
    };
    auth.password_due = true;
    session
        .insert(AUTH_KEY, &auth)
        .await
        .map_err(session_error)?;
    tracing::info!(admin = admin.id, "2FA now required: sent to the setup");
    Ok(auth)
}

/// A fully signed-in admin (second factor passed, required steps done).
pub async fn require_admin(ctx: &Ctx, session: &Session) -> Result<SignedIn, AppError> {
    require_stage(ctx, session, |s| s == Stage::Complete).await
}

/// A super admin of their account, fully signed in.
pub async fn require_super_admin(ctx: &Ctx, session: &Session) -> Result<SignedIn, AppError> {
    let signed_in = require_admin(ctx, session).await?;
    if !signed_in.admin.role.is_super_admin() {
        return Err(AppError::Forbidden(
            "Only the super admin of this account can use Administration.".into(),
        ));
    }
    Ok(signed_in)
}

/// A session between the password step and the code step.
pub async fn require_pending_code(ctx: &Ctx, session: &Session) -> Result<SignedIn, AppError> {
    require_stage(ctx, session, |s| matches!(s, Stage::AwaitingCode { .. }))
        .await
        .map_err(|e| match e {
            AppError::Unauthenticated => {
                AppError::Conflict("Your sign-in has expired. Enter your password again.".into())
            }
            AppError::SecondFactorRequired => e,
            _ => AppError::Conflict("There is no sign-in waiting for a code.".into()),
        })
}

/// A session between the password step and the setup code (after a reset).
pub async fn require_pending_setup_code(
    ctx: &Ctx,
    session: &Session,
) -> Result<SignedIn, AppError> {
    require_stage(ctx, session, |s| {
        matches!(s, Stage::AwaitingSetupCode { .. })
    })
    .await
    .map_err(|e| match e {
        AppError::Unauthenticated => {
            AppError::Conflict("Your sign-in has expired. Enter your password again.".into())
        }
        AppError::SetupCodeRequired => e,
        _ => AppError::Conflict("There is no sign-in waiting for a setup code.".into()),
    })
}

/// A session that must choose a new password (initial password set by a super admin).
pub async fn require_password_change(ctx: &Ctx, session: &Session) -> Result<SignedIn, AppError> {
    require_stage(ctx, session, |s| {
        matches!(s, Stage::ChangingPassword { .. })
    })
    .await
}

/// A session that may set up 2FA: a signed-in admin from the profile, or one for whom the
/// setup is the required next step.
pub async fn require_enrolment(ctx: &Ctx, session: &Session) -> Result<SignedIn, AppError> {
    require_stage(ctx, session, |s| {
        matches!(s, Stage::Complete | Stage::SettingUpTwoFactor { .. })
    })
    .await
}
