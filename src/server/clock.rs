//! The server's clock, read once per operation and carried by it.
//!
//! Production reads the system clock. Tests use an adjustable clock (the system time plus an
//! offset the test moves), so expiry and lock periods are proven over HTTP without sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// Seconds added to the system time; `None` for the production clock.
    offset: Option<Arc<AtomicI64>>,
}

fn system_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// A clock that starts at the system time and moves forward when told (tests).
    pub fn adjustable() -> Clock {
        Clock {
            offset: Some(Arc::new(AtomicI64::new(0))),
        }
    }

    /// Unix time in seconds.
    pub fn now(&self) -> i64 {
        system_now() + self.offset()
    }

    /// How far this clock is ahead of the system clock (0 in production).
    pub fn offset(&self) -> i64 {
        self.offset
            .as_ref()
            .map_or(0, |o| o.load(Ordering::Relaxed))
    }

    /// Moves an adjustable clock forward by `seconds`. The system clock cannot be moved.
    pub fn advance(&self, seconds: i64) {
        let offset = self
            .offset
            .as_ref()
            .expect("only an adjustable clock can be moved");
        offset.fetch_add(seconds, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_adjustable_clock_moves_and_the_system_clock_does_not_drift() {
        let clock = Clock::adjustable();
        let before = clock.now();
        clock.advance(301);
        assert!(clock.now() - before >= 301);
        assert_eq!(clock.offset(), 301);
        let copy = clock.clone();
        copy.advance(10);
        assert_eq!(clock.offset(), 311, "clones share the offset");
        assert_eq!(Clock::system().offset(), 0);
    }
}
