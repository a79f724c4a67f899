//! An admin's second factors: TOTP, security keys (and passkeys), or both. 2FA is on when any
//! is registered; where the account requires security keys ("Require security keys") and 2FA
//! is enforced, only a key satisfies the enforcement.

use super::enforcement::Enforcement;
use serde::{Deserialize, Serialize};

/// The most security keys one admin may register.
pub const MAX_KEYS: i64 = 10;
/// The longest name of a security key, in characters.
pub const MAX_KEY_NAME_CHARS: usize = 60;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Factors {
    /// An authenticator app (TOTP) is set up.
    pub totp: bool,
    /// Security keys registered.
    pub keys: i64,
}

impl Factors {
    /// 2FA is on.
    pub fn any(self) -> bool {
        self.totp || self.keys > 0
    }

    /// What an enforcement asks is there: a key when keys are required, else any factor.
    pub fn satisfy(self, keys_required: bool) -> bool {
        if keys_required {
            self.keys > 0
        } else {
            self.any()
        }
    }

    /// The factors with one key fewer.
    pub fn without_a_key(self) -> Factors {
        Factors {
            keys: (self.keys - 1).max(0),
            ..self
        }
    }

    /// The factors without TOTP.
    pub fn without_totp(self) -> Factors {
        Factors {
            totp: false,
            ..self
        }
    }
}

/// What 2FA must be for one admin: the enforcement, and whether it takes a security key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirement {
    pub enforcement: Enforcement,
    /// The account's "Require security keys" (meaningful only while 2FA is enforced).
    pub keys_required: bool,
}

impl Requirement {
    /// A key is what the enforcement asks of this admin.
    pub fn wants_key(&self) -> bool {
        self.enforcement.enforced && self.keys_required
    }

    /// The enforcement is met by `factors` (or there is none).
    pub fn met_by(&self, factors: Factors) -> bool {
        !self.enforcement.enforced || factors.satisfy(self.keys_required)
    }

    /// The admin must set up (another) factor before going on: enforced, past any grace
    /// period, and not met.
    pub fn setup_due(&self, factors: Factors, now: i64) -> bool {
        self.enforcement.required(now) && !factors.satisfy(self.keys_required)
    }

    /// At the code step: an authenticator-app code is refused once the admin has the key
    /// "Require security keys" asks for (a phished code cannot stand in for the key). Without a
    /// key the admin signs in with the code and is then asked to add one. Recovery codes are
    /// not refused (the caller's rule: they are the way back in without the key).
    pub fn accepts_code(&self, factors: Factors) -> bool {
        !(self.wants_key() && factors.keys > 0)
    }

    /// A remembered browser may skip the second factor ("Don't ask for a code on this
    /// browser"): not where a key is wanted, so that every sign-in of such an admin shows the
    /// key (a browser remembered with a phished code, or before the rule, skips nothing).
    pub fn allows_remembered_browsers(&self) -> bool {
        !self.wants_key()
    }

    /// Why removing a factor that leaves `after` is refused, if it is.
    pub fn check_removal(&self, after: Factors) -> Result<(), &'static str> {
        if self.met_by(after) {
            Ok(())
        } else if self.wants_key() {
            Err(
                "Your account requires a security key (Require security keys): add another \
                 key before you remove this one.",
            )
        } else {
            Err(self.enforcement.reason())
        }
    }
}

/// A security key's name as the admin typed it: trimmed, 1 to `MAX_KEY_NAME_CHARS`
/// characters, no control characters.
pub fn key_name(input: &str) -> Result<String, String> {
    let name = input.trim();
    if name.is_empty() {
        return Err("Name the key, like \"YubiKey on my keyring\".".into());
    }
    if name.chars().count() > MAX_KEY_NAME_CHARS {
        return Err(format!(
            "Use at most {MAX_KEY_NAME_CHARS} characters for the key's name."
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("The key's name cannot contain control characters.".into());
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::enforcement::{Rule, effective};

    fn requirement(on: bool, deadline: Option<i64>, keys_required: bool) -> Requirement {
        Requirement {
            enforcement: effective(Rule { on, deadline }, None),
            keys_required,
        }
    }

    const NONE: Factors = Factors {
        totp: false,
        keys: 0,
    };
    const TOTP: Factors = Factors {
        totp: true,
        keys: 0,
    };
    const KEY: Factors = Factors {
        totp: false,
        keys: 1,
    };
    const BOTH: Factors = Factors {
        totp: true,
        keys: 2,
    };

    #[test]
    fn either_factor_meets_an_enforcement_unless_keys_are_required() {
        let now = 100;
        let plain = requirement(true, None, false);
        assert!(plain.setup_due(NONE, now));
        for f in [TOTP, KEY, BOTH] {
            assert!(!plain.setup_due(f, now), "{f:?}");
            assert!(plain.accepts_code(f));
        }
        let keys = requirement(true, None, true);
        assert!(keys.setup_due(NONE, now));
        assert!(keys.setup_due(TOTP, now));
        assert!(!keys.setup_due(KEY, now));
        assert!(!keys.setup_due(BOTH, now));
        // The code is refused only to an admin who has the key it must be.
        assert!(keys.accepts_code(TOTP));
        assert!(!keys.accepts_code(BOTH));
        // Off: nothing is due, keys required or not.
        let off = requirement(false, None, true);
        assert!(!off.setup_due(NONE, now));
        assert!(off.accepts_code(BOTH));
        assert!(!off.wants_key());
        // In a grace period nothing is due yet.
        let graced = requirement(true, Some(now + 10), true);
        assert!(!graced.setup_due(TOTP, now));
        assert!(graced.setup_due(TOTP, now + 10));
    }

    #[test]
    fn remembered_browsers_skip_nothing_where_a_key_is_wanted() {
        assert!(requirement(false, None, false).allows_remembered_browsers());
        assert!(requirement(true, None, false).allows_remembered_browsers());
        // "Require security keys" without enforcement asks nothing of anyone.
        assert!(requirement(false, None, true).allows_remembered_browsers());
        assert!(!requirement(true, None, true).allows_remembered_browsers());
        // A grace period does not make a code sign-in remembered for later.
        assert!(!requirement(true, Some(1_000), true).allows_remembered_browsers());
    }

    #[test]
    fn removing_the_last_factor_an_enforcement_counts_on_is_refused() {
        let plain = requirement(true, None, false);
        assert!(plain.check_removal(KEY.without_a_key()).is_err());
        assert!(plain.check_removal(BOTH.without_a_key()).is_ok());
        assert!(plain.check_removal(BOTH.without_totp()).is_ok());
        assert!(plain.check_removal(TOTP.without_totp()).is_err());
        let keys = requirement(true, None, true);
        // The TOTP may go; the last key may not, even with TOTP left.
        assert!(keys.check_removal(BOTH.without_totp()).is_ok());
        let one_key_and_totp = Factors {
            totp: true,
            keys: 1,
        };
        let refused = keys
            .check_removal(one_key_and_totp.without_a_key())
            .unwrap_err();
        assert!(refused.contains("Require security keys"), "{refused}");
        // Grace period or not, an enforcement refuses the removal (as turning 2FA off).
        let graced = requirement(true, Some(1_000), false);
        assert!(graced.check_removal(NONE).is_err());
        let off = requirement(false, None, false);
        assert!(off.check_removal(NONE).is_ok());
        assert_eq!(KEY.without_a_key().without_a_key().keys, 0);
    }

    #[test]
    fn key_names_are_trimmed_and_bounded() {
        assert_eq!(key_name("  YubiKey 5C  ").unwrap(), "YubiKey 5C");
        assert!(key_name("   ").is_err());
        assert!(key_name(&"k".repeat(MAX_KEY_NAME_CHARS)).is_ok());
        assert!(key_name(&"k".repeat(MAX_KEY_NAME_CHARS + 1)).is_err());
        assert!(key_name("bad\u{7}name").is_err());
    }
}
