//! "Request 2FA Reset" and its decision; the notification bell.

use crate::model::AppError;
use crate::model::types::{
    Notifications, ResetDecided, ResetHistoryItem, ResetRequestState, ResetReview,
};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    super::edge,
    crate::server::resets::{self, Verdict},
};

/// From the code step of sign-in: asks the account's super admins to reset the admin's 2FA.
#[server(endpoint = "request_2fa_reset")]
pub async fn request_2fa_reset() -> Result<ResetRequestState, AppError> {
    let call = edge::call()?;
    let me = call.pending_code().await?;
    resets::request(&call.ctx, &me, &call.client).await
}

/// From the code step: takes the admin's own pending request back.
#[server(endpoint = "withdraw_2fa_reset")]
pub async fn withdraw_2fa_reset() -> Result<ResetRequestState, AppError> {
    let call = edge::call()?;
    let me = call.pending_code().await?;
    resets::withdraw_own(&call.ctx, &me, &call.client).await
}

/// From the code step: the admin's own pending request, or a denial not told yet.
#[server(endpoint = "get_reset_request_state")]
pub async fn get_reset_request_state() -> Result<ResetRequestState, AppError> {
    let call = edge::call()?;
    let me = call.pending_code().await?;
    resets::own_state(&call.ctx, &me).await
}

/// What a super admin sees before deciding a request: who asked, when, from where.
#[server(endpoint = "get_reset_review")]
pub async fn get_reset_review(request_id: i64) -> Result<ResetReview, AppError> {
    let call = edge::call()?;
    let me = call.super_admin().await?;
    resets::review(&call.ctx, &me, request_id).await
}

/// Reset (approve): removes the admin's 2FA and ends their sessions. `require_setup` (default
/// true): the setup at their next sign-in is required, else only offered.
#[server(endpoint = "approve_2fa_reset")]
pub async fn approve_2fa_reset(
    request_id: i64,
    require_setup: Option<bool>,
) -> Result<ResetDecided, AppError> {
    let call = edge::call()?;
    let me = call.super_admin().await?;
    let verdict = Verdict::Approve {
        require_setup: require_setup.unwrap_or(true),
    };
    resets::decide(&call.ctx, &me, &call.client, request_id, verdict).await
}

/// Deny: keeps the admin's 2FA; they are told at their next attempt and by email, with the
/// reason when one is given.
#[server(endpoint = "deny_2fa_reset")]
pub async fn deny_2fa_reset(
    request_id: i64,
    reason: Option<String>,
) -> Result<ResetDecided, AppError> {
    let call = edge::call()?;
    let me = call.super_admin().await?;
    let reason = reason
        // Forms send line breaks as CRLF; the reason keeps them as plain newlines.
        .map(|r| r.replace("\r\n", "\n").trim().to_string())
        .filter(|r| !r.is_empty());
    resets::decide(
        &call.ctx,
        &me,
        &call.client,
        request_id,
        Verdict::Deny { reason },
    )
    .await
}

/// "New setup code": for an admin of the account whose 2FA was reset and who has not set it
/// up again; the earlier code stops working.
#[server(endpoint = "new_setup_code")]
pub async fn new_setup_code(admin_id: i64) -> Result<ResetDecided, AppError> {
    let call = edge::call()?;
    let me = call.super_admin().await?;
    resets::new_setup_code(&call.ctx, &me, &call.client, admin_id).await
}

/// How many reset requests of the super admin's account wait for a decision.
#[server(endpoint = "count_pending_resets")]
pub async fn count_pending_resets() -> Result<i64, AppError> {
    let call = edge::call()?;
    let me = call.super_admin().await?;
    resets::pending_count(&call.ctx, &me).await
}

/// The history of an admin's reset requests.
#[server(endpoint = "list_reset_requests")]
pub async fn list_reset_requests(admin_id: i64) -> Result<Vec<ResetHistoryItem>, AppError> {
    let call = edge::call()?;
    let me = call.super_admin().await?;
    resets::history(&call.ctx, &me, admin_id).await
}

#[server(endpoint = "list_notifications")]
pub async fn list_notifications() -> Result<Notifications, AppError> {
    let call = edge::call()?;
    let me = call.admin().await?;
    resets::notifications(&call.ctx, &me).await
}

#[server(endpoint = "mark_notifications_read")]
pub async fn mark_notifications_read() -> Result<(), AppError> {
    let call = edge::call()?;
    let me = call.admin().await?;
    resets::mark_read(&call.ctx, &me).await
}
