//! "Request 2FA Reset" and its decision; the notification bell.

use super::error::AppError;
use super::types::{Notifications, ResetHistoryItem, ResetRequestState};
use leptos::prelude::*;

/// From the code step of sign-in: asks the account's super admins to reset the admin's 2FA.
#[server(endpoint = "request_2fa_reset")]
pub async fn request_2fa_reset() -> Result<ResetRequestState, AppError> {
    let signed = crate::server::auth::require_pending_code().await?;
    let client = crate::server::auth::client();
    crate::server::resets::request(&signed, &client).await
}

/// From the code step: the admin's own pending request, or a denial not told yet.
#[server(endpoint = "get_reset_request_state")]
pub async fn get_reset_request_state() -> Result<ResetRequestState, AppError> {
    let signed = crate::server::auth::require_pending_code().await?;
    crate::server::resets::own_state(&signed).await
}

/// Reset (approve): removes the admin's 2FA and ends their sessions.
#[server(endpoint = "approve_2fa_reset")]
pub async fn approve_2fa_reset(request_id: i64) -> Result<(), AppError> {
    let signed = crate::server::auth::require_super_admin().await?;
    let client = crate::server::auth::client();
    crate::server::resets::decide(
        &signed,
        request_id,
        crate::domain::reset::Decision::Approve,
        &client,
    )
    .await
}

/// Deny: keeps the admin's 2FA; they are told at their next attempt.
#[server(endpoint = "deny_2fa_reset")]
pub async fn deny_2fa_reset(request_id: i64) -> Result<(), AppError> {
    let signed = crate::server::auth::require_super_admin().await?;
    let client = crate::server::auth::client();
    crate::server::resets::decide(
        &signed,
        request_id,
        crate::domain::reset::Decision::Deny,
        &client,
    )
    .await
}

/// The history of an admin's reset requests.
#[server(endpoint = "list_reset_requests")]
pub async fn list_reset_requests(admin_id: i64) -> Result<Vec<ResetHistoryItem>, AppError> {
    let signed = crate::server::auth::require_super_admin().await?;
    crate::server::resets::history(&signed, admin_id).await
}

#[server(endpoint = "list_notifications")]
pub async fn list_notifications() -> Result<Notifications, AppError> {
    let signed = crate::server::auth::require_admin().await?;
    crate::server::resets::notifications(&signed).await
}

#[server(endpoint = "mark_notifications_read")]
pub async fn mark_notifications_read() -> Result<(), AppError> {
    let signed = crate::server::auth::require_admin().await?;
    crate::server::resets::mark_read(&signed).await
}
