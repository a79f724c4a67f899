//! Wire types built from server records.

use crate::api::error::AppError;
use crate::api::types::{AccountOverview, Me};
use crate::server::auth::{SignedIn, state};
use crate::server::internal;
use sqlx::Row;

pub fn me(signed_in: &SignedIn) -> Me {
    let admin = &signed_in.admin;
    Me {
        id: admin.id,
        name: admin.name.clone(),
        email: admin.email.clone(),
        username: admin.username.clone(),
        role: admin.role,
        account_name: signed_in.account.name.clone(),
    }
}

pub async fn account_overview(signed_in: &SignedIn) -> Result<AccountOverview, AppError> {
    let db = &state()?.db;
    let row = sqlx::query(
        "SELECT COUNT(*) AS admins, \
                COUNT(CASE WHEN a.active = 1 THEN 1 END) AS active_admins, \
                COUNT(t.admin_id) AS with_two_factor \
         FROM admins a LEFT JOIN totp_credentials t ON t.admin_id = a.id \
         WHERE a.account_id = $1",
    )
    .bind(signed_in.account.id)
    .fetch_one(&db.pool)
    .await
    .map_err(internal)?;
    Ok(AccountOverview {
        account_name: signed_in.account.name.clone(),
        admins: row.try_get("admins").map_err(internal)?,
        active_admins: row.try_get("active_admins").map_err(internal)?,
        with_two_factor: row.try_get("with_two_factor").map_err(internal)?,
    })
}
