//! Sign-in, the code step, sign-out and "who am I".

use super::error::AppError;
use super::types::Me;
use leptos::prelude::*;

/// Password step. Answers the path to go to next: the code step, or the dashboard.
#[server(endpoint = "sign_in")]
pub async fn sign_in(identifier: String, password: String) -> Result<String, AppError> {
    let client = crate::server::auth::client();
    crate::server::signin::password_step(&identifier, &password, &client).await
}

/// Code step ("2FA security code"). Answers the path to go to next.
#[server(endpoint = "verify_sign_in_code")]
pub async fn verify_sign_in_code(code: String) -> Result<String, AppError> {
    let client = crate::server::auth::client();
    crate::server::signin::code_step(&code, &client).await
}

/// The required step after signing in with a password a super admin chose. Answers the path
/// to go to next.
#[server(endpoint = "set_initial_password")]
pub async fn set_initial_password(
    new_password: String,
    confirm_password: String,
) -> Result<String, AppError> {
    let client = crate::server::auth::client();
    crate::server::signin::set_initial_password(&new_password, &confirm_password, &client).await
}

/// "Skip for now" on a 2FA setup offered after a reset (refused when 2FA is enforced).
#[server(endpoint = "skip_2fa_setup")]
pub async fn skip_2fa_setup() -> Result<String, AppError> {
    let client = crate::server::auth::client();
    crate::server::signin::skip_setup(&client).await
}

/// Ends the session on the server.
#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    let session = crate::server::auth::session()?;
    if let Some(auth) = crate::server::auth::current_auth(&session).await? {
        let client = crate::server::auth::client();
        let admin = Some(auth.admin_id);
        crate::server::notify::audit(
            Some(auth.account_id),
            admin,
            admin,
            "session_ended",
            "signed out",
            &client,
        )
        .await?;
    }
    crate::server::auth::end_session(&session).await
}

/// The signed-in admin, or `None` when the session is missing or not past the code step.
#[server(endpoint = "current_admin")]
pub async fn current_admin() -> Result<Option<Me>, AppError> {
    match crate::server::auth::require_admin().await {
        Ok(signed_in) => Ok(Some(crate::server::views::me(&signed_in))),
        Err(e) if e.needs_sign_in() => Ok(None),
        Err(e) => Err(e),
    }
}
