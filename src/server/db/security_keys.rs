//! Security keys and passkeys: an admin's registered WebAuthn credentials. Every query is
//! scoped by the admin's id.

use super::Db;
use sqlx::{AnyConnection, Row};
use webauthn_rs::prelude::SecurityKey;

/// A key as the profile lists it.
#[derive(Clone, Debug)]
pub struct KeyInfo {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// When its counter went back (a cloned key): not accepted since.
    pub suspended_at: Option<i64>,
}

/// A key with what an assertion is checked against.
pub struct StoredKey {
    pub id: i64,
    pub name: String,
    pub key: SecurityKey,
    pub sign_count: i64,
    /// Suspended as a cloned key: never asked for, never accepted.
    pub suspended: bool,
}

/// A credential id as the `credential_id` column holds it.
fn stored_id(credential_id: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(credential_id)
}

fn decode(e: serde_json::Error) -> sqlx::Error {
    sqlx::Error::Decode(format!("stored security key: {e}").into())
}

pub async fn list(db: &Db, admin_id: i64) -> Result<Vec<KeyInfo>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, name, created_at, last_used_at, suspended_at FROM security_keys \
         WHERE admin_id = $1 ORDER BY created_at, id",
    )
    .bind(admin_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(KeyInfo {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                created_at: r.try_get("created_at")?,
                last_used_at: r.try_get("last_used_at")?,
                suspended_at: r.try_get("suspended_at")?,
            })
        })
        .collect()
}

pub async fn credentials(db: &Db, admin_id: i64) -> Result<Vec<StoredKey>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, name, credential, sign_count, suspended_at FROM security_keys \
         WHERE admin_id = $1 ORDER BY id",
    )
    .bind(admin_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            let json: String = r.try_get("credential")?;
            Ok(StoredKey {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                key: serde_json::from_str(&json).map_err(decode)?,
                sign_count: r.try_get("sign_count")?,
                suspended: r.try_get::<Option<i64>, _>("suspended_at")?.is_some(),
            })
        })
        .collect()
}

/// Why a key was not stored.
#[derive(Debug, thiserror::Error)]
pub enum InsertError {
    /// The credential is registered already (to this admin or another).
    #[error("this security key is registered already")]
    Duplicate,
    /// The admin has `MAX_KEYS` keys.
    #[error("too many security keys")]
    TooMany,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Stores a key the admin just registered, within the caller's transaction. The count is
/// checked in the same statement as the insert.
pub async fn insert(
    conn: &mut AnyConnection,
    admin_id: i64,
    name: &str,
    key: &SecurityKey,
    now: i64,
) -> Result<i64, InsertError> {
    let json = serde_json::to_string(key)
        .map_err(|e| sqlx::Error::Encode(format!("security key: {e}").into()))?;
    let credential_id = stored_id(key.cred_id());
    let row = sqlx::query(
        "INSERT INTO security_keys (admin_id, credential_id, name, credential, sign_count, \
                                    created_at) \
         SELECT $1, $2, $3, $4, 0, $5 \
         WHERE (SELECT COUNT(*) FROM security_keys WHERE admin_id = $1) < $6 \
         RETURNING id",
    )
    .bind(admin_id)
    .bind(credential_id)
    .bind(name)
    .bind(json)
    .bind(now)
    .bind(crate::domain::factors::MAX_KEYS)
    .fetch_optional(&mut *conn)
    .await
    .map_err(|e| {
        if super::is_unique_violation(&e) {
            InsertError::Duplicate
        } else {
            InsertError::Db(e)
        }
    })?;
    match row {
        Some(row) => Ok(row.try_get("id")?),
        None => Err(InsertError::TooMany),
    }
}

/// Records an accepted assertion: the credential as updated, its new counter and the time.
/// Compare-and-swap on the counter read before: `false` when another assertion moved it
/// meanwhile (or the key was removed or suspended).
pub async fn record_use(
    db: &Db,
    admin_id: i64,
    stored: &StoredKey,
    updated: &SecurityKey,
    sign_count: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let json = serde_json::to_string(updated)
        .map_err(|e| sqlx::Error::Encode(format!("security key: {e}").into()))?;
    let done = sqlx::query(
        "UPDATE security_keys SET credential = $1, sign_count = $2, last_used_at = $3 \
         WHERE id = $4 AND admin_id = $5 AND sign_count = $6 AND suspended_at IS NULL",
    )
    .bind(json)
    .bind(sign_count)
    .bind(now)
    .bind(stored.id)
    .bind(admin_id)
    .bind(stored.sign_count)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Suspends the admin's key with this credential id (its counter went back: a cloned key);
/// answers its name when it was not suspended before.
pub async fn suspend(
    db: &Db,
    admin_id: i64,
    credential_id: &[u8],
    now: i64,
) -> Result<Option<String>, sqlx::Error> {
    let credential_id = stored_id(credential_id);
    let row = sqlx::query(
        "UPDATE security_keys SET suspended_at = $1 \
         WHERE admin_id = $2 AND credential_id = $3 AND suspended_at IS NULL RETURNING name",
    )
    .bind(now)
    .bind(admin_id)
    .bind(credential_id)
    .fetch_optional(&db.pool)
    .await?;
    row.map(|r| r.try_get("name")).transpose()
}

/// Removes one of the admin's keys; `false` when the admin has no such key.
pub async fn delete(conn: &mut AnyConnection, admin_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM security_keys WHERE id = $1 AND admin_id = $2")
        .bind(id)
        .bind(admin_id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes every key of the admin (a reset), within the caller's transaction.
pub async fn delete_all(conn: &mut AnyConnection, admin_id: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM security_keys WHERE admin_id = $1")
        .bind(admin_id)
        .execute(&mut *conn)
        .await?
        .rows_affected())
}
