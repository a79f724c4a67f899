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
    /// The end of the grace period (unix seconds): until then an admin without 2FA is asked
    /// at each sign-in and may continue without it. `None`: required at once.
    pub deadline: Option<i64>,
}

/// An enforcement as it is stored: on or off, and the end of its grace period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Rule {
    pub on: bool,
    pub deadline: Option<i64>,
}

/// The longest grace period a super admin may give, in days.
pub const MAX_GRACE_DAYS: i64 = 90;
const DAY: i64 = 24 * 60 * 60;

/// The admin's own value wins when the super admin set one; otherwise the account setting applies.
/// `admin` is `None` when the super admin set nothing for this admin.
pub fn effective(account: Rule, admin: Option<Rule>) -> Enforcement {
    let (rule, source) = match admin {
        Some(rule) => (rule, EnforcementSource::Admin),
        None => (account, EnforcementSource::Account),
    };
    Enforcement {
        enforced: rule.on,
        source,
        deadline: rule.deadline.filter(|_| rule.on),
    }
}

/// Whole days left until `deadline`, counted up: 1 on the last day.
pub fn days_left(deadline: i64, now: i64) -> i64 {
    ((deadline - now).max(0) + DAY - 1) / DAY
}

/// The deadline an enforcement saved at `now` with `grace_days` gets. A form shows the days
/// left when it is opened and sends them back with every save (of the name, the role...):
/// when the days sent are the days it showed (`shown_days`), the running deadline `current` is
/// kept, however long the form stayed open, so a save never moves a deadline later by itself.
/// Other days start a new period from now. `None` for no grace period (0 days) or when off.
pub fn deadline_after_save(
    on: bool,
    grace_days: i64,
    shown_days: Option<i64>,
    current: Option<i64>,
    now: i64,
) -> Option<i64> {
    if !on || grace_days <= 0 {
        return None;
    }
    match current {
        Some(d) if d > now && shown_days == Some(grace_days) => Some(d),
        _ => Some(now + grace_days * DAY),
    }
}

/// The grace period asked for on a form: whole days from 0 to `MAX_GRACE_DAYS`; empty is 0.
pub fn parse_grace_days(value: &str) -> Result<i64, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(0);
    }
    match value.parse::<i64>() {
        Ok(days) if (0..=MAX_GRACE_DAYS).contains(&days) => Ok(days),
        _ => Err(format!(
            "Enter a grace period of 0 to {MAX_GRACE_DAYS} whole days (0: at the next sign-in)."
        )),
    }
}

impl Enforcement {
    /// 2FA must be set up before the admin can go on: enforced, and any grace period is over.
    pub fn required(&self, now: i64) -> bool {
        self.enforced && self.deadline.is_none_or(|d| now >= d)
    }

    /// The end of a grace period still running at `now`.
    pub fn grace_until(&self, now: i64) -> Option<i64> {
        self.deadline.filter(|&d| self.enforced && now < d)
    }

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
            let rule = |on| Rule { on, deadline: None };
            assert_eq!(
                effective(rule(account), admin.map(rule)),
                Enforcement {
                    enforced,
                    source,
                    deadline: None
                },
                "account={account} admin={admin:?}"
            );
        }
    }

    #[test]
    fn a_grace_period_lets_the_admin_go_on_until_its_deadline() {
        let now = 1_000_000;
        let graced = Rule {
            on: true,
            deadline: Some(now + 3 * DAY),
        };
        let e = effective(graced, None);
        assert!(e.enforced);
        assert!(!e.required(now));
        assert_eq!(e.grace_until(now), Some(now + 3 * DAY));
        assert!(!e.required(now + 3 * DAY - 1));
        assert!(e.required(now + 3 * DAY));
        assert_eq!(e.grace_until(now + 3 * DAY), None);
        // The admin's own rule wins, with its own deadline or none.
        let at_once = Rule {
            on: true,
            deadline: None,
        };
        assert!(effective(graced, Some(at_once)).required(now));
        assert!(!effective(at_once, Some(graced)).required(now));
        // A deadline of a rule that is off means nothing.
        let off = Rule {
            on: false,
            deadline: Some(now + DAY),
        };
        let e = effective(off, None);
        assert_eq!(
            (e.enforced, e.deadline, e.required(now)),
            (false, None, false)
        );
    }

    #[test]
    fn days_left_count_up_and_a_form_sent_back_unchanged_keeps_the_deadline() {
        let now = 1_000_000;
        assert_eq!(days_left(now + 7 * DAY, now), 7);
        assert_eq!(days_left(now + 6 * DAY + 1, now), 7);
        assert_eq!(days_left(now + 1, now), 1);
        assert_eq!(days_left(now - 5, now), 0);
        let deadline = Some(now + 6 * DAY + 100);
        assert_eq!(
            deadline_after_save(true, 7, Some(7), deadline, now),
            deadline
        );
        // A form shown days ago (7 left then, 2 now) sent back unchanged keeps the date.
        let soon = Some(now + 2 * DAY - 5);
        assert_eq!(deadline_after_save(true, 7, Some(7), soon, now), soon);
        // Days typed in start a new period.
        assert_eq!(
            deadline_after_save(true, 3, Some(7), deadline, now),
            Some(now + 3 * DAY)
        );
        assert_eq!(
            deadline_after_save(true, 7, None, deadline, now),
            Some(now + 7 * DAY)
        );
        assert_eq!(deadline_after_save(true, 0, Some(0), deadline, now), None);
        assert_eq!(deadline_after_save(false, 7, Some(7), deadline, now), None);
        // A deadline already passed is not kept: saving days again starts a new period.
        assert_eq!(
            deadline_after_save(true, 1, Some(1), Some(now - 1), now),
            Some(now + DAY)
        );
    }

    #[test]
    fn grace_days_are_whole_days_up_to_the_maximum() {
        assert_eq!(parse_grace_days(""), Ok(0));
        assert_eq!(parse_grace_days(" 14 "), Ok(14));
        assert_eq!(parse_grace_days("90"), Ok(90));
        for bad in ["-1", "91", "1.5", "seven", "99999999999999999999"] {
            assert!(parse_grace_days(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn disabling_is_refused_with_the_reason_while_enforced() {
        let rule = |on| Rule { on, deadline: None };
        assert!(check_can_disable(effective(rule(false), None)).is_ok());
        assert!(check_can_disable(effective(rule(true), Some(rule(false)))).is_ok());
        let by_account = check_can_disable(effective(rule(true), None)).unwrap_err();
        assert!(
            by_account
                .reason
                .contains("Force two-factor authentication")
        );
        let by_admin = check_can_disable(effective(rule(false), Some(rule(true)))).unwrap_err();
        assert!(by_admin.reason.contains("Enforce 2FA"));
    }
}
