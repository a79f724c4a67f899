//! TOTP credentials: one per admin, stored only after a correct code.

use super::Db;
use crate::server::secrets::TotpSecret;
use sqlx::{AnyConnection, Row};

pub struct Credential {
    pub secret: TotpSecret,
    /// Newest time step accepted.
    pub last_used_step: i64,
}

pub async fn find(db: &Db, admin_id: i64) -> Result<Option<Credential>, sqlx::Error> {
    let row =
        sqlx::query("SELECT secret, last_used_step FROM totp_credentials WHERE admin_id = $1")
            .bind(admin_id)
            .fetch_optional(&db.pool)
            .await?;
    row.map(|r| {
        let stored: String = r.try_get("secret")?;
        Ok(Credential {
            secret: TotpSecret::from_base32(&stored)
                .ok_or_else(|| sqlx::Error::Decode("stored TOTP secret is not base32".into()))?,
            last_used_step: r.try_get("last_used_step")?,
        })
    })
    .transpose()
}

pub async fn exists(db: &Db, admin_id: i64) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("SELECT 1 AS one FROM totp_credentials WHERE admin_id = $1")
            .bind(admin_id)
            .fetch_optional(&db.pool)
            .await?
            .is_some(),
    )
}

/// Stores a confirmed credential. `Ok(false)`: the admin already has one.
pub async fn insert(
    db: &Db,
    admin_id: i64,
    secret: &TotpSecret,
    step: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO totp_credentials (admin_id, secret, last_used_step, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (admin_id) DO NOTHING",
    )
    .bind(admin_id)
    .bind(secret.to_base32())
    .bind(step)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records `step` as used if it is newer than the stored one. `false` means another request
/// used this step (or a newer one) first: the code is a replay.
pub async fn consume_step(db: &Db, admin_id: i64, step: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE totp_credentials SET last_used_step = $1 WHERE admin_id = $2 AND last_used_step < $1",
    )
    .bind(step)
    .bind(admin_id)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes the credential. `false` when there was none.
pub async fn delete(db: &Db, admin_id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM totp_credentials WHERE admin_id = $1")
        .bind(admin_id)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// `delete` inside the caller's transaction.
pub async fn delete_in(conn: &mut AnyConnection, admin_id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM totp_credentials WHERE admin_id = $1")
        .bind(admin_id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
