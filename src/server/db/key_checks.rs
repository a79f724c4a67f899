//! Which keys the database depends on: the key ids its secrets were encrypted with, and one
//! check value per key id that only that key opens.

use super::Db;
use sqlx::Row;
use std::collections::BTreeSet;

/// Every key id that stored data names: TOTP secrets, recovery codes, check values.
pub async fn ids_in_use(db: &Db) -> Result<BTreeSet<String>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT key_id FROM totp_credentials WHERE key_id IS NOT NULL \
         UNION SELECT key_id FROM recovery_codes \
         UNION SELECT key_id FROM key_checks",
    )
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(|r| r.try_get("key_id")).collect()
}

/// (key id, check value) of every key the database has seen.
pub async fn all(db: &Db) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query("SELECT key_id, check_value FROM key_checks ORDER BY key_id")
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("key_id")?, r.try_get("check_value")?)))
        .collect()
}

/// Records the check value of a key used for the first time (kept when one exists).
pub async fn insert(db: &Db, key_id: &str, check_value: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO key_checks (key_id, check_value, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (key_id) DO NOTHING",
    )
    .bind(key_id)
    .bind(check_value)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Forgets a key for good (`forget-key`): its check value goes.
pub async fn delete(db: &Db, key_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM key_checks WHERE key_id = $1")
        .bind(key_id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// The admins with a secret under `key_id`.
pub async fn admins_with_secrets_under(db: &Db, key_id: &str) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query(
        "SELECT admin_id FROM totp_credentials WHERE key_id = $1 \
         UNION SELECT admin_id FROM recovery_codes WHERE key_id = $1",
    )
    .bind(key_id)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| r.try_get("admin_id"))
    .collect()
}
