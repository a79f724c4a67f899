//! The audit log: security events with actor, target, account, time and client address.
//! Only inserts and reads exist here; nothing in the app edits or deletes an entry.

use sqlx::AnyConnection;

/// What happened, to whom, by whom.
#[derive(Clone, Copy, Debug)]
pub struct Event<'a> {
    pub account_id: Option<i64>,
    pub actor_id: Option<i64>,
    pub target_id: Option<i64>,
    pub event: &'a str,
    pub detail: &'a str,
}

impl<'a> Event<'a> {
    /// Something an admin did to themselves.
    pub fn by_self(admin: &super::admins::Admin, event: &'a str, detail: &'a str) -> Event<'a> {
        Event {
            account_id: Some(admin.account_id),
            actor_id: Some(admin.id),
            target_id: Some(admin.id),
            event,
            detail,
        }
    }
}

/// Writes one entry, from the client address `client_ip`.
pub async fn record(
    conn: &mut AnyConnection,
    entry: Event<'_>,
    client_ip: Option<&str>,
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
    .bind(client_ip)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// How often `admin_id` signed in successfully from `ip`, and when last (the evidence shown
/// when judging a reset request).
pub async fn sign_ins_from(
    db: &super::Db,
    admin_id: i64,
    ip: &str,
) -> Result<(i64, Option<i64>), sqlx::Error> {
    use sqlx::Row;
    let row = sqlx::query(
        "SELECT COUNT(*) AS n, MAX(created_at) AS last FROM audit_log \
         WHERE target_id = $1 AND event = 'sign_in_succeeded' AND client_ip = $2",
    )
    .bind(admin_id)
    .bind(ip)
    .fetch_one(&db.pool)
    .await?;
    Ok((row.try_get("n")?, row.try_get("last")?))
}

/// Which entries of one account to read.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Entries about this admin (as actor or target).
    pub admin_id: Option<i64>,
    pub event: Option<String>,
    /// Unix times, from inclusive, until exclusive.
    pub from: Option<i64>,
    pub until: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct Row {
    pub id: i64,
    pub created_at: i64,
    pub event: String,
    pub actor: Option<String>,
    pub target: Option<String>,
    pub detail: String,
    pub client_ip: Option<String>,
}

const WHERE: &str = "l.account_id = $1 AND ($2 = 0 OR l.actor_id = $2 OR l.target_id = $2) \
                     AND ($3 = '' OR l.event = $3) AND l.created_at >= $4 AND l.created_at < $5";

/// Entries newest first.
pub async fn list(
    db: &super::Db,
    account_id: i64,
    filter: &Filter,
    limit: i64,
    offset: i64,
) -> Result<Vec<Row>, sqlx::Error> {
    use sqlx::Row as _;
    let sql = format!(
        "SELECT l.id, l.created_at, l.event, a.name AS actor, t.name AS target, l.detail, l.client_ip \
         FROM audit_log l LEFT JOIN admins a ON a.id = l.actor_id LEFT JOIN admins t ON t.id = l.target_id \
         WHERE {WHERE} ORDER BY l.id DESC LIMIT $6 OFFSET $7"
    );
    let rows = bind(sqlx::query(sqlx::AssertSqlSafe(sql)), account_id, filter)
        .bind(limit)
        .bind(offset)
        .fetch_all(&db.pool)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Row {
                id: r.try_get("id")?,
                created_at: r.try_get("created_at")?,
                event: r.try_get("event")?,
                actor: r.try_get("actor")?,
                target: r.try_get("target")?,
                detail: r.try_get("detail")?,
                client_ip: r.try_get("client_ip")?,
            })
        })
        .collect()
}

pub async fn count(db: &super::Db, account_id: i64, filter: &Filter) -> Result<i64, sqlx::Error> {
    use sqlx::Row as _;
    let sql = format!("SELECT COUNT(*) AS n FROM audit_log l WHERE {WHERE}");
    bind(sqlx::query(sqlx::AssertSqlSafe(sql)), account_id, filter)
        .fetch_one(&db.pool)
        .await?
        .try_get("n")
}

/// The event types that occur in the account's log (for the filter).
pub async fn event_types(db: &super::Db, account_id: i64) -> Result<Vec<String>, sqlx::Error> {
    use sqlx::Row as _;
    sqlx::query("SELECT DISTINCT event FROM audit_log WHERE account_id = $1 ORDER BY event")
        .bind(account_id)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| r.try_get("event"))
        .collect()
}

fn bind<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    account_id: i64,
    filter: &Filter,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    query
        .bind(account_id)
        .bind(filter.admin_id.unwrap_or(0))
        .bind(filter.event.clone().unwrap_or_default())
        .bind(filter.from.unwrap_or(i64::MIN))
        .bind(filter.until.unwrap_or(i64::MAX))
}
