//! Administration, for the super admin of an account. Each function checks on the server that
//! the caller is a fully signed-in super admin, and works inside the caller's account only.

use super::error::AppError;
use super::types::{AccountSettings, AddedAdmin, AdminDetail, AdminTable, AuditPage};
use leptos::prelude::*;

#[server(endpoint = "get_account_settings")]
pub async fn get_account_settings() -> Result<AccountSettings, AppError> {
    let signed_in = crate::server::auth::require_super_admin().await?;
    Ok(crate::server::administration::settings(&signed_in))
}

/// Saves "Force two-factor authentication".
#[server(endpoint = "save_account_settings")]
pub async fn save_account_settings(force_2fa: bool) -> Result<AccountSettings, AppError> {
    let signed_in = crate::server::auth::require_super_admin().await?;
    crate::server::administration::save_settings(
        &signed_in,
        force_2fa,
        &crate::server::auth::client(),
    )
    .await
}

/// One page of Admin Management. `sort`: name, username, email, role, 2fa, last_sign_in;
/// `dir`: asc or desc; `page` from 1.
#[server(endpoint = "list_admins")]
pub async fn list_admins(
    q: String,
    sort: String,
    dir: String,
    page: i64,
) -> Result<AdminTable, AppError> {
    let signed_in = crate::server::auth::require_super_admin().await?;
    let query = crate::domain::admin_list::TableQuery::parse(&q, &sort, &dir, page);
    crate::server::administration::table(&signed_in, &query).await
}

#[server(endpoint = "get_admin")]
pub async fn get_admin(id: i64) -> Result<AdminDetail, AppError> {
    let signed_in = crate::server::auth::require_super_admin().await?;
    crate::server::administration::detail(&signed_in, id).await
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
    use crate::server::administration::{NewAdminForm, add_admin};
    let signed_in = crate::server::auth::require_super_admin().await?;
    add_admin(
        &signed_in,
        NewAdminForm {
            email: &email,
            username: &username,
            name: &name,
            role: &role,
            password: &password,
        },
        &crate::server::auth::client(),
    )
    .await
}

/// The edit form: name, role, active, and "Enforce 2FA" (`account`, `on` or `off`).
#[server(endpoint = "update_admin")]
pub async fn update_admin(
    id: i64,
    name: String,
    role: String,
    active: bool,
    enforce_2fa: String,
) -> Result<(), AppError> {
    use crate::server::administration::{EditForm, edit_admin};
    let signed_in = crate::server::auth::require_super_admin().await?;
    edit_admin(
        &signed_in,
        id,
        EditForm {
            name: &name,
            role: &role,
            active,
            enforce_2fa: &enforce_2fa,
        },
        &crate::server::auth::client(),
    )
    .await
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
    let signed_in = crate::server::auth::require_super_admin().await?;
    let form = crate::server::audit_log::FilterForm {
        admin,
        event,
        from,
        to,
    };
    crate::server::audit_log::page(&signed_in, &form, page).await
}
