//! What the benchmarks share: a fresh database of the run's own (SQLite in a temporary
//! directory, or a new PostgreSQL database when `MSSP_BENCH_DATABASE=postgres`), dropped again
//! at the end, and the server on loopback.

// Each bench is its own crate and uses part of this.
#![allow(dead_code)]

use sqlx::Executor;
use std::path::PathBuf;

/// The run's database and directory (for its SQLite file and key file).
pub struct BenchDb {
    /// "sqlite" or "postgres".
    pub backend: String,
    pub url: String,
    pub dir: PathBuf,
}

fn postgres_admin_url() -> String {
    std::env::var("MSSP_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

impl BenchDb {
    /// A fresh database for the bench `name`, on the backend `MSSP_BENCH_DATABASE` names.
    pub async fn create(name: &str) -> BenchDb {
        let backend = std::env::var("MSSP_BENCH_DATABASE").unwrap_or_else(|_| "sqlite".into());
        let dir = std::env::temp_dir().join(format!("mssp-bench-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = if backend == "postgres" {
            sqlx::any::install_default_drivers();
            let admin = postgres_admin_url();
            let pool = sqlx::AnyPool::connect(&admin).await.unwrap();
            let db = format!("mssp_bench_{}", std::process::id());
            pool.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{db}\"")))
                .await
                .unwrap();
            format!("{}/{db}", admin.rsplit_once('/').unwrap().0)
        } else {
            format!("sqlite://{}", dir.join("bench.db").display())
        };
        BenchDb { backend, url, dir }
    }

    /// The server's configuration over this database: a key file of the run's own, and no
    /// request-rate limit in the way of the measurement.
    pub fn config(&self) -> mssp_dashboard::server::config::Config {
        let mut config = mssp_dashboard::server::config::Config::for_database(&self.url);
        config.key_file = Some(self.dir.join("bench.key"));
        config.requests_per_second = 100_000;
        config
    }

    /// `config`, with the clients behind a proxy on loopback, each from an address of its own
    /// (`X-Forwarded-For`), as people signing in from their offices would be.
    pub fn config_behind_proxy(&self) -> mssp_dashboard::server::config::Config {
        let mut config = self.config();
        config.trusted_proxies =
            Some(mssp_dashboard::domain::network::TrustedProxies::parse("127.0.0.1/32").unwrap());
        config
    }

    /// Removes the directory and, on PostgreSQL, the database.
    pub async fn remove(self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if self.backend != "postgres" {
            return;
        }
        let Ok(pool) = sqlx::AnyPool::connect(&postgres_admin_url()).await else {
            return;
        };
        let name = self.url.rsplit('/').next().unwrap_or_default().to_string();
        let _ = pool
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
            )))
            .await;
    }
}

/// Serves the application for `ctx` on a new loopback port, as the server binary does (with
/// the clients' addresses); answers the address.
pub async fn serve(ctx: mssp_dashboard::server::Ctx) -> std::net::SocketAddr {
    let listener = mssp_dashboard::web::listen(([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let addr = axum::serve::Listener::local_addr(&listener).unwrap();
    let leptos = leptos::config::LeptosOptions::builder()
        .output_name("mssp-dashboard")
        .build();
    let app = mssp_dashboard::web::router(ctx, leptos);
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap();
    });
    addr
}

/// The stored password hash of admin `id` (to give made-up admins the same password).
pub async fn password_hash(ctx: &mssp_dashboard::server::Ctx, id: i64) -> String {
    use sqlx::Row;
    sqlx::query("SELECT password_hash FROM admins WHERE id = $1")
        .bind(id)
        .fetch_one(&ctx.db.pool)
        .await
        .unwrap()
        .get("password_hash")
}
