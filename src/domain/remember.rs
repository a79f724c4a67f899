//! "Don't ask for a code on this browser for N days": how long a remembered browser may skip
//! the code step. Lowering the account's setting (or turning it off) forgets every browser
//! remembered before (see `server::remembered`); the days are also applied as they are at each
//! sign-in.

/// The longest a super admin may allow, in days.
pub const MAX_DAYS: i64 = 30;
const DAY: i64 = 24 * 60 * 60;

/// The days asked for on the Settings form: whole days from 0 (off) to `MAX_DAYS`; empty is 0.
pub fn parse_days(value: &str) -> Result<i64, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(0);
    }
    match value.parse::<i64>() {
        Ok(days) if (0..=MAX_DAYS).contains(&days) => Ok(days),
        _ => Err(format!(
            "Enter 0 (off) to {MAX_DAYS} whole days for remembered browsers."
        )),
    }
}

/// When a browser remembered at `created_at` (until `expires_at`) stops skipping the code, under
/// the account's setting of `account_days` now.
pub fn valid_until(created_at: i64, expires_at: i64, account_days: i64) -> i64 {
    if account_days <= 0 {
        return i64::MIN;
    }
    expires_at.min(created_at.saturating_add(account_days.min(MAX_DAYS) * DAY))
}

/// The end of a browser remembered at `now` under `account_days`.
pub fn expires_at(now: i64, account_days: i64) -> i64 {
    now + account_days.clamp(0, MAX_DAYS) * DAY
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_whole_days_up_to_thirty() {
        assert_eq!(parse_days(""), Ok(0));
        assert_eq!(parse_days("0"), Ok(0));
        assert_eq!(parse_days(" 30 "), Ok(30));
        for bad in ["31", "-1", "x", "2.5", "99999999999999999999"] {
            assert!(parse_days(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_account_setting_now_can_only_shorten_what_was_promised() {
        let made = 1_000_000;
        let until = expires_at(made, 14);
        assert_eq!(until, made + 14 * DAY);
        assert_eq!(valid_until(made, until, 14), until);
        // Raised later: still the 14 days promised.
        assert_eq!(valid_until(made, until, 30), until);
        // Lowered: the shorter.
        assert_eq!(valid_until(made, until, 3), made + 3 * DAY);
        // Off: never.
        assert_eq!(valid_until(made, until, 0), i64::MIN);
    }
}
