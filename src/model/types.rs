//! What server functions send to the browser. Integers are i64 (the browser is 32-bit WASM).

use crate::domain::enforcement::Enforcement;
pub use crate::domain::factors::Factors;
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
    /// Unused recovery codes.
    pub recovery_codes_left: i64,
    /// The admin's security keys and passkeys, oldest first.
    pub security_keys: Vec<SecurityKeyInfo>,
    /// Security keys work on this deployment (its public address names a domain).
    pub keys_available: bool,
    /// The account requires a security key of this admin ("Require security keys", enforced).
    pub key_required: bool,
    /// A code from the authenticator app confirms a change (the admin has the app, and no key
    /// is required of them instead): the server's `Requirement::accepts_code`, as decided there.
    pub code_confirms: bool,
}

/// One of the admin's security keys, for the profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityKeyInfo {
    pub id: i64,
    pub name: String,
    pub added_at: i64,
    pub last_used_at: Option<i64>,
    /// Its signature counter went back (a cloned key): not accepted until removed.
    pub suspended: bool,
}

/// A WebAuthn ceremony started on the server: the options for `navigator.credentials`, as the
/// JSON the browser's `PublicKeyCredential.parse*OptionsFromJSON` takes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyCeremony {
    pub options_json: String,
}

/// 2FA turned on: the recovery codes (shown once), and where to go when this completed a
/// sign-in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupDone {
    pub next: Option<String>,
    pub recovery_codes: Vec<String>,
}

/// One of the admin's active sessions, for the profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Names the session to end it (a hash; it cannot be used as a cookie).
    pub handle: String,
    pub device: String,
    pub address: Option<String>,
    pub signed_in_at: i64,
    pub last_seen_at: i64,
    /// The session of this browser.
    pub current: bool,
}

/// A browser that skips the code step ("Don't ask for a code on this browser for N days").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RememberedBrowser {
    /// Names it to forget it (a hash; it cannot be used as a cookie).
    pub handle: String,
    pub device: String,
    pub address: Option<String>,
    pub remembered_at: i64,
    /// When it stops skipping the code (the account's setting now may have shortened it).
    pub until: i64,
    pub last_used_at: Option<i64>,
    /// This browser.
    pub current: bool,
}

/// What the code step offers besides the code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeStepOptions {
    /// "Don't ask for a code on this browser for N days": N, when the account allows it.
    pub remember_days: Option<i64>,
    /// The admin has a security key: "Use your security key" comes first.
    pub has_key: bool,
    /// The admin has an authenticator app (else the field takes recovery codes).
    pub has_totp: bool,
    /// Authenticator-app codes are accepted: the account does not require this admin's key
    /// instead (recovery codes always are).
    pub code_accepted: bool,
}

/// A started 2FA setup: what the authenticator app needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpSetup {
    /// The QR code of the `otpauth://` URI, as an SVG document rendered on the server.
    pub qr_svg: String,
    /// The secret in base32, grouped by four for typing.
    pub secret_grouped: String,
    /// The `otpauth://` link, for an authenticator app on the same phone (which cannot scan its
    /// own screen).
    pub otpauth_uri: String,
    pub issuer: String,
    pub account: String,
    /// Part of a sign-in where the setup is offered but not required ("Skip for now").
    pub skippable: bool,
    /// The admin's 2FA was reset: the setup is to set it up again.
    pub after_reset: bool,
    /// 2FA is enforced with a grace period still running: the setup may wait ("Remind me next
    /// time") until it ends.
    pub grace: Option<Grace>,
    /// A security key is what this setup step asks ("Require security keys"): the app does
    /// not do, and the app's fields above are empty.
    pub key_required: bool,
    /// Security keys work on this deployment: a key may be set up instead of the app.
    pub keys_available: bool,
}

/// A grace period of an enforcement, as of the server's clock when it answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grace {
    /// When it ends (unix seconds): from then on 2FA is required.
    pub until: i64,
    /// Whole days left, counted up (1 on the last day).
    pub days_left: i64,
}

impl Grace {
    /// The grace period `enforcement` has left at `now`, if any.
    pub fn of(enforcement: &Enforcement, now: i64) -> Option<Grace> {
        enforcement.grace_until(now).map(|until| Grace {
            until,
            days_left: crate::domain::enforcement::days_left(until, now),
        })
    }
}

/// "Force two-factor authentication" and the account it belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSettings {
    pub account_name: String,
    pub force_2fa: bool,
    /// The grace period of "Force two-factor authentication", while it runs.
    pub grace: Option<Grace>,
    /// "Don't ask for a code on this browser for N days": N, 0 when off.
    pub remember_days: i64,
    /// The super admin looking at the settings has 2FA set up.
    pub you_have_two_factor: bool,
    /// "Require security keys": where 2FA is enforced, TOTP alone does not do.
    pub require_keys: bool,
    /// Security keys work on this deployment.
    pub keys_available: bool,
}

/// One admin in the Admin Management table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminRow {
    pub id: i64,
    pub name: String,
    pub username: String,
    pub email: String,
    pub role: Role,
    pub active: bool,
    /// "2FA Activation": any second factor is set up...
    pub two_factor_active: bool,
    /// ...which ones.
    pub factors: Factors,
    /// The account requires a security key of this admin and there is none yet.
    pub needs_key: bool,
    pub enforcement: Enforcement,
    pub must_change_password: bool,
    pub last_sign_in_at: Option<i64>,
    /// A pending "Request 2FA Reset" of this admin.
    pub reset_request: Option<PendingReset>,
    /// When this admin last skipped an offered 2FA setup (after a reset).
    pub setup_skipped_at: Option<i64>,
}

/// 2FA state of the account's active admins, for the chart above the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoFactorOverview {
    pub active_admins: i64,
    pub two_factor_active: i64,
    /// Enforced, past any grace period, and not set up.
    pub enforced_not_set_up: i64,
    /// Enforced with a grace period still running, and not set up.
    pub in_grace_period: i64,
}

/// One page of the Admin Management table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminTable {
    pub rows: Vec<AdminRow>,
    /// Admins matching the search (and the pending filter).
    pub total: i64,
    pub page: i64,
    pub pages: i64,
    /// Requests of the account waiting for a decision ("Pending resets (N)").
    pub pending_total: i64,
    pub overview: TwoFactorOverview,
    pub account_force_2fa: bool,
}

/// One admin on the edit form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminDetail {
    pub row: AdminRow,
    /// "Enforce 2FA" set for this admin; `None`: the account setting applies.
    pub enforce_2fa: Option<bool>,
    pub account_force_2fa: bool,
    /// The grace period of this admin's own "Enforce 2FA", while it runs.
    pub grace: Option<Grace>,
    /// The super admin is looking at themselves.
    pub is_self: bool,
    /// 2FA was reset and is not set up again: the state of the setup code (`None`: not after a
    /// reset).
    pub setup_code_due: Option<SetupCodeDue>,
}

/// The setup code of an admin waiting to set 2FA up again after a reset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SetupCodeDue {
    Valid {
        expires_at: i64,
    },
    Expired {
        expires_at: i64,
    },
    /// None now (an offered setup was skipped, or the reset came with a lost key).
    None,
}

/// What a super admin needs to judge a reset request before deciding it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetReview {
    pub request_id: i64,
    pub admin_id: i64,
    pub admin_name: String,
    pub admin_email: String,
    pub requested_at: i64,
    pub requested_ip: Option<String>,
    /// The requesting browser, as its user agent describes it.
    pub device: Option<String>,
    /// The request came from a browser that had signed in as this admin before.
    pub from_known_browser: bool,
    /// Successful sign-ins of this admin from the request's address (audit log).
    pub sign_ins_from_address: i64,
    pub last_sign_in_from_address: Option<i64>,
}

/// A decided request: what happens next, in words for the super admin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetDecided {
    pub message: String,
    /// After a reset: the setup code to hand to the admin, shown this once.
    pub setup_code: Option<SetupCodeShown>,
}

/// A setup code as its issuer sees it, once: the admin's next sign-in asks for it. Its `Debug`
/// leaves the code out.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupCodeShown {
    pub code: String,
    pub admin_name: String,
    pub valid_days: i64,
}

impl std::fmt::Debug for SetupCodeShown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetupCodeShown")
            .field("code", &"<shown once>")
            .field("admin_name", &self.admin_name)
            .field("valid_days", &self.valid_days)
            .finish()
    }
}

impl SetupCodeShown {
    pub fn new(code: String, admin_name: &str) -> Self {
        SetupCodeShown {
            code,
            admin_name: admin_name.to_string(),
            valid_days: crate::domain::setup_code::VALID_DAYS,
        }
    }
}

/// A pending 2FA reset request, as the super admin sees it in the table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingReset {
    pub request_id: i64,
    pub requested_at: i64,
}

/// One request in an admin's history of 2FA reset requests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetHistoryItem {
    pub id: i64,
    pub status: crate::domain::reset::RequestStatus,
    pub requested_at: i64,
    pub requested_ip: Option<String>,
    pub decided_at: Option<i64>,
    pub decided_by: Option<String>,
    /// A denial's reason.
    pub reason: Option<String>,
}

/// What the code step shows about the admin's own reset request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResetRequestState {
    /// No request, or an old one already told.
    None,
    Pending {
        requested_at: i64,
        /// The decision is also sent by email (SMTP is configured).
        by_email: bool,
    },
    /// Denied, told once, with the super admin's reason if they gave one.
    Denied {
        decided_at: i64,
        reason: Option<String>,
    },
    /// Nobody else can approve it (the requester is the account's only super admin): no request
    /// was made.
    NobodyCanApprove,
    /// Nobody decided in time, told once.
    Expired { requested_at: i64 },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationItem {
    pub id: i64,
    pub message: String,
    pub link: Option<String>,
    pub created_at: i64,
    pub read: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notifications {
    pub unread: i64,
    pub items: Vec<NotificationItem>,
}

/// Pushed over the live connection (server-sent events).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveEvent {
    /// To the account's super admins.
    ResetRequested {
        request_id: i64,
        admin_id: i64,
        admin_name: String,
        requested_at: i64,
    },
    /// To the account's super admins, and to the requester's waiting sign-in page.
    ResetResolved {
        request_id: i64,
        admin_id: i64,
        admin_name: String,
        status: crate::domain::reset::RequestStatus,
        /// A denial's reason, for the requester's waiting page.
        #[serde(default)]
        reason: Option<String>,
    },
    /// Any other notification for the account's super admins (the bell and a toast).
    Notice {
        message: String,
        link: Option<String>,
    },
    /// To every live connection of an instance whose relay from the other instances was lost
    /// and is back: events may have been missed, so pages fetch what they show again.
    Resync,
}

/// The admin "Add admin" created.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddedAdmin {
    pub id: i64,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub event: String,
    pub actor: Option<String>,
    pub target: Option<String>,
    pub detail: String,
    pub address: Option<String>,
}

/// One page of the audit log, with what the filters can offer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
    pub event_types: Vec<String>,
    /// (id, name) of the account's admins.
    pub admins: Vec<(i64, String)>,
}
