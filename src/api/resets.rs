//! "Request 2FA Reset" and its decision; the notification bell.

use crate::model::AppError;
use crate::model::types::{Notifications, ResetHistoryItem, ResetRequestState};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {super::edge, crate::domain::reset::Decision, crate::server::resets};

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

/// Reset (approve): removes the admin's 2FA and ends their sessions.
#[server(endpoint = "approve_2fa_reset")]
pub async fn approve_2fa_reset(request_id: i64) -> Result<(), AppError> {
    let call = edge::call()?;
    let me = call.super_admin().await?;
    resets::decide(&call.ctx, &me, &call.client, request_id, Decision::Approve).await
}

/// Deny: keeps the admin's 2FA; they are told at their next attempt.
#[server(endpoint = "deny_2fa_reset")]
pub async fn deny_2fa_reset(request_id: i64) -> Result<(), AppError> {
    let call = edge::call()?;
    let me = call.super_admin().await?;
    resets::decide(&call.ctx, &me, &call.client, request_id, Decision::Deny).await
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
