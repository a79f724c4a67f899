//! The admin's own sessions: listed on the profile, ended one by one or all but this one.

use crate::api::error::AppError;
use crate::api::types::SessionInfo;
use crate::domain::device;
use crate::server::auth::{Client, SignedIn, state};
use crate::server::db::sessions;
use crate::server::{internal, notify, now};
use sqlx::Row;

pub async fn list(signed_in: &SignedIn) -> Result<Vec<SessionInfo>, AppError> {
    let db = &state()?.db;
    let current = signed_in.session.id().map(|id| sessions::id_hash(&id));
    let rows = sqlx::query(
        "SELECT id_hash, user_agent, client_ip, created_at, last_seen_at FROM sessions \
         WHERE admin_id = $1 AND complete = 1 AND expires_at > $2 ORDER BY last_seen_at DESC",
    )
    .bind(signed_in.admin.id)
    .bind(now())
    .fetch_all(&db.pool)
    .await
    .map_err(internal)?;
    let mut list = rows
        .iter()
        .map(|r| {
            let handle: String = r.try_get("id_hash")?;
            Ok(SessionInfo {
                current: current.as_deref() == Some(handle.as_str()),
                handle,
                device: device::describe(
                    &r.try_get::<Option<String>, _>("user_agent")?
                        .unwrap_or_default(),
                ),
                address: r.try_get("client_ip")?,
                signed_in_at: r.try_get("created_at")?,
                last_seen_at: r.try_get("last_seen_at")?,
            })
        })
        .collect::<Result<Vec<SessionInfo>, sqlx::Error>>()
        .map_err(internal)?;
    // This browser first, then the others by last activity.
    list.sort_by_key(|s| (!s.current, -s.last_seen_at));
    Ok(list)
}

pub async fn end_one(signed_in: &SignedIn, handle: &str, client: &Client) -> Result<(), AppError> {
    if handle.len() != 64 || !handle.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::invalid(
            "handle",
            "That is not a session of yours.",
        ));
    }
    let db = &state()?.db;
    // Only the admin's own sessions: another admin's handle is "not found".
    let done = sqlx::query("DELETE FROM sessions WHERE id_hash = $1 AND admin_id = $2")
        .bind(handle)
        .bind(signed_in.admin.id)
        .execute(&db.pool)
        .await
        .map_err(internal)?;
    if done.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    let admin = &signed_in.admin;
    notify::audit(
        Some(admin.account_id),
        Some(admin.id),
        Some(admin.id),
        "session_ended",
        "from the profile",
        client,
    )
    .await
}

pub async fn end_others(signed_in: &SignedIn, client: &Client) -> Result<u64, AppError> {
    let db = &state()?.db;
    let id = signed_in.session.id().ok_or(AppError::Unauthenticated)?;
    let ended = sessions::delete_for_admin_except(db, signed_in.admin.id, &id)
        .await
        .map_err(internal)?;
    let admin = &signed_in.admin;
    notify::audit(
        Some(admin.account_id),
        Some(admin.id),
        Some(admin.id),
        "session_ended",
        &format!("{ended} other session(s) from the profile"),
        client,
    )
    .await?;
    Ok(ended)
}
