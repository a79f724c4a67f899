//! 2FA reset requests: an admin who lost the authenticator asks; a super admin of the same
//! account approves or denies, once.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Pending,
    Approved,
    Denied,
    /// The admin signed in with a code after all, or took the request back.
    Withdrawn,
    /// Nobody decided within the configured time.
    Expired,
}

/// Whether a request made at `requested_at` has run out at `now`, after `ttl_days`.
pub fn expired(requested_at: i64, now: i64, ttl_days: u32) -> bool {
    now - requested_at >= i64::from(ttl_days) * 86_400
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Pending => "pending",
            RequestStatus::Approved => "approved",
            RequestStatus::Denied => "denied",
            RequestStatus::Withdrawn => "withdrawn",
            RequestStatus::Expired => "expired",
        }
    }

    pub fn parse(value: &str) -> Option<RequestStatus> {
        [
            RequestStatus::Pending,
            RequestStatus::Approved,
            RequestStatus::Denied,
            RequestStatus::Withdrawn,
            RequestStatus::Expired,
        ]
        .into_iter()
        .find(|s| s.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            RequestStatus::Pending => "Pending",
            RequestStatus::Approved => "Reset",
            RequestStatus::Denied => "Denied",
            RequestStatus::Withdrawn => "Withdrawn",
            RequestStatus::Expired => "Expired",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecisionRefused {
    #[error(
        "You cannot decide a reset request about yourself. Another super admin can, or the \
         operator with `mssp-dashboard reset-2fa`."
    )]
    OwnRequest,
    #[error("This request was already {}.", .0.as_str())]
    AlreadyDecided(RequestStatus),
}

/// May `decider` decide a request of `requester` in state `status`?
pub fn check_decision(
    decider: i64,
    requester: i64,
    status: RequestStatus,
) -> Result<(), DecisionRefused> {
    if decider == requester {
        return Err(DecisionRefused::OwnRequest);
    }
    match status {
        RequestStatus::Pending => Ok(()),
        other => Err(DecisionRefused::AlreadyDecided(other)),
    }
}

/// Text a person typed for another person to read: letters, punctuation, tabs and line breaks, but
/// no control characters (which hide text in logs and e-mail) and no bidirectional overrides or
/// isolates (which make a message read differently from what it says).
pub fn is_plain_text(text: &str) -> bool {
    text.chars().all(|c| {
        let control = c.is_control() && c != '\n' && c != '\t';
        let bidi = matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}');
        !(control || bidi)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_keeps_words_and_lines_but_not_hidden_characters() {
        assert!(is_plain_text(
            "Call me first.\n\tI'm at the SOC — ünïcode is fine, 日本語 too."
        ));
        for hidden in [
            "a\0b",
            "a\rb",
            "a\u{1b}[31mb",
            "a\u{202E}gpj.exe",
            "a\u{2066}b",
        ] {
            assert!(!is_plain_text(hidden), "{hidden:?}");
        }
    }

    #[test]
    fn only_pending_requests_of_others_are_decided() {
        assert_eq!(check_decision(1, 2, RequestStatus::Pending), Ok(()));
        assert_eq!(
            check_decision(2, 2, RequestStatus::Pending),
            Err(DecisionRefused::OwnRequest)
        );
        for done in [
            RequestStatus::Approved,
            RequestStatus::Denied,
            RequestStatus::Withdrawn,
            RequestStatus::Expired,
        ] {
            assert_eq!(
                check_decision(1, 2, done),
                Err(DecisionRefused::AlreadyDecided(done))
            );
        }
        assert!(
            DecisionRefused::AlreadyDecided(RequestStatus::Denied)
                .to_string()
                .contains("already denied")
        );
    }

    #[test]
    fn statuses_round_trip() {
        for s in [
            RequestStatus::Pending,
            RequestStatus::Approved,
            RequestStatus::Denied,
            RequestStatus::Withdrawn,
            RequestStatus::Expired,
        ] {
            assert_eq!(RequestStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(RequestStatus::parse("accepted"), None);
    }

    #[test]
    fn requests_expire_after_their_days() {
        let day = 86_400;
        assert!(!expired(1_000, 1_000 + 7 * day - 1, 7));
        assert!(expired(1_000, 1_000 + 7 * day, 7));
    }
}
