#!/usr/bin/env bash
# One command for a fresh machine: installs what is missing, then runs every check and test:
# formatting, clippy (server and browser builds, warnings denied), unit and integration tests
# (SQLite and PostgreSQL), and the browser end-to-end suite (Playwright, headless Chromium).
#
# PostgreSQL for the integration tests: MSSP_TEST_POSTGRES_URL
# (default postgres://postgres@127.0.0.1:5432/test; the tests create and drop their own databases).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n\033[1;34m==> %s\033[0m\n' "$*"; }

step "tools"
scripts/install-tools.sh --browser
export PATH="$HOME/.cargo/bin:${MSSP_TOOLS_PREFIX:-$HOME/.local/mssp-tools}/bin:$PATH"

step "cargo fmt --check"
cargo fmt --all -- --check

step "clippy (server)"
cargo clippy --features ssr --all-targets -- -D warnings

step "clippy (browser)"
cargo clippy --features hydrate --lib --target wasm32-unknown-unknown -- -D warnings

step "unit and integration tests (SQLite and PostgreSQL)"
cargo test --features ssr

step "build the app (cargo leptos build)"
cargo leptos build

step "end-to-end tests (Playwright, headless Chromium)"
(cd end2end && npx playwright test)

step "all tests passed"
