//! Sign-in, the code step, sign-out and "who am I".

use crate::model::AppError;
use crate::model::types::{CodeStepOptions, KeyCeremony, Me};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    super::edge,
    crate::server::{metrics, security_keys, signin},
};

/// Password step. Answers the path to go to next: the code step, or the dashboard.
#[server(endpoint = "sign_in")]
pub async fn sign_in(identifier: String, password: String) -> Result<String, AppError> {
    let call = edge::call()?;
    let result = signin::password_step(
        &call.ctx,
        &call.session,
        &call.client,
        &identifier,
        &password,
    )
    .await;
    metrics::sign_in_step("password", &result);
    result
}

/// Code step ("2FA security code"). Answers the path to go to next. `remember_browser`: "Don't
/// ask for a code on this browser for N days" (when the account allows it).
#[server(endpoint = "verify_sign_in_code")]
pub async fn verify_sign_in_code(
    code: String,
    remember_browser: Option<bool>,
) -> Result<String, AppError> {
    let call = edge::call()?;
    let result = signin::code_step(
        &call.ctx,
        &call.session,
        &call.client,
        &code,
        remember_browser.unwrap_or(false),
    )
    .await;
    metrics::sign_in_step("code", &result);
    result
}

/// What the code step offers besides the code, for the sign-in waiting for it.
#[server(endpoint = "get_code_step")]
pub async fn get_code_step() -> Result<CodeStepOptions, AppError> {
    let call = edge::call()?;
    let pending = call.pending_code().await?;
    let days = pending.account.remember_browser_days;
    let factors = pending.admin.factors;
    let requirement = pending
        .account
        .requirement(pending.admin.enforcement_rule());
    Ok(CodeStepOptions {
        remember_days: (days > 0 && requirement.allows_remembered_browsers()).then_some(days),
        has_key: factors.keys > 0 && call.ctx.webauthn.is_some(),
        has_totp: factors.totp,
        code_accepted: requirement.accepts_code(factors),
    })
}

/// "Use your security key" at the code step: the options for `navigator.credentials.get`.
#[server(endpoint = "start_key_sign_in")]
pub async fn start_key_sign_in() -> Result<KeyCeremony, AppError> {
    let call = edge::call()?;
    security_keys::start_sign_in(&call.ctx, &call.session).await
}

/// The security key's answer (`PublicKeyCredential.toJSON()`, as JSON). Answers the path to go
/// to next. Counted like a code.
#[server(endpoint = "finish_key_sign_in")]
pub async fn finish_key_sign_in(
    credential: String,
    remember_browser: Option<bool>,
) -> Result<String, AppError> {
    let call = edge::call()?;
    let result = security_keys::finish_sign_in(
        &call.ctx,
        &call.session,
        &call.client,
        &credential,
        remember_browser.unwrap_or(false),
    )
    .await;
    metrics::sign_in_step("security_key", &result);
    result
}

/// Setup code step, after a reset ("the setup code from your super admin"). Answers the path
/// to go to next.
#[server(endpoint = "verify_setup_code")]
pub async fn verify_setup_code(setup_code: String) -> Result<String, AppError> {
    let call = edge::call()?;
    let result = signin::setup_code_step(&call.ctx, &call.session, &call.client, &setup_code).await;
    metrics::sign_in_step("setup_code", &result);
    result
}

/// The required step after signing in with a password a super admin chose. Answers the path
/// to go to next.
#[server(endpoint = "set_initial_password")]
pub async fn set_initial_password(
    new_password: String,
    confirm_password: String,
) -> Result<String, AppError> {
    let call = edge::call()?;
    let me = call.password_change().await?;
    signin::set_initial_password(
        &call.ctx,
        &me,
        &call.client,
        &new_password,
        &confirm_password,
    )
    .await
}

/// "Skip for now" on a 2FA setup offered after a reset (refused when 2FA is enforced).
#[server(endpoint = "skip_2fa_setup")]
pub async fn skip_2fa_setup() -> Result<String, AppError> {
    let call = edge::call()?;
    let me = call.enrolment().await?;
    signin::skip_setup(&call.ctx, &me, &call.client).await
}

/// Ends the session on the server.
#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    let call = edge::call()?;
    signin::sign_out(&call.ctx, &call.session, &call.client).await
}

/// The signed-in admin, or `None` when the session is missing or not past the code step.
#[server(endpoint = "current_admin")]
pub async fn current_admin() -> Result<Option<Me>, AppError> {
    match edge::call()?.admin().await {
        Ok(signed_in) => Ok(Some(crate::server::views::me(&signed_in))),
        Err(e) if e.needs_sign_in() => Ok(None),
        Err(e) => Err(e),
    }
}
