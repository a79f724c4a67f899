//! The binary's commands: `serve` (default), `create-account`, `reset-2fa`.

use crate::domain::identity;
use crate::domain::reset::RequestStatus;
use crate::server::app::{build_state, router};
use crate::server::config::{Cli, Command, Config, CreateAccountArgs, Reset2faArgs, ServeArgs};
use crate::server::db::sessions::SqlSessionStore;
use crate::server::db::{admins, audit, reset_requests, sessions, totp};
use crate::server::seed::{self, DEMO_USERS};
use crate::server::state::AppState;
use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;
use std::time::Duration;

pub async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        None => serve(cli.config, ServeArgs::default()).await,
        Some(Command::Serve(args)) => serve(cli.config, args).await,
        Some(Command::CreateAccount(args)) => create_account(cli.config, args).await,
        Some(Command::Reset2fa(args)) => reset_2fa(cli.config, args).await,
        Some(Command::RotateKey) => rotate_key(cli.config).await,
    }
}

async fn state_for(config: Config) -> Result<AppState, String> {
    let mut leptos = leptos::config::get_configuration(None)
        .map_err(|e| format!("Leptos configuration: {e}"))?
        .leptos_options;
    leptos.site_addr = config.bind;
    if leptos.output_name.is_empty() {
        // Built without cargo-leptos (plain `cargo build`): use the crate's output name.
        leptos.output_name = "mssp-dashboard".into();
    }
    build_state(config, leptos).await
}

async fn serve(config: Config, args: ServeArgs) -> Result<(), String> {
    let bind = config.bind;
    let url = config.public_url();
    let state = state_for(config).await?;
    if args.demo {
        let created = seed::seed_demo(&state.db, &state.passwords)
            .await
            .map_err(|e| format!("demo data: {e}"))?;
        print_demo(created);
    }
    spawn_session_cleanup(state.clone());
    let app = router(state);
    let listener = crate::server::app::listen(bind)
        .await
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    println!("\nmssp-dashboard is listening: open {url}\n");
    tracing::info!(%bind, "listening");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .map_err(|e| format!("server: {e}"))
}

fn print_demo(created: bool) {
    if created {
        println!("\nCreated the demo account \"Demo MSSP\" (development only).");
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

fn spawn_session_cleanup(state: AppState) {
    let store = SqlSessionStore::new(state.db.clone());
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
    let state = state_for(config).await?;
    let admin_name = args
        .admin_name
        .clone()
        .unwrap_or_else(|| args.username.clone());
    let (account_id, admin_id) = seed::create_account(
        &state.db,
        &state.passwords,
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
    let state = state_for(config).await?;
    let admin = admins::find_by_identifier(&state.db, &identifier)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no admin with email or username {identifier:?}"))?;
    let now = crate::server::now();
    let mut tx = state.db.pool.begin().await.map_err(|e| e.to_string())?;
    let removed = totp::delete_in(&mut tx, admin.id)
        .await
        .map_err(|e| e.to_string())?;
    let ended = sessions::delete_for_admin_in(&mut tx, admin.id)
        .await
        .map_err(|e| e.to_string())?;
    sqlx::query("UPDATE admins SET prompt_2fa_setup = 1, updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(admin.id)
        .execute(&mut *tx)
        .await
        .map_err(|e| e.to_string())?;
    // A pending request is answered by this reset.
    if let Some(pending) = reset_requests::pending_for_admin(&mut tx, admin.id)
        .await
        .map_err(|e| e.to_string())?
    {
        reset_requests::decide(&mut tx, pending.id, RequestStatus::Approved, None, now)
            .await
            .map_err(|e| e.to_string())?;
    }
    audit::record(
        &mut tx,
        audit::Entry {
            account_id: Some(admin.account_id),
            actor_id: None,
            target_id: Some(admin.id),
            event: "2fa_reset_by_operator",
            detail: "mssp-dashboard reset-2fa",
            client_ip: None,
        },
        now,
    )
    .await
    .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    tracing::warn!(
        admin = admin.id,
        "two-factor authentication reset by the operator"
    );
    if removed {
        println!(
            "Removed the two-factor credential of {} and ended {ended} session(s). They set 2FA up again at their next sign-in.",
            admin.email
        );
    } else {
        println!(
            "{} had no two-factor credential; ended {ended} session(s).",
            admin.email
        );
    }
    Ok(())
}

async fn rotate_key(config: Config) -> Result<(), String> {
    let state = state_for(config).await?;
    let id = state.keyring.rotate().map_err(|e| e.to_string())?;
    let resealed = totp::reseal_all(&state.db, &state.keyring)
        .await
        .map_err(|e| format!("re-encrypting: {e}"))?;
    println!(
        "Added key {id} to {} and re-encrypted {resealed} stored secret(s) with it. Older keys stay in the file.",
        state.config.key_file.display()
    );
    Ok(())
}
