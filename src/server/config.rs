//! Configuration. Every option is a command-line flag and an environment variable (or a line of
//! a `.env` file), which is how deployments set them; see `.env.example`. The commands of the
//! binary are in `cli`.
//!
//! clap's `env` feature gives one definition for flags, environment, defaults and `--help`.

use crate::domain::network::TrustedProxies;
use clap::{Args, Parser};
use std::net::SocketAddr;

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Database: `sqlite://FILE` (embedded, created when missing) or `postgres://...` for
    /// several instances sharing one database.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://mssp-dashboard.db",
        global = true
    )]
    pub database_url: String,

    /// Address and port to listen on.
    #[arg(
        long,
        env = "MSSP_BIND",
        default_value = "127.0.0.1:3000",
        global = true
    )]
    pub bind: SocketAddr,

    /// Address and port of the Prometheus metrics (`GET /metrics`), apart from the
    /// application's: keep it private (loopback, or a network only the scraper reaches).
    /// Unset: no metrics.
    #[arg(long, env = "MSSP_METRICS_BIND", global = true)]
    pub metrics_bind: Option<SocketAddr>,

    /// The address people open, used in messages and as the security keys' relying party
    /// (defaults to http://BIND; http://localhost:PORT when BIND is a loopback address, since
    /// security keys need a domain name).
    #[arg(long, env = "MSSP_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Mark the session cookie Secure (set this when served over https, directly or behind a
    /// proxy that terminates TLS).
    #[arg(
        long,
        env = "MSSP_COOKIE_SECURE",
        default_value_t = false,
        global = true
    )]
    pub cookie_secure: bool,

    /// Issuer name shown in authenticator apps.
    #[arg(
        long,
        env = "MSSP_TOTP_ISSUER",
        default_value = "MSSP Dashboard",
        global = true
    )]
    pub totp_issuer: String,

    /// Key file for secrets at rest. Default: beside the SQLite database (`x.db` → `x.key`);
    /// with PostgreSQL it must be given (or MSSP_SECRET_KEYS). Created with mode 0600 only
    /// while the database holds no secret. Back it up: without it the stored second factors
    /// cannot be read, and the server refuses to start.
    #[arg(long, env = "MSSP_KEY_FILE", global = true)]
    pub key_file: Option<std::path::PathBuf>,

    /// Keys given directly instead of the key file: `id:base64,id:base64` (32-byte keys, the
    /// last one current).
    #[arg(long, env = "MSSP_SECRET_KEYS", hide_env_values = true, global = true)]
    pub secret_keys: Option<String>,

    /// Absolute lifetime of a session in hours, however active it is.
    #[arg(
        long,
        env = "MSSP_SESSION_MAX_HOURS",
        default_value_t = 12,
        global = true
    )]
    pub session_max_hours: u32,

    /// Wrong 2FA codes in a row before the code step locks for the admin.
    #[arg(
        long,
        env = "MSSP_CODE_MAX_FAILURES",
        default_value_t = 5,
        global = true
    )]
    pub code_max_failures: u32,

    /// First lock of the code step in seconds; each further wrong code doubles it.
    #[arg(
        long,
        env = "MSSP_CODE_LOCK_SECONDS",
        default_value_t = 60,
        global = true
    )]
    pub code_lock_seconds: u32,

    /// Wrong passwords in a row for one admin (or one unknown name) before its password step
    /// locks.
    #[arg(
        long,
        env = "MSSP_PASSWORD_MAX_FAILURES",
        default_value_t = 10,
        global = true
    )]
    pub password_max_failures: u32,

    /// First lock of the password step in seconds; doubles with each further failure.
    #[arg(
        long,
        env = "MSSP_PASSWORD_LOCK_SECONDS",
        default_value_t = 30,
        global = true
    )]
    pub password_lock_seconds: u32,

    /// Failed sign-in steps from one client address (within an hour) before it is slowed.
    #[arg(
        long,
        env = "MSSP_ADDRESS_MAX_FAILURES",
        default_value_t = 30,
        global = true
    )]
    pub address_max_failures: u32,

    /// First lock of a client address in seconds; doubles with each further failure.
    #[arg(
        long,
        env = "MSSP_ADDRESS_LOCK_SECONDS",
        default_value_t = 300,
        global = true
    )]
    pub address_lock_seconds: u32,

    /// The longest lock of any kind, in seconds.
    #[arg(
        long,
        env = "MSSP_MAX_LOCK_SECONDS",
        default_value_t = 3600,
        global = true
    )]
    pub max_lock_seconds: u32,

    /// Requests per second one client address may make to the server functions (burst: 10×).
    #[arg(
        long,
        env = "MSSP_REQUESTS_PER_SECOND",
        default_value_t = 20,
        global = true
    )]
    pub requests_per_second: u32,

    /// Session idle timeout in minutes.
    #[arg(
        long,
        env = "MSSP_SESSION_IDLE_MINUTES",
        default_value_t = 30,
        global = true
    )]
    pub session_idle_minutes: u32,

    /// Password hashes that hold a place to run at once (each holds 19 MiB), run on one thread
    /// per CPU core; 0 means one per core and one more, waiting ready for the next free thread.
    #[arg(
        long,
        env = "MSSP_HASH_CONCURRENCY",
        default_value_t = 0,
        global = true
    )]
    pub hash_concurrency: usize,

    /// Sign-in attempts allowed to wait for a hashing slot before the server answers 503.
    #[arg(long, env = "MSSP_HASH_QUEUE", default_value_t = 16, global = true)]
    pub hash_queue: usize,

    /// SMTP server for email notifications, e.g. `smtps://user:password@mail.example.com` or
    /// `smtp://127.0.0.1:25`; without it, notifications are in the app only.
    #[arg(long, env = "MSSP_SMTP_URL", global = true)]
    pub smtp_url: Option<String>,

    /// Sender of email notifications.
    #[arg(
        long,
        env = "MSSP_SMTP_FROM",
        default_value = "MSSP Dashboard <no-reply@localhost>",
        global = true
    )]
    pub smtp_from: String,

    /// Days a 2FA reset request waits for a decision before it expires.
    #[arg(
        long,
        env = "MSSP_RESET_REQUEST_DAYS",
        default_value_t = 7,
        global = true
    )]
    pub reset_request_days: u32,

    /// How often (seconds) a live connection checks that its session still allows it.
    #[arg(
        long,
        env = "MSSP_LIVE_RECHECK_SECONDS",
        default_value_t = 30,
        hide = true,
        global = true
    )]
    pub live_recheck_seconds: u32,

    /// Served behind a reverse proxy of your own: take the client address from the
    /// X-Forwarded-For entries it appends (one proxy unless MSSP_TRUSTED_PROXIES says more).
    #[arg(long, env = "MSSP_TRUST_PROXY", default_value_t = false, global = true)]
    pub trust_proxy: bool,

    /// The proxies in front of the server: how many (`2`), or their addresses and networks
    /// (`10.0.0.0/8,192.168.1.7`). The client address is the right-most X-Forwarded-For entry
    /// that is not one of them. Setting it implies MSSP_TRUST_PROXY.
    #[arg(long, env = "MSSP_TRUSTED_PROXIES", value_parser = TrustedProxies::parse, global = true)]
    pub trusted_proxies: Option<TrustedProxies>,
}

impl Config {
    pub fn code_policy(&self) -> crate::domain::throttle::Policy {
        self.policy(self.code_max_failures, self.code_lock_seconds)
    }

    pub fn password_policy(&self) -> crate::domain::throttle::Policy {
        self.policy(self.password_max_failures, self.password_lock_seconds)
    }

    pub fn address_policy(&self) -> crate::domain::throttle::Policy {
        self.policy(self.address_max_failures, self.address_lock_seconds)
    }

    fn policy(&self, max_failures: u32, lock_seconds: u32) -> crate::domain::throttle::Policy {
        crate::domain::throttle::Policy {
            max_failures: i64::from(max_failures.max(1)),
            base_lock_seconds: i64::from(lock_seconds.max(1)),
            max_lock_seconds: i64::from(self.max_lock_seconds.max(1)),
        }
    }

    /// The key file: as configured, else beside the SQLite database file.
    pub fn key_file_path(&self) -> Result<std::path::PathBuf, String> {
        if let Some(path) = &self.key_file {
            return Ok(path.clone());
        }
        let Some(rest) = self.database_url.strip_prefix("sqlite:") else {
            return Err(
                "set MSSP_KEY_FILE (the same file for every instance) or MSSP_SECRET_KEYS: with \
                 PostgreSQL there is no default place for the keys of secrets at rest"
                    .into(),
            );
        };
        let file = rest.trim_start_matches("//");
        let file = file.split('?').next().unwrap_or_default();
        if file.is_empty() || file.contains(":memory:") {
            return Err("set MSSP_KEY_FILE or MSSP_SECRET_KEYS for an in-memory database".into());
        }
        Ok(std::path::Path::new(file).with_extension("key"))
    }

    /// The proxies whose X-Forwarded-For entries count, when served behind any.
    pub fn proxies(&self) -> Option<TrustedProxies> {
        self.trusted_proxies
            .clone()
            .or_else(|| self.trust_proxy.then_some(TrustedProxies::Count(1)))
    }

    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None if self.bind.ip().is_loopback() => {
                format!("http://localhost:{}", self.bind.port())
            }
            None => format!("http://{}", self.bind),
        }
    }

    /// A configuration for tests: a given database, everything else default (the
    /// environment is read as at start-up).
    pub fn for_database(database_url: &str) -> Config {
        #[derive(Parser)]
        struct Defaults {
            #[command(flatten)]
            config: Config,
        }
        let mut config = Defaults::parse_from(["mssp-dashboard"]).config;
        config.database_url = database_url.to_string();
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_lives_beside_the_sqlite_database_unless_given() {
        let mut config = Config::for_database("sqlite://data/mssp.db?mode=rwc");
        config.key_file = None;
        assert_eq!(
            config.key_file_path(),
            Ok(std::path::PathBuf::from("data/mssp.key"))
        );
        config.database_url = "sqlite:///var/lib/mssp/dash.sqlite".into();
        assert_eq!(
            config.key_file_path(),
            Ok(std::path::PathBuf::from("/var/lib/mssp/dash.key"))
        );
        config.database_url = "postgres://db/mssp".into();
        assert!(
            config
                .key_file_path()
                .unwrap_err()
                .contains("MSSP_KEY_FILE")
        );
        config.key_file = Some("/etc/mssp/keys".into());
        assert_eq!(
            config.key_file_path(),
            Ok(std::path::PathBuf::from("/etc/mssp/keys"))
        );
    }
}
