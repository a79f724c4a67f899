//! Brute-force limits wherever a secret is checked: consecutive failures on one counter lock it
//! for a delay that doubles with each further failure. The counters live in the database
//! (shared by instances, kept across restarts).
//!
//! An attempt is counted before its secret is checked ([`Policy::admit`]), as a failure until it
//! succeeds: requests sent at once cannot all slip through before the first failure is written,
//! and the attempt that reaches the limit locks the counter at once (a success lifts it).

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

/// Failures older than this are forgotten at the next attempt.
pub const FORGET_AFTER_SECONDS: i64 = 3600;

/// What the database holds for one key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counter {
    pub failures: i64,
    pub locked_until: i64,
    pub last_failure_at: i64,
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

    /// Admits one more attempt at `now`: `Err(seconds to wait)` while locked, else the counter
    /// with this attempt counted as a failure (until it succeeds) and, when it is the attempt
    /// that reaches the limit, the lock it starts should it fail.
    pub fn admit(self, counter: Counter, now: i64) -> Result<Counter, u32> {
        self.check(counter, now)?;
        let earlier = if now - counter.last_failure_at >= FORGET_AFTER_SECONDS {
            0
        } else {
            counter.failures
        };
        let failures = earlier.saturating_add(1);
        Ok(Counter {
            failures,
            locked_until: self
                .lock_after(failures, now)
                .unwrap_or(counter.locked_until),
            last_failure_at: now,
        })
    }

    /// The counter after an admitted attempt succeeded on a counter that others share (a client
    /// address): the attempt no longer counts, and its lock goes when it was the one that set it.
    pub fn forgive(self, counter: Counter) -> Counter {
        let failures = (counter.failures - 1).max(0);
        Counter {
            failures,
            locked_until: if failures < self.max_failures {
                0
            } else {
                counter.locked_until
            },
            last_failure_at: counter.last_failure_at,
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
    fn the_fifth_attempt_locks_and_each_further_one_doubles_the_lock() {
        let mut counter = Counter::default();
        let now = 1_000;
        for n in 1..5 {
            counter = POLICY.admit(counter, now).unwrap();
            assert_eq!(POLICY.check(counter, now), Ok(()), "attempt {n}");
        }
        // The fifth is admitted, and locks should it fail...
        counter = POLICY.admit(counter, now).unwrap();
        assert_eq!(POLICY.check(counter, now), Err(60));
        // ...so a sixth sent at the same moment is refused unchecked.
        assert_eq!(POLICY.admit(counter, now), Err(60));
        assert_eq!(POLICY.check(counter, now + 59), Err(1));
        // After the lock, one attempt; failing, it locks for twice as long.
        counter = POLICY.admit(counter, now + 60).unwrap();
        assert_eq!(POLICY.check(counter, now + 60), Err(120));
        let mut c = counter;
        for _ in 0..30 {
            c.locked_until = 0;
            c = POLICY.admit(c, now + 61).unwrap();
        }
        assert_eq!(POLICY.check(c, now + 61), Err(3600));
    }

    #[test]
    fn old_failures_are_forgotten() {
        let mut counter = Counter::default();
        for _ in 0..4 {
            counter = POLICY.admit(counter, 1_000).unwrap();
        }
        let later = POLICY.admit(counter, 1_000 + FORGET_AFTER_SECONDS).unwrap();
        assert_eq!(later.failures, 1);
        assert_eq!(POLICY.check(later, 1_000 + FORGET_AFTER_SECONDS), Ok(()));
    }

    #[test]
    fn a_success_on_a_shared_counter_takes_back_its_attempt_and_its_lock() {
        let mut counter = Counter::default();
        for _ in 0..5 {
            counter = POLICY.admit(counter, 1_000).unwrap();
        }
        assert!(counter.locked_until > 1_000);
        let forgiven = POLICY.forgive(counter);
        assert_eq!(forgiven.failures, 4);
        assert_eq!(POLICY.check(forgiven, 1_000), Ok(()));
        // Others failed beyond the limit meanwhile: their lock stays.
        let mut crowded = counter;
        crowded.failures = 7;
        assert_eq!(POLICY.forgive(crowded).locked_until, counter.locked_until);
    }
}
