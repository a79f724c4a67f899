//! What server operations work with, handed to them as an argument: the database, the live
//! event hub, the mailer, the password hasher, the keys for secrets at rest, the configuration
//! and the clock. Built once at start-up (or by a test, or by a command of the CLI).

use crate::server::clock::Clock;
use crate::server::config::Config;
use crate::server::db::Db;
use crate::server::db::key_checks;
use crate::server::db::sessions::SqlSessionStore;
use crate::server::hub::Hub;
use crate::server::keyring::{KeyError, Keyring};
use crate::server::mailer::Mailer;
use crate::server::password::Passwords;
use std::sync::Arc;

/// A handle on the server's context: cloning it (every request does, a few times) is one
/// reference count, not one per part. `cargo bench --bench sign_in` under `perf` showed the
/// clones and drops of the parts one by one (about twenty reference counts, shared by the
/// worker threads) as 6.4 % of the request threads' samples.
#[derive(Clone, Debug)]
pub struct Ctx(Arc<Parts>);

impl std::ops::Deref for Ctx {
    type Target = Parts;

    fn deref(&self) -> &Parts {
        &self.0
    }
}

/// What a [`Ctx`] holds.
#[derive(Debug)]
pub struct Parts {
    pub db: Db,
    pub passwords: Arc<Passwords>,
    pub config: Arc<Config>,
    pub hub: Hub,
    pub keyring: Keyring,
    /// Set when SMTP is configured.
    pub mailer: Option<Mailer>,
    pub clock: Clock,
    /// When reset requests were last checked for expiry (at most every 10 s per instance).
    pub expiry_checked_at: std::sync::atomic::AtomicI64,
    /// The last readiness check, answered to probes for two seconds (`health`).
    pub readiness: crate::server::health::Checked,
    /// Security keys' relying party (from `MSSP_PUBLIC_URL`); `None` when that address names
    /// no domain (an IP other than loopback): security keys are then unavailable.
    pub webauthn: Option<webauthn_rs::Webauthn>,
}

impl Ctx {
    /// Opens the database (applying migrations), loads the keys and builds the context. Refuses
    /// (with what to do) when the database holds secrets under a key that is not configured.
    pub async fn open(config: Config, clock: Clock) -> Result<Ctx, String> {
        Self::open_forgetting(config, clock, None).await
    }

    /// `open`, except that `forgotten` (a key the operator declared lost, `forget-key`) may be
    /// missing.
    pub async fn open_forgetting(
        config: Config,
        clock: Clock,
        forgotten: Option<&str>,
    ) -> Result<Ctx, String> {
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
        let keyring = load_keys(&config, &db, forgotten).await?;
        record_key_checks(&db, &keyring, clock.now(), forgotten).await?;
        // Secrets stored before encryption (or under a retired key) are sealed with the current
        // key; not while a lost key is being forgotten (its secrets cannot be read).
        if forgotten.is_none() {
            let resealed = crate::server::db::totp::reseal_all(&db, &keyring)
                .await
                .map_err(|e| format!("encrypting stored secrets: {e}"))?;
            if resealed > 0 {
                tracing::info!(
                    resealed,
                    "encrypted stored TOTP secrets with the current key"
                );
            }
        }
        let hub = Hub::new(db.clone(), keyring.clone());
        let webauthn = crate::server::security_keys::relying_party(&config.public_url())?;
        Ok(Ctx(Arc::new(Parts {
            db,
            passwords,
            config: Arc::new(config),
            hub,
            keyring,
            mailer,
            clock,
            expiry_checked_at: Default::default(),
            readiness: Default::default(),
            webauthn,
        })))
    }

    /// Unix time in seconds: read once per operation.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The admin `id` of `account_id` with the account, in one read. "Require security keys"
    /// counts only where keys work: if the public address stops naming a domain (an operator's
    /// slip), nobody is asked for a key that cannot be used, and key holders sign in with their
    /// other factor.
    pub async fn admin_with_account(
        &self,
        account_id: i64,
        id: i64,
    ) -> Result<
        Option<(
            crate::server::db::admins::Admin,
            crate::server::db::accounts::Account,
        )>,
        sqlx::Error,
    > {
        let found = crate::server::db::admins::find_with_account(&self.db, account_id, id).await?;
        Ok(found.map(|(admin, mut account)| {
            account.require_keys &= self.webauthn.is_some();
            (admin, account)
        }))
    }

    /// The session store over this context's database and clock.
    pub fn session_store(&self) -> SqlSessionStore {
        SqlSessionStore::new(self.db.clone(), self.clock.clone())
    }
}

/// Loads the keys for secrets at rest and checks them against the database: every key id the
/// stored data names must be held, and each key must open its check value. A missing key file
/// is created only while the database holds no secret; a key is never replaced.
async fn load_keys(config: &Config, db: &Db, forgotten: Option<&str>) -> Result<Keyring, String> {
    let db_error = |e: sqlx::Error| format!("reading the keys the database uses: {e}");
    let in_use: Vec<String> = key_checks::ids_in_use(db)
        .await
        .map_err(db_error)?
        .into_iter()
        .filter(|id| Some(id.as_str()) != forgotten)
        .collect();
    let key_file = match &config.secret_keys {
        Some(_) => std::path::PathBuf::new(),
        None => config.key_file_path()?,
    };
    let keyring = match Keyring::load(config.secret_keys.as_deref(), &key_file, in_use.is_empty()) {
        Ok(keyring) => keyring,
        Err(KeyError::Missing(path)) => {
            return Err(lost_keys_message(
                &format!("the key file {} (missing)", absolute(&path)),
                &in_use,
            ));
        }
        Err(e) => return Err(e.to_string()),
    };
    let mut missing: Vec<String> = in_use.into_iter().filter(|id| !keyring.has(id)).collect();
    for (id, check) in key_checks::all(db).await.map_err(db_error)? {
        if keyring.has(&id) && !keyring.opens_check(&id, &check) {
            // A key of the same id that is not the one the data was encrypted with.
            missing.push(format!("{id} (a different key holds that id)"));
        }
    }
    if missing.is_empty() {
        Ok(keyring)
    } else {
        Err(lost_keys_message(&keyring.source(), &missing))
    }
}

/// Writes the check value of every key used for the first time, then reads them all back: an
/// instance that started at the same moment with another key file (an empty database lets
/// each create its own) is refused here rather than later, when secrets would not decrypt.
pub async fn record_key_checks(
    db: &Db,
    keyring: &Keyring,
    now: i64,
    forgotten: Option<&str>,
) -> Result<(), String> {
    for id in keyring.ids() {
        let check = keyring.seal_check(&id).map_err(|e| e.to_string())?;
        key_checks::insert(db, &id, &check, now)
            .await
            .map_err(|e| format!("recording the key check: {e}"))?;
    }
    let foreign: Vec<String> = key_checks::all(db)
        .await
        .map_err(|e| format!("reading the key checks: {e}"))?
        .into_iter()
        .filter(|(id, check)| Some(id.as_str()) != forgotten && !keyring.opens_check(id, check))
        .map(|(id, _)| id)
        .collect();
    if foreign.is_empty() {
        Ok(())
    } else {
        Err(lost_keys_message(&keyring.source(), &foreign))
    }
}

fn absolute(path: &std::path::Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

fn lost_keys_message(source: &str, missing: &[String]) -> String {
    format!(
        "refusing to start: the database holds second factors (TOTP secrets, recovery codes) \
         encrypted with key(s) {} that {source} does not hold.\n\
         Nothing was changed and no key was created. To go on:\n\
         - restore the key file from your backup (every instance and every command must use the \
           same file: MSSP_KEY_FILE, by default beside the SQLite database), or set \
           MSSP_SECRET_KEYS to the keys; then start again;\n\
         - only if the key is lost for good: `mssp-dashboard forget-key --key-id ID --yes` resets \
           the second factor of every admin whose secrets need it (they set it up again at their \
           next sign-in) and forgets the key.",
        missing.join(", ")
    )
}
