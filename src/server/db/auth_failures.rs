//! Brute-force counters, in the database (shared by instances, kept across restarts).
//!
//! An attempt is admitted by a compare-and-swap on its counter: the new state comes from
//! [`Policy::admit`] and is written only if nobody changed the row meanwhile, else read again.
//! Requests sent at once are therefore counted one by one, before any secret is checked.

use super::Db;
use crate::domain::throttle::{Counter, Policy};
use sqlx::AnyConnection;
use sqlx::Row;

async fn get(conn: &mut AnyConnection, key: &str) -> Result<Option<Counter>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT failures, locked_until, last_failure_at FROM auth_failures WHERE key = $1",
    )
    .bind(key)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(Counter {
            failures: r.try_get("failures")?,
            locked_until: r.try_get("locked_until")?,
            last_failure_at: r.try_get("last_failure_at")?,
        })
    })
    .transpose()
}

/// Writes `next` over `current` if the row still holds `current` (or is still missing).
async fn swap(
    conn: &mut AnyConnection,
    key: &str,
    current: Option<Counter>,
    next: Counter,
) -> Result<bool, sqlx::Error> {
    let done =
        match current {
            None => {
                sqlx::query(
                    "INSERT INTO auth_failures (key, failures, last_failure_at, locked_until) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING",
                )
                .bind(key)
                .bind(next.failures)
                .bind(next.last_failure_at)
                .bind(next.locked_until)
                .execute(&mut *conn)
                .await?
            }
            Some(c) => sqlx::query(
                "UPDATE auth_failures SET failures = $2, last_failure_at = $3, locked_until = $4 \
                 WHERE key = $1 AND failures = $5 AND last_failure_at = $6 AND locked_until = $7",
            )
            .bind(key)
            .bind(next.failures)
            .bind(next.last_failure_at)
            .bind(next.locked_until)
            .bind(c.failures)
            .bind(c.last_failure_at)
            .bind(c.locked_until)
            .execute(&mut *conn)
            .await?,
        };
    Ok(done.rows_affected() == 1)
}

/// What a counter held when it was read: the first guess of a later compare-and-swap on it,
/// which saves reading it again (a wrong guess only costs the read it would have cost anyway).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen(Option<Counter>);

/// Whether each of `counters` (a key and its policy) would admit an attempt now, read in one
/// statement: what each holds, in the same order, or `Ok(Err(seconds))` for the first that is
/// locked. Counts nothing.
pub async fn check_all(
    conn: &mut AnyConnection,
    counters: &[(&str, Policy)],
    now: i64,
) -> Result<Result<Vec<Seen>, u32>, sqlx::Error> {
    if counters.is_empty() {
        return Ok(Ok(Vec::new()));
    }
    let placeholders = (1..=counters.len())
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT key, failures, locked_until, last_failure_at FROM auth_failures \
         WHERE key IN ({placeholders})"
    );
    // Only numbered placeholders are formatted in; the keys are bound.
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (key, _) in counters {
        query = query.bind(*key);
    }
    let mut stored = std::collections::HashMap::new();
    for row in query.fetch_all(&mut *conn).await? {
        let key: String = row.try_get("key")?;
        stored.insert(
            key,
            Counter {
                failures: row.try_get("failures")?,
                locked_until: row.try_get("locked_until")?,
                last_failure_at: row.try_get("last_failure_at")?,
            },
        );
    }
    let mut seen = Vec::with_capacity(counters.len());
    for (key, policy) in counters {
        let current = stored.get(*key).copied();
        if let Err(wait) = policy.check(current.unwrap_or_default(), now) {
            return Ok(Err(wait));
        }
        seen.push(Seen(current));
    }
    Ok(Ok(seen))
}

/// Forgets counters nobody failed on for `older_than` seconds and that are not locked (a
/// sweep: [`Db::sweep`]).
pub async fn delete_stale(db: &Db, now: i64, older_than: i64) -> Result<u64, sqlx::Error> {
    db.sweep(
        "auth_failures",
        "key",
        "last_failure_at < $1 AND locked_until < $2",
        &[now - older_than, now],
    )
    .await
}

/// An admitted attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Admitted {
    /// Should this attempt fail, its counter is locked (it is the one that reached the limit).
    pub locks: bool,
    /// What the counter holds after this attempt (unless someone counted since).
    pub written: Seen,
}

/// Counts an attempt on `key` before its secret is checked, starting from what `seen` read.
/// `Ok(Err(seconds))` while locked (the attempt is not counted).
pub async fn admit(
    conn: &mut AnyConnection,
    key: &str,
    policy: Policy,
    now: i64,
    seen: Seen,
) -> Result<Result<Admitted, u32>, sqlx::Error> {
    let mut current = seen.0;
    loop {
        let next = match policy.admit(current.unwrap_or_default(), now) {
            Ok(next) => next,
            Err(wait) => return Ok(Err(wait)),
        };
        if swap(&mut *conn, key, current, next).await? {
            return Ok(Ok(Admitted {
                locks: next.locked_until > now,
                written: Seen(Some(next)),
            }));
        }
        current = get(&mut *conn, key).await?;
    }
}

/// A success ends the run of failures on a counter of one subject (an admin, a device).
pub async fn clear(conn: &mut AnyConnection, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM auth_failures WHERE key = $1")
        .bind(key)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Takes one attempt back (starting from what `seen` read): a success on a counter that
/// others share (a client address), or an attempt whose secret was never checked.
pub async fn forgive(
    conn: &mut AnyConnection,
    key: &str,
    policy: Policy,
    seen: Seen,
) -> Result<(), sqlx::Error> {
    let mut current = seen.0;
    loop {
        let Some(counter) = current else {
            return Ok(());
        };
        if swap(&mut *conn, key, Some(counter), policy.forgive(counter)).await? {
            return Ok(());
        }
        current = get(&mut *conn, key).await?;
    }
}
