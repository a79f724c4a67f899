//! The admin table of Admin Management: one page of an account's admins with their 2FA state,
//! the counts above it, and edits made under a lock on the account.

use super::{Db, flag};
use crate::domain::admin_list::{Cursor, SortKey, TableQuery};
use crate::domain::admin_rules::AdminState;
use crate::domain::enforcement::{self, Rule};
use crate::domain::factors::Factors;
use crate::domain::role::Role;
use sqlx::Row;

#[derive(Clone, Debug)]
pub struct TableRow {
    pub id: i64,
    pub name: String,
    pub username: String,
    pub email: String,
    pub role: Role,
    pub active: bool,
    pub enforce_2fa: Option<bool>,
    pub enforce_2fa_deadline: Option<i64>,
    pub factors: Factors,
    pub must_change_password: bool,
    pub last_sign_in_at: Option<i64>,
    /// A pending reset request: (id, requested at).
    pub pending_reset: Option<(i64, i64)>,
    /// When an offered 2FA setup was last skipped.
    pub setup_skipped_at: Option<i64>,
}

/// Which admins a query selects by their reset requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    All,
    /// With a pending request.
    Pending,
    /// Without one.
    NotPending,
}

impl Which {
    fn condition(self) -> &'static str {
        match self {
            Which::All => "",
            Which::Pending => " AND r.id IS NOT NULL",
            Which::NotPending => " AND r.id IS NULL",
        }
    }
}

/// The admins with their credential and pending request, for `filter`.
const FROM: &str = "FROM admins a LEFT JOIN totp_credentials t ON t.admin_id = a.id \
                    LEFT JOIN reset_requests r ON r.admin_id = a.id AND r.status = 'pending'";

/// The admins with a pending request, read from the requests (a few) rather than the admins
/// (maybe 100,000); `r.account_id = $1` uses the requests' account index.
const FROM_PENDING: &str = "FROM reset_requests r JOIN admins a ON a.id = r.admin_id \
                            LEFT JOIN totp_credentials t ON t.admin_id = a.id";
const PENDING: &str = " AND r.account_id = $1 AND r.status = 'pending'";

/// The column expression each sort key orders by. Only these fixed strings reach the SQL.
fn order_by(key: SortKey) -> &'static str {
    match key {
        SortKey::Name => "LOWER(a.name)",
        SortKey::Username => "a.username",
        SortKey::Email => "a.email",
        SortKey::Role => "a.role",
        SortKey::TwoFactor => "has_2fa",
        // Never signed in sorts first ascending (last descending): the order the index holds
        // on both databases (PostgreSQL's through `NULLS FIRST`, see `sort`).
        SortKey::LastSignIn => "a.last_sign_in_at",
    }
}

/// `ORDER BY` for `key` in direction `dir`, ties broken by id.
fn sort(key: SortKey, descending: bool) -> String {
    let dir = if descending { "DESC" } else { "ASC" };
    let nulls = match (key, descending) {
        (SortKey::LastSignIn, false) => " NULLS FIRST",
        (SortKey::LastSignIn, true) => " NULLS LAST",
        _ => "",
    };
    format!("{} {dir}{nulls}, a.id {dir}", order_by(key))
}

/// The condition on the admins a query selects (`$1`: the account) and the values it takes
/// as `$2`, `$3`. Without a search the condition is the account alone, so PostgreSQL's cached
/// (generic) plan can walk the sort index and stop after one page instead of sorting every
/// admin of the account (35 ms against 0.2 ms with 10,000 admins). A search is a `LIKE` on
/// name, email and username, answered through trigram indexes (migration 0010): PostgreSQL's
/// pg_trgm indexes serve the `LIKE` itself; on SQLite the FTS5 trigram index first names the
/// admins holding the text (three characters or more), and the `LIKE` checks them.
struct Filter {
    sql: &'static str,
    values: Vec<String>,
}

/// The search's `LIKE` (`$2`), as a literal for `concat!`.
macro_rules! search {
    () => {
        "(LOWER(a.name) LIKE $2 ESCAPE '\\' \
         OR a.email LIKE $2 ESCAPE '\\' OR a.username LIKE $2 ESCAPE '\\')"
    };
}

fn filter(query: &TableQuery, backend: super::Backend) -> Filter {
    if query.search.is_empty() {
        return Filter {
            sql: "a.account_id = $1",
            values: Vec::new(),
        };
    }
    let like = query.like_pattern();
    if backend == super::Backend::Sqlite && query.search.chars().count() >= 3 {
        // An FTS5 phrase: the text in double quotes, its own quotes doubled.
        let phrase = format!("\"{}\"", query.search.to_lowercase().replace('"', "\"\""));
        return Filter {
            sql: concat!(
                "a.account_id = $1 AND a.id IN \
                 (SELECT rowid FROM admin_search WHERE admin_search MATCH $3) AND ",
                search!()
            ),
            values: vec![like, phrase],
        };
    }
    Filter {
        sql: concat!("a.account_id = $1 AND ", search!()),
        values: vec![like],
    }
}

/// Rows `offset..offset + limit` of the account's admins that `which` selects, in the query's
/// order (pending requests oldest first when `by_request` is set).
pub async fn page(
    db: &Db,
    account_id: i64,
    query: &TableQuery,
    which: Which,
    by_request: bool,
    offset: i64,
    limit: i64,
) -> Result<Vec<TableRow>, sqlx::Error> {
    if limit <= 0 {
        return Ok(Vec::new());
    }
    let filter = filter(query, db.backend);
    let limit_param = filter.values.len() + 2;
    let order = if by_request {
        "r.requested_at ASC, a.id ASC".to_string()
    } else {
        sort(query.sort, query.descending)
    };
    let (from, condition) = match which {
        Which::Pending => (FROM_PENDING, PENDING),
        _ => (FROM, which.condition()),
    };
    let sql = format!(
        "SELECT {COLUMNS} {from} \
         WHERE {}{condition} \
         ORDER BY {order} LIMIT ${limit_param} OFFSET ${}",
        filter.sql,
        limit_param + 1,
    );
    // Built from fixed fragments only (`filter`, `order_by`, ASC/DESC, parameter numbers);
    // values are bound.
    let mut select = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(account_id);
    for value in filter.values {
        select = select.bind(value);
    }
    let rows = select.bind(limit).bind(offset).fetch_all(&db.pool).await?;
    rows.iter().map(table_row).collect()
}

const COLUMNS: &str = "a.id, a.name, a.username, a.email, a.role, a.active, a.enforce_2fa, \
                       a.enforce_2fa_deadline, a.must_change_password, a.last_sign_in_at, a.setup_skipped_at, \
                       CASE WHEN t.admin_id IS NULL THEN 0 ELSE 1 END AS has_totp, a.factors, \
                       CASE WHEN a.factors > 0 THEN 1 ELSE 0 END AS has_2fa, \
                       r.id AS reset_id, r.requested_at AS reset_at";

fn table_row(r: &sqlx::any::AnyRow) -> Result<TableRow, sqlx::Error> {
    let role: String = r.try_get("role")?;
    Ok(TableRow {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        username: r.try_get("username")?,
        email: r.try_get("email")?,
        role: Role::parse(&role)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown role {role:?}").into()))?,
        active: r.try_get::<i64, _>("active")? != 0,
        enforce_2fa: r.try_get::<Option<i64>, _>("enforce_2fa")?.map(|v| v != 0),
        enforce_2fa_deadline: r.try_get("enforce_2fa_deadline")?,
        factors: {
            let totp = r.try_get::<i64, _>("has_totp")? != 0;
            Factors {
                totp,
                keys: r.try_get::<i64, _>("factors")? - i64::from(totp),
            }
        },
        must_change_password: r.try_get::<i64, _>("must_change_password")? != 0,
        last_sign_in_at: r.try_get("last_sign_in_at")?,
        pending_reset: match (
            r.try_get::<Option<i64>, _>("reset_id")?,
            r.try_get::<Option<i64>, _>("reset_at")?,
        ) {
            (Some(id), Some(at)) => Some((id, at)),
            _ => None,
        },
        setup_skipped_at: r.try_get("setup_skipped_at")?,
    })
}

/// One stretch of a sort's ascending order that an index holds as (key, id), or as id alone
/// within a condition. Sorting by last sign-in is two stretches (never signed in, by id; then
/// by time), sorting by 2FA too (without, by id; with, by id): a seek into a stretch is one
/// index range on either database, where one comparison over a nullable or computed key
/// would scan.
struct Stretch {
    /// Which admins it holds (appended to the `WHERE`).
    condition: &'static str,
    /// What it is ordered by before the id, if anything.
    key: Option<&'static str>,
}

/// The stretches of `key`'s ascending order, first to last.
fn stretches(key: SortKey) -> &'static [Stretch] {
    const fn by(key: &'static str) -> Stretch {
        Stretch {
            condition: "",
            key: Some(key),
        }
    }
    match key {
        SortKey::Name => {
            const S: &[Stretch] = &[by("LOWER(a.name)")];
            S
        }
        SortKey::Username => {
            const S: &[Stretch] = &[by("a.username")];
            S
        }
        SortKey::Email => {
            const S: &[Stretch] = &[by("a.email")];
            S
        }
        SortKey::Role => {
            const S: &[Stretch] = &[by("a.role")];
            S
        }
        SortKey::TwoFactor => &[
            Stretch {
                condition: " AND a.factors = 0",
                key: None,
            },
            Stretch {
                condition: " AND a.factors > 0",
                key: None,
            },
        ],
        SortKey::LastSignIn => &[
            Stretch {
                condition: " AND a.last_sign_in_at IS NULL",
                key: None,
            },
            Stretch {
                condition: " AND a.last_sign_in_at IS NOT NULL",
                key: Some("a.last_sign_in_at"),
            },
        ],
    }
}

/// A cursor admin's place in a sort: its stretch and its key there.
#[derive(Debug)]
enum KeyValue {
    Text(String),
    Number(i64),
    None,
}

/// Where admin `id` of `account_id` stands in `key`'s ascending order, with whether it has a
/// pending reset request; `None` when the account has no such admin.
async fn place(
    db: &Db,
    account_id: i64,
    id: i64,
    key: SortKey,
) -> Result<Option<(usize, KeyValue, bool)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT LOWER(a.name) AS name_key, a.username, a.email, a.role, a.last_sign_in_at, \
                CASE WHEN a.factors > 0 THEN 1 ELSE 0 END AS has_2fa, r.id AS reset_id \
         FROM admins a \
         LEFT JOIN reset_requests r ON r.admin_id = a.id AND r.status = 'pending' \
         WHERE a.id = $1 AND a.account_id = $2",
    )
    .bind(id)
    .bind(account_id)
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let pending = row.try_get::<Option<i64>, _>("reset_id")?.is_some();
    let (stretch, value) = match key {
        SortKey::Name => (0, KeyValue::Text(row.try_get("name_key")?)),
        SortKey::Username => (0, KeyValue::Text(row.try_get("username")?)),
        SortKey::Email => (0, KeyValue::Text(row.try_get("email")?)),
        SortKey::Role => (0, KeyValue::Text(row.try_get("role")?)),
        SortKey::TwoFactor => (
            usize::from(row.try_get::<i64, _>("has_2fa")? != 0),
            KeyValue::None,
        ),
        SortKey::LastSignIn => match row.try_get::<Option<i64>, _>("last_sign_in_at")? {
            None => (0, KeyValue::None),
            Some(at) => (1, KeyValue::Number(at)),
        },
    };
    Ok(Some((stretch, value, pending)))
}

/// Up to `limit` rows of the account's admins that `which` selects (`All` or `NotPending`),
/// next to the cursor's admin in the query's order: the rows right after it, or right before
/// it (still in page order). The database seeks to the cursor through the sort's index, so a
/// page far down costs what page 1 costs. `None` when the cursor cannot place the page: no
/// such admin in the account, or one that `which` does not select (its request came or went
/// since the page was drawn); the caller then counts rows from the top instead.
pub async fn page_at(
    db: &Db,
    account_id: i64,
    query: &TableQuery,
    which: Which,
    cursor: Cursor,
    limit: i64,
) -> Result<Option<Vec<TableRow>>, sqlx::Error> {
    debug_assert!(which != Which::Pending, "pending pages are few: by offset");
    let (id, after) = match cursor {
        Cursor::After(id) => (id, true),
        Cursor::Before(id) => (id, false),
    };
    let Some((at, value, pending)) = place(db, account_id, id, query.sort).await? else {
        return Ok(None);
    };
    if which == Which::NotPending && pending {
        return Ok(None);
    }
    let stretches = stretches(query.sort);
    // Walking the ascending order up (`>`) or down (`<`).
    let up = after != query.descending;
    let (op, dir) = if up { (">", "ASC") } else { ("<", "DESC") };
    let order: Vec<usize> = if up {
        (at..stretches.len()).collect()
    } else {
        (0..=at).rev().collect()
    };
    let filter = filter(query, db.backend);
    // The pieces to read, in order: in the cursor's stretch, first the admins that share its
    // key (by id, beyond its id), then those whose key lies beyond; then the following
    // stretches from their start. Each is one index range (`key = k AND id > i`, `key > k`): a
    // row-value comparison `(key, id) > (k, i)` reads a whole group of equal keys (every admin
    // with the same role) before the cursor on SQLite, and skips an expression index there.
    let mut pieces: Vec<(String, String, Option<&KeyValue>, bool)> = Vec::new();
    for (n, index) in order.into_iter().enumerate() {
        let stretch = &stretches[index];
        let by_key = stretch.key.map(|key| format!("{key} {dir}, "));
        let by_key = by_key.as_deref().unwrap_or("");
        match (n, stretch.key, &value) {
            (0, Some(key), KeyValue::Text(_) | KeyValue::Number(_)) => {
                pieces.push((
                    format!("{} AND {key} = $K AND a.id {op} $I", stretch.condition),
                    format!("a.id {dir}"),
                    Some(&value),
                    true,
                ));
                pieces.push((
                    format!("{} AND {key} {op} $K", stretch.condition),
                    format!("{by_key}a.id {dir}"),
                    Some(&value),
                    false,
                ));
            }
            (0, _, _) => pieces.push((
                format!("{} AND a.id {op} $I", stretch.condition),
                format!("{by_key}a.id {dir}"),
                None,
                true,
            )),
            _ => pieces.push((
                stretch.condition.to_string(),
                format!("{by_key}a.id {dir}"),
                None,
                false,
            )),
        }
    }
    let mut rows = Vec::new();
    for (condition, order_by, key, with_id) in pieces {
        let wanted = limit - rows.len() as i64;
        if wanted <= 0 {
            break;
        }
        // Parameters after the account and the search's values: the key, the id, the limit.
        let mut next = filter.values.len() + 2;
        let mut condition = condition;
        if key.is_some() {
            condition = condition.replace("$K", &format!("${next}"));
            next += 1;
        }
        if with_id {
            condition = condition.replace("$I", &format!("${next}"));
            next += 1;
        }
        let sql = format!(
            "SELECT {COLUMNS} {FROM} WHERE {}{}{condition} ORDER BY {order_by} LIMIT ${next}",
            filter.sql,
            which.condition(),
        );
        // Fixed fragments only; values are bound.
        let mut select = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(account_id);
        for value in &filter.values {
            select = select.bind(value.clone());
        }
        select = match key {
            Some(KeyValue::Text(text)) => select.bind(text.clone()),
            Some(KeyValue::Number(number)) => select.bind(*number),
            _ => select,
        };
        if with_id {
            select = select.bind(id);
        }
        for row in &select.bind(wanted).fetch_all(&db.pool).await? {
            rows.push(table_row(row)?);
        }
    }
    if !after {
        rows.reverse();
    }
    Ok(Some(rows))
}

/// How many admins match the search (and `which`).
pub async fn count(
    db: &Db,
    account_id: i64,
    query: &TableQuery,
    which: Which,
) -> Result<i64, sqlx::Error> {
    let Filter {
        sql: filter,
        values,
    } = filter(query, db.backend);
    let sql = match which {
        // Kept current on write.
        Which::All if values.is_empty() => {
            return Ok(counts(db, account_id).await?.admins);
        }
        Which::All => format!("SELECT COUNT(*) AS n FROM admins a WHERE {filter}"),
        Which::Pending => format!(
            "SELECT COUNT(*) AS n FROM reset_requests r JOIN admins a ON a.id = r.admin_id \
             WHERE {filter}{PENDING}"
        ),
        Which::NotPending => format!(
            "SELECT COUNT(*) AS n FROM admins a \
             LEFT JOIN reset_requests r ON r.admin_id = a.id AND r.status = 'pending' \
             WHERE {filter}{}",
            which.condition()
        ),
    };
    let mut count = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(account_id);
    for value in values {
        count = count.bind(value);
    }
    count.fetch_one(&db.pool).await?.try_get("n")
}

/// 2FA state of the account's active admins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Overview {
    pub active_admins: i64,
    pub two_factor_active: i64,
    /// Enforced, past any grace period, not set up.
    pub enforced_not_set_up: i64,
    /// Enforced with a grace period still running, not set up.
    pub in_grace_period: i64,
}

/// The overview at `now`, for an account whose "Force two-factor authentication" is `account`.
/// The kept counts give it but for the admins whose own "Enforce 2FA" has a grace period
/// running: those are counted through their partial index (migration 0012).
pub async fn overview(
    db: &Db,
    account_id: i64,
    account: Rule,
    now: i64,
) -> Result<Overview, sqlx::Error> {
    let counts = counts(db, account_id).await?;
    let own_graced: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM admins a \
         WHERE a.account_id = $1 AND a.enforce_2fa_deadline > $2 \
           AND a.active = 1 AND a.enforce_2fa = 1 \
           AND a.factors = 0",
    )
    .bind(account_id)
    .bind(now)
    .fetch_one(&db.pool)
    .await?
    .try_get("n")?;
    // "Enforce 2FA" on, or following the account while it forces 2FA.
    let following = enforcement::effective(account, None);
    let (account_required, account_graced) = if !following.enforced {
        (0, 0)
    } else if following.grace_until(now).is_some() {
        (0, counts.active_default_no_totp)
    } else {
        (counts.active_default_no_totp, 0)
    };
    Ok(Overview {
        active_admins: counts.active,
        two_factor_active: counts.active_totp,
        // Two reads: an edit between them must not show a negative count.
        enforced_not_set_up: (counts.active_on_no_totp - own_graced).max(0) + account_required,
        in_grace_period: own_graced + account_graced,
    })
}

/// An account's admin counts, kept current by triggers (migration 0009).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub admins: i64,
    pub active: i64,
    pub active_totp: i64,
    pub active_on_no_totp: i64,
    pub active_default_no_totp: i64,
}

pub async fn counts(db: &Db, account_id: i64) -> Result<Counts, sqlx::Error> {
    let row = sqlx::query(
        "SELECT admins, active, active_totp, active_on_no_totp, active_default_no_totp \
         FROM admin_counts WHERE account_id = $1",
    )
    .bind(account_id)
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else {
        return Ok(Counts::default());
    };
    Ok(Counts {
        admins: row.try_get("admins")?,
        active: row.try_get("active")?,
        active_totp: row.try_get("active_totp")?,
        active_on_no_totp: row.try_get("active_on_no_totp")?,
        active_default_no_totp: row.try_get("active_default_no_totp")?,
    })
}

/// The same counts, counted (what the triggers must agree with; tests compare them).
pub async fn recount(db: &Db, account_id: i64) -> Result<Counts, sqlx::Error> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS admins, \
                COUNT(CASE WHEN a.active = 1 THEN 1 END) AS active, \
                COUNT(CASE WHEN a.active = 1 AND f.n > 0 THEN 1 END) AS active_totp, \
                COUNT(CASE WHEN a.active = 1 AND f.n = 0 AND a.enforce_2fa = 1 \
                    THEN 1 END) AS active_on_no_totp, \
                COUNT(CASE WHEN a.active = 1 AND f.n = 0 AND a.enforce_2fa IS NULL \
                    THEN 1 END) AS active_default_no_totp \
         FROM admins a JOIN (SELECT a2.id, \
             (SELECT COUNT(*) FROM totp_credentials t WHERE t.admin_id = a2.id) \
             + (SELECT COUNT(*) FROM security_keys k WHERE k.admin_id = a2.id) AS n \
             FROM admins a2 WHERE a2.account_id = $1) f ON f.id = a.id \
         WHERE a.account_id = $1",
    )
    .bind(account_id)
    .fetch_one(&db.pool)
    .await?;
    Ok(Counts {
        admins: row.try_get("admins")?,
        active: row.try_get("active")?,
        active_totp: row.try_get("active_totp")?,
        active_on_no_totp: row.try_get("active_on_no_totp")?,
        active_default_no_totp: row.try_get("active_default_no_totp")?,
    })
}

/// What an edit sets.
pub struct Changes<'a> {
    pub name: &'a str,
    pub role: Role,
    pub active: bool,
    /// "Enforce 2FA" with its grace period; `None`: the account setting applies.
    pub enforce_2fa: Option<Rule>,
}

#[derive(Debug, thiserror::Error)]
pub enum EditError<E> {
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Refused(E),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Applies `changes` to admin `id` of `account_id` if `check(before, other active super
/// admins)` allows it. Edits of one account are serialised (a lock on its row), so two super
/// admins demoting each other cannot both succeed. A deactivated admin's sessions end with it.
pub async fn edit<E>(
    db: &Db,
    account_id: i64,
    id: i64,
    changes: Changes<'_>,
    now: i64,
    check: impl FnOnce(AdminState, i64) -> Result<(), E>,
) -> Result<(), EditError<E>> {
    let mut tx = db.write().await?;
    sqlx::query("UPDATE accounts SET force_2fa = force_2fa WHERE id = $1")
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
    let before = sqlx::query("SELECT role, active FROM admins WHERE id = $1 AND account_id = $2")
        .bind(id)
        .bind(account_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(EditError::NotFound)?;
    let role: String = before.try_get("role")?;
    let before = AdminState {
        role: Role::parse(&role)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown role {role:?}").into()))?,
        active: before.try_get::<i64, _>("active")? != 0,
    };
    let others: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM admins \
         WHERE account_id = $1 AND role = 'super_admin' AND active = 1 AND id <> $2",
    )
    .bind(account_id)
    .bind(id)
    .fetch_one(&mut *tx)
    .await?
    .try_get("n")?;
    check(before, others).map_err(EditError::Refused)?;
    sqlx::query(
        "UPDATE admins SET name = $1, role = $2, active = $3, enforce_2fa = $4, \
         enforce_2fa_deadline = $5, updated_at = $6 WHERE id = $7 AND account_id = $8",
    )
    .bind(changes.name)
    .bind(changes.role.as_str())
    .bind(flag(changes.active))
    .bind(changes.enforce_2fa.map(|rule| flag(rule.on)))
    .bind(
        changes
            .enforce_2fa
            .and_then(|rule| rule.deadline.filter(|_| rule.on)),
    )
    .bind(now)
    .bind(id)
    .bind(account_id)
    .execute(&mut *tx)
    .await?;
    if !changes.active {
        super::sessions::end_for_admin(&mut tx, id).await?;
    }
    tx.commit().await?;
    Ok(())
}
