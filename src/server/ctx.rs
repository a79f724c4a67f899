//! What server operations work with, handed to them as an argument: the database, the live
//! event hub, the mailer, the password hasher, the keys for secrets at rest, the configuration
//! and the clock. Built once at start-up (or by a test, or by a command of the CLI).

use crate::server::clock::Clock;
use crate::server::config::Config;
use crate::server::db::Db;
use crate::server::db::sessions::SqlSessionStore;
use crate::server::hub::Hub;
use crate::server::keyring::Keyring;
use crate::server::mailer::Mailer;
use crate::server::password::Passwords;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Ctx {
    pub db: Db,
    pub passwords: Arc<Passwords>,
    pub config: Arc<Config>,
    pub hub: Hub,
    pub keyring: Keyring,
    /// Set when SMTP is configured.
    pub mailer: Option<Mailer>,
    pub clock: Clock,
}

impl Ctx {
    /// Opens the database (applying migrations), loads the keys and builds the context.
    pub async fn open(config: Config, clock: Clock) -> Result<Ctx, String> {
        if config.totp_issuer.contains(':') || config.totp_issuer.trim().is_empty() {
            return Err("MSSP_TOTP_ISSUER must be non-empty and cannot contain ':'".into());
        }
        let db = Db::connect(&config.database_url)
            .await
            .map_err(|e| format!("cannot open the database: {e}"))?;
        let passwords = Passwords::new(config.hash_concurrency, config.hash_queue);
        let mailer = match &config.smtp_url {
            Some(url) => Some(Mailer::new(url, &config.smtp_from)?),
            None => None,
        };
        let keyring = Keyring::load(config.secret_keys.as_deref(), &config.key_file)
            .map_err(|e| e.to_string())?;
        // Secrets stored before encryption (or under a retired key) are sealed with the current
        // key.
        let resealed = crate::server::db::totp::reseal_all(&db, &keyring)
            .await
            .map_err(|e| format!("encrypting stored secrets: {e}"))?;
        if resealed > 0 {
            tracing::info!(
                resealed,
                "encrypted stored TOTP secrets with the current key"
            );
        }
        let hub = Hub::new(db.clone());
        Ok(Ctx {
            db,
            passwords,
            config: Arc::new(config),
            hub,
            keyring,
            mailer,
            clock,
        })
    }

    /// Unix time in seconds: read once per operation.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The session store over this context's database and clock.
    pub fn session_store(&self) -> SqlSessionStore {
        SqlSessionStore::new(self.db.clone(), self.clock.clone())
    }

    /// What a serving instance runs beside the requests: the relay of live events between
    /// instances (PostgreSQL) and the removal of expired sessions.
    pub fn spawn_background_tasks(&self) {
        self.hub
            .spawn_postgres_relay(self.config.database_url.clone());
        let store = self.session_store();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(600));
            loop {
                tick.tick().await;
                if let Err(e) = store.delete_expired().await {
                    tracing::warn!("deleting expired sessions: {e}");
                }
            }
        });
    }
}
