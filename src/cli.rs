//! The binary's commands: `serve` (the default), `create-account`, `reset-2fa`, `rotate-key`.
//!
//! Each command builds the server's context and calls the same operations the web uses.

use crate::domain::identity;
use crate::server::Ctx;
use crate::server::auth::Client;
use crate::server::clock::Clock;
use crate::server::config::Config;
use crate::server::db::{admins, key_checks, totp};
use crate::server::keyring::{KeyError, Keyring};
use crate::server::resets::{ResetBy, reset_second_factor};
use crate::server::seed::{self, DEMO_USERS};
use clap::{Args, Parser, Subcommand};
use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;

#[derive(Debug, Parser)]
#[command(
    name = "mssp-dashboard",
    version,
    about = "Sign-in and two-factor core of the MSSP dashboard"
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    /// `serve`'s options, read the same way when no command is named (serve is the default).
    #[command(flatten)]
    pub serve: ServeArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add a new key to the key file and re-encrypt every stored secret with it. Old keys stay
    /// in the file (values not yet re-encrypted, and other running instances, still need them).
    RotateKey,
    /// Serve the dashboard (the default).
    Serve(ServeArgs),
    /// Create an MSSP account and its super admin. The password is read from standard input
    /// (one line) or asked for when standard input is a terminal; never from the command line.
    CreateAccount(CreateAccountArgs),
    /// Remove an admin's two-factor credential so they set it up again at their next sign-in,
    /// and end all of their sessions. For the operator with shell access.
    #[command(name = "reset-2fa")]
    Reset2fa(Reset2faArgs),
    /// Only when a key for secrets at rest is lost for good (no backup of the key file): reset
    /// the second factor of every admin whose TOTP secret or recovery codes need that key (they
    /// set 2FA up again at their next sign-in), and forget the key.
    ForgetKey(ForgetKeyArgs),
    /// For benchmarks and browser tests only: adds COUNT made-up admins (who cannot sign in)
    /// to the account of the super admin EMAIL.
    #[command(hide = true)]
    SeedAdmins(SeedAdminsArgs),
}

#[derive(Debug, Args)]
pub struct SeedAdminsArgs {
    /// Email or username of an admin of the account to fill.
    #[arg(long)]
    pub account_of: String,
    #[arg(long, default_value_t = 10_000)]
    pub count: i64,
    /// Marks the made-up emails and usernames (letters, digits, '-').
    #[arg(long, default_value = "seeded")]
    pub tag: String,
}

#[derive(Debug, Args)]
pub struct ForgetKeyArgs {
    /// The lost key's id, as the refusal to start names it.
    #[arg(long)]
    pub key_id: String,
    /// Confirms that the key is lost for good: the second factors it protects are reset.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Clone, Copy, Debug, Args, Default)]
pub struct ServeArgs {
    /// Create a demo MSSP account with a super admin and two admins when the database has no
    /// accounts, and print how to sign in. For development only. Unset: on under
    /// `cargo leptos watch` (which sets LEPTOS_WATCH), off otherwise.
    #[arg(long, env = "MSSP_DEMO", num_args = 0..=1, default_missing_value = "true")]
    pub demo: Option<bool>,
}

impl ServeArgs {
    /// Whether to create the demo account: as asked, else only in the development loop.
    fn wants_demo(self) -> bool {
        self.demo
            .unwrap_or_else(|| std::env::var("LEPTOS_WATCH").is_ok_and(|v| v == "true"))
    }
}

#[derive(Debug, Args)]
pub struct CreateAccountArgs {
    /// The MSSP account's name.
    #[arg(long)]
    pub name: String,
    /// The super admin's email.
    #[arg(long)]
    pub email: String,
    /// The super admin's username.
    #[arg(long)]
    pub username: String,
    /// The super admin's display name (defaults to the username).
    #[arg(long)]
    pub admin_name: Option<String>,
}

#[derive(Debug, Args)]
pub struct Reset2faArgs {
    /// Email or username of the admin.
    #[arg(long)]
    pub user: String,
}

pub async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        None => serve(cli.config, cli.serve).await,
        // `--demo` may stand before or after `serve`.
        Some(Command::Serve(args)) => {
            let args = ServeArgs {
                demo: args.demo.or(cli.serve.demo),
            };
            serve(cli.config, args).await
        }
        Some(Command::CreateAccount(args)) => create_account(cli.config, args).await,
        Some(Command::Reset2fa(args)) => reset_2fa(cli.config, args).await,
        Some(Command::RotateKey) => rotate_key(cli.config).await,
        Some(Command::ForgetKey(args)) => forget_key(cli.config, args).await,
        Some(Command::SeedAdmins(args)) => seed_admins(cli.config, args).await,
    }
}

/// The Leptos options the pages are rendered with: from `[package.metadata.leptos]` and the
/// `LEPTOS_*` variables, listening where the configuration says.
fn leptos_options(config: &Config) -> Result<leptos::config::LeptosOptions, String> {
    let mut leptos = leptos::config::get_configuration(None)
        .map_err(|e| format!("Leptos configuration: {e}"))?
        .leptos_options;
    leptos.site_addr = config.bind;
    if leptos.output_name.is_empty() {
        // Run outside cargo-leptos: the crate's output name (`.cargo/config.toml` sets it too).
        leptos.output_name = "mssp-dashboard".into();
    }
    crate::web::detect_hashed_files(&mut leptos);
    Ok(leptos)
}

async fn serve(config: Config, args: ServeArgs) -> Result<(), String> {
    let bind = config.bind;
    let public_url = config.public_url.clone();
    let leptos = leptos_options(&config)?;
    crate::web::check_site(&leptos)?;
    match crate::server::limits::raise_open_files() {
        // Each live connection holds one; a few more for the database and the files.
        Some(files) if files < 4_096 => tracing::warn!(
            files,
            "the open-file limit allows few live connections: raise the hard limit \
             (LimitNOFILE=, ulimit -Hn)"
        ),
        Some(files) => tracing::info!(files, "open-file limit"),
        None => {}
    }
    let ctx = Ctx::open(config, Clock::system()).await?;
    let demo = if args.wants_demo() {
        Some(
            seed::seed_demo(&ctx)
                .await
                .map_err(|e| format!("demo data: {e}"))?,
        )
    } else {
        None
    };
    crate::server::background::spawn(&ctx);
    if let Some(metrics_bind) = ctx.config.metrics_bind {
        serve_metrics(metrics_bind, ctx.clone()).await?;
    }
    let hub = ctx.hub.clone();
    let app = crate::web::router(ctx, leptos);
    let listener = crate::web::listen(bind)
        .await
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    // The address really bound (port 0 picks a free one).
    let bound = axum::serve::Listener::local_addr(&listener).unwrap_or(bind);
    // As `Config::public_url`, with the port really bound: a loopback address is opened as
    // `localhost`, the name security keys need.
    let url = public_url.unwrap_or_else(|| {
        if bound.ip().is_loopback() {
            format!("http://localhost:{}", bound.port())
        } else {
            format!("http://{bound}")
        }
    });
    println!("\nmssp-dashboard is listening: open {url}");
    if let Some(demo) = demo {
        print_demo(demo);
    }
    println!();
    tracing::info!(%bound, "listening");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown_signal().await;
        // Live connections never finish by themselves: end them, or the shutdown waits for
        // ever.
        hub.close();
    })
    .await
    .map_err(|e| format!("server: {e}"))
}

/// Installs the metrics recorder and serves `GET /metrics` (and the detailed `/readyz`) on
/// `bind`.
async fn serve_metrics(bind: SocketAddr, ctx: Ctx) -> Result<(), String> {
    let handle = crate::server::metrics::install()?;
    let listener = crate::web::listen(bind)
        .await
        .map_err(|e| format!("cannot listen on {bind} for metrics: {e}"))?;
    let bound = axum::serve::Listener::local_addr(&listener).unwrap_or(bind);
    println!("Metrics (Prometheus): http://{bound}/metrics");
    let app = crate::web::metrics_router(handle, ctx);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!("metrics listener: {e}");
        }
    });
    Ok(())
}

fn print_demo(demo: seed::Demo) {
    match demo {
        seed::Demo::Created => {
            println!("\nCreated the demo account \"Demo MSSP\" (development only).");
        }
        seed::Demo::Present => {}
        seed::Demo::NotCreated => {
            println!(
                "\nNo demo account: this database already holds other accounts. Sign in with one \
                 of them, or start on an empty database (a new DATABASE_URL) for the demo."
            );
            return;
        }
    }
    println!("\nDemo sign-in (email or username / password):");
    for user in &DEMO_USERS {
        println!(
            "  {:<12} {:<22} or {:<6} / {}",
            user.role.label(),
            user.email,
            user.username,
            user.password
        );
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// Reads the new super admin's password: asked twice on a terminal, else one line of stdin.
fn read_password() -> Result<String, String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password for the super admin: ")
            .map_err(|e| e.to_string())?;
        let second =
            rpassword::prompt_password("Repeat the password: ").map_err(|e| e.to_string())?;
        if first != second {
            return Err("the passwords differ".into());
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("reading the password from stdin: {e}"))?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}

async fn create_account(config: Config, args: CreateAccountArgs) -> Result<(), String> {
    let password = read_password()?;
    identity::new_password(&password).map_err(|e| format!("password: {e}"))?;
    let ctx = Ctx::open(config, Clock::system()).await?;
    let admin_name = args
        .admin_name
        .clone()
        .unwrap_or_else(|| args.username.clone());
    let (account_id, admin_id) = seed::create_account(
        &ctx,
        seed::NewAccount {
            account_name: &args.name,
            email: &args.email,
            username: &args.username,
            admin_name: &admin_name,
            password: &password,
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    println!(
        "Created account {:?} (id {account_id}) with super admin {} (id {admin_id}).",
        args.name.trim(),
        args.email.trim().to_lowercase()
    );
    Ok(())
}

async fn reset_2fa(config: Config, args: Reset2faArgs) -> Result<(), String> {
    let identifier = identity::sign_in_identifier(&args.user).map_err(|e| e.to_string())?;
    let ctx = Ctx::open(config, Clock::system()).await?;
    let admin = admins::find_by_identifier(&ctx.db, &identifier)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no admin with email or username {identifier:?}"))?;
    let done = reset_second_factor(&ctx, &admin, ResetBy::Operator, &Client::default())
        .await
        .map_err(|e| e.to_string())?;
    let ended = done.ended_sessions;
    if done.removed_totp || done.removed_keys > 0 {
        println!(
            "Removed the two-factor credentials of {} ({}{} security key(s)) and ended {ended} session(s). They set 2FA up again at their next sign-in.",
            admin.email,
            if done.removed_totp { "TOTP, " } else { "" },
            done.removed_keys
        );
    } else {
        println!(
            "{} had no two-factor credential; ended {ended} session(s).",
            admin.email
        );
    }
    if let Some(id) = done.request_id {
        println!("Their pending reset request ({id}) is answered as approved.");
    }
    if let Some(code) = &done.setup_code {
        println!(
            "Setup code: {code}\nTheir next sign-in asks for it after the password (valid {} days). \
             Give it to them by phone or in person, once you know it is them; never by email.",
            crate::domain::setup_code::VALID_DAYS
        );
    }
    Ok(())
}

async fn rotate_key(config: Config) -> Result<(), String> {
    let ctx = Ctx::open(config, Clock::system()).await?;
    let id = ctx.keyring.rotate().map_err(|e| e.to_string())?;
    // The new key's check value first: secrets sealed with it are never in the database before
    // the database knows the key.
    crate::server::ctx::record_key_checks(&ctx.db, &ctx.keyring, ctx.now(), None).await?;
    let resealed = totp::reseal_all(&ctx.db, &ctx.keyring)
        .await
        .map_err(|e| format!("re-encrypting: {e}"))?;
    println!(
        "Added key {id} to {} and re-encrypted {resealed} stored secret(s) with it. Older keys stay in the file.",
        ctx.keyring.source()
    );
    Ok(())
}

async fn forget_key(config: Config, args: ForgetKeyArgs) -> Result<(), String> {
    // Looked at before anything is written: a dry run creates no key file.
    let db = crate::server::db::Db::connect(&config.database_url)
        .await
        .map_err(|e| format!("cannot open the database: {e}"))?;
    let key_file = match &config.secret_keys {
        Some(_) => std::path::PathBuf::new(),
        None => config.key_file_path()?,
    };
    let (held, source) = match Keyring::load(config.secret_keys.as_deref(), &key_file, false) {
        Ok(keyring) => (keyring.has(&args.key_id), keyring.source()),
        Err(KeyError::Missing(path)) => {
            (false, format!("the key file {} (missing)", path.display()))
        }
        Err(e) => return Err(e.to_string()),
    };
    if held {
        return Err(format!(
            "key {:?} is not lost: {source} holds it. Nothing was changed.",
            args.key_id
        ));
    }
    let affected = key_checks::admins_with_secrets_under(&db, &args.key_id)
        .await
        .map_err(|e| e.to_string())?;
    if !args.yes {
        // Says what it would do, with the keys it looked in: a wrong MSSP_KEY_FILE or working
        // directory shows here, before anything is reset.
        return Err(format!(
            "forget-key would reset the second factor of {} admin(s) whose secrets need key {:?}, \
             which {source} does not hold. If that is the wrong place, stop and set \
             MSSP_KEY_FILE. Restore the key file from a backup if you can; if the key is lost for \
             good, run again with --yes.",
            affected.len(),
            args.key_id,
        ));
    }
    let ctx = Ctx::open_forgetting(config, Clock::system(), Some(&args.key_id)).await?;
    for admin_id in &affected {
        let admin = admins::find(&ctx.db, *admin_id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("admin {admin_id} disappeared"))?;
        reset_second_factor(&ctx, &admin, ResetBy::LostKey, &Client::default())
            .await
            .map_err(|e| e.to_string())?;
        println!("Reset the second factor of {}.", admin.email);
    }
    // Setup codes kept under the key could never be checked: forgotten, so that a super admin
    // sees "no code" and can give a new one.
    let mut conn = ctx.db.pool.acquire().await.map_err(|e| e.to_string())?;
    let codes = admins::forget_setup_codes_under(&mut conn, &args.key_id)
        .await
        .map_err(|e| e.to_string())?;
    drop(conn);
    if codes > 0 {
        println!(
            "Forgot {codes} setup code(s) kept under the key: their super admins can give new ones \
             (Edit page, \"New setup code\")."
        );
    }
    key_checks::delete(&ctx.db, &args.key_id)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "Forgot key {}: {} admin(s) set up 2FA again at their next sign-in.",
        args.key_id,
        affected.len()
    );
    Ok(())
}

async fn seed_admins(config: Config, args: SeedAdminsArgs) -> Result<(), String> {
    let identifier = identity::sign_in_identifier(&args.account_of).map_err(|e| e.to_string())?;
    let ctx = Ctx::open(config, Clock::system()).await?;
    let admin = admins::find_by_identifier(&ctx.db, &identifier)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no admin with email or username {identifier:?}"))?;
    seed::bulk_admins(&ctx.db, admin.account_id, &args.tag, args.count)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "Added {} admins to the account of {}.",
        args.count, admin.email
    );
    Ok(())
}
