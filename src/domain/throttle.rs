//! Brute-force limits on the sign-in steps: consecutive failures per admin lock the step for a
//! delay that doubles with each further failure; failures per client address are counted in a
//! window. The counters live in the database (shared by instances, kept across restarts).

/// Limits of one step (password or code), from configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Consecutive failures for one admin before the step locks.
    pub max_failures: i64,
    /// The first lock; each further failure doubles it.
    pub base_lock_seconds: i64,
    /// The longest lock.
    pub max_lock_seconds: i64,
}

/// What the database holds for one key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counter {
    pub failures: i64,
    pub locked_until: i64,
}

impl Policy {
    /// `Err(seconds to wait)` while locked.
    pub fn check(self, counter: Counter, now: i64) -> Result<(), u32> {
        if counter.locked_until > now {
            Err(u32::try_from(counter.locked_until - now).unwrap_or(u32::MAX))
        } else {
            Ok(())
        }
    }

    /// The lock (until when) that the `failures`-th failure in a row starts, if any.
    pub fn lock_after(self, failures: i64, now: i64) -> Option<i64> {
        if failures < self.max_failures {
            return None;
        }
        let extra = u32::try_from(failures - self.max_failures)
            .unwrap_or(u32::MAX)
            .min(20);
        let lock = self
            .base_lock_seconds
            .saturating_mul(1_i64 << extra)
            .min(self.max_lock_seconds);
        Some(now + lock)
    }

    /// The counter after one more failure at `now`, and whether this failure started a lock.
    pub fn after_failure(self, counter: Counter, now: i64) -> (Counter, bool) {
        let failures = counter.failures.saturating_add(1);
        match self.lock_after(failures, now) {
            Some(until) => (
                Counter {
                    failures,
                    locked_until: until,
                },
                true,
            ),
            None => (
                Counter {
                    failures,
                    locked_until: counter.locked_until,
                },
                false,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: Policy = Policy {
        max_failures: 5,
        base_lock_seconds: 60,
        max_lock_seconds: 3600,
    };

    #[test]
    fn the_fifth_failure_locks_and_each_further_one_doubles_the_lock() {
        let mut counter = Counter::default();
        let now = 1_000;
        for n in 1..5 {
            let (next, locked) = POLICY.after_failure(counter, now);
            assert!(!locked, "failure {n}");
            assert_eq!(POLICY.check(next, now), Ok(()));
            counter = next;
        }
        let (counter, locked) = POLICY.after_failure(counter, now);
        assert!(locked);
        assert_eq!(POLICY.check(counter, now), Err(60));
        assert_eq!(POLICY.check(counter, now + 59), Err(1));
        assert_eq!(POLICY.check(counter, now + 60), Ok(()));
        let (counter, _) = POLICY.after_failure(counter, now + 60);
        assert_eq!(POLICY.check(counter, now + 60), Err(120));
        let mut c = counter;
        for _ in 0..30 {
            c = POLICY.after_failure(c, now).0;
        }
        assert_eq!(POLICY.check(c, now), Err(3600));
    }
}
