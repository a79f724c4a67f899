//! Live events: one hub per instance (a tokio broadcast channel), relayed between instances
//! through PostgreSQL LISTEN/NOTIFY, and served to browsers as server-sent events.
//!
//! A connection is authorised before it opens and carries only its audience's events: the
//! account's events for a fully signed-in super admin, or the admin's own reset outcome for a
//! sign-in waiting at the code step. The session is checked again every 30 s, so a connection
//! ends soon after its session does. A client too slow to keep up is dropped, not buffered.

use crate::api::types::LiveEvent;
use crate::domain::access::Stage;
use crate::server::auth::current_auth_with;
use crate::server::db::{Backend, Db, admins};
use crate::server::state::AppState;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use http::StatusCode;
use serde::{Deserialize, Serialize};
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast;
use tower_sessions::Session;
use tower_sessions::session_store::SessionStore;

const CHANNEL: &str = "mssp_events";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Audience {
    /// Every signed-in super admin of the account.
    SuperAdmins,
    /// One admin (their waiting sign-in page).
    Admin(i64),
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Envelope {
    /// The instance that published it (to skip our own NOTIFY echo).
    origin: u64,
    pub account_id: i64,
    pub audience: Audience,
    pub event: LiveEvent,
}

#[derive(Clone, Debug)]
pub struct Hub {
    tx: broadcast::Sender<Envelope>,
    origin: u64,
    db: Db,
}

impl Hub {
    pub fn new(db: Db) -> Hub {
        let (tx, _) = broadcast::channel(256);
        Hub {
            tx,
            origin: rand::random(),
            db,
        }
    }

    pub async fn publish(&self, account_id: i64, audience: Audience, event: LiveEvent) {
        let envelope = Envelope {
            origin: self.origin,
            account_id,
            audience,
            event,
        };
        if self.db.backend == Backend::Postgres {
            match serde_json::to_string(&envelope) {
                Ok(json) => {
                    if let Err(e) = sqlx::query("SELECT pg_notify($1, $2)")
                        .bind(CHANNEL)
                        .bind(json)
                        .execute(&self.db.pool)
                        .await
                    {
                        tracing::warn!("relaying a live event to other instances: {e}");
                    }
                }
                Err(e) => tracing::error!("encoding a live event: {e}"),
            }
        }
        // No receiver is fine: nobody is connected.
        let _ = self.tx.send(envelope);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Envelope> {
        self.tx.subscribe()
    }

    /// Relays events published by other instances sharing the PostgreSQL database.
    pub fn spawn_postgres_relay(&self, database_url: String) {
        if self.db.backend != Backend::Postgres {
            return;
        }
        let hub = self.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = hub.relay(&database_url).await {
                    tracing::warn!("live event relay: {e}; reconnecting in 5 s");
                }
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        });
    }

    async fn relay(&self, database_url: &str) -> Result<(), sqlx::Error> {
        let mut listener = sqlx::postgres::PgListener::connect(database_url).await?;
        listener.listen(CHANNEL).await?;
        loop {
            let notification = listener.recv().await?;
            match serde_json::from_str::<Envelope>(notification.payload()) {
                Ok(envelope) if envelope.origin != self.origin => {
                    let _ = self.tx.send(envelope);
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("ignoring a malformed live event: {e}"),
            }
        }
    }
}

/// Who a connection is for.
#[derive(Clone, Copy, Debug)]
enum Subscriber {
    SuperAdmin { account_id: i64, admin_id: i64 },
    WaitingSignIn { account_id: i64, admin_id: i64 },
}

impl Subscriber {
    fn wants(self, envelope: &Envelope) -> bool {
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
async fn subscriber(state: &AppState, session: &Session) -> Option<Subscriber> {
    let auth = current_auth_with(session, state.config.session_max_hours)
        .await
        .ok()??;
    let admin = admins::find_in_account(&state.db, auth.account_id, auth.admin_id)
        .await
        .ok()??;
    if !admin.active {
        return None;
    }
    match auth.stage {
        Stage::Complete if admin.role.is_super_admin() => Some(Subscriber::SuperAdmin {
            account_id: admin.account_id,
            admin_id: admin.id,
        }),
        Stage::AwaitingCode { .. } => Some(Subscriber::WaitingSignIn {
            account_id: admin.account_id,
            admin_id: admin.id,
        }),
        _ => None,
    }
}

/// `GET /api/events`: the live connection.
pub async fn events(State(state): State<AppState>, session: Session) -> Response {
    let Some(who) = subscriber(&state, &session).await else {
        return (
            StatusCode::UNAUTHORIZED,
            "Sign in as a super admin to receive live events.",
        )
            .into_response();
    };
    let Some(session_id) = session.id() else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let stream = event_stream(state, who, session_id);
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

struct Feed {
    state: AppState,
    who: Subscriber,
    session_id: tower_sessions::session::Id,
    rx: broadcast::Receiver<Envelope>,
    recheck: tokio::time::Interval,
}

fn event_stream(
    state: AppState,
    who: Subscriber,
    session_id: tower_sessions::session::Id,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let rx = state.hub.subscribe();
    let mut recheck = tokio::time::interval(Duration::from_secs(30));
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let feed = Feed {
        state,
        who,
        session_id,
        rx,
        recheck,
    };
    futures::stream::unfold(feed, |mut feed| async move {
        loop {
            tokio::select! {
                received = feed.rx.recv() => match received {
                    Ok(envelope) if feed.who.wants(&envelope) => {
                        let data = serde_json::to_string(&envelope.event).unwrap_or_default();
                        return Some((Ok(Event::default().data(data)), feed));
                    }
                    Ok(_) => continue,
                    // Too slow to keep up, or the hub is gone: end; the browser reconnects.
                    Err(_) => return None,
                },
                _ = feed.recheck.tick() => {
                    if !still_allowed(&feed).await {
                        return None;
                    }
                }
            }
        }
    })
}

async fn still_allowed(feed: &Feed) -> bool {
    let store = crate::server::db::sessions::SqlSessionStore::new(feed.state.db.clone());
    if !matches!(store.load(&feed.session_id).await, Ok(Some(_))) {
        return false;
    }
    match feed.who {
        Subscriber::SuperAdmin {
            account_id,
            admin_id,
        } => admins::find_in_account(&feed.state.db, account_id, admin_id)
            .await
            .ok()
            .flatten()
            .is_some_and(|a| a.active && a.role.is_super_admin()),
        Subscriber::WaitingSignIn { .. } => true,
    }
}
