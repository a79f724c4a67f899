//! Wire types built from server records.

use crate::model::types::Me;
use crate::server::auth::SignedIn;

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
