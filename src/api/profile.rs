//! The signed-in admin's profile: their two-factor authentication and their password.

use super::error::AppError;
use super::types::{Profile, SessionInfo, SetupDone, TotpSetup};
use leptos::prelude::*;

#[server(endpoint = "get_profile")]
pub async fn get_profile() -> Result<Profile, AppError> {
    let signed_in = crate::server::auth::require_admin().await?;
    crate::server::two_factor::profile(&signed_in).await
}

/// "Enable Two-Factor Authentication": draws a new secret and answers the QR code and the
/// secret. Nothing is stored on the admin until `confirm_totp_setup` gets a correct code.
/// Also the required step of a sign-in when 2FA is enforced and not set up.
#[server(endpoint = "start_totp_setup")]
pub async fn start_totp_setup() -> Result<TotpSetup, AppError> {
    let signed_in = crate::server::auth::require_enrolment().await?;
    crate::server::two_factor::start_setup(&signed_in).await
}

/// Turns 2FA on when `code` is correct for the secret of the setup in progress. Answers the
/// page to go to when this completed a sign-in.
#[server(endpoint = "confirm_totp_setup")]
pub async fn confirm_totp_setup(code: String) -> Result<SetupDone, AppError> {
    let signed_in = crate::server::auth::require_enrolment().await?;
    let client = crate::server::auth::client();
    crate::server::two_factor::confirm_setup(&signed_in, &code, &client).await
}

/// Turns 2FA off; needs a current code and is refused while 2FA is enforced for the admin.
#[server(endpoint = "disable_totp")]
pub async fn disable_totp(code: String) -> Result<(), AppError> {
    let signed_in = crate::server::auth::require_admin().await?;
    let client = crate::server::auth::client();
    crate::server::two_factor::disable(&signed_in, &code, &client).await
}

/// New recovery codes, shown once; the old ones stop working. Needs a current code.
#[server(endpoint = "regenerate_recovery_codes")]
pub async fn regenerate_recovery_codes(code: String) -> Result<Vec<String>, AppError> {
    let signed_in = crate::server::auth::require_admin().await?;
    let client = crate::server::auth::client();
    crate::server::two_factor::regenerate_recovery_codes(&signed_in, &code, &client).await
}

/// The admin's active sessions (device, address, last seen).
#[server(endpoint = "list_sessions")]
pub async fn list_sessions() -> Result<Vec<SessionInfo>, AppError> {
    let signed_in = crate::server::auth::require_admin().await?;
    crate::server::session_admin::list(&signed_in).await
}

/// Signs one of the admin's sessions out (`handle` from `list_sessions`).
#[server(endpoint = "end_session")]
pub async fn end_session(handle: String) -> Result<(), AppError> {
    let signed_in = crate::server::auth::require_admin().await?;
    let client = crate::server::auth::client();
    crate::server::session_admin::end_one(&signed_in, &handle, &client).await
}

/// Signs out every session of the admin but this one.
#[server(endpoint = "end_other_sessions")]
pub async fn end_other_sessions() -> Result<u64, AppError> {
    let signed_in = crate::server::auth::require_admin().await?;
    let client = crate::server::auth::client();
    crate::server::session_admin::end_others(&signed_in, &client).await
}

/// "Change password": needs the current one; ends the admin's other sessions.
#[server(endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
    confirm_password: String,
) -> Result<(), AppError> {
    let signed_in = crate::server::auth::require_admin().await?;
    crate::server::signin::change_password(
        &signed_in,
        &current_password,
        &new_password,
        &confirm_password,
        &crate::server::auth::client(),
    )
    .await
}
