//! Sign-in stages and which pages each stage may open.
//!
//! A session moves: password → code (when 2FA is on; the setup code when 2FA was reset and a
//! setup code is due) → new password (when the password was
//! set by a super admin) → 2FA setup (when enforced and not set up) → complete. Until it is
//! complete it grants nothing but its next step; the server checks this on every page and
//! server function.

use super::enforcement::Enforcement;
use super::factors::{Factors, Requirement};
use serde::{Deserialize, Serialize};

/// A password-only session waiting for the code expires after this many seconds.
pub const PENDING_SECOND_FACTOR_TTL_SECONDS: i64 = 5 * 60;
/// A session in a required step (new password, 2FA setup) expires after this many seconds.
pub const REQUIRED_STEP_TTL_SECONDS: i64 = 15 * 60;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stage {
    /// Password correct; the 2FA security code is still due. `since`: unix time of the password.
    AwaitingCode { since: i64 },
    /// Password correct, 2FA was reset: the setup code the super admin handed over is due.
    AwaitingSetupCode { since: i64 },
    /// Signed in with a password a super admin chose: a new one is due first.
    ChangingPassword { since: i64 },
    /// 2FA is not set up and either enforced, or reset since the last sign-in (then
    /// `optional`: the admin may skip it, as in an enforcement's grace period).
    SettingUpTwoFactor {
        since: i64,
        #[serde(default)]
        optional: bool,
    },
    /// Fully signed in.
    Complete,
}

impl Stage {
    /// A stage that has run out becomes no session at all.
    pub fn is_expired(self, now: i64) -> bool {
        match self {
            Stage::AwaitingCode { since } | Stage::AwaitingSetupCode { since } => {
                now - since >= PENDING_SECOND_FACTOR_TTL_SECONDS
            }
            Stage::ChangingPassword { since } | Stage::SettingUpTwoFactor { since, .. } => {
                now - since >= REQUIRED_STEP_TTL_SECONDS
            }
            Stage::Complete => false,
        }
    }

    /// The page where this stage continues.
    pub fn page(self) -> &'static str {
        match self {
            Stage::AwaitingCode { .. } => CODE_PATH,
            Stage::AwaitingSetupCode { .. } => SETUP_CODE_PATH,
            Stage::ChangingPassword { .. } => CHANGE_PASSWORD_PATH,
            Stage::SettingUpTwoFactor { .. } => SETUP_PATH,
            Stage::Complete => HOME_PATH,
        }
    }
}

/// What decides the stages after a correct password.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignInFacts {
    /// The second factors set up (TOTP, security keys).
    pub factors: Factors,
    /// The account's "Require security keys": where 2FA is enforced only a key satisfies it.
    pub keys_required: bool,
    pub must_change_password: bool,
    pub enforcement: Enforcement,
    /// 2FA was reset since the last sign-in: offer the setup even when not enforced...
    pub prompt_setup: bool,
    /// ...or require it (the super admin's choice when approving the reset).
    pub setup_required: bool,
    /// A setup code was issued with the reset and not used up yet: it comes after the password.
    pub setup_code_due: bool,
}

impl SignInFacts {
    pub fn requirement(&self) -> Requirement {
        Requirement {
            enforcement: self.enforcement,
            keys_required: self.keys_required,
        }
    }
}

/// The stage right after a correct password.
pub fn stage_after_password(facts: SignInFacts, now: i64) -> Stage {
    if facts.factors.any() {
        Stage::AwaitingCode { since: now }
    } else if facts.setup_code_due {
        Stage::AwaitingSetupCode { since: now }
    } else {
        stage_after_second_factor(facts, now)
    }
}

/// The stage after the code step (or directly after the password when there is no 2FA), and
/// after each required step once it is done (with `facts` updated).
pub fn stage_after_second_factor(facts: SignInFacts, now: i64) -> Stage {
    if facts.must_change_password {
        Stage::ChangingPassword { since: now }
    } else if !facts.requirement().met_by(facts.factors)
        || (facts.prompt_setup && !facts.factors.any())
    {
        Stage::SettingUpTwoFactor {
            since: now,
            // In a grace period the setup is asked for and may wait ("Remind me next time").
            optional: !facts.enforcement.required(now) && !facts.setup_required,
        }
    } else {
        Stage::Complete
    }
}

pub const LOGIN_PATH: &str = "/login";
pub const CODE_PATH: &str = "/login/code";
pub const SETUP_CODE_PATH: &str = "/login/setup-code";
pub const CHANGE_PASSWORD_PATH: &str = "/login/new-password";
pub const SETUP_PATH: &str = "/login/setup-2fa";
pub const HOME_PATH: &str = "/";

/// Static files and server functions: server functions check the session themselves.
fn is_public(path: &str) -> bool {
    path.starts_with("/pkg/")
        || path.starts_with("/api/")
        || path == "/favicon.svg"
        || path == "/robots.txt"
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageAccess {
    Allow,
    Redirect(&'static str),
    /// Signed in, but this page is for the account's super admin (HTTP 403).
    Forbidden,
}

/// Administration is for super admins only.
pub fn needs_super_admin(path: &str) -> bool {
    path == "/admin" || path.starts_with("/admin/")
}

/// Where a request for `path` may go with a session at `stage` (`None`: not signed in) of an
/// admin whose role is `is_super_admin` (only asked for Administration pages).
pub fn page_access(
    stage: Option<Stage>,
    path: &str,
    is_super_admin: impl FnOnce() -> bool,
) -> PageAccess {
    if is_public(path) {
        return PageAccess::Allow;
    }
    if path == LOGIN_PATH {
        // Someone signed in has nothing to do on the sign-in page; a pending sign-in may start
        // over.
        return match stage {
            Some(Stage::Complete) => PageAccess::Redirect(HOME_PATH),
            _ => PageAccess::Allow,
        };
    }
    match stage {
        None => PageAccess::Redirect(LOGIN_PATH),
        Some(stage) if stage.page() == path => PageAccess::Allow,
        Some(Stage::Complete)
            if [CODE_PATH, SETUP_CODE_PATH, CHANGE_PASSWORD_PATH, SETUP_PATH].contains(&path) =>
        {
            PageAccess::Redirect(HOME_PATH)
        }
        Some(Stage::Complete) if needs_super_admin(path) && !is_super_admin() => {
            PageAccess::Forbidden
        }
        Some(Stage::Complete) => PageAccess::Allow,
        Some(stage) => PageAccess::Redirect(stage.page()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::enforcement::{Rule, effective};

    const AWAITING: Stage = Stage::AwaitingCode { since: 1_000 };
    const SETUP_CODE: Stage = Stage::AwaitingSetupCode { since: 1_000 };
    const CHANGING: Stage = Stage::ChangingPassword { since: 1_000 };
    const SETTING_UP: Stage = Stage::SettingUpTwoFactor {
        since: 1_000,
        optional: false,
    };

    fn yes() -> bool {
        true
    }

    #[test]
    fn administration_is_for_super_admins() {
        for path in [
            "/admin",
            "/admin/admins",
            "/admin/admins/7",
            "/admin/settings",
        ] {
            assert_eq!(
                page_access(Some(Stage::Complete), path, || false),
                PageAccess::Forbidden,
                "{path}"
            );
            assert_eq!(
                page_access(Some(Stage::Complete), path, yes),
                PageAccess::Allow,
                "{path}"
            );
            // Not signed in: to the sign-in page, without saying the page exists.
            assert_eq!(
                page_access(None, path, || false),
                PageAccess::Redirect(LOGIN_PATH),
                "{path}"
            );
        }
        assert_eq!(
            page_access(Some(Stage::Complete), "/administrator", || false),
            PageAccess::Allow
        );
        assert_eq!(
            page_access(Some(Stage::Complete), "/profile", || panic!(
                "role not needed"
            )),
            PageAccess::Allow
        );
    }

    #[test]
    fn protected_pages_need_a_complete_session() {
        for path in ["/", "/profile", "/admin", "/admin/settings", "/anything"] {
            assert_eq!(
                page_access(None, path, yes),
                PageAccess::Redirect(LOGIN_PATH),
                "{path}"
            );
            assert_eq!(
                page_access(Some(AWAITING), path, yes),
                PageAccess::Redirect(CODE_PATH),
                "{path}"
            );
            assert_eq!(
                page_access(Some(SETUP_CODE), path, yes),
                PageAccess::Redirect(SETUP_CODE_PATH),
                "{path}"
            );
            assert_eq!(
                page_access(Some(CHANGING), path, yes),
                PageAccess::Redirect(CHANGE_PASSWORD_PATH),
                "{path}"
            );
            assert_eq!(
                page_access(Some(SETTING_UP), path, yes),
                PageAccess::Redirect(SETUP_PATH),
                "{path}"
            );
            assert_eq!(
                page_access(Some(Stage::Complete), path, yes),
                PageAccess::Allow,
                "{path}"
            );
        }
    }

    #[test]
    fn each_step_page_is_only_for_its_stage() {
        for (stage, page) in [
            (AWAITING, CODE_PATH),
            (SETUP_CODE, SETUP_CODE_PATH),
            (CHANGING, CHANGE_PASSWORD_PATH),
            (SETTING_UP, SETUP_PATH),
        ] {
            assert_eq!(page_access(Some(stage), page, yes), PageAccess::Allow);
            assert_eq!(
                page_access(None, page, yes),
                PageAccess::Redirect(LOGIN_PATH)
            );
            assert_eq!(
                page_access(Some(Stage::Complete), page, yes),
                PageAccess::Redirect(HOME_PATH)
            );
            for other in [AWAITING, SETUP_CODE, CHANGING, SETTING_UP]
                .into_iter()
                .filter(|s| *s != stage)
            {
                assert_eq!(
                    page_access(Some(other), page, yes),
                    PageAccess::Redirect(other.page())
                );
            }
        }
    }

    #[test]
    fn sign_in_page_and_assets_are_public() {
        for path in [
            LOGIN_PATH,
            "/pkg/mssp-dashboard.wasm",
            "/api/sign_in",
            "/favicon.svg",
        ] {
            assert_eq!(page_access(None, path, yes), PageAccess::Allow, "{path}");
        }
        assert_eq!(
            page_access(Some(AWAITING), LOGIN_PATH, yes),
            PageAccess::Allow
        );
        assert_eq!(
            page_access(Some(Stage::Complete), LOGIN_PATH, yes),
            PageAccess::Redirect(HOME_PATH)
        );
        // Look-alike paths are not public.
        assert_eq!(
            page_access(None, "/login/other", yes),
            PageAccess::Redirect(LOGIN_PATH)
        );
        assert_eq!(
            page_access(None, "/pkgx", yes),
            PageAccess::Redirect(LOGIN_PATH)
        );
    }

    #[test]
    fn pending_stages_expire() {
        assert!(!AWAITING.is_expired(1_000 + PENDING_SECOND_FACTOR_TTL_SECONDS - 1));
        assert!(AWAITING.is_expired(1_000 + PENDING_SECOND_FACTOR_TTL_SECONDS));
        assert!(!SETUP_CODE.is_expired(1_000 + PENDING_SECOND_FACTOR_TTL_SECONDS - 1));
        assert!(SETUP_CODE.is_expired(1_000 + PENDING_SECOND_FACTOR_TTL_SECONDS));
        assert!(!SETTING_UP.is_expired(1_000 + REQUIRED_STEP_TTL_SECONDS - 1));
        assert!(SETTING_UP.is_expired(1_000 + REQUIRED_STEP_TTL_SECONDS));
        assert!(CHANGING.is_expired(1_000 + REQUIRED_STEP_TTL_SECONDS));
        assert!(!Stage::Complete.is_expired(i64::MAX));
    }

    #[test]
    fn stages_after_the_password() {
        let facts = |has_totp, must_change_password, enforced| SignInFacts {
            factors: Factors {
                totp: has_totp,
                keys: 0,
            },
            keys_required: false,
            must_change_password,
            enforcement: effective(
                Rule {
                    on: enforced,
                    deadline: None,
                },
                None,
            ),
            prompt_setup: false,
            setup_required: false,
            setup_code_due: false,
        };
        let now = 7;
        // 2FA on: the code comes first, whatever else is due.
        for (change, enforced) in [(false, false), (true, false), (false, true), (true, true)] {
            assert_eq!(
                stage_after_password(facts(true, change, enforced), now),
                Stage::AwaitingCode { since: now }
            );
        }
        assert_eq!(
            stage_after_password(facts(false, false, false), now),
            Stage::Complete
        );
        assert_eq!(
            stage_after_password(facts(false, false, true), now),
            Stage::SettingUpTwoFactor {
                since: now,
                optional: false
            }
        );
        assert_eq!(
            stage_after_password(facts(false, true, true), now),
            Stage::ChangingPassword { since: now }
        );
        // In a grace period the setup is asked for and may wait; at its end it is required.
        let graced = SignInFacts {
            enforcement: effective(
                Rule {
                    on: true,
                    deadline: Some(100),
                },
                None,
            ),
            ..facts(false, false, true)
        };
        assert_eq!(
            stage_after_password(graced, 99),
            Stage::SettingUpTwoFactor {
                since: 99,
                optional: true
            }
        );
        assert_eq!(
            stage_after_password(graced, 100),
            Stage::SettingUpTwoFactor {
                since: 100,
                optional: false
            }
        );
        // After the code.
        assert_eq!(
            stage_after_second_factor(facts(true, false, true), now),
            Stage::Complete
        );
        assert_eq!(
            stage_after_second_factor(facts(true, true, true), now),
            Stage::ChangingPassword { since: now }
        );
        // After a reset, the setup is offered; it may be skipped unless enforced.
        let reset = |enforced| SignInFacts {
            prompt_setup: true,
            ..facts(false, false, enforced)
        };
        assert_eq!(
            stage_after_password(reset(false), now),
            Stage::SettingUpTwoFactor {
                since: now,
                optional: true
            }
        );
        assert_eq!(
            stage_after_password(reset(true), now),
            Stage::SettingUpTwoFactor {
                since: now,
                optional: false
            }
        );
        assert_eq!(
            stage_after_password(
                SignInFacts {
                    factors: Factors {
                        totp: true,
                        keys: 0
                    },
                    ..reset(false)
                },
                now
            ),
            Stage::AwaitingCode { since: now }
        );
        // A reset approved with the setup required: no skipping, enforced or not.
        assert_eq!(
            stage_after_password(
                SignInFacts {
                    setup_required: true,
                    ..reset(false)
                },
                now
            ),
            Stage::SettingUpTwoFactor {
                since: now,
                optional: false
            }
        );
        // A reset with a setup code: the code comes after the password, before anything else;
        // after it, the setup (and a new password first, when one is due).
        let with_code = SignInFacts {
            setup_code_due: true,
            ..reset(false)
        };
        assert_eq!(
            stage_after_password(with_code, now),
            Stage::AwaitingSetupCode { since: now }
        );
        assert_eq!(
            stage_after_password(
                SignInFacts {
                    must_change_password: true,
                    ..with_code
                },
                now
            ),
            Stage::AwaitingSetupCode { since: now }
        );
        assert_eq!(
            stage_after_second_factor(with_code, now),
            Stage::SettingUpTwoFactor {
                since: now,
                optional: true
            }
        );
        // After the new password, an enforced setup is still due.
        assert_eq!(
            stage_after_second_factor(facts(false, false, true), now),
            Stage::SettingUpTwoFactor {
                since: now,
                optional: false
            }
        );
    }

    #[test]
    fn a_security_key_is_a_second_factor_and_may_be_the_one_required() {
        let now = 7;
        let key_only = SignInFacts {
            factors: Factors {
                totp: false,
                keys: 1,
            },
            keys_required: false,
            must_change_password: false,
            enforcement: effective(
                Rule {
                    on: true,
                    deadline: None,
                },
                None,
            ),
            prompt_setup: false,
            setup_required: false,
            setup_code_due: false,
        };
        // A key alone asks for the second factor, and meets the enforcement after it.
        assert_eq!(
            stage_after_password(key_only, now),
            Stage::AwaitingCode { since: now }
        );
        assert_eq!(stage_after_second_factor(key_only, now), Stage::Complete);
        // Keys required: TOTP alone signs in, then a key must be added.
        let totp_only = SignInFacts {
            factors: Factors {
                totp: true,
                keys: 0,
            },
            keys_required: true,
            ..key_only
        };
        assert_eq!(
            stage_after_second_factor(totp_only, now),
            Stage::SettingUpTwoFactor {
                since: now,
                optional: false
            }
        );
        // Not enforced for this admin: keys required or not, TOTP will do.
        let not_enforced = SignInFacts {
            enforcement: effective(Rule::default(), None),
            ..totp_only
        };
        assert_eq!(
            stage_after_second_factor(not_enforced, now),
            Stage::Complete
        );
    }
}
