//! Server-side sessions for tower-sessions, stored in our database.
//!
//! tower-sessions manages the cookie, id generation, rotation (`cycle_id`) and expiry; this store
//! keeps the record in the `sessions` table under the SHA-256 of its id, and copies who the
//! session belongs to into columns so an admin's sessions can be listed and ended together.

use super::{Db, flag};
use crate::domain::access::Stage;
use crate::server::clock::Clock;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

/// Session key of [`SessionAuth`].
pub const AUTH_KEY: &str = "auth";

/// What the session knows about sign-in. Stored server-side only.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SessionAuth {
    pub admin_id: i64,
    pub account_id: i64,
    pub stage: Stage,
    /// Unix time of the password step.
    pub signed_in_at: i64,
    pub user_agent: Option<String>,
    pub client_ip: Option<String>,
    /// Unix time of the last request seen (updated at most once a minute).
    #[serde(default)]
    pub last_seen: i64,
    /// Sent to the 2FA setup by enforcement long after the password step: the setup asks for
    /// the password again, however recent `signed_in_at` is.
    #[serde(default)]
    pub password_due: bool,
    /// This sign-in passed the setup code step (after a reset). A session without it is sent
    /// to that step whenever a setup code is due for its admin (see `auth::apply_setup_code`).
    #[serde(default)]
    pub setup_code_passed: bool,
    /// The admin's session generation when this session was made; ending all the admin's
    /// sessions moves it on, and a session of an older one is refused.
    #[serde(default)]
    pub generation: i64,
}

impl SessionAuth {
    pub fn is_complete(&self) -> bool {
        self.stage == Stage::Complete
    }
}

/// The store. tower-sessions computes a record's expiry from the system clock; the store keeps
/// it in the server's clock (the same in production, moved by tests), so expiry is one rule.
#[derive(Clone, Debug)]
pub struct SqlSessionStore {
    db: Db,
    clock: Clock,
}

impl SqlSessionStore {
    pub fn new(db: Db, clock: Clock) -> Self {
        SqlSessionStore { db, clock }
    }

    /// Deletes expired sessions; run periodically.
    pub async fn delete_expired(&self) -> Result<u64, sqlx::Error> {
        let now = self.clock.now();
        self.db
            .sweep("sessions", "id_hash", "expires_at <= $1", &[now])
            .await
    }
}

pub fn id_hash(id: &Id) -> String {
    hex::encode(Sha256::digest(id.0.to_le_bytes()))
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

struct Columns {
    data: String,
    expires_at: i64,
    admin_id: Option<i64>,
    complete: bool,
    created_at: i64,
    user_agent: Option<String>,
    client_ip: Option<String>,
    generation: i64,
}

fn columns(record: &Record, clock: &Clock) -> session_store::Result<Columns> {
    let data = serde_json::to_string(&record.data)
        .map_err(|e| session_store::Error::Encode(e.to_string()))?;
    let auth: Option<SessionAuth> = record
        .data
        .get(AUTH_KEY)
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    let now = clock.now();
    Ok(Columns {
        data,
        expires_at: record.expiry_date.unix_timestamp() + clock.offset(),
        admin_id: auth.as_ref().map(|a| a.admin_id),
        complete: auth.as_ref().is_some_and(|a| a.is_complete()),
        created_at: auth.as_ref().map_or(now, |a| a.signed_in_at),
        user_agent: auth.as_ref().and_then(|a| a.user_agent.clone()),
        client_ip: auth.as_ref().and_then(|a| a.client_ip.clone()),
        generation: auth.as_ref().map_or(0, |a| a.generation),
    })
}

#[async_trait]
impl SessionStore for SqlSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let c = columns(record, &self.clock)?;
        let now = self.clock.now();
        loop {
            let done = sqlx::query(
                "INSERT INTO sessions (id_hash, data, expires_at, admin_id, complete, created_at, \
                                       last_seen_at, user_agent, client_ip, generation) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id_hash) DO NOTHING",
            )
            .bind(id_hash(&record.id))
            .bind(&c.data)
            .bind(c.expires_at)
            .bind(c.admin_id)
            .bind(flag(c.complete))
            .bind(c.created_at)
            .bind(now)
            .bind(&c.user_agent)
            .bind(&c.client_ip)
            .bind(c.generation)
            .execute(&self.db.pool)
            .await
            .map_err(backend)?;
            if done.rows_affected() == 1 {
                return Ok(());
            }
            // 128-bit ids practically never collide; if one does, draw another.
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let c = columns(record, &self.clock)?;
        let now = self.clock.now();
        // Update only: a session ended elsewhere (sign-out, reset) must not come back because a
        // request that was still running saves it afterwards. The generation is not written
        // here: only at creation and by `end_for_admin_except` (a request that read the old one
        // cannot put it back).
        sqlx::query(
            "UPDATE sessions SET data = $2, expires_at = $3, admin_id = $4, complete = $5, \
                                 created_at = $6, last_seen_at = $7, user_agent = $8, client_ip = $9 \
             WHERE id_hash = $1",
        )
        .bind(id_hash(&record.id))
        .bind(&c.data)
        .bind(c.expires_at)
        .bind(c.admin_id)
        .bind(flag(c.complete))
        .bind(c.created_at)
        .bind(now)
        .bind(&c.user_agent)
        .bind(&c.client_ip)
        .execute(&self.db.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        let now = self.clock.now();
        let row = sqlx::query(
            "SELECT data, expires_at, generation FROM sessions WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(id_hash(session_id))
        .bind(now)
        .fetch_optional(&self.db.pool)
        .await
        .map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        let data: String = row.try_get("data").map_err(backend)?;
        let expires_at: i64 = row.try_get("expires_at").map_err(backend)?;
        let generation: i64 = row.try_get("generation").map_err(backend)?;
        let mut data: std::collections::HashMap<String, serde_json::Value> =
            serde_json::from_str(&data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        // The column is the session's generation (see `save`).
        if let Some(serde_json::Value::Object(auth)) = data.get_mut(AUTH_KEY) {
            auth.insert("generation".into(), generation.into());
        }
        Ok(Some(Record {
            id: *session_id,
            data,
            expiry_date: OffsetDateTime::from_unix_timestamp(expires_at - self.clock.offset())
                .map_err(backend)?,
        }))
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        // Inside `cycle_claimed` (the record is gone already) or `cycle` of a session without
        // a stored record (none is stored under its id).
        if CLAIMED
            .try_with(|claimed| claimed.as_ref().is_none_or(|claimed| claimed == session_id))
            .unwrap_or(false)
        {
            return Ok(());
        }
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash(session_id))
            .execute(&self.db.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

tokio::task_local! {
    /// Set while `cycle_claimed` moves a session to a new id: the old id, whose record the
    /// caller deleted already; `None` while `cycle` moves a session that has no stored record.
    static CLAIMED: Option<Id>;
}

/// Moves `session`, which has no stored record (`Session::id` is `None`: its cookie named
/// none, or it was ended), to a new id, so that an id its browser sent, or had planted in it,
/// never carries what comes next. `cycle_id`'s delete of the id it leaves is skipped: nothing
/// is stored under it. (A stored one is deleted by the caller: [`cycle_claimed`].)
pub async fn cycle(
    session: &tower_sessions::Session,
) -> Result<(), tower_sessions::session::Error> {
    CLAIMED.scope(None, session.cycle_id()).await
}

/// Moves `session` to a new id (tower-sessions' `cycle_id`) once the caller has deleted the
/// record of its current id, `claimed`, itself (`delete_stored`, which tells whether it was
/// still stored): `cycle_id`'s own delete of that id is skipped, one statement fewer for every
/// later sign-in step.
pub async fn cycle_claimed(
    session: &tower_sessions::Session,
    claimed: Id,
) -> Result<(), tower_sessions::session::Error> {
    CLAIMED.scope(Some(claimed), session.cycle_id()).await
}

/// Ends every session of an admin (2FA reset, deactivation), inside the caller's transaction:
/// deletes them and moves the admin's session generation on, so that a session a sign-in step
/// still in flight creates afterwards is refused too.
pub async fn end_for_admin(
    conn: &mut sqlx::AnyConnection,
    admin_id: i64,
) -> Result<u64, sqlx::Error> {
    sqlx::query("UPDATE admins SET session_generation = session_generation + 1 WHERE id = $1")
        .bind(admin_id)
        .execute(&mut *conn)
        .await?;
    let done = sqlx::query("DELETE FROM sessions WHERE admin_id = $1")
        .bind(admin_id)
        .execute(&mut *conn)
        .await?;
    super::remembered_browsers::delete_all(conn, admin_id).await?;
    Ok(done.rows_affected())
}

/// Ends every session of an admin but `keep` (a password change, "sign out other sessions"; no
/// `keep` when the session asking is under a new id not stored yet, of generation `seen`):
/// moves the generation on, writes it into the kept session, and answers the number ended with
/// the new generation. If the kept session is no longer of the admin's generation (all the
/// admin's sessions were ended meanwhile: a reset, a deactivation), every session of the admin
/// is ended, the asking one too, and the answer is `None`.
pub async fn end_for_admin_except(
    db: &Db,
    admin_id: i64,
    keep: Option<&Id>,
    seen: i64,
) -> Result<Option<(u64, i64)>, sqlx::Error> {
    let keep = keep.map(id_hash);
    let mut tx = db.write().await?;
    // The kept session's stored generation (not this request's copy, which a parallel "sign
    // out other sessions" of the same session may have left behind).
    let row = match &keep {
        Some(keep) => {
            sqlx::query(
                "UPDATE admins SET session_generation = session_generation + 1 \
                 WHERE id = $1 AND session_generation = \
                     (SELECT generation FROM sessions WHERE id_hash = $2 AND admin_id = $1) \
                 RETURNING session_generation",
            )
            .bind(admin_id)
            .bind(keep)
            .fetch_optional(&mut *tx)
            .await?
        }
        None => {
            sqlx::query(
                "UPDATE admins SET session_generation = session_generation + 1 \
                 WHERE id = $1 AND session_generation = $2 RETURNING session_generation",
            )
            .bind(admin_id)
            .bind(seen)
            .fetch_optional(&mut *tx)
            .await?
        }
    };
    let Some(row) = row else {
        // Fail closed: whatever made this request ask (a new password) ends every session.
        end_for_admin(&mut tx, admin_id).await?;
        tx.commit().await?;
        return Ok(None);
    };
    let generation: i64 = row.try_get("session_generation")?;
    let keep = keep.unwrap_or_default();
    sqlx::query("UPDATE sessions SET generation = $1 WHERE id_hash = $2 AND admin_id = $3")
        .bind(generation)
        .bind(&keep)
        .bind(admin_id)
        .execute(&mut *tx)
        .await?;
    let done = sqlx::query("DELETE FROM sessions WHERE admin_id = $1 AND id_hash <> $2")
        .bind(admin_id)
        .bind(&keep)
        .execute(&mut *tx)
        .await?;
    super::remembered_browsers::delete_all(&mut tx, admin_id).await?;
    tx.commit().await?;
    Ok(Some((done.rows_affected(), generation)))
}

/// Deletes the stored session `id`; answers its generation, `None` when it was not stored (any
/// more).
pub async fn delete_stored(conn: &mut AnyConnection, id: &Id) -> Result<Option<i64>, sqlx::Error> {
    // Run to its end (`fetch_all`), not to its first row: outside a transaction SQLite commits
    // the delete when the statement ends, and only then says if the commit failed.
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1 RETURNING generation")
        .bind(id_hash(id))
        .fetch_all(conn)
        .await?
        .first()
        .map(|row| row.try_get("generation"))
        .transpose()
}

/// The stored generation of session `id` (`None`: not stored).
pub async fn stored_generation(db: &Db, id: &Id) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query("SELECT generation FROM sessions WHERE id_hash = $1")
        .bind(id_hash(id))
        .fetch_optional(&db.pool)
        .await?
        .map(|row| row.try_get("generation"))
        .transpose()
}

/// Deletes session `id` if it is still of `generation`.
pub async fn delete_of_generation(db: &Db, id: &Id, generation: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1 AND generation = $2")
        .bind(id_hash(id))
        .bind(generation)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// A fully signed-in session of an admin, for the profile's list.
pub struct SessionRow {
    /// The SHA-256 of the id: names the session, cannot be used as a cookie.
    pub handle: String,
    pub user_agent: Option<String>,
    pub client_ip: Option<String>,
    pub created_at: i64,
    pub last_seen_at: i64,
}

/// The admin's signed-in sessions that have not expired, most recently seen first.
pub async fn list_complete_for_admin(
    db: &Db,
    admin_id: i64,
    now: i64,
) -> Result<Vec<SessionRow>, sqlx::Error> {
    sqlx::query(
        "SELECT id_hash, user_agent, client_ip, created_at, last_seen_at FROM sessions \
         WHERE admin_id = $1 AND complete = 1 AND expires_at > $2 ORDER BY last_seen_at DESC",
    )
    .bind(admin_id)
    .bind(now)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| {
        Ok(SessionRow {
            handle: r.try_get("id_hash")?,
            user_agent: r.try_get("user_agent")?,
            client_ip: r.try_get("client_ip")?,
            created_at: r.try_get("created_at")?,
            last_seen_at: r.try_get("last_seen_at")?,
        })
    })
    .collect()
}

/// Ends the admin's session named by `handle`; `false` when the admin has no such session.
pub async fn delete_by_handle(db: &Db, admin_id: i64, handle: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM sessions WHERE id_hash = $1 AND admin_id = $2")
        .bind(handle)
        .bind(admin_id)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() == 1)
}
