#[cfg(feature = "ssr")]
fn main() -> std::process::ExitCode {
    // Before the runtime's threads exist.
    mssp_dashboard::server::memory::tune_allocator();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run()),
        Err(error) => {
            eprintln!("error: cannot start the runtime: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(feature = "ssr")]
async fn run() -> std::process::ExitCode {
    use clap::Parser;
    use tracing_subscriber::EnvFilter;

    // A .env file next to the binary's working directory, if any, fills in the environment.
    let _ = dotenvy::dotenv();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_sessions=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = mssp_dashboard::cli::Cli::parse();
    match mssp_dashboard::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(not(feature = "ssr"))]
fn main() {
    // The browser side starts from `hydrate()` in lib.rs.
}
