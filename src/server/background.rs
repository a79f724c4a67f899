//! What a serving instance runs beside the requests: the relay of live events between
//! instances (PostgreSQL), the removal of expired sessions, and the expiry of reset requests
//! nobody decided (so their badges go even when nobody looks).

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
            if let Err(e) = resets::expire_due(&ctx, ctx.now()).await {
                tracing::warn!("expiring reset requests: {e}");
            }
            if minutes.is_multiple_of(10)
                && let Err(e) = store.delete_expired().await
            {
                tracing::warn!("deleting expired sessions: {e}");
            }
            minutes += 1;
        }
    });
}
