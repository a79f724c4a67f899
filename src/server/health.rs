//! `/healthz` and `/readyz` for load balancers and orchestrators: the process answers; and this
//! instance can serve: its database answers, every migration of this build is applied, and it
//! holds every key the stored secrets were sealed with (another instance may have rotated).
//!
//! Probes are not rate limited and need no session, so whoever reaches the load balancer may
//! send them: the check runs at most once per `FRESH_SECONDS` (callers meanwhile share its
//! answer), and the public answer says ready or not, nothing more. What is not ready goes to
//! the log and to `/readyz` on the private metrics listener, which checks afresh each time.

use crate::server::Ctx;
use crate::server::db::key_checks;
use serde::Serialize;
use std::time::Duration;

/// The longest a readiness check waits for the database.
const DATABASE_WAIT: Duration = Duration::from_secs(2);
/// How long a check's answer is given to probes.
const FRESH_SECONDS: i64 = 2;

/// The last check and when it ended (the server's clock, seconds), and the right to run the
/// next one.
#[derive(Debug, Default)]
pub struct Checked {
    last: std::sync::Mutex<Option<(i64, Readiness)>>,
    checking: tokio::sync::Mutex<()>,
}

impl Checked {
    fn last(&self) -> Option<(i64, Readiness)> {
        self.last.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// The readiness of `ctx`, checked at most once per `FRESH_SECONDS`. While a check runs,
/// callers get the last answer instead of queueing behind it (only the very first callers
/// wait for it), so a flood of probes cannot slow an instance's answers down.
pub async fn cached(ctx: &Ctx) -> Readiness {
    let checked = &ctx.readiness;
    let fresh = |last: &Option<(i64, Readiness)>| match last {
        Some((at, readiness)) if (0..FRESH_SECONDS).contains(&(ctx.now() - at)) => {
            Some(readiness.clone())
        }
        _ => None,
    };
    if let Some(readiness) = fresh(&checked.last()) {
        return readiness;
    }
    let _checking = match checked.checking.try_lock() {
        Ok(guard) => guard,
        Err(_) => match checked.last() {
            Some((_, readiness)) => return readiness,
            None => checked.checking.lock().await,
        },
    };
    // Another caller may have checked while this one waited.
    if let Some(readiness) = fresh(&checked.last()) {
        return readiness;
    }
    let readiness = readiness(ctx).await;
    if !readiness.ready {
        tracing::warn!(
            database = %readiness.database,
            migrations = %readiness.migrations,
            keys = %readiness.keys,
            "not ready"
        );
    }
    *checked.last.lock().unwrap_or_else(|e| e.into_inner()) = Some((ctx.now(), readiness.clone()));
    readiness
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Readiness {
    pub ready: bool,
    pub database: String,
    pub migrations: String,
    pub keys: String,
}

pub async fn readiness(ctx: &Ctx) -> Readiness {
    let db = &ctx.db;
    let checks = async {
        sqlx::query("SELECT 1").execute(&db.pool).await?;
        let pending = db.pending_migrations().await?;
        let in_use = key_checks::ids_in_use(db).await?;
        Ok::<_, sqlx::Error>((pending, in_use))
    };
    // The answer names what failed, never how; the details go to the log.
    let (pending, in_use) = match tokio::time::timeout(DATABASE_WAIT, checks).await {
        Ok(Ok(found)) => found,
        Ok(Err(e)) => {
            tracing::warn!("readiness: database: {e}");
            return not_ready("unreachable");
        }
        Err(_) => {
            tracing::warn!("readiness: database did not answer within {DATABASE_WAIT:?}");
            return not_ready("unreachable");
        }
    };
    let missing = in_use.iter().filter(|id| !ctx.keyring.has(id)).count();
    let migrations = if pending == 0 {
        "ok".to_string()
    } else {
        format!("{pending} pending")
    };
    let keys = if missing == 0 {
        "ok".to_string()
    } else {
        format!("{missing} missing")
    };
    Readiness {
        ready: pending == 0 && missing == 0,
        database: "ok".into(),
        migrations,
        keys,
    }
}

fn not_ready(database: &str) -> Readiness {
    Readiness {
        ready: false,
        database: database.into(),
        migrations: "unknown".into(),
        keys: "unknown".into(),
    }
}
