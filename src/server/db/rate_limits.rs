//! Rate-limit counters in the database: shared by every instance and kept across restarts.

use super::Db;
use crate::domain::rate_limit::Limit;
use sqlx::AnyConnection;
use sqlx::Row;

/// Counts a hit on `key`; `Err(seconds)` when the limit is exceeded in this window.
pub async fn hit(
    conn: &mut AnyConnection,
    key: &str,
    limit: Limit,
    now: i64,
) -> Result<Result<(), u32>, sqlx::Error> {
    let start = limit.window_start(now);
    let hits: i64 = sqlx::query(
        "INSERT INTO rate_limits (key, window_start, hits) VALUES ($1, $2, 1) \
         ON CONFLICT (key) DO UPDATE SET \
             hits = CASE WHEN rate_limits.window_start = excluded.window_start \
                         THEN rate_limits.hits + 1 ELSE 1 END, \
             window_start = excluded.window_start \
         RETURNING hits",
    )
    .bind(key)
    .bind(start)
    .fetch_one(&mut *conn)
    .await?
    .try_get("hits")?;
    Ok(limit.check(hits, start, now))
}

/// Forgets windows that ended more than `older_than` seconds ago.
pub async fn delete_stale(db: &Db, now: i64, older_than: i64) -> Result<u64, sqlx::Error> {
    db.sweep(
        "rate_limits",
        "key",
        "window_start < $1",
        &[now - older_than],
    )
    .await
}
