//! How many SQL statements the sign-in steps and a signed-in request cost. Each statement is a
//! round trip through the pool (and a write, a commit); at 64 sign-ins at once they are what the
//! cores spend besides argon2 (`cargo bench --features ssr --bench sign_in`). The budgets are
//! what the steps cost now and catch a step that grows; lower them when a step gets cheaper.
//! 2026-11-30: 21 → 11 for the password step, 23 → 16 for the code step, 5 → 3 for a
//! signed-in request. 2026-12-01: a step's counters are read in one statement (11 → 10, 16 →
//! 15), and `cycle_id` no longer deletes again the session a later step claimed (15 → 14);
//! the password step of a browser without a stored session no longer moves it to a new id,
//! which deleted an id never stored (10 → 9). sqlx's pings are not logged, so not counted: the
//! pool pings only a connection idle for a second or more (`PING_IF_IDLE_FOR`), not one before
//! every statement as sqlx's default did (2026-12-08).
//!
//! Its own test binary: the statement log is process-wide, and here only this test's requests
//! run (no background tasks).

#[allow(dead_code)]
#[path = "it/helpers.rs"]
mod helpers;

use helpers::{Backend, spawn_app_quiet};
use std::sync::{Arc, Mutex};
use tracing_subscriber::layer::SubscriberExt;

/// The statements sqlx ran, as it logs them.
#[derive(Clone, Default)]
struct Statements(Arc<Mutex<Vec<String>>>);

struct Sql<'a>(&'a mut String);

impl tracing::field::Visit for Sql<'_> {
    fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "db.statement" {
            *self.0 = value.split_whitespace().collect::<Vec<_>>().join(" ");
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Statements {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if !event.metadata().target().starts_with("sqlx::query") {
            return;
        }
        let mut sql = String::new();
        event.record(&mut Sql(&mut sql));
        // A pool opening a connection sets it up; that is not the request's work.
        if !sql.is_empty() && !sql.starts_with("PRAGMA") {
            self.0.lock().unwrap().push(sql);
        }
    }
}

impl Statements {
    /// The statements since the last call.
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

#[track_caller]
fn within(step: &str, statements: &[String], budget: usize) {
    assert!(
        !statements.is_empty() && statements.len() <= budget,
        "{step}: {} statements, budget {budget}:\n{}",
        statements.len(),
        statements.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_steps_stay_within_their_statement_budgets() {
    let log = Statements::default();
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry()
            .with(tracing_subscriber::EnvFilter::new("sqlx::query=debug"))
            .with(log.clone()),
    )
    .unwrap();
    let app = spawn_app_quiet(Backend::Sqlite).await;
    let creds = app.account("statements").await;
    let owner = app.browser();
    owner.sign_in_fully(&creds, None).await;
    let mut authenticator = owner.enable_two_factor().await;
    let code = authenticator.next_code().await;

    // A browser the admin has not used: counted on the address and the admin's counter for
    // unknown browsers, each taken back after the success.
    let browser = app.browser();
    log.take();
    assert_eq!(browser.sign_in(&creds).await.assert_ok(), "/login/code");
    within("password step", &log.take(), 9);
    browser
        .call("verify_sign_in_code", &[("code", &code)])
        .await
        .assert_ok();
    within("code step", &log.take(), 14);
    browser.call("get_profile", &[]).await.assert_ok();
    within("a signed-in request (get_profile)", &log.take(), 3);
}
