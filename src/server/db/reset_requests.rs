//! 2FA reset requests. At most one pending request per admin (a partial unique index); a
//! decision moves a request out of `pending` once, in an update that checks the state.

use super::Db;
use crate::domain::reset::RequestStatus;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

#[derive(Clone, Debug)]
pub struct ResetRequest {
    pub id: i64,
    pub account_id: i64,
    pub admin_id: i64,
    pub status: RequestStatus,
    pub requested_at: i64,
    pub requested_ip: Option<String>,
    pub decided_at: Option<i64>,
    pub decided_by: Option<i64>,
    pub decided_by_name: Option<String>,
    pub outcome_seen: bool,
    /// Why it was denied, for the requester.
    pub reason: Option<String>,
    pub requested_user_agent: Option<String>,
    /// The request came from a browser that had signed in as the admin before.
    pub from_known_browser: bool,
}

macro_rules! select_requests {
    ($rest:literal) => {
        concat!(
            "SELECT r.id, r.account_id, r.admin_id, r.status, r.requested_at, r.requested_ip, \
                    r.decided_at, r.decided_by, d.name AS decided_by_name, r.outcome_seen, \
                    r.reason, r.requested_user_agent, r.from_known_browser \
             FROM reset_requests r LEFT JOIN admins d ON d.id = r.decided_by ",
            $rest
        )
    };
}

fn from_row(row: &AnyRow) -> Result<ResetRequest, sqlx::Error> {
    let status: String = row.try_get("status")?;
    Ok(ResetRequest {
        id: row.try_get("id")?,
        account_id: row.try_get("account_id")?,
        admin_id: row.try_get("admin_id")?,
        status: RequestStatus::parse(&status)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown status {status:?}").into()))?,
        requested_at: row.try_get("requested_at")?,
        requested_ip: row.try_get("requested_ip")?,
        decided_at: row.try_get("decided_at")?,
        decided_by: row.try_get("decided_by")?,
        decided_by_name: row.try_get("decided_by_name")?,
        outcome_seen: row.try_get::<i64, _>("outcome_seen")? != 0,
        reason: row.try_get("reason")?,
        requested_user_agent: row.try_get("requested_user_agent")?,
        from_known_browser: row.try_get::<i64, _>("from_known_browser")? != 0,
    })
}

/// Where a request came from.
pub struct Origin<'a> {
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub known_browser: bool,
}

/// Records a pending request unless one is pending already. Answers the pending request and
/// whether it was created now.
pub async fn create_pending(
    conn: &mut AnyConnection,
    account_id: i64,
    admin_id: i64,
    origin: Origin<'_>,
    now: i64,
) -> Result<(ResetRequest, bool), sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO reset_requests (account_id, admin_id, status, requested_at, requested_ip, \
                                     requested_user_agent, from_known_browser) \
         VALUES ($1, $2, 'pending', $3, $4, $5, $6) \
         ON CONFLICT (admin_id) WHERE status = 'pending' DO NOTHING",
    )
    .bind(account_id)
    .bind(admin_id)
    .bind(now)
    .bind(origin.ip)
    .bind(origin.user_agent)
    .bind(super::flag(origin.known_browser))
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    let row = sqlx::query(select_requests!(
        "WHERE r.admin_id = $1 AND r.status = 'pending'"
    ))
    .bind(admin_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok((from_row(&row)?, inserted))
}

/// The request `id` if it belongs to `account_id`.
pub async fn find_in_account(
    db: &Db,
    account_id: i64,
    id: i64,
) -> Result<Option<ResetRequest>, sqlx::Error> {
    sqlx::query(select_requests!("WHERE r.id = $1 AND r.account_id = $2"))
        .bind(id)
        .bind(account_id)
        .fetch_optional(&db.pool)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// The admin's newest request.
pub async fn latest_for_admin(db: &Db, admin_id: i64) -> Result<Option<ResetRequest>, sqlx::Error> {
    sqlx::query(select_requests!(
        "WHERE r.admin_id = $1 ORDER BY r.id DESC LIMIT 1"
    ))
    .bind(admin_id)
    .fetch_optional(&db.pool)
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

/// Every request of an admin, newest first.
pub async fn history(
    db: &Db,
    account_id: i64,
    admin_id: i64,
) -> Result<Vec<ResetRequest>, sqlx::Error> {
    let rows = sqlx::query(select_requests!(
        "WHERE r.admin_id = $1 AND r.account_id = $2 ORDER BY r.id DESC LIMIT 100"
    ))
    .bind(admin_id)
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Moves a pending request to `status`. `false` when it was not pending any more (someone
/// else decided first).
pub async fn decide(
    conn: &mut AnyConnection,
    id: i64,
    status: RequestStatus,
    by: Option<i64>,
    reason: Option<&str>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE reset_requests SET status = $1, decided_at = $2, decided_by = $3, reason = $5 \
         WHERE id = $4 AND status = 'pending'",
    )
    .bind(status.as_str())
    .bind(now)
    .bind(by)
    .bind(id)
    .bind(reason)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The pending request of an admin, if any.
pub async fn pending_for_admin(
    conn: &mut AnyConnection,
    admin_id: i64,
) -> Result<Option<ResetRequest>, sqlx::Error> {
    sqlx::query(select_requests!(
        "WHERE r.admin_id = $1 AND r.status = 'pending'"
    ))
    .bind(admin_id)
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

/// Pending requests made at or before `cutoff`, at most 100 at a time.
pub async fn overdue(db: &Db, cutoff: i64) -> Result<Vec<ResetRequest>, sqlx::Error> {
    let rows = sqlx::query(select_requests!(
        "WHERE r.status = 'pending' AND r.requested_at <= $1 ORDER BY r.requested_at LIMIT 100"
    ))
    .bind(cutoff)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(from_row).collect()
}

/// The account's pending requests, oldest first (few: one per admin at most).
pub async fn pending_in_account(
    db: &Db,
    account_id: i64,
) -> Result<Vec<ResetRequest>, sqlx::Error> {
    let rows = sqlx::query(select_requests!(
        "WHERE r.account_id = $1 AND r.status = 'pending' ORDER BY r.requested_at, r.id"
    ))
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(from_row).collect()
}

/// How many requests of the account wait for a decision.
pub async fn pending_count(db: &Db, account_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "SELECT COUNT(*) AS n FROM reset_requests WHERE account_id = $1 AND status = 'pending'",
    )
    .bind(account_id)
    .fetch_one(&db.pool)
    .await?
    .try_get("n")
}

pub async fn mark_outcome_seen(db: &Db, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE reset_requests SET outcome_seen = 1 WHERE id = $1")
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}
