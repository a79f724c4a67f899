//! Live events served to browsers as server-sent events (`GET /api/events`).
//!
//! A connection is authorised before it opens and carries only its audience's events: the
//! account's events for a fully signed-in super admin, or the admin's own reset outcome for a
//! sign-in waiting at the code step. The session is checked again every 30 s, so a connection
//! ends soon after its session does, and a waiting sign-in's connection ends with its 5 minutes.
//! A session may hold a few connections (tabs), not more. A client too slow to keep up is
//! dropped, not buffered.

use crate::domain::access::Stage;
use crate::domain::network::throttle_bucket;
use crate::server::Ctx;
use crate::server::auth::client_ip;
use crate::server::auth::{current_auth, require_pending_code, require_super_admin};
use crate::server::db::sessions::{AUTH_KEY, SessionAuth, id_hash};
use crate::server::hub::{Audience, ConnectionSlot, Envelope, Holder, Subscription};
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use http::StatusCode;
use http::request::Parts;
use std::convert::Infallible;
use std::time::Duration;
use tower_sessions::Session;
use tower_sessions::session_store::SessionStore;

/// Who a connection is for.
#[derive(Clone, Copy, Debug)]
enum Subscriber {
    SuperAdmin { account_id: i64, admin_id: i64 },
    WaitingSignIn { account_id: i64, admin_id: i64 },
}

impl Subscriber {
    fn account_id(self) -> i64 {
        match self {
            Subscriber::SuperAdmin { account_id, .. }
            | Subscriber::WaitingSignIn { account_id, .. } => account_id,
        }
    }

    fn admin_id(self) -> i64 {
        match self {
            Subscriber::SuperAdmin { admin_id, .. }
            | Subscriber::WaitingSignIn { admin_id, .. } => admin_id,
        }
    }

    fn wants(self, envelope: &Envelope) -> bool {
        if envelope.audience == Audience::Everyone {
            return true;
        }
        match self {
            Subscriber::SuperAdmin { account_id, .. } => {
                envelope.account_id == account_id && envelope.audience == Audience::SuperAdmins
            }
            Subscriber::WaitingSignIn {
                account_id,
                admin_id,
            } => {
                envelope.account_id == account_id && envelope.audience == Audience::Admin(admin_id)
            }
        }
    }
}

/// Decides from the session (and the admin's current role) who may listen.
async fn subscriber(ctx: &Ctx, session: &Session) -> Option<Subscriber> {
    let auth = current_auth(ctx, session).await.ok()??;
    // The same checks as the server functions: the admin is read fresh (active, role), and a
    // session that must set 2FA up first (enforcement) is no super admin's session yet.
    match auth.stage {
        Stage::Complete => {
            let signed = require_super_admin(ctx, session).await.ok()?;
            Some(Subscriber::SuperAdmin {
                account_id: signed.account.id,
                admin_id: signed.admin.id,
            })
        }
        Stage::AwaitingCode { .. } => {
            let signed = require_pending_code(ctx, session).await.ok()?;
            Some(Subscriber::WaitingSignIn {
                account_id: signed.account.id,
                admin_id: signed.admin.id,
            })
        }
        _ => None,
    }
}

/// `GET /api/events`: the live connection.
pub async fn events(State(ctx): State<Ctx>, session: Session, parts: Parts) -> Response {
    let Some(who) = subscriber(&ctx, &session).await else {
        return (
            StatusCode::UNAUTHORIZED,
            "Sign in as a super admin to receive live events.",
        )
            .into_response();
    };
    let Some(session_id) = session.id() else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let address = client_ip(
        &parts.headers,
        &parts.extensions,
        ctx.config.proxies().as_ref(),
    )
    .map(|ip| throttle_bucket(&ip.to_string()));
    let holder = Holder {
        session: &id_hash(&session_id),
        admin_id: who.admin_id(),
        address: address.as_deref(),
    };
    let Some(slot) = ctx.hub.open_connection(holder) else {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many live connections: close a tab.",
        )
            .into_response();
    };
    let stream = event_stream(ctx, who, session_id, slot);
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

struct Feed {
    ctx: Ctx,
    who: Subscriber,
    session_id: tower_sessions::session::Id,
    rx: Subscription,
    recheck: tokio::time::Interval,
    /// True once the instance shuts down.
    closing: tokio::sync::watch::Receiver<bool>,
    /// Given back when the connection ends.
    _slot: ConnectionSlot,
}

fn event_stream(
    ctx: Ctx,
    who: Subscriber,
    session_id: tower_sessions::session::Id,
    slot: ConnectionSlot,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let rx = ctx.hub.subscribe(who.account_id());
    let every = Duration::from_secs(u64::from(ctx.config.live_recheck_seconds.max(1)));
    let mut recheck = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let closing = ctx.hub.closing();
    let feed = Feed {
        ctx,
        who,
        session_id,
        rx,
        recheck,
        closing,
        _slot: slot,
    };
    futures::stream::unfold(feed, |mut feed| async move {
        loop {
            tokio::select! {
                received = feed.rx.account.recv() => match received {
                    Ok(envelope) if feed.who.wants(&envelope) => {
                        let data = serde_json::to_string(&envelope.event).unwrap_or_default();
                        return Some((Ok(Event::default().data(data)), feed));
                    }
                    Ok(_) => continue,
                    // Too slow to keep up, or the hub is gone: end; the browser reconnects.
                    Err(_) => return None,
                },
                received = feed.rx.everyone.recv() => match received {
                    Ok(envelope) if feed.who.wants(&envelope) => {
                        let data = serde_json::to_string(&envelope.event).unwrap_or_default();
                        return Some((Ok(Event::default().data(data)), feed));
                    }
                    Ok(_) => continue,
                    Err(_) => return None,
                },
                _ = feed.recheck.tick() => {
                    if !still_allowed(&feed).await {
                        return None;
                    }
                }
                // Shutting down: end the stream; the browser reconnects.
                changed = feed.closing.changed() => {
                    if changed.is_err() || *feed.closing.borrow() {
                        return None;
                    }
                }
            }
        }
    })
}

/// The session still exists, is at the stage the connection was opened for, has not run out
/// (a waiting sign-in has 5 minutes; any session its absolute lifetime), and a super admin still
/// is one.
async fn still_allowed(feed: &Feed) -> bool {
    let ctx = &feed.ctx;
    let Ok(Some(record)) = ctx.session_store().load(&feed.session_id).await else {
        return false;
    };
    let Some(auth) = record
        .data
        .get(AUTH_KEY)
        .and_then(|v| serde_json::from_value::<SessionAuth>(v.clone()).ok())
    else {
        return false;
    };
    let now = ctx.now();
    let lifetime = i64::from(ctx.config.session_max_hours) * 3600;
    if auth.stage.is_expired(now) || now - auth.signed_in_at >= lifetime {
        return false;
    }
    match feed.who {
        Subscriber::SuperAdmin {
            account_id,
            admin_id,
        } => {
            if auth.stage != Stage::Complete || auth.admin_id != admin_id {
                return false;
            }
            let Ok(Some((admin, account))) = ctx.admin_with_account(account_id, admin_id).await
            else {
                return false;
            };
            if !admin.active
                || !admin.role.is_super_admin()
                || admin.session_generation != auth.generation
            {
                return false;
            }
            // 2FA became required and is not set up: the session is sent to the setup at its
            // next request; its live connection ends now.
            !account
                .requirement(admin.enforcement_rule())
                .setup_due(admin.factors, ctx.now())
        }
        Subscriber::WaitingSignIn { admin_id, .. } => {
            matches!(auth.stage, Stage::AwaitingCode { .. }) && auth.admin_id == admin_id
        }
    }
}
