//! What the server counts and times, in Prometheus text format (`metrics` with
//! `metrics-exporter-prometheus`, its own exporter: the HTTP listener is ours, on its own
//! address, `MSSP_METRICS_BIND`, because the figures must not be public).
//!
//! Recording goes through the `metrics` facade: without an installed recorder (metrics off)
//! every call below is a no-op costing an atomic load.

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

/// Sign-in steps by step and outcome.
pub const SIGN_IN_STEPS: &str = "mssp_sign_in_steps_total";
/// Locks set by wrong passwords or codes, by secret.
pub const LOCKS: &str = "mssp_sign_in_locks_total";
/// Password hashes waiting for a place to run.
pub const HASH_QUEUE: &str = "mssp_password_hash_queue";
/// From asking for a place to run to getting it.
pub const HASH_WAIT: &str = "mssp_password_hash_wait_seconds";
/// One argon2id hash or verification, run.
pub const HASH_RUN: &str = "mssp_password_hash_seconds";
/// Hashes refused at once because the queue was full (`Busy`).
pub const HASH_REFUSED: &str = "mssp_password_hash_refused_total";
/// Server functions, by name and HTTP status, from request to response.
pub const SERVER_FN: &str = "mssp_server_fn_duration_seconds";
/// Open live connections (server-sent events) of this instance.
pub const LIVE_CONNECTIONS: &str = "mssp_live_connections";
/// Live events published by this instance.
pub const LIVE_PUBLISHED: &str = "mssp_live_events_published_total";
/// Live events received from other instances through PostgreSQL.
pub const LIVE_RELAYED: &str = "mssp_live_events_relayed_total";
/// Times the relay from other instances was lost and re-established.
pub const RELAY_RECONNECTS: &str = "mssp_live_relay_reconnects_total";

/// From 0.5 ms to 10 s: a code step takes milliseconds, a hash tens of them, a queue seconds.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process's recorder (once; later calls answer the same handle) and keeps its
/// histograms drained. Must run inside the tokio runtime.
pub fn install() -> Result<PrometheusHandle, String> {
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
        .and_then(PrometheusBuilder::install_recorder)
        .map_err(|e| format!("installing the metrics recorder: {e}"))?;
    describe();
    let handle = HANDLE.get_or_init(|| handle).clone();
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            upkeep.run_upkeep();
        }
    });
    Ok(handle)
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(SIGN_IN_STEPS, "Sign-in steps by step and outcome.");
    describe_counter!(LOCKS, "Locks set by repeated wrong passwords or codes.");
    describe_gauge!(HASH_QUEUE, "Password hashes waiting for a place to run.");
    describe_histogram!(
        HASH_WAIT,
        metrics::Unit::Seconds,
        "Wait for a place to run a password hash."
    );
    describe_histogram!(
        HASH_RUN,
        metrics::Unit::Seconds,
        "One argon2id hash or verification."
    );
    describe_counter!(HASH_REFUSED, "Password hashes refused: the queue was full.");
    describe_histogram!(
        SERVER_FN,
        metrics::Unit::Seconds,
        "Server functions from request to response."
    );
    describe_gauge!(LIVE_CONNECTIONS, "Open live connections.");
    describe_counter!(LIVE_PUBLISHED, "Live events published by this instance.");
    describe_counter!(LIVE_RELAYED, "Live events relayed from other instances.");
    describe_counter!(
        RELAY_RECONNECTS,
        "Times the relay from other instances was re-established."
    );
}

/// A sign-in step's outcome: `step` is "password", "code" or "setup_code".
pub fn sign_in_step<T>(step: &'static str, result: &Result<T, crate::model::AppError>) {
    use crate::model::AppError;
    let outcome = match result {
        Ok(_) => "ok",
        Err(AppError::BadCredentials | AppError::Invalid { .. }) => "refused",
        Err(AppError::TooManyRequests { .. }) => "locked",
        Err(AppError::Busy) => "busy",
        Err(AppError::Internal) => "error",
        Err(_) => "other",
    };
    counter!(SIGN_IN_STEPS, "step" => step, "outcome" => outcome).increment(1);
}

pub fn lock(secret: &'static str) {
    counter!(LOCKS, "secret" => secret).increment(1);
}

pub fn hash_queue(waiting: usize) {
    gauge!(HASH_QUEUE).set(waiting as f64);
}

pub fn hash_wait(waited: Duration) {
    histogram!(HASH_WAIT).record(waited.as_secs_f64());
}

pub fn hash_run(took: Duration) {
    histogram!(HASH_RUN).record(took.as_secs_f64());
}

pub fn hash_refused() {
    counter!(HASH_REFUSED).increment(1);
}

pub fn server_fn(name: String, status: u16, took: Duration) {
    histogram!(SERVER_FN, "fn" => name, "status" => status.to_string()).record(took.as_secs_f64());
}

pub fn live_connection_opened() {
    gauge!(LIVE_CONNECTIONS).increment(1.0);
}

pub fn live_connection_closed() {
    gauge!(LIVE_CONNECTIONS).decrement(1.0);
}

pub fn live_published() {
    counter!(LIVE_PUBLISHED).increment(1);
}

pub fn live_relayed() {
    counter!(LIVE_RELAYED).increment(1);
}

pub fn relay_reconnected() {
    counter!(RELAY_RECONNECTS).increment(1);
}
