//! What a serving instance runs beside the requests: the relay of live events between
//! instances (PostgreSQL), the removal of expired sessions, old counters and remembered
//! browsers that no longer count, the expiry of
//! reset requests nobody decided (so their badges go even when nobody looks), and giving back
//! password-verification memory nobody used for a minute.

use crate::server::db::{auth_failures, rate_limits, remembered_browsers};
use crate::server::{Ctx, resets};
use std::time::Duration;

pub fn spawn(ctx: &Ctx) {
    ctx.hub
        .spawn_postgres_relay(ctx.config.database_url.clone());
    let ctx = ctx.clone();
    tokio::spawn(async move {
        let store = ctx.session_store();
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        let mut minutes = 0u64;
        loop {
            tick.tick().await;
            // Verification memory nobody used for a minute goes back to the system.
            ctx.passwords.trim_idle(Duration::from_secs(60));
            // Channels of accounts whose last live connection closed.
            ctx.hub.sweep();
            if let Err(e) = resets::expire_due(&ctx, ctx.now()).await {
                tracing::warn!("expiring reset requests: {e}");
            }
            if minutes.is_multiple_of(10) {
                let now = ctx.now();
                if let Err(e) = store.delete_expired().await {
                    tracing::warn!("deleting expired sessions: {e}");
                }
                // Counters nobody failed on for a day, and rate-limit windows long over: an
                // attacker spraying names or addresses cannot grow them for ever.
                if let Err(e) = auth_failures::delete_stale(&ctx.db, now, 86_400).await {
                    tracing::warn!("deleting old failure counters: {e}");
                }
                if let Err(e) = rate_limits::delete_stale(&ctx.db, now, 2 * 86_400).await {
                    tracing::warn!("deleting old rate-limit windows: {e}");
                }
                // Remembered browsers that can no longer skip a code.
                if let Err(e) = remembered_browsers::delete_stale(&ctx.db, now).await {
                    tracing::warn!("deleting stale remembered browsers: {e}");
                }
            }
            minutes += 1;
        }
    });
}
