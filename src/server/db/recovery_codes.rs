//! Recovery codes, stored as keyed hashes (HMAC under the server key); each passes once.

use super::Db;
use crate::server::keyring::Keyring;
use sqlx::{AnyConnection, Row};

fn context(admin_id: i64) -> String {
    format!("recovery:{admin_id}")
}

/// Replaces the admin's codes with `codes` (normalised form).
pub async fn replace(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    admin_id: i64,
    codes: &[String],
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM recovery_codes WHERE admin_id = $1")
        .bind(admin_id)
        .execute(&mut *conn)
        .await?;
    for code in codes {
        let (key_id, mac) = keyring.mac(code, &context(admin_id));
        sqlx::query("INSERT INTO recovery_codes (admin_id, key_id, code_mac, created_at) VALUES ($1, $2, $3, $4)")
            .bind(admin_id)
            .bind(key_id)
            .bind(mac)
            .bind(now)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Uses `code` (normalised) if it is one of the admin's unused codes. Answers whether it was.
pub async fn consume(
    db: &Db,
    keyring: &Keyring,
    admin_id: i64,
    code: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let key_ids: Vec<String> = sqlx::query(
        "SELECT DISTINCT key_id FROM recovery_codes WHERE admin_id = $1 AND used_at IS NULL",
    )
    .bind(admin_id)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| r.try_get("key_id"))
    .collect::<Result<_, _>>()?;
    for key_id in key_ids {
        let Ok(mac) = keyring.mac_with(&key_id, code, &context(admin_id)) else {
            continue;
        };
        let done = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 WHERE admin_id = $2 AND code_mac = $3 AND used_at IS NULL",
        )
        .bind(now)
        .bind(admin_id)
        .bind(mac)
        .execute(&db.pool)
        .await?;
        if done.rows_affected() == 1 {
            return Ok(true);
        }
    }
    Ok(false)
}

pub async fn remaining(db: &Db, admin_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM recovery_codes WHERE admin_id = $1 AND used_at IS NULL")
        .bind(admin_id)
        .fetch_one(&db.pool)
        .await?
        .try_get("n")
}
