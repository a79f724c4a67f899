//! The live event hub: one per instance, relayed between instances through PostgreSQL
//! LISTEN/NOTIFY. `live` serves its events to browsers.
//!
//! Events are routed per account: each account with someone listening has a broadcast channel
//! of its own, so an event wakes only the connections of its account (with 10,000 connections
//! over 1,000 accounts, one shared channel woke all 10,000 for each event, and each discarded
//! it). A second channel reaches every connection of the instance (`Resync`).

use crate::model::types::LiveEvent;
use crate::server::db::{Backend, Db};
use crate::server::keyring::Keyring;
use crate::server::metrics;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;

const CHANNEL: &str = "mssp_events";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Audience {
    /// Every signed-in super admin of the account.
    SuperAdmins,
    /// One admin (their waiting sign-in page).
    Admin(i64),
    /// Every live connection of this instance, whatever its account (`LiveEvent::Resync`);
    /// never relayed (`open_sealed` refuses it).
    Everyone,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Envelope {
    /// The instance that published it (to skip our own NOTIFY echo).
    origin: u64,
    pub account_id: i64,
    pub audience: Audience,
    pub event: LiveEvent,
}

/// Live connections one session may hold at once (browser tabs).
pub const CONNECTIONS_PER_SESSION: usize = 4;
/// Live connections of one admin (their sessions together).
pub const CONNECTIONS_PER_ADMIN: usize = 16;
/// Live connections from one client address (IPv6: one /64).
pub const CONNECTIONS_PER_ADDRESS: usize = 64;
/// Live connections of this instance.
pub const CONNECTIONS_PER_INSTANCE: usize = 50_000;

/// Who holds a live connection, for its limits.
pub struct Holder<'a> {
    pub session: &'a str,
    pub admin_id: i64,
    pub address: Option<&'a str>,
}

/// Events an account's channel holds for a connection that has not read them yet; one that
/// falls further behind is ended (the browser reconnects and fetches again).
const ACCOUNT_BUFFER: usize = 32;

/// A connection's receivers: its account's events and the instance-wide ones.
#[derive(Debug)]
pub struct Subscription {
    pub account: broadcast::Receiver<Envelope>,
    pub everyone: broadcast::Receiver<Envelope>,
}

#[derive(Clone, Debug)]
pub struct Hub {
    /// Seals the events relayed between instances.
    keyring: Keyring,
    /// When this instance last told its connections to resynchronise.
    resync: Arc<Mutex<ResyncState>>,
    /// One channel per account with someone listening.
    accounts: Arc<Mutex<HashMap<i64, broadcast::Sender<Envelope>>>>,
    /// Events for every connection of this instance.
    everyone: broadcast::Sender<Envelope>,
    origin: u64,
    db: Db,
    /// Open live connections per session (by the hash of its id).
    connections: Arc<Mutex<HashMap<String, usize>>>,
    /// Set when the instance shuts down: live connections end, so a graceful shutdown does not
    /// wait for streams that never finish.
    closing: Arc<tokio::sync::watch::Sender<bool>>,
}

/// One open live connection; closing it gives its places back.
#[derive(Debug)]
pub struct ConnectionSlot {
    connections: Arc<Mutex<HashMap<String, usize>>>,
    keys: Vec<String>,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        metrics::live_connection_closed();
        let mut open = self.connections.lock().unwrap_or_else(|e| e.into_inner());
        for key in &self.keys {
            if let Some(n) = open.get_mut(key) {
                *n -= 1;
                if *n == 0 {
                    open.remove(key);
                }
            }
        }
    }
}

impl Hub {
    pub fn new(db: Db, keyring: Keyring) -> Hub {
        Hub {
            keyring,
            resync: Arc::default(),
            accounts: Arc::default(),
            everyone: broadcast::channel(4).0,
            origin: rand::random(),
            db,
            connections: Arc::default(),
            closing: Arc::new(tokio::sync::watch::channel(false).0),
        }
    }

    /// Ends every live connection of this instance (shutting down; browsers reconnect to
    /// another instance, or to this one when it is back).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Whether the instance is shutting down, to wait on.
    pub fn closing(&self) -> tokio::sync::watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// A place for one more live connection, unless its session, its admin, its address or
    /// this instance holds the most already.
    pub fn open_connection(&self, holder: Holder<'_>) -> Option<ConnectionSlot> {
        let mut wanted = vec![
            (
                format!("session:{}", holder.session),
                CONNECTIONS_PER_SESSION,
            ),
            (format!("admin:{}", holder.admin_id), CONNECTIONS_PER_ADMIN),
            ("instance".to_string(), CONNECTIONS_PER_INSTANCE),
        ];
        if let Some(address) = holder.address {
            wanted.push((format!("address:{address}"), CONNECTIONS_PER_ADDRESS));
        }
        let mut open = self.connections.lock().unwrap_or_else(|e| e.into_inner());
        if wanted
            .iter()
            .any(|(key, max)| open.get(key).copied().unwrap_or(0) >= *max)
        {
            return None;
        }
        for (key, _) in &wanted {
            *open.entry(key.clone()).or_default() += 1;
        }
        metrics::live_connection_opened();
        Some(ConnectionSlot {
            connections: self.connections.clone(),
            keys: wanted.into_iter().map(|(key, _)| key).collect(),
        })
    }

    pub async fn publish(&self, account_id: i64, audience: Audience, event: LiveEvent) {
        let envelope = Envelope {
            origin: self.origin,
            account_id,
            audience,
            event,
        };
        if self.db.backend == Backend::Postgres {
            match self.seal(&envelope) {
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
        metrics::live_published();
        self.deliver(envelope);
    }

    /// Hands `envelope` to this instance's connections of its account (none listening: the
    /// account's channel, if any, is removed).
    fn deliver(&self, envelope: Envelope) {
        let mut accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = accounts.get(&envelope.account_id) {
            let account_id = envelope.account_id;
            if tx.send(envelope).is_err() {
                accounts.remove(&account_id);
            }
        }
    }

    /// The receivers for a connection of `account_id`.
    pub fn subscribe(&self, account_id: i64) -> Subscription {
        let mut accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
        let account = accounts
            .entry(account_id)
            .or_insert_with(|| broadcast::channel(ACCOUNT_BUFFER).0)
            .subscribe();
        Subscription {
            account,
            everyone: self.everyone.subscribe(),
        }
    }

    /// Removes the channels of accounts nobody listens to any more (from the background task).
    pub fn sweep(&self) -> usize {
        let mut accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
        accounts.retain(|_, tx| tx.receiver_count() > 0);
        accounts.len()
    }

    /// Relays events published by other instances sharing the PostgreSQL database. When the
    /// relay's connection is lost it reconnects (at once, then waiting up to 5 s between tries)
    /// and tells this instance's live connections to resynchronise: NOTIFY is not replayed.
    pub fn spawn_postgres_relay(&self, database_url: String) {
        if self.db.backend != Backend::Postgres {
            return;
        }
        let hub = self.clone();
        tokio::spawn(async move {
            let mut listened_before = false;
            // Failed attempts since the relay last listened: the first retry is at once.
            let mut failures = 0u32;
            loop {
                let Err(e) = hub
                    .relay(&database_url, &mut listened_before, &mut failures)
                    .await;
                let wait = RELAY_RETRY_MAX.min(RELAY_RETRY_FIRST * 2u32.pow(failures.min(8)));
                let wait = if failures == 0 { Duration::ZERO } else { wait };
                failures += 1;
                tracing::warn!("live event relay: {e}; reconnecting in {wait:?}");
                tokio::time::sleep(wait).await;
            }
        });
    }

    /// Listens until the connection fails. Every listen after the first one, and every
    /// connection the listener re-established by itself, is followed by a `Resync`. The wait
    /// before the next attempt starts again from nothing only after a minute of listening, so
    /// a connection killed as soon as it listens still backs off.
    async fn relay(
        &self,
        database_url: &str,
        listened_before: &mut bool,
        failures: &mut u32,
    ) -> Result<std::convert::Infallible, sqlx::Error> {
        let mut listener = sqlx::postgres::PgListener::connect(database_url).await?;
        listener.listen(CHANNEL).await?;
        let listening_since = std::time::Instant::now();
        if std::mem::replace(listened_before, true) {
            self.resync();
        }
        loop {
            // `None`: the connection was lost and is listening again (eager reconnect).
            let received = listener.try_recv().await;
            if listening_since.elapsed() >= Duration::from_secs(60) {
                *failures = 0;
            }
            let Some(notification) = received? else {
                tracing::warn!("live event relay: connection lost and re-established");
                self.resync();
                continue;
            };
            match self.open_sealed(notification.payload()) {
                Some(envelope) if envelope.origin != self.origin => {
                    metrics::live_relayed();
                    self.deliver(envelope);
                }
                Some(_) => {}
                None => tracing::warn!("ignoring a live event that is malformed or not sealed"),
            }
        }
    }

    /// An envelope as another instance reads it: its JSON with an HMAC under the shared keys.
    /// Any database role may NOTIFY on the channel; only the instances hold the keys.
    fn seal(&self, envelope: &Envelope) -> Result<String, serde_json::Error> {
        let json = serde_json::to_string(envelope)?;
        let (key, mac) = self.keyring.mac(&json, SEAL_CONTEXT);
        serde_json::to_string(&Sealed { json, key, mac })
    }

    /// The envelope of a sealed payload, if its HMAC holds and it is for one account (an
    /// instance-wide `Resync` is local, never relayed).
    fn open_sealed(&self, payload: &str) -> Option<Envelope> {
        let sealed: Sealed = serde_json::from_str(payload).ok()?;
        let expected = self
            .keyring
            .mac_with(&sealed.key, &sealed.json, SEAL_CONTEXT)
            .ok()?;
        if !crate::server::keyring::equal(&expected, &sealed.mac) {
            return None;
        }
        let envelope: Envelope = serde_json::from_str(&sealed.json).ok()?;
        (envelope.audience != Audience::Everyone && envelope.event != LiveEvent::Resync)
            .then_some(envelope)
    }

    /// Tells this instance's live connections that events may have been missed; at most once
    /// per `RESYNC_EVERY` (each makes every open page fetch again): one asked for sooner is sent
    /// when that time has passed.
    fn resync(&self) {
        metrics::relay_reconnected();
        let mut state = self.resync.lock().unwrap_or_else(|e| e.into_inner());
        match state.last {
            Some(at) if at.elapsed() < RESYNC_EVERY => {
                if !state.pending {
                    state.pending = true;
                    let hub = self.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep_until(at + RESYNC_EVERY).await;
                        hub.resync.lock().unwrap_or_else(|e| e.into_inner()).pending = false;
                        hub.resync();
                    });
                }
            }
            _ => {
                state.last = Some(tokio::time::Instant::now());
                drop(state);
                self.send_resync();
            }
        }
    }

    fn send_resync(&self) {
        let _ = self.everyone.send(Envelope {
            origin: self.origin,
            account_id: 0,
            audience: Audience::Everyone,
            event: LiveEvent::Resync,
        });
    }
}

#[derive(Debug, Default)]
struct ResyncState {
    last: Option<tokio::time::Instant>,
    /// A resync waits for `RESYNC_EVERY` to pass.
    pending: bool,
}

/// What the instances relay: an envelope's JSON and its HMAC.
#[derive(Serialize, Deserialize)]
struct Sealed {
    json: String,
    key: String,
    mac: String,
}

const SEAL_CONTEXT: &str = "live-event-relay";

/// The least time between two `Resync`s of an instance (shorter in unit tests).
const RESYNC_EVERY: Duration = if cfg!(test) {
    Duration::from_millis(200)
} else {
    Duration::from_secs(5)
};

/// The wait before the second attempt to reconnect the relay, doubled for each next one...
const RELAY_RETRY_FIRST: Duration = Duration::from_millis(250);
/// ...up to this.
const RELAY_RETRY_MAX: Duration = Duration::from_secs(5);

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(text: &str) -> LiveEvent {
        LiveEvent::Notice {
            message: text.into(),
            link: None,
        }
    }

    async fn hub() -> Hub {
        let key = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [7u8; 32]);
        let keyring =
            Keyring::load(Some(&format!("k1:{key}")), std::path::Path::new(""), false).unwrap();
        Hub::new(Db::connect("sqlite::memory:").await.unwrap(), keyring)
    }

    #[tokio::test]
    async fn only_sealed_events_for_one_account_cross_instances() {
        let (ours, theirs) = (hub().await, hub().await);
        let envelope = Envelope {
            origin: theirs.origin,
            account_id: 3,
            audience: Audience::SuperAdmins,
            event: notice("hello"),
        };
        let sealed = theirs.seal(&envelope).unwrap();
        assert_eq!(ours.open_sealed(&sealed).unwrap().event, notice("hello"));
        // What any database role could NOTIFY: plain JSON, a changed event, a forged MAC.
        assert!(
            ours.open_sealed(&serde_json::to_string(&envelope).unwrap())
                .is_none()
        );
        let tampered = sealed.replace("hello", "hijacked");
        assert!(ours.open_sealed(&tampered).is_none());
        let mut forged: Sealed = serde_json::from_str(&sealed).unwrap();
        forged.mac = "00".repeat(32);
        assert!(
            ours.open_sealed(&serde_json::to_string(&forged).unwrap())
                .is_none()
        );
        // Instance-wide events are local even when sealed.
        let everyone = Envelope {
            audience: Audience::Everyone,
            event: LiveEvent::Resync,
            ..envelope
        };
        assert!(ours.open_sealed(&theirs.seal(&everyone).unwrap()).is_none());
    }

    #[tokio::test]
    async fn resyncs_come_at_most_every_few_seconds() {
        let hub = hub().await;
        let mut sub = hub.subscribe(1);
        hub.resync();
        hub.resync();
        hub.resync();
        assert_eq!(sub.everyone.try_recv().unwrap().event, LiveEvent::Resync);
        assert!(
            sub.everyone.try_recv().is_err(),
            "the next ones are held back"
        );
        // ...and sent once, when the time has passed: a loss is never left without one.
        tokio::time::sleep(RESYNC_EVERY + Duration::from_millis(10)).await;
        assert_eq!(sub.everyone.try_recv().unwrap().event, LiveEvent::Resync);
        assert!(sub.everyone.try_recv().is_err(), "one, not two");
    }

    #[tokio::test]
    async fn an_event_wakes_only_its_account_and_resync_wakes_all() {
        let hub = hub().await;
        let mut one = hub.subscribe(1);
        let mut two = hub.subscribe(2);
        hub.publish(1, Audience::SuperAdmins, notice("for one"))
            .await;
        assert_eq!(one.account.try_recv().unwrap().event, notice("for one"));
        assert!(two.account.try_recv().is_err(), "account 2 is not woken");
        assert!(one.everyone.try_recv().is_err());
        hub.resync();
        for sub in [&mut one, &mut two] {
            assert_eq!(sub.everyone.try_recv().unwrap().event, LiveEvent::Resync);
        }
        // Nobody left on account 2: its channel goes.
        drop(two);
        assert_eq!(hub.sweep(), 1);
        hub.publish(2, Audience::SuperAdmins, notice("nobody"))
            .await;
        let again = hub.subscribe(2);
        drop(again);
        hub.publish(2, Audience::SuperAdmins, notice("nobody"))
            .await;
        assert_eq!(hub.accounts.lock().unwrap().len(), 1, "removed on publish");
    }
}
