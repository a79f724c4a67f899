//! The binary as a new user runs it: `mssp-dashboard` with no command serves, reading the same
//! environment as `mssp-dashboard serve`; it refuses a site root whose files are missing.

use crate::helpers::browser_at;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A directory of the test's own with a site root holding the files the pages name.
fn workdir(label: &str, with_site: bool) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mssp-cli-{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let pkg = dir.join("site").join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    if with_site {
        for file in [
            "mssp-dashboard.js",
            "mssp-dashboard.wasm",
            "mssp-dashboard.css",
        ] {
            std::fs::write(pkg.join(file), b"").unwrap();
        }
    }
    dir
}

/// Starts the binary in `dir` (its own `.env`-free working directory) with `env` and `args`.
fn start(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mssp-dashboard"));
    command
        .current_dir(dir)
        .args(args)
        .env_remove("MSSP_DEMO")
        .env_remove("LEPTOS_WATCH")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.join("db.sqlite").display()),
        )
        .env("MSSP_KEY_FILE", dir.join("secrets.key"))
        .env("MSSP_BIND", "127.0.0.1:0")
        .env("LEPTOS_SITE_ROOT", dir.join("site"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    command.spawn().unwrap()
}

/// Standard output line by line, read on a thread.
fn lines(child: &mut Child) -> mpsc::Receiver<String> {
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Its URL, and what the server printed around "is listening" (until it is quiet).
fn until_listening(rx: &mpsc::Receiver<String>) -> (String, Vec<String>) {
    let mut seen = Vec::new();
    let url = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("the server did not start; it printed {seen:?}"));
        let url = line
            .split("is listening: open ")
            .nth(1)
            .map(|u| u.trim().to_string());
        seen.push(line);
        if let Some(url) = url {
            break url;
        }
    };
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(1_500)) {
        seen.push(line);
    }
    (url, seen)
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the server with `env` and `args` on a fresh database; answers whether the demo
/// sign-in it printed works (`None` when it printed none; then the demo name is unknown).
async fn demo_sign_in(label: &str, env: &[(&str, &str)], args: &[&str]) -> Option<bool> {
    let dir = workdir(label, true);
    let mut child = start(&dir, env, args);
    let rx = lines(&mut child);
    let _running = Running(child);
    let (url, printed) = until_listening(&rx);
    let browser = browser_at(&url);
    let outcome = match printed.iter().find(|l| l.contains("Super admin")) {
        // "  Super admin  super@demo.example  or super  / demo-super-admin-pw"
        Some(line) => {
            let (names, password) = line.rsplit_once(" / ").unwrap();
            let username = names.split_whitespace().last().unwrap();
            let answer = browser
                .call(
                    "sign_in",
                    &[("identifier", username), ("password", password.trim())],
                )
                .await;
            Some(answer.status.is_success() && answer.body == "/")
        }
        None => {
            // Nothing printed, and nothing there.
            browser
                .call(
                    "sign_in",
                    &[("identifier", "super"), ("password", "demo-super-admin-pw")],
                )
                .await
                .assert_error(401, "BadCredentials");
            None
        }
    };
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_is_created_when_asked_however_serve_is_started() {
    /// (label, environment, arguments, whether a printed demo sign-in works)
    type Case<'a> = (
        &'a str,
        &'a [(&'a str, &'a str)],
        &'a [&'a str],
        Option<bool>,
    );
    let cases: &[Case<'_>] = &[
        // No command: serve, reading the same environment and flags as `serve`.
        ("env-nocmd", &[("MSSP_DEMO", "true")], &[], Some(true)),
        (
            "env-serve",
            &[("MSSP_DEMO", "true")],
            &["serve"],
            Some(true),
        ),
        ("flag-nocmd", &[], &["--demo"], Some(true)),
        ("flag-serve", &[], &["serve", "--demo"], Some(true)),
        // Under `cargo leptos watch` (the development loop) the demo is on unless turned off.
        ("watch", &[("LEPTOS_WATCH", "true")], &[], Some(true)),
        (
            "watch-off",
            &[("LEPTOS_WATCH", "true"), ("MSSP_DEMO", "false")],
            &["serve"],
            None,
        ),
        // A plain start never creates users.
        ("plain-nocmd", &[], &[], None),
        ("plain-serve", &[], &["serve"], None),
    ];
    for (label, env, args, expected) in cases {
        assert_eq!(
            demo_sign_in(label, env, args).await,
            *expected,
            "{label}: env {env:?}, args {args:?}"
        );
    }
}

#[test]
fn serve_refuses_a_site_root_without_the_files_its_pages_name() {
    let dir = workdir("nosite", false);
    let child = start(&dir, &[], &[]);
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("mssp-dashboard.wasm") && stderr.contains("cargo leptos build"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
