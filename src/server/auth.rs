//! Who is asking: the session, its sign-in stage, and the admin behind it.
//!
//! Every server function starts with one of `require_admin`, `require_super_admin` or
//! `require_pending_code`; they read the session on the server and check stage, expiry, the
//! admin's account and that the admin is still active.

use crate::api::error::AppError;
use crate::domain::access::Stage;
use crate::server::db::{accounts, admins};
use crate::server::state::AppState;
use crate::server::{internal, now};
use axum::extract::ConnectInfo;
use http::request::Parts;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use tower_sessions::Session;

/// Session key of [`SessionAuth`].
pub const AUTH_KEY: &str = "auth";

/// What the session knows about sign-in. Stored server-side only.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SessionAuth {
    pub admin_id: i64,
    pub account_id: i64,
    pub stage: Stage,
    /// Unix time of the password step.
    pub signed_in_at: i64,
    pub user_agent: Option<String>,
    pub client_ip: Option<String>,
    /// Unix time of the last request seen (updated at most once a minute).
    #[serde(default)]
    pub last_seen: i64,
}

impl SessionAuth {
    pub fn is_complete(&self) -> bool {
        self.stage == Stage::Complete
    }
}

/// The client as the server sees it.
#[derive(Clone, Debug, Default)]
pub struct Client {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

pub fn state() -> Result<AppState, AppError> {
    leptos::prelude::use_context::<AppState>()
        .ok_or_else(|| internal("AppState missing from context"))
}

fn parts() -> Result<Parts, AppError> {
    leptos::prelude::use_context::<Parts>()
        .ok_or_else(|| internal("request parts missing from context"))
}

pub fn session() -> Result<Session, AppError> {
    parts()?
        .extensions
        .get::<Session>()
        .cloned()
        .ok_or_else(|| internal("session layer missing"))
}

pub fn client() -> Client {
    let Ok(parts) = parts() else {
        return Client::default();
    };
    let trust_proxy = state().map(|s| s.config.trust_proxy).unwrap_or(false);
    client_from_parts(&parts, trust_proxy)
}

pub fn client_from_parts(parts: &Parts, trust_proxy: bool) -> Client {
    let forwarded = trust_proxy
        .then(|| parts.headers.get("x-forwarded-for"))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_string());
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string());
    let user_agent = parts
        .headers
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(300).collect());
    Client {
        ip: forwarded.or(peer),
        user_agent,
    }
}

fn session_error(e: tower_sessions::session::Error) -> AppError {
    internal(format!("session store: {e}"))
}

/// The session's sign-in state. A pending step that ran out, or a session older than its
/// absolute lifetime, ends the session. Activity is noted at most once a minute, which keeps
/// the idle timeout (the cookie's and the store's expiry) moving.
pub async fn current_auth(session: &Session) -> Result<Option<SessionAuth>, AppError> {
    let max_hours = state()?.config.session_max_hours;
    current_auth_with(session, max_hours).await
}

/// `current_auth` outside a server function (middleware), with the lifetime given.
pub async fn current_auth_with(
    session: &Session,
    max_hours: u32,
) -> Result<Option<SessionAuth>, AppError> {
    let auth: Option<SessionAuth> = session.get(AUTH_KEY).await.map_err(session_error)?;
    let Some(mut auth) = auth else {
        return Ok(None);
    };
    let now = now();
    let too_old = now - auth.signed_in_at >= i64::from(max_hours) * 3600;
    if auth.stage.is_expired(now) || too_old {
        session.flush().await.map_err(session_error)?;
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

/// Moves the session to `stage` for `admin`, under a new session id (no fixation).
pub async fn enter_stage(
    session: &Session,
    admin: &admins::Admin,
    stage: Stage,
    client: &Client,
) -> Result<(), AppError> {
    let previous = current_auth(session).await?;
    // The steps after the password keep the time of the password step (the absolute
    // lifetime counts from it).
    let signed_in_at = match (&previous, stage) {
        (Some(prev), later)
            if prev.admin_id == admin.id && !matches!(later, Stage::AwaitingCode { .. }) =>
        {
            prev.signed_in_at
        }
        _ => now(),
    };
    session.cycle_id().await.map_err(session_error)?;
    let auth = SessionAuth {
        admin_id: admin.id,
        account_id: admin.account_id,
        stage,
        signed_in_at,
        user_agent: client.user_agent.clone(),
        client_ip: client.ip.clone(),
        last_seen: now(),
    };
    session
        .insert(AUTH_KEY, auth)
        .await
        .map_err(session_error)?;
    // Save now rather than when the response is sent, so the new id exists before anyone uses it.
    session.save().await.map_err(session_error)?;
    Ok(())
}

/// Ends the session on the server and clears the cookie.
pub async fn end_session(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(session_error)
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
        Stage::ChangingPassword { .. } => AppError::PasswordChangeRequired,
        Stage::SettingUpTwoFactor { .. } => AppError::TwoFactorSetupRequired,
        Stage::Complete => AppError::Forbidden("You are already signed in.".into()),
    }
}

/// The admin of a session whose stage `allowed` accepts.
async fn require_stage(allowed: impl Fn(Stage) -> bool) -> Result<SignedIn, AppError> {
    let session = session()?;
    let auth = current_auth(&session)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    if !allowed(auth.stage) {
        return Err(not_at(auth.stage));
    }
    let db = &state()?.db;
    let admin = admins::find_in_account(db, auth.account_id, auth.admin_id)
        .await
        .map_err(internal)?;
    let Some(admin) = admin.filter(|a| a.active) else {
        end_session(&session).await?;
        return Err(AppError::Unauthenticated);
    };
    let account = accounts::find(db, admin.account_id)
        .await
        .map_err(internal)?
        .ok_or_else(|| internal("admin without account"))?;
    Ok(SignedIn {
        session,
        auth,
        admin,
        account,
    })
}

/// A fully signed-in admin (second factor passed, required steps done).
pub async fn require_admin() -> Result<SignedIn, AppError> {
    require_stage(|s| s == Stage::Complete).await
}

/// A super admin of their account, fully signed in.
pub async fn require_super_admin() -> Result<SignedIn, AppError> {
    let signed_in = require_admin().await?;
    if !signed_in.admin.role.is_super_admin() {
        return Err(AppError::Forbidden(
            "Only the super admin of this account can use Administration.".into(),
        ));
    }
    Ok(signed_in)
}

/// A session between the password step and the code step.
pub async fn require_pending_code() -> Result<SignedIn, AppError> {
    require_stage(|s| matches!(s, Stage::AwaitingCode { .. }))
        .await
        .map_err(|e| match e {
            AppError::Unauthenticated => {
                AppError::Conflict("Your sign-in has expired. Enter your password again.".into())
            }
            AppError::SecondFactorRequired => e,
            _ => AppError::Conflict("There is no sign-in waiting for a code.".into()),
        })
}

/// A session that must choose a new password (initial password set by a super admin).
pub async fn require_password_change() -> Result<SignedIn, AppError> {
    require_stage(|s| matches!(s, Stage::ChangingPassword { .. })).await
}

/// A session that may set up 2FA: a signed-in admin from the profile, or one for whom the
/// setup is the required next step.
pub async fn require_enrolment() -> Result<SignedIn, AppError> {
    require_stage(|s| matches!(s, Stage::Complete | Stage::SettingUpTwoFactor { .. })).await
}
