//! Administration, for the super admin of an account.

use super::error::AppError;
use super::types::AccountOverview;
use leptos::prelude::*;

#[server(endpoint = "get_account_overview")]
pub async fn get_account_overview() -> Result<AccountOverview, AppError> {
    let signed_in = crate::server::auth::require_super_admin().await?;
    crate::server::views::account_overview(&signed_in).await
}
