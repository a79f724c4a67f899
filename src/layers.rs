//! The layers' imports point one way (see the crate docs): checked on the source text, so a
//! wrong import fails `cargo test` instead of waiting for a reviewer.

use std::path::{Path, PathBuf};

/// (layer, what its files must never mention, why)
const RULES: &[(&str, &[&str], &str)] = &[
    (
        "domain",
        &[
            "crate::model",
            "crate::server",
            "crate::api",
            "crate::app",
            "crate::web",
            "crate::cli",
            "leptos",
            "axum::",
            "sqlx::",
            "tokio::",
        ],
        "the rules know no other layer, no framework and no database",
    ),
    (
        "model",
        &[
            "crate::server",
            "crate::api",
            "crate::app",
            "crate::web",
            "crate::cli",
        ],
        "wire types are used by every layer and use none but the domain",
    ),
    (
        "server",
        &[
            "crate::api",
            "crate::app",
            "crate::web",
            "crate::cli",
            "use_context",
            "leptos::",
        ],
        "server code takes its context as arguments and knows neither server functions nor components",
    ),
    (
        "api",
        &["crate::app", "crate::web", "crate::cli"],
        "server functions know the server code, not the components or the router",
    ),
    (
        "app",
        &["crate::server", "crate::web", "crate::cli"],
        "components reach the server only through server functions",
    ),
];

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn imports_point_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut broken = Vec::new();
    for (layer, forbidden, why) in RULES {
        let mut paths = Vec::new();
        files(&src.join(layer), &mut paths);
        assert!(!paths.is_empty(), "no files in src/{layer}");
        for path in paths {
            let text = std::fs::read_to_string(&path).expect("readable source file");
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                for word in *forbidden {
                    if code.contains(word) {
                        broken.push(format!(
                            "{}:{}: `{word}` in {layer}/ ({why})",
                            path.display(),
                            n + 1
                        ));
                    }
                }
            }
        }
    }
    assert!(broken.is_empty(), "\n{}", broken.join("\n"));
}
