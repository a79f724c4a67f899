//! Remembered browsers ("Don't ask for a code on this browser for N days"), by the SHA-256 of
//! their token. See `server::remembered`.

use super::Db;
use sqlx::Row;

/// One remembered browser, as the profile lists it.
#[derive(Clone, Debug)]
pub struct Remembered {
    pub token_hash: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_used_at: Option<i64>,
    pub user_agent: Option<String>,
    pub client_ip: Option<String>,
}

pub struct NewRemembered<'a> {
    pub token_hash: &'a str,
    pub admin_id: i64,
    pub generation: i64,
    pub epoch: i64,
    pub now: i64,
    pub expires_at: i64,
    pub user_agent: Option<&'a str>,
    pub client_ip: Option<&'a str>,
}

/// The most browsers remembered for one admin: a new one forgets the oldest beyond it.
pub const MAX_PER_ADMIN: i64 = 10;

/// Stores a remembered browser, forgetting the admin's oldest beyond `MAX_PER_ADMIN`.
pub async fn insert(db: &Db, new: NewRemembered<'_>) -> Result<(), sqlx::Error> {
    let mut tx = db.write().await?;
    sqlx::query(
        "INSERT INTO remembered_browsers \
         (token_hash, admin_id, generation, epoch, created_at, expires_at, user_agent, client_ip) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new.token_hash)
    .bind(new.admin_id)
    .bind(new.generation)
    .bind(new.epoch)
    .bind(new.now)
    .bind(new.expires_at)
    .bind(new.user_agent)
    .bind(new.client_ip)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "DELETE FROM remembered_browsers WHERE admin_id = $1 AND token_hash NOT IN \
         (SELECT token_hash FROM remembered_browsers WHERE admin_id = $1 \
          ORDER BY created_at DESC, token_hash LIMIT $2)",
    )
    .bind(new.admin_id)
    .bind(MAX_PER_ADMIN)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// Which remembered browsers still count: the admin's, of their session generation and the
/// account's remember epoch.
#[derive(Clone, Copy, Debug)]
pub struct Current {
    pub admin_id: i64,
    pub generation: i64,
    pub epoch: i64,
}

/// The browser `token_hash` remembered under `current`, still within `expires_at` (when it was
/// made and until when: the caller applies the account's setting).
pub async fn find(
    db: &Db,
    token_hash: &str,
    current: Current,
    now: i64,
) -> Result<Option<(i64, i64)>, sqlx::Error> {
    sqlx::query(
        "SELECT created_at, expires_at FROM remembered_browsers \
         WHERE token_hash = $1 AND admin_id = $2 AND generation = $3 AND epoch = $4 \
           AND expires_at > $5",
    )
    .bind(token_hash)
    .bind(current.admin_id)
    .bind(current.generation)
    .bind(current.epoch)
    .bind(now)
    .fetch_optional(&db.pool)
    .await?
    .map(|r| Ok((r.try_get("created_at")?, r.try_get("expires_at")?)))
    .transpose()
}

/// Marks a remembered browser used; false when it is gone meanwhile (forgotten, revoked).
pub async fn touch(
    db: &Db,
    token_hash: &str,
    admin_id: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE remembered_browsers SET last_used_at = $1 WHERE token_hash = $2 AND admin_id = $3",
    )
    .bind(now)
    .bind(token_hash)
    .bind(admin_id)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The admin's remembered browsers that still count (`current`), not expired, newest first.
pub async fn list(db: &Db, current: Current, now: i64) -> Result<Vec<Remembered>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT token_hash, created_at, expires_at, last_used_at, user_agent, client_ip \
         FROM remembered_browsers \
         WHERE admin_id = $1 AND generation = $2 AND epoch = $3 AND expires_at > $4 \
         ORDER BY created_at DESC, token_hash",
    )
    .bind(current.admin_id)
    .bind(current.generation)
    .bind(current.epoch)
    .bind(now)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Remembered {
                token_hash: r.try_get("token_hash")?,
                created_at: r.try_get("created_at")?,
                expires_at: r.try_get("expires_at")?,
                last_used_at: r.try_get("last_used_at")?,
                user_agent: r.try_get("user_agent")?,
                client_ip: r.try_get("client_ip")?,
            })
        })
        .collect()
}

/// Forgets one of the admin's remembered browsers; false when it is not theirs (or gone).
pub async fn delete_one(db: &Db, admin_id: i64, token_hash: &str) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("DELETE FROM remembered_browsers WHERE admin_id = $1 AND token_hash = $2")
            .bind(admin_id)
            .bind(token_hash)
            .execute(&db.pool)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Forgets every remembered browser of the admin (with the move of their session generation,
/// which already refuses them: this keeps the table small).
pub async fn delete_all(conn: &mut sqlx::AnyConnection, admin_id: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM remembered_browsers WHERE admin_id = $1")
        .bind(admin_id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}

/// Forgets the account's remembered browsers of an earlier remember epoch (the setting was
/// lowered or turned off), inside the transaction that moved it.
pub async fn delete_of_old_epochs(
    conn: &mut sqlx::AnyConnection,
    account_id: i64,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM remembered_browsers \
         WHERE admin_id IN (SELECT id FROM admins WHERE account_id = $1) \
           AND epoch <> (SELECT remember_epoch FROM accounts WHERE id = $1)",
    )
    .bind(account_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

/// Forgets remembered browsers that can no longer count: expired, or of an earlier session
/// generation or remember epoch (the background sweep).
pub async fn delete_stale(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    db.sweep(
        "remembered_browsers",
        "token_hash",
        "expires_at <= $1 \
         OR generation <> (SELECT a.session_generation FROM admins a WHERE a.id = remembered_browsers.admin_id) \
         OR epoch <> (SELECT c.remember_epoch FROM admins a JOIN accounts c \
                      ON c.id = a.account_id WHERE a.id = remembered_browsers.admin_id)",
        &[now],
    )
    .await
}
