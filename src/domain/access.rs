//! Sign-in stages and which pages each stage may open.
//!
//! A session moves Password → (code) → Complete. Until it is Complete it grants nothing but the
//! next step of sign-in; the server checks this on every page and server function.

use serde::{Deserialize, Serialize};

/// A password-only session (code step not yet passed) expires after this many seconds.
pub const PENDING_SECOND_FACTOR_TTL_SECONDS: i64 = 5 * 60;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stage {
    /// Password correct; the 2FA security code is still due. `since` is the unix time of the
    /// password step.
    AwaitingCode { since: i64 },
    /// Fully signed in.
    Complete,
}

impl Stage {
    /// A stage that has run out becomes no session at all.
    pub fn is_expired(self, now: i64) -> bool {
        match self {
            Stage::AwaitingCode { since } => now - since >= PENDING_SECOND_FACTOR_TTL_SECONDS,
            Stage::Complete => false,
        }
    }
}

pub const LOGIN_PATH: &str = "/login";
pub const CODE_PATH: &str = "/login/code";
pub const HOME_PATH: &str = "/";

/// Paths served to everyone: the sign-in page and the site's static files. Server functions
/// (`/api/`) check the session themselves.
fn is_public(path: &str) -> bool {
    path == LOGIN_PATH
        || path.starts_with("/pkg/")
        || path.starts_with("/api/")
        || path == "/favicon.svg"
        || path == "/robots.txt"
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageAccess {
    Allow,
    Redirect(&'static str),
}

/// Where a request for `path` may go with a session at `stage` (`None`: not signed in).
pub fn page_access(stage: Option<Stage>, path: &str) -> PageAccess {
    if path == CODE_PATH {
        return match stage {
            Some(Stage::AwaitingCode { .. }) => PageAccess::Allow,
            Some(Stage::Complete) => PageAccess::Redirect(HOME_PATH),
            None => PageAccess::Redirect(LOGIN_PATH),
        };
    }
    if path == LOGIN_PATH {
        // Someone signed in has nothing to do on the sign-in page.
        return match stage {
            Some(Stage::Complete) => PageAccess::Redirect(HOME_PATH),
            _ => PageAccess::Allow,
        };
    }
    if is_public(path) {
        return PageAccess::Allow;
    }
    match stage {
        Some(Stage::Complete) => PageAccess::Allow,
        Some(Stage::AwaitingCode { .. }) => PageAccess::Redirect(CODE_PATH),
        None => PageAccess::Redirect(LOGIN_PATH),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AWAITING: Stage = Stage::AwaitingCode { since: 1_000 };

    #[test]
    fn protected_pages_need_a_complete_session() {
        for path in ["/", "/profile", "/admin", "/admin/settings", "/anything"] {
            assert_eq!(
                page_access(None, path),
                PageAccess::Redirect(LOGIN_PATH),
                "{path}"
            );
            assert_eq!(
                page_access(Some(AWAITING), path),
                PageAccess::Redirect(CODE_PATH),
                "{path}"
            );
            assert_eq!(
                page_access(Some(Stage::Complete), path),
                PageAccess::Allow,
                "{path}"
            );
        }
    }

    #[test]
    fn the_code_step_is_only_for_a_pending_session() {
        assert_eq!(
            page_access(None, CODE_PATH),
            PageAccess::Redirect(LOGIN_PATH)
        );
        assert_eq!(page_access(Some(AWAITING), CODE_PATH), PageAccess::Allow);
        assert_eq!(
            page_access(Some(Stage::Complete), CODE_PATH),
            PageAccess::Redirect(HOME_PATH)
        );
    }

    #[test]
    fn sign_in_page_and_assets_are_public() {
        for path in [
            LOGIN_PATH,
            "/pkg/mssp-dashboard.wasm",
            "/api/sign_in",
            "/favicon.svg",
        ] {
            assert_eq!(page_access(None, path), PageAccess::Allow, "{path}");
        }
        assert_eq!(
            page_access(Some(Stage::Complete), LOGIN_PATH),
            PageAccess::Redirect(HOME_PATH)
        );
        // Look-alike paths are not public.
        assert_eq!(
            page_access(None, "/login/other"),
            PageAccess::Redirect(LOGIN_PATH)
        );
        assert_eq!(page_access(None, "/pkgx"), PageAccess::Redirect(LOGIN_PATH));
    }

    #[test]
    fn a_pending_second_factor_expires_after_five_minutes() {
        assert!(!AWAITING.is_expired(1_000 + PENDING_SECOND_FACTOR_TTL_SECONDS - 1));
        assert!(AWAITING.is_expired(1_000 + PENDING_SECOND_FACTOR_TTL_SECONDS));
        assert!(!Stage::Complete.is_expired(i64::MAX));
    }
}
