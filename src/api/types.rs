//! What server functions send to the browser. Integers are i64 (the browser is 32-bit WASM).

use crate::domain::enforcement::Enforcement;
use crate::domain::role::Role;
use serde::{Deserialize, Serialize};

/// The signed-in admin, for the header and navigation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub username: String,
    pub role: Role,
    pub account_name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub me: Me,
    pub totp_enabled: bool,
    pub enforcement: Enforcement,
}

/// A started 2FA setup: what the authenticator app needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpSetup {
    /// The QR code of the `otpauth://` URI, as an SVG document rendered on the server.
    pub qr_svg: String,
    /// The secret in base32, grouped by four for typing.
    pub secret_grouped: String,
    pub issuer: String,
    pub account: String,
}

/// Overview of the account for its super admin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountOverview {
    pub account_name: String,
    pub admins: i64,
    pub active_admins: i64,
    pub with_two_factor: i64,
}
