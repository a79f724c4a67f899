//! Administration, for the super admin of an account. Each function checks on the server that
//! the caller is a fully signed-in super admin, and works inside the caller's account only.

use crate::model::AppError;
use crate::model::types::{AccountSettings, AddedAdmin, AdminDetail, AdminTable, AuditPage};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    super::edge,
    crate::server::{administration, audit_log},
};

#[server(endpoint = "get_account_settings")]
pub async fn get_account_settings() -> Result<AccountSettings, AppError> {
    let call = edge::call()?;
    let me = call.super_admin().await?;
    Ok(administration::settings(&call.ctx, &me, call.ctx.now()))
}

/// Saves "Force two-factor authentication".
#[server(endpoint = "save_account_settings")]
pub async fn save_account_settings(
    force_2fa: bool,
    grace_days: Option<String>,
    grace_shown: Option<String>,
    remember_days: Option<String>,
    require_keys: Option<bool>,
) -> Result<AccountSettings, AppError> {
    let call = edge::call()?;
    let me = call.super_admin().await?;
    let form = administration::SettingsForm {
        force_2fa,
        grace_days: grace_days.as_deref().unwrap_or_default(),
        grace_shown: grace_shown.as_deref().unwrap_or_default(),
        // Not sent: unchanged.
        remember_days: &remember_days
            .unwrap_or_else(|| me.account.remember_browser_days.to_string()),
        // Not sent: unchanged.
        require_keys: require_keys.unwrap_or(me.account.require_keys),
    };
    administration::save_settings(&call.ctx, &me, &call.client, form).await
}

/// One page of Admin Management. `sort`: name, username, email, role, 2fa, last_sign_in, or
/// empty for the default (pending reset requests first, then by name); `dir`: asc or desc;
/// `page` from 1; `pending`: only admins with a pending reset request; `after` / `before`: the
/// id of the last (first) row of the page before (after) this one, set by "Next" ("Previous")
/// so the page is found by seeking, not by counting past every row before it.
#[server(endpoint = "list_admins")]
pub async fn list_admins(
    q: String,
    sort: String,
    dir: String,
    page: i64,
    pending: Option<bool>,
    after: Option<i64>,
    before: Option<i64>,
) -> Result<AdminTable, AppError> {
    let call = edge::call()?;
    let me = call.super_admin().await?;
    let mut query = crate::domain::admin_list::TableQuery::parse(&q, &sort, &dir, page)
        .with_cursor(after, before);
    if pending == Some(true) {
        query = query.pending_only();
    }
    administration::table(&call.ctx, &me, &query).await
}

#[server(endpoint = "get_admin")]
pub async fn get_admin(id: i64) -> Result<AdminDetail, AppError> {
    let call = edge::call()?;
    let me = call.super_admin().await?;
    administration::detail(&call.ctx, &me, id).await
}

/// "Add admin". The initial password must be changed at the admin's first sign-in.
#[server(endpoint = "add_admin")]
pub async fn add_admin(
    email: String,
    username: String,
    name: String,
    role: String,
    password: String,
) -> Result<AddedAdmin, AppError> {
    let call = edge::call()?;
    let me = call.super_admin().await?;
    let form = administration::NewAdminForm {
        email: &email,
        username: &username,
        name: &name,
        role: &role,
        password: &password,
    };
    administration::add_admin(&call.ctx, &me, &call.client, form).await
}

/// The edit form: name, role, active, and "Enforce 2FA" (`account`, `on` or `off`) with its
/// grace period in days (`grace_days`, only read with `on`; `grace_shown`: the days the form
/// showed, so that sending them back unchanged keeps the deadline).
#[server(endpoint = "update_admin")]
pub async fn update_admin(
    id: i64,
    name: String,
    role: String,
    active: bool,
    enforce_2fa: String,
    grace_days: Option<String>,
    grace_shown: Option<String>,
) -> Result<(), AppError> {
    let call = edge::call()?;
    let me = call.super_admin().await?;
    let form = administration::EditForm {
        name: &name,
        role: &role,
        active,
        enforce_2fa: &enforce_2fa,
        grace_days: grace_days.as_deref().unwrap_or_default(),
        grace_shown: grace_shown.as_deref().unwrap_or_default(),
    };
    administration::edit_admin(&call.ctx, &me, &call.client, id, form).await
}

/// Unlocks an admin's sign-in from browsers they have not used before.
#[server(endpoint = "unlock_admin_sign_in")]
pub async fn unlock_admin_sign_in(id: i64) -> Result<(), AppError> {
    let call = edge::call()?;
    let me = call.super_admin().await?;
    administration::unlock_sign_in(&call.ctx, &me, &call.client, id).await
}

/// Administration → Audit log, filtered by admin (id), event type and dates (YYYY-MM-DD).
#[server(endpoint = "list_audit_log")]
pub async fn list_audit_log(
    admin: String,
    event: String,
    from: String,
    to: String,
    page: i64,
) -> Result<AuditPage, AppError> {
    let call = edge::call()?;
    let me = call.super_admin().await?;
    let form = audit_log::FilterForm {
        admin,
        event,
        from,
        to,
    };
    audit_log::page(&call.ctx, &me, &form, page).await
}
