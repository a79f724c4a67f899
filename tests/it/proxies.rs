//! Behind a proxy: the client address is the entry our proxy appended to X-Forwarded-For, never
//! what a client wrote in front of it; IPv6 clients count per /64.

use crate::helpers::{Backend, TestApp, browser_forwarded, spawn_app_with};
use sqlx::Row;

/// One proxy in front (the test client plays it: the peer is 127.0.0.1).
async fn behind_one_proxy(
    backend: Backend,
    change: impl FnOnce(&mut mssp_dashboard::server::config::Config),
) -> TestApp {
    spawn_app_with(backend, |c| {
        c.trust_proxy = true;
        change(c);
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_forwarded_for_does_not_escape_the_per_address_limit() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let app = behind_one_proxy(backend, |c| c.address_max_failures = 3).await;
        let mut answers = Vec::new();
        for i in 0..5 {
            // A new forged left-most entry each time; the proxy appended the real address.
            let browser = browser_forwarded(&app.base, &format!("10.66.0.{i}, 203.0.113.7"));
            let answer = browser
                .call(
                    "sign_in",
                    &[
                        ("identifier", &format!("nobody{i}@example.com")),
                        ("password", "a wrong guess"),
                    ],
                )
                .await;
            answers.push(answer.status.as_u16());
        }
        assert_eq!(answers, [401, 401, 401, 429, 429], "{backend:?}");
        // The audit log names the real address, never the forged one.
        let addresses: Vec<Option<String>> =
            sqlx::query("SELECT client_ip FROM audit_log WHERE event = 'sign_in_failed'")
                .fetch_all(&app.ctx.db.pool)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get("client_ip"))
                .collect();
        assert!(!addresses.is_empty());
        assert!(
            addresses
                .iter()
                .all(|a| a.as_deref() == Some("203.0.113.7")),
            "{addresses:?}"
        );
        // Another client behind the same proxy is not affected.
        browser_forwarded(&app.base, "198.51.100.4")
            .call(
                "sign_in",
                &[
                    ("identifier", "someone@example.com"),
                    ("password", "a wrong guess"),
                ],
            )
            .await
            .assert_error(401, "BadCredentials");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_clients_count_per_64() {
    let app = behind_one_proxy(Backend::Sqlite, |c| c.address_max_failures = 3).await;
    let mut answers = Vec::new();
    for i in 1..=4 {
        // Every request from another address of the same /64.
        let browser = browser_forwarded(&app.base, &format!("2001:db8:1:2::{i:x}"));
        answers.push(
            browser
                .call(
                    "sign_in",
                    &[
                        ("identifier", &format!("nobody{i}@example.com")),
                        ("password", "a wrong guess"),
                    ],
                )
                .await
                .status
                .as_u16(),
        );
    }
    assert_eq!(answers, [401, 401, 401, 429]);
    // The next /64 is another client.
    browser_forwarded(&app.base, "2001:db8:1:3::1")
        .call(
            "sign_in",
            &[
                ("identifier", "x@example.com"),
                ("password", "a wrong guess"),
            ],
        )
        .await
        .assert_error(401, "BadCredentials");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_forwarded_for_does_not_escape_the_request_rate_limit() {
    let app = behind_one_proxy(Backend::Sqlite, |c| c.requests_per_second = 1).await;
    let mut limited = false;
    for i in 0..40 {
        let browser = browser_forwarded(&app.base, &format!("10.77.0.{i}, 203.0.113.8"));
        if browser.call("current_admin", &[]).await.status == 429 {
            limited = true;
            break;
        }
    }
    assert!(limited, "forged entries escaped the request-rate limit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reset_email_names_the_real_address() {
    let smtp = crate::smtp::start().await;
    let url = smtp.url.clone();
    let app = behind_one_proxy(Backend::Sqlite, move |c| {
        c.smtp_url = Some(url);
        c.smtp_from = "MSSP Dashboard <dashboard@example.com>".into();
    })
    .await;
    let owner = app.account("proxied").await;
    let super_admin = app.browser();
    super_admin.sign_in_fully(&owner, None).await;
    let mut admin = super_admin
        .add_admin(owner.account_id, "lost", "admin")
        .await;
    let browser = app.browser();
    browser.sign_in_first_time(&mut admin).await;
    browser.enable_two_factor().await;
    let requester = browser_forwarded(&app.base, "6.6.6.6, 203.0.113.9");
    assert_eq!(requester.sign_in(&admin).await.assert_ok(), "/login/code");
    requester.call("request_2fa_reset", &[]).await.assert_ok();
    let mut mail = None;
    for _ in 0..50 {
        mail = smtp
            .inbox
            .lock()
            .unwrap()
            .iter()
            .find(|m| m.data.contains("asked for a reset"))
            .cloned();
        if mail.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mail = mail.expect("the super admin gets the reset email");
    assert!(mail.data.contains("203.0.113.9"), "{}", mail.data);
    assert!(!mail.data.contains("6.6.6.6"), "{}", mail.data);
}
