//! The admin's own sessions: listed on the profile, ended one by one or all but this one.

use crate::domain::device;
use crate::model::AppError;
use crate::model::types::SessionInfo;
use crate::server::auth::{Client, SignedIn};
use crate::server::db::sessions;
use crate::server::notify::{self, Event};
use crate::server::{Ctx, OrInternal};

pub async fn list(ctx: &Ctx, signed_in: &SignedIn) -> Result<Vec<SessionInfo>, AppError> {
    let current = signed_in.session.id().map(|id| sessions::id_hash(&id));
    let rows = sessions::list_complete_for_admin(&ctx.db, signed_in.admin.id, ctx.now())
        .await
        .or_internal()?;
    let mut list: Vec<SessionInfo> = rows
        .into_iter()
        .map(|r| SessionInfo {
            current: current.as_deref() == Some(r.handle.as_str()),
            handle: r.handle,
            device: device::describe(r.user_agent.as_deref().unwrap_or_default()),
            address: r.client_ip,
            signed_in_at: r.created_at,
            last_seen_at: r.last_seen_at,
        })
        .collect();
    // This browser first, then the others by last activity.
    list.sort_by_key(|s| (!s.current, -s.last_seen_at));
    Ok(list)
}

pub async fn end_one(
    ctx: &Ctx,
    signed_in: &SignedIn,
    client: &Client,
    handle: &str,
) -> Result<(), AppError> {
    if handle.len() != 64 || !handle.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::invalid(
            "handle",
            "That is not a session of yours.",
        ));
    }
    // Only the admin's own sessions: another admin's handle is "not found".
    if !sessions::delete_by_handle(&ctx.db, signed_in.admin.id, handle)
        .await
        .or_internal()?
    {
        return Err(AppError::NotFound);
    }
    notify::audit(
        ctx,
        Event::by_self(&signed_in.admin, "session_ended", "from the profile"),
        client,
        ctx.now(),
    )
    .await
}

pub async fn end_others(ctx: &Ctx, signed_in: &SignedIn, client: &Client) -> Result<u64, AppError> {
    let ended = crate::server::auth::end_other_sessions(ctx, signed_in).await?;
    notify::audit(
        ctx,
        Event::by_self(
            &signed_in.admin,
            "session_ended",
            &format!("{ended} other session(s) from the profile"),
        ),
        client,
        ctx.now(),
    )
    .await?;
    Ok(ended)
}
