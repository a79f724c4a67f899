//! The database: one pool over sqlx's Any driver, SQLite (embedded default) or PostgreSQL.
//!
//! SQL is written once, portable between the two (`$1` placeholders, BIGINT/INTEGER columns,
//! 0/1 booleans, unix-second times). Each backend has its own migrations directory.

pub mod accounts;
pub mod admin_table;
pub mod admins;
pub mod audit;
pub mod auth_failures;
pub mod key_checks;
pub mod notifications;
pub mod rate_limits;
pub mod recovery_codes;
pub mod remembered_browsers;
pub mod reset_requests;
pub mod security_keys;
pub mod sessions;
pub mod totp;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Connection, Executor};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Backend, String> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(format!(
                "DATABASE_URL must start with sqlite: or postgres: (got {:?})",
                url.split(':').next().unwrap_or_default()
            ))
        }
    }
}

#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// SQLite: the task that checkpoints the write-ahead log, stopped with the last handle.
    _checkpoints: Option<Arc<Checkpoints>>,
}

/// How often SQLite's write-ahead log is copied back into the database file, off the requests'
/// path. Left to SQLite, the commit that fills the log to 1,000 pages copies it and waits for
/// the copy's two fsyncs (the only ones under `synchronous = NORMAL`): one sign-in in a hundred
/// or so took that commit's few milliseconds more.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// Should the task fall behind (all connections busy for longer than a second), a commit still
/// checkpoints once the log holds this many pages (about 16 MB of 4 KiB pages).
const AUTOCHECKPOINT_PAGES: u32 = 4_000;

/// What the log file is cut back to after a checkpoint that emptied it, so that a burst does
/// not leave it large for good.
const LOG_SIZE_LIMIT_BYTES: u32 = 64 << 20;

/// A connection idle in the pool for longer than this is pinged before a request gets it: the
/// database may have restarted or ended it meanwhile (`pg_terminate_backend`, an idle timeout,
/// a failover). One in steady use is not: sqlx pings every connection anyway as it goes back
/// to the pool, and closes it when that fails, so one idle for less has just answered. (Not
/// quite always: sqlx's maintenance pass, every few minutes, puts each idle connection back
/// without a ping, so for a second after it one ended earlier passes unchecked and fails the
/// request that gets it.) sqlx's default pinged on every acquire, a round trip to PostgreSQL
/// (a hand-off to the connection's thread on SQLite) before each of a request's statements run
/// through the pool.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// The checkpointing task of a SQLite database, stopped when dropped.
#[derive(Debug)]
struct Checkpoints(tokio::task::JoinHandle<()>);

impl Drop for Checkpoints {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Checkpoints {
    fn spawn(pool: AnyPool) -> Checkpoints {
        Checkpoints(tokio::spawn(async move {
            let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if pool.is_closed() {
                    return;
                }
                // PASSIVE: copies what no reader still needs, never waits for readers or the
                // writer, and blocks neither.
                if let Err(e) = pool.execute("PRAGMA wal_checkpoint(PASSIVE)").await {
                    tracing::warn!("checkpointing the SQLite log: {e}");
                }
            }
        }))
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Db {
    /// Connects (creating a SQLite file when missing) and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Db, sqlx::Error> {
        install_default_drivers();
        let backend = Backend::from_url(url).map_err(|e| sqlx::Error::Configuration(e.into()))?;
        let (url, max) = match backend {
            Backend::Sqlite => (sqlite_url(url), 8),
            Backend::Postgres => (url.to_string(), 16),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(10))
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= PING_IF_IDLE_FOR {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // Wait for the writer instead of failing with SQLITE_BUSY.
                        conn.execute("PRAGMA busy_timeout = 5000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        // Checkpoints are the task's (`CHECKPOINT_EVERY`).
                        conn.execute(sqlx::AssertSqlSafe(format!(
                            "PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}"
                        )))
                        .await?;
                        conn.execute(sqlx::AssertSqlSafe(format!(
                            "PRAGMA journal_size_limit = {LOG_SIZE_LIMIT_BYTES}"
                        )))
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        if backend == Backend::Sqlite {
            // WAL lets readers work while one connection writes; it is stored in the file.
            pool.execute("PRAGMA journal_mode = WAL").await?;
        }
        let checkpoints =
            (backend == Backend::Sqlite).then(|| Arc::new(Checkpoints::spawn(pool.clone())));
        let db = Db {
            pool,
            backend,
            _checkpoints: checkpoints,
        };
        db.migrate().await?;
        Ok(db)
    }

    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    async fn migrate(&self) -> Result<(), sqlx::Error> {
        self.migrator().run(&self.pool).await?;
        Ok(())
    }

    /// A transaction for writes that must land together (a sign-in step's): one commit instead
    /// of one per statement, and nothing half-written. On SQLite it takes the write lock at
    /// once (`BEGIN IMMEDIATE`): a deferred transaction that read first could not write once
    /// another connection had (`SQLITE_BUSY_SNAPSHOT`, which the busy timeout does not wait
    /// out). Held for statements only, never across a hash or a message sent; and while it is
    /// open nothing goes through the pool: on SQLite a write there would wait for this very
    /// lock, and a read could wait for a connection that writers queued behind it hold.
    pub async fn write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// A background sweep: deletes the rows of `table` (keyed by `key`) that `stale` picks,
    /// with `args` bound to its `$1`, `$2`... On PostgreSQL the sweep passes over the rows a
    /// transaction holds, and so never waits inside one. A transaction takes its rows one by
    /// one (an attempt's address counter, then its admin's); a sweep that took an old row the
    /// transaction wanted next and then waited for one the transaction held deadlocked with it,
    /// and the server aborted one of the two, often the admin's request. What it passes over is
    /// swept the next time. SQLite has one writer at a time: its sweep waits for whole
    /// transactions, never inside one.
    pub async fn sweep(
        &self,
        table: &'static str,
        key: &'static str,
        stale: &'static str,
        args: &[i64],
    ) -> Result<u64, sqlx::Error> {
        let sql = match self.backend {
            Backend::Postgres => format!(
                "DELETE FROM {table} WHERE {key} IN \
                 (SELECT {key} FROM {table} WHERE {stale} FOR UPDATE SKIP LOCKED)"
            ),
            Backend::Sqlite => format!("DELETE FROM {table} WHERE {stale}"),
        };
        let mut delete = sqlx::query(sqlx::AssertSqlSafe(sql));
        for arg in args {
            delete = delete.bind(*arg);
        }
        Ok(delete.execute(&self.pool).await?.rows_affected())
    }

    /// How many of this build's migrations the database has not applied successfully.
    pub async fn pending_migrations(&self) -> Result<usize, sqlx::Error> {
        let applied: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_all(&self.pool)
                .await?;
        Ok(self
            .migrator()
            .iter()
            .filter(|m| !m.migration_type.is_down_migration())
            .filter(|m| !applied.contains(&m.version))
            .count())
    }
}

/// `sqlite://file.db` → create the file when missing.
fn sqlite_url(url: &str) -> String {
    if url.contains("mode=") || url.contains(":memory:") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// True when `err` is a unique-constraint violation (duplicate email, second credential...).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// 0/1 integer columns.
pub fn flag(value: bool) -> i64 {
    i64::from(value)
}
