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

#[test]
fn serve_refuses_compressed_files_older_than_the_files_they_stand_for() {
    let dir = workdir("stale", true);
    let wasm = dir.join("site/pkg/mssp-dashboard.wasm");
    let stale = dir.join("site/pkg/mssp-dashboard.wasm.br");
    std::fs::write(&stale, b"an earlier build").unwrap();
    // The plain file is rebuilt after the compressed copy was made.
    let later = std::time::SystemTime::now() + Duration::from_secs(60);
    std::fs::File::options()
        .write(true)
        .open(&wasm)
        .unwrap()
        .set_modified(later)
        .unwrap();
    let out = start(&dir, &[], &[]).wait_with_output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("mssp-dashboard.wasm.br") && stderr.contains("--precompress"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_files_go_compressed_to_browsers_that_accept_it_and_are_revalidated() {
    let dir = workdir("static", true);
    let pkg = dir.join("site/pkg");
    std::fs::write(pkg.join("mssp-dashboard.wasm"), b"plain wasm").unwrap();
    std::fs::write(pkg.join("mssp-dashboard.wasm.br"), b"brotli wasm").unwrap();
    std::fs::write(pkg.join("mssp-dashboard.wasm.gz"), b"gzip wasm").unwrap();
    let mut child = start(&dir, &[], &[]);
    let rx = lines(&mut child);
    let _running = Running(child);
    let (url, _) = until_listening(&rx);
    let client = reqwest::Client::new();
    let wasm = format!("{url}/pkg/mssp-dashboard.wasm");
    let get = |accept: &'static str| {
        let request = client.get(&wasm);
        async move {
            let request = if accept.is_empty() {
                request
            } else {
                request.header("accept-encoding", accept)
            };
            request.send().await.unwrap()
        }
    };
    for (accept, encoding, body) in [
        ("gzip, deflate, br, zstd", Some("br"), "brotli wasm"),
        ("gzip", Some("gzip"), "gzip wasm"),
        ("", None, "plain wasm"),
    ] {
        let res = get(accept).await;
        assert_eq!(res.status(), 200, "{accept}");
        let header = |name: &str| {
            res.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
        };
        assert_eq!(header("content-encoding").as_deref(), encoding, "{accept}");
        assert_eq!(header("content-type").as_deref(), Some("application/wasm"));
        // Kept by the browser, asked again each time (a 304 costs no body).
        assert_eq!(header("cache-control").as_deref(), Some("no-cache"));
        assert_eq!(header("vary").as_deref(), Some("Accept-Encoding"));
        let modified = header("last-modified").expect("Last-Modified");
        assert_eq!(res.text().await.unwrap(), body);
        let again = client
            .get(&wasm)
            .header("accept-encoding", accept)
            .header("if-modified-since", modified)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{accept}");
    }
    // Pages stay out of every cache.
    let page = client.get(format!("{url}/login")).send().await.unwrap();
    assert_eq!(
        page.headers()
            .get("cache-control")
            .unwrap()
            .to_str()
            .unwrap(),
        "no-store"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The base64url MD5 of `bytes`: how cargo-leptos's `hash-files` names a file.
fn content_hash(bytes: &[u8]) -> String {
    use base64::Engine as _;
    use md5::Digest as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(md5::Md5::digest(bytes))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_named_files_are_named_by_the_pages_and_kept_for_good() {
    // A release build with `hash-files`: every browser file named by a hash, the hashes in
    // `hash.txt` (here not beside the binary, so named by LEPTOS_HASH_FILE_NAME). The WASM and
    // the stylesheet are named by their bytes; the script, as cargo-leptos leaves the main
    // script after rewriting it, by bytes it no longer has.
    let dir = workdir("hashed", false);
    let pkg = dir.join("site/pkg");
    let wasm = content_hash(b"wasm");
    let css = content_hash(b"css");
    let js = content_hash(b"the script before it was rewritten");
    for (hash, ext) in [(&js, "js"), (&wasm, "wasm"), (&css, "css")] {
        std::fs::write(pkg.join(format!("mssp-dashboard.{hash}.{ext}")), ext).unwrap();
    }
    std::fs::write(
        pkg.join(format!("mssp-dashboard.{wasm}.wasm.br")),
        "brotli wasm",
    )
    .unwrap();
    let hash_file = dir.join("hash.txt");
    std::fs::write(&hash_file, format!("js: {js}\nwasm: {wasm}\ncss: {css}\n")).unwrap();
    let hash_file = hash_file.display().to_string();
    let mut child = start(&dir, &[("LEPTOS_HASH_FILE_NAME", hash_file.as_str())], &[]);
    let rx = lines(&mut child);
    let _running = Running(child);
    let (url, _) = until_listening(&rx);
    let client = reqwest::Client::new();
    let page = client
        .get(format!("{url}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        format!("/pkg/mssp-dashboard.{js}.js"),
        format!("/pkg/mssp-dashboard.{wasm}.wasm"),
        format!("/pkg/mssp-dashboard.{css}.css"),
    ] {
        assert!(page.contains(&name), "the page names {name}: {page}");
    }
    let get = |path: String| {
        client
            .get(format!("{url}{path}"))
            .header("accept-encoding", "gzip, deflate, br, zstd")
            .send()
    };
    let cache = |res: &reqwest::Response| {
        res.headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap().to_string())
    };
    let res = get(format!("/pkg/mssp-dashboard.{wasm}.wasm"))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers().get("content-encoding").unwrap(), "br");
    assert_eq!(
        cache(&res).as_deref(),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(res.text().await.unwrap(), "brotli wasm");
    let res = get(format!("/pkg/mssp-dashboard.{css}.css")).await.unwrap();
    assert_eq!(
        cache(&res).as_deref(),
        Some("public, max-age=31536000, immutable")
    );
    // A name whose hash is not its bytes' is asked about each time.
    let res = get(format!("/pkg/mssp-dashboard.{js}.js")).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(cache(&res).as_deref(), Some("no-cache"));
    // A content name that is not there is not kept (it may be deployed a moment later).
    let missing = get(format!(
        "/pkg/mssp-dashboard.{}.wasm",
        content_hash(b"later")
    ))
    .await
    .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(cache(&missing).as_deref(), Some("no-cache"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn serve_refuses_a_hash_file_whose_files_are_missing() {
    // LEPTOS_HASH_FILES=true (as cargo-leptos sets it) with a hash file naming files that are
    // not in the site root: refused, naming them.
    let dir = workdir("hashed-missing", true);
    let hash_file = dir.join("hash.txt");
    std::fs::write(
        &hash_file,
        "js: J1234567890abcdefghij_\nwasm: W1234567890abcdefghij-\ncss: C1234567890abcdefghijk\n",
    )
    .unwrap();
    let hash_file = hash_file.display().to_string();
    let out = start(
        &dir,
        &[
            ("LEPTOS_HASH_FILES", "true"),
            ("LEPTOS_HASH_FILE_NAME", hash_file.as_str()),
        ],
        &[],
    )
    .wait_with_output()
    .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("mssp-dashboard.W1234567890abcdefghij-.wasm"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn serve_refuses_a_build_without_split() {
    // The lazy routes of an unsplit build import a module that does not exist.
    let dir = workdir("unsplit", true);
    std::fs::write(
        dir.join("site/pkg/mssp-dashboard.js"),
        "import * as split from \"__wasm_split_placeholder__\";",
    )
    .unwrap();
    let out = start(&dir, &[], &[]).wait_with_output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--split") && stderr.contains("mssp-dashboard.js"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
