//! 2FA reset requests: an admin who lost the authenticator asks; a super admin of the same
//! account approves or denies, once.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Pending,
    Approved,
    Denied,
    /// The admin signed in with a code after all: the request is moot.
    Withdrawn,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Pending => "pending",
            RequestStatus::Approved => "approved",
            RequestStatus::Denied => "denied",
            RequestStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(value: &str) -> Option<RequestStatus> {
        [
            RequestStatus::Pending,
            RequestStatus::Approved,
            RequestStatus::Denied,
            RequestStatus::Withdrawn,
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
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Deny,
}

impl Decision {
    pub fn status(self) -> RequestStatus {
        match self {
            Decision::Approve => RequestStatus::Approved,
            Decision::Deny => RequestStatus::Denied,
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

#[cfg(test)]
mod tests {
    use super::*;

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
        ] {
            assert_eq!(RequestStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(RequestStatus::parse("accepted"), None);
        assert_eq!(Decision::Approve.status(), RequestStatus::Approved);
        assert_eq!(Decision::Deny.status(), RequestStatus::Denied);
    }
}
