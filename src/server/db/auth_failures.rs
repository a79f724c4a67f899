//! Brute-force counters of the sign-in steps, in the database (shared, kept across restarts).

use super::Db;
use crate::domain::throttle::{Counter, Policy};
use sqlx::Row;

/// Failures older than this are forgotten at the next failure.
const FORGET_AFTER_SECONDS: i64 = 3600;

pub async fn get(db: &Db, key: &str) -> Result<Counter, sqlx::Error> {
    let row = sqlx::query("SELECT failures, locked_until FROM auth_failures WHERE key = $1")
        .bind(key)
        .fetch_optional(&db.pool)
        .await?;
    Ok(match row {
        Some(r) => Counter {
            failures: r.try_get("failures")?,
            locked_until: r.try_get("locked_until")?,
        },
        None => Counter::default(),
    })
}

/// Counts one failure; answers the lock it starts, if any. Atomic: concurrent failures each
/// count.
pub async fn record_failure(
    db: &Db,
    key: &str,
    policy: Policy,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let failures: i64 = sqlx::query(
        "INSERT INTO auth_failures (key, failures, last_failure_at, locked_until) VALUES ($1, 1, $2, 0) \
         ON CONFLICT (key) DO UPDATE SET \
             failures = CASE WHEN auth_failures.last_failure_at < $3 THEN 1 ELSE auth_failures.failures + 1 END, \
             last_failure_at = excluded.last_failure_at \
         RETURNING failures",
    )
    .bind(key)
    .bind(now)
    .bind(now - FORGET_AFTER_SECONDS)
    .fetch_one(&db.pool)
    .await?
    .try_get("failures")?;
    let lock = policy.lock_after(failures, now);
    if let Some(until) = lock {
        sqlx::query(
            "UPDATE auth_failures SET locked_until = $1 WHERE key = $2 AND locked_until < $1",
        )
        .bind(until)
        .bind(key)
        .execute(&db.pool)
        .await?;
    }
    Ok(lock)
}

/// A success ends the run of failures.
pub async fn clear(db: &Db, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM auth_failures WHERE key = $1")
        .bind(key)
        .execute(&db.pool)
        .await?;
    Ok(())
}
