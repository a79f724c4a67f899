//! Whether two-factor authentication is required of an admin, and what that allows.

use serde::{Deserialize, Serialize};

/// Where an admin's enforcement comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EnforcementSource {
    /// The account's "Force two-factor authentication" setting.
    Account,
    /// "Enforce 2FA" set by the super admin for this admin alone.
    Admin,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enforcement {
    pub enforced: bool,
    pub source: EnforcementSource,
}

/// The admin's own value wins when the super admin set one; otherwise the account setting applies.
pub fn effective(account_forces_2fa: bool, admin_value: Option<bool>) -> Enforcement {
    match admin_value {
        Some(enforced) => Enforcement {
            enforced,
            source: EnforcementSource::Admin,
        },
        None => Enforcement {
            enforced: account_forces_2fa,
            source: EnforcementSource::Account,
        },
    }
}

impl Enforcement {
    /// Why 2FA cannot be turned off, in words for the admin.
    pub fn reason(&self) -> &'static str {
        match self.source {
            EnforcementSource::Account => {
                "Your account requires two-factor authentication for every admin \
                 (Force two-factor authentication)."
            }
            EnforcementSource::Admin => {
                "Your super admin requires two-factor authentication for you (Enforce 2FA)."
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct DisableRefused {
    pub reason: &'static str,
}

/// Turning 2FA off is refused while it is enforced for the admin.
pub fn check_can_disable(enforcement: Enforcement) -> Result<(), DisableRefused> {
    if enforcement.enforced {
        Err(DisableRefused {
            reason: enforcement.reason(),
        })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effective_enforcement_for_every_combination() {
        use EnforcementSource::*;
        let cases = [
            (false, None, false, Account),
            (true, None, true, Account),
            (false, Some(true), true, Admin),
            (true, Some(true), true, Admin),
            (false, Some(false), false, Admin),
            (true, Some(false), false, Admin),
        ];
        for (account, admin, enforced, source) in cases {
            assert_eq!(
                effective(account, admin),
                Enforcement { enforced, source },
                "account={account} admin={admin:?}"
            );
        }
    }

    #[test]
    fn disabling_is_refused_with_the_reason_while_enforced() {
        assert!(check_can_disable(effective(false, None)).is_ok());
        assert!(check_can_disable(effective(true, Some(false))).is_ok());
        let by_account = check_can_disable(effective(true, None)).unwrap_err();
        assert!(
            by_account
                .reason
                .contains("Force two-factor authentication")
        );
        let by_admin = check_can_disable(effective(false, Some(true))).unwrap_err();
        assert!(by_admin.reason.contains("Enforce 2FA"));
    }
}
