//! The signed-in admin's profile: their two-factor authentication, sessions and password.

use crate::model::AppError;
use crate::model::types::{
    KeyCeremony, Profile, RememberedBrowser, SessionInfo, SetupDone, TotpSetup,
};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    super::edge,
    crate::server::{remembered, security_keys, session_admin, signin, two_factor},
};

#[server(endpoint = "get_profile")]
pub async fn get_profile() -> Result<Profile, AppError> {
    let call = edge::call()?;
    let me = call.admin().await?;
    two_factor::profile(&call.ctx, &me).await
}

/// "Enable Two-Factor Authentication": checks the current password (from the profile; not
/// needed as the required step of a sign-in), draws a new secret and answers the QR code and
/// the secret. Nothing is stored on the admin until `confirm_totp_setup` gets a correct code.
#[server(endpoint = "start_totp_setup")]
pub async fn start_totp_setup(current_password: String) -> Result<TotpSetup, AppError> {
    let call = edge::call()?;
    let me = call.enrolment().await?;
    two_factor::start_setup(&call.ctx, &me, &call.client, &current_password).await
}

/// Turns 2FA on when `code` is correct for the secret of the setup in progress. Answers the
/// page to go to when this completed a sign-in.
#[server(endpoint = "confirm_totp_setup")]
pub async fn confirm_totp_setup(code: String) -> Result<SetupDone, AppError> {
    let call = edge::call()?;
    let me = call.enrolment().await?;
    two_factor::confirm_setup(&call.ctx, &me, &call.client, &code).await
}

/// Turns 2FA off; needs a current code and is refused while 2FA is enforced for the admin.
#[server(endpoint = "disable_totp")]
pub async fn disable_totp(code: String) -> Result<(), AppError> {
    let call = edge::call()?;
    let me = call.admin().await?;
    two_factor::disable(&call.ctx, &me, &call.client, &code).await
}

/// "Add a security key" (named `key_name`): checks the current password (from the profile; not
/// as the required step of a sign-in) and answers the options for `navigator.credentials.create`.
#[server(endpoint = "start_key_registration")]
pub async fn start_key_registration(
    key_name: String,
    current_password: Option<String>,
) -> Result<KeyCeremony, AppError> {
    let call = edge::call()?;
    let me = call.enrolment().await?;
    security_keys::start_registration(
        &call.ctx,
        &me,
        &call.client,
        &key_name,
        current_password.as_deref().unwrap_or_default(),
    )
    .await
}

/// Stores the new key when its answer (`PublicKeyCredential.toJSON()`, as JSON) checks out.
/// The first second factor comes with recovery codes; `next` when this completed a sign-in.
#[server(endpoint = "finish_key_registration")]
pub async fn finish_key_registration(credential: String) -> Result<SetupDone, AppError> {
    let call = edge::call()?;
    let me = call.enrolment().await?;
    security_keys::finish_registration(&call.ctx, &me, &call.client, &credential).await
}

/// Before "Remove": the options for `navigator.credentials.get` over the admin's keys.
#[server(endpoint = "start_key_confirmation")]
pub async fn start_key_confirmation() -> Result<KeyCeremony, AppError> {
    let call = edge::call()?;
    let me = call.admin().await?;
    security_keys::start_confirmation(&call.ctx, &me).await
}

/// Removes security key `key_id`, confirmed by a key's answer (`credential`) or a current code
/// from the authenticator app (`code`).
#[server(endpoint = "remove_security_key")]
pub async fn remove_security_key(
    key_id: i64,
    code: Option<String>,
    credential: Option<String>,
) -> Result<(), AppError> {
    let call = edge::call()?;
    let me = call.admin().await?;
    let confirmation = confirmation(&credential, &code)?;
    security_keys::remove(&call.ctx, &me, &call.client, key_id, confirmation).await
}

/// New recovery codes, shown once; the old ones stop working. Needs a current code.
#[server(endpoint = "regenerate_recovery_codes")]
pub async fn regenerate_recovery_codes(
    code: Option<String>,
    credential: Option<String>,
) -> Result<Vec<String>, AppError> {
    let call = edge::call()?;
    let me = call.admin().await?;
    let confirmation = confirmation(&credential, &code)?;
    two_factor::regenerate_recovery_codes(&call.ctx, &me, &call.client, confirmation).await
}

/// The admin's active sessions (device, address, last seen).
#[server(endpoint = "list_sessions")]
pub async fn list_sessions() -> Result<Vec<SessionInfo>, AppError> {
    let call = edge::call()?;
    let me = call.admin().await?;
    session_admin::list(&call.ctx, &me).await
}

/// The admin's remembered browsers ("Don't ask for a code on this browser"), this one first.
#[server(endpoint = "list_remembered_browsers")]
pub async fn list_remembered_browsers() -> Result<Vec<RememberedBrowser>, AppError> {
    let call = edge::call()?;
    let me = call.admin().await?;
    remembered::list(&call.ctx, &me, &call.client).await
}

/// Forgets one of the admin's remembered browsers (`handle` from `list_remembered_browsers`):
/// it asks for the code again.
#[server(endpoint = "forget_remembered_browser")]
pub async fn forget_remembered_browser(handle: String) -> Result<(), AppError> {
    let call = edge::call()?;
    let me = call.admin().await?;
    remembered::forget(&call.ctx, &me, &call.client, &handle).await
}

/// Signs one of the admin's sessions out (`handle` from `list_sessions`).
#[server(endpoint = "end_session")]
pub async fn end_session(handle: String) -> Result<(), AppError> {
    let call = edge::call()?;
    let me = call.admin().await?;
    session_admin::end_one(&call.ctx, &me, &call.client, &handle).await
}

/// Signs out every session of the admin but this one.
#[server(endpoint = "end_other_sessions")]
pub async fn end_other_sessions() -> Result<u64, AppError> {
    let call = edge::call()?;
    let me = call.admin().await?;
    session_admin::end_others(&call.ctx, &me, &call.client).await
}

/// "Change password": needs the current one; ends the admin's other sessions.
#[server(endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
    confirm_password: String,
) -> Result<(), AppError> {
    let call = edge::call()?;
    let me = call.admin().await?;
    signin::change_password(
        &call.ctx,
        &me,
        &call.client,
        &current_password,
        &new_password,
        &confirm_password,
    )
    .await
}

/// What confirms a sensitive change: a key's answer (`credential`), else a code from the app.
#[cfg(feature = "ssr")]
fn confirmation<'a>(
    credential: &'a Option<String>,
    code: &'a Option<String>,
) -> Result<security_keys::Confirmation<'a>, AppError> {
    match (credential, code) {
        (Some(credential), _) if !credential.is_empty() => {
            Ok(security_keys::Confirmation::Key(credential))
        }
        (_, Some(code)) => Ok(security_keys::Confirmation::Code(code)),
        _ => Err(AppError::invalid(
            "code",
            "Confirm with your security key, or a code from your authenticator app.",
        )),
    }
}
