//! Fixed-window rate limits: at most `max` hits per key in each window of `window_seconds`.
//! The counter itself lives in the database (shared by instances, kept across restarts).

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub max: i64,
    pub window_seconds: i64,
}

impl Limit {
    /// Start of the window that contains `now`.
    pub fn window_start(self, now: i64) -> i64 {
        now - now.rem_euclid(self.window_seconds.max(1))
    }

    /// `Ok` when the `hits`-th hit of the window starting at `window_start` is allowed,
    /// else the seconds until the next window.
    pub fn check(self, hits: i64, window_start: i64, now: i64) -> Result<(), u32> {
        if hits <= self.max {
            Ok(())
        } else {
            let wait = (window_start + self.window_seconds - now).max(1);
            Err(u32::try_from(wait).unwrap_or(u32::MAX))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_max_hits_per_window_then_says_how_long_to_wait() {
        let limit = Limit {
            max: 3,
            window_seconds: 600,
        };
        let now = 1_000_250;
        let start = limit.window_start(now);
        assert_eq!(start, 1_000_200);
        for hit in 1..=3 {
            assert_eq!(limit.check(hit, start, now), Ok(()));
        }
        assert_eq!(limit.check(4, start, now), Err(550));
        assert_eq!(limit.window_start(start + 600), start + 600);
    }
}
