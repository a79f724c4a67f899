//! In-app notifications for admins (the bell).

use super::Db;
use sqlx::{AnyConnection, Row};

#[derive(Clone, Debug)]
pub struct Notification {
    pub id: i64,
    pub kind: String,
    pub message: String,
    pub link: Option<String>,
    pub created_at: i64,
    pub read: bool,
}

pub struct NewNotification<'a> {
    pub account_id: i64,
    pub recipient_id: i64,
    pub kind: &'a str,
    pub subject_id: Option<i64>,
    pub message: &'a str,
    pub link: Option<&'a str>,
}

pub async fn insert(
    conn: &mut AnyConnection,
    n: NewNotification<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO notifications (account_id, recipient_id, kind, subject_id, message, link, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(n.account_id)
    .bind(n.recipient_id)
    .bind(n.kind)
    .bind(n.subject_id)
    .bind(n.message)
    .bind(n.link)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The newest notifications of `recipient_id` and how many are unread.
pub async fn latest(
    db: &Db,
    recipient_id: i64,
    limit: i64,
) -> Result<(Vec<Notification>, i64), sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, kind, message, link, created_at, read_at FROM notifications \
         WHERE recipient_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(recipient_id)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    let unread: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM notifications WHERE recipient_id = $1 AND read_at IS NULL",
    )
    .bind(recipient_id)
    .fetch_one(&db.pool)
    .await?
    .try_get("n")?;
    let items = rows
        .iter()
        .map(|r| {
            Ok(Notification {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                message: r.try_get("message")?,
                link: r.try_get("link")?,
                created_at: r.try_get("created_at")?,
                read: r.try_get::<Option<i64>, _>("read_at")?.is_some(),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok((items, unread))
}

pub async fn mark_all_read(db: &Db, recipient_id: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE notifications SET read_at = $1 WHERE recipient_id = $2 AND read_at IS NULL",
    )
    .bind(now)
    .bind(recipient_id)
    .execute(&db.pool)
    .await?;
    Ok(())
}
