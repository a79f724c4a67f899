//! `/healthz` and `/readyz` for load balancers and orchestrators: the process answers; and this
//! instance can serve: its database answers, every migration of this build is applied, and it
//! holds every key the stored secrets were sealed with (another instance may have rotated).

use crate::server::Ctx;
use crate::server::db::key_checks;
use serde::Serialize;
use std::time::Duration;

/// The longest a readiness check waits for the database.
const DATABASE_WAIT: Duration = Duration::from_secs(2);

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
    // The answer names what failed, never how (this endpoint is reachable by whoever reaches
    // the load balancer); the details go to the log.
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
