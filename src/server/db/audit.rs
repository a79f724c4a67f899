//! The audit log: security events with actor, target, account, time and client address.
//! Only inserts and reads exist here; nothing in the app edits or deletes an entry.

use sqlx::AnyConnection;

pub struct Entry<'a> {
    pub account_id: Option<i64>,
    pub actor_id: Option<i64>,
    pub target_id: Option<i64>,
    pub event: &'a str,
    pub detail: &'a str,
    pub client_ip: Option<&'a str>,
}

pub async fn record(
    conn: &mut AnyConnection,
    entry: Entry<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (account_id, actor_id, target_id, event, detail, client_ip, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(entry.account_id)
    .bind(entry.actor_id)
    .bind(entry.target_id)
    .bind(entry.event)
    .bind(entry.detail)
    .bind(entry.client_ip)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
