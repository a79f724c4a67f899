//! Rules of the product with no web, database or clock dependency: TOTP policy, 2FA
//! enforcement, sign-in stages and page access, roles and input validation.
//!
//! Compiles for the server and the browser; functions take the time as an argument.

pub mod access;
pub mod admin_list;
pub mod admin_rules;
pub mod device;
pub mod enforcement;
pub mod factors;
pub mod identity;
pub mod network;
pub mod rate_limit;
pub mod recovery;
pub mod remember;
pub mod reset;
pub mod role;
pub mod setup_code;
pub mod throttle;
pub mod time;
pub mod totp;
