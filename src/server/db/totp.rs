//! TOTP credentials: one per admin, stored only after a correct code, with the secret
//! encrypted under the server's key (bound to the admin's id).

use super::Db;
use crate::server::keyring::Keyring;
use crate::server::secrets::TotpSecret;
use sqlx::{AnyConnection, Row};

pub struct Credential {
    pub secret: TotpSecret,
    /// Newest time step accepted.
    pub last_used_step: i64,
}

fn context(admin_id: i64) -> String {
    format!("totp:{admin_id}")
}

fn open(
    keyring: &Keyring,
    admin_id: i64,
    key_id: &str,
    stored: &str,
) -> Result<TotpSecret, sqlx::Error> {
    let bytes = keyring
        .decrypt(key_id, stored, &context(admin_id))
        .map_err(|e| sqlx::Error::Decode(e.to_string().into()))?;
    TotpSecret::from_bytes(bytes)
        .ok_or_else(|| sqlx::Error::Decode("stored TOTP secret has the wrong length".into()))
}

pub async fn find(
    db: &Db,
    keyring: &Keyring,
    admin_id: i64,
) -> Result<Option<Credential>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT secret, key_id, last_used_step FROM totp_credentials WHERE admin_id = $1",
    )
    .bind(admin_id)
    .fetch_optional(&db.pool)
    .await?;
    row.map(|r| {
        let stored: String = r.try_get("secret")?;
        let key_id: Option<String> = r.try_get("key_id")?;
        let secret = match key_id {
            Some(key_id) => open(keyring, admin_id, &key_id, &stored)?,
            // Stored before encryption existed (start-up encrypts these).
            None => TotpSecret::from_base32(&stored)
                .ok_or_else(|| sqlx::Error::Decode("stored TOTP secret is not base32".into()))?,
        };
        Ok(Credential {
            secret,
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
    conn: &mut AnyConnection,
    keyring: &Keyring,
    admin_id: i64,
    secret: &TotpSecret,
    step: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let (key_id, sealed) = keyring.encrypt(secret.bytes(), &context(admin_id));
    let done = sqlx::query(
        "INSERT INTO totp_credentials (admin_id, secret, key_id, last_used_step, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (admin_id) DO NOTHING",
    )
    .bind(admin_id)
    .bind(sealed)
    .bind(key_id)
    .bind(step)
    .bind(now)
    .execute(&mut *conn)
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
    let mut conn = db.pool.acquire().await?;
    delete_in(&mut conn, admin_id).await
}

/// `delete` inside the caller's transaction (recovery codes go with the credential).
pub async fn delete_in(conn: &mut AnyConnection, admin_id: i64) -> Result<bool, sqlx::Error> {
    sqlx::query("DELETE FROM recovery_codes WHERE admin_id = $1")
        .bind(admin_id)
        .execute(&mut *conn)
        .await?;
    delete_credential_in(conn, admin_id).await
}

/// The credential alone, when the recovery codes stay (a security key is left).
pub async fn delete_credential_in(
    conn: &mut AnyConnection,
    admin_id: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM totp_credentials WHERE admin_id = $1")
        .bind(admin_id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Encrypts secrets stored as plain base32 (before encryption existed), and re-encrypts those
/// under older keys with the current key (after `rotate-key`). Answers how many changed.
pub async fn reseal_all(db: &Db, keyring: &Keyring) -> Result<u64, sqlx::Error> {
    let current = keyring.current_id();
    let rows = sqlx::query("SELECT admin_id, secret, key_id FROM totp_credentials WHERE key_id IS NULL OR key_id <> $1")
        .bind(&current)
        .fetch_all(&db.pool)
        .await?;
    let mut changed = 0;
    for row in rows {
        let admin_id: i64 = row.try_get("admin_id")?;
        let stored: String = row.try_get("secret")?;
        let key_id: Option<String> = row.try_get("key_id")?;
        let secret = match &key_id {
            Some(id) => open(keyring, admin_id, id, &stored)?,
            None => TotpSecret::from_base32(&stored)
                .ok_or_else(|| sqlx::Error::Decode("not base32".into()))?,
        };
        let (new_id, sealed) = keyring.encrypt(secret.bytes(), &context(admin_id));
        // Only if nobody changed the row meanwhile.
        let done = sqlx::query(
            "UPDATE totp_credentials SET secret = $1, key_id = $2 WHERE admin_id = $3 AND secret = $4",
        )
        .bind(sealed)
        .bind(new_id)
        .bind(admin_id)
        .bind(stored)
        .execute(&db.pool)
        .await?;
        changed += done.rows_affected();
    }
    Ok(changed)
}
