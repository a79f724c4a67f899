#!/usr/bin/env bash
# One command for a fresh machine: installs what is missing, then runs every check and test:
# formatting, clippy (server and browser builds, warnings denied), unit and integration tests
# (SQLite and PostgreSQL), and the browser end-to-end suite (Playwright, headless Chromium)
# against the release build.
#
# PostgreSQL for the integration tests: MSSP_TEST_POSTGRES_URL when set; else the server on
# 127.0.0.1:5432 (postgres user, trust auth, database `test`); else a private cluster that this
# script installs (Debian's postgresql), starts on a free port and removes at the end
# (MSSP_TEST_PRIVATE_POSTGRES=1 forces that). The tests create and drop their own databases.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
started=$SECONDS
declare -a timings=()

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  local missing=()
  for pkg in "$@"; do
    # Installed means "install ok installed": a removed package keeps its status entry.
    [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" = "install ok installed" ] || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "apt-get install ${missing[*]}"
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

step_started=$SECONDS
step_name=""
step() {
  [ -n "$step_name" ] && timings+=("$(printf '%6s s  %s' "$((SECONDS - step_started))" "$step_name")")
  step_name="$*"
  step_started=$SECONDS
  printf '\n\033[1;34m==> %s\033[0m\n' "$*"
}

step "tools"
scripts/install-tools.sh --browser
export PATH="$HOME/.cargo/bin:${MSSP_TOOLS_PREFIX:-$HOME/.local/mssp-tools}/bin:$PATH"

step "PostgreSQL for the integration tests"
# shellcheck source=scripts/test-postgres.sh
source scripts/test-postgres.sh
trap mssp_pg_stop EXIT
echo "MSSP_TEST_POSTGRES_URL=$MSSP_TEST_POSTGRES_URL"

step "cargo fmt --check"
cargo fmt --all -- --check

step "clippy (server)"
cargo clippy --features ssr --all-targets -- -D warnings

step "clippy (browser)"
cargo clippy --features hydrate --lib --target wasm32-unknown-unknown -- -D warnings

step "unit and integration tests (SQLite and PostgreSQL)"
# A test that fails is run once more, alone, and named here either way. Twice in 40-odd full
# runs a test hung past its 120 s limit under the full parallel run and passed alone at once
# (a page's server-side render, not yet explained: see README "Tests"); a test that fails
# again fails the run.
mkdir -p target
test_log=target/cargo-test.log
if ! cargo test --features ssr 2>&1 | tee "$test_log"; then
  mapfile -t failed < <(awk '/^failures:$/ { listing = 1; next }
                            /^test result/ { listing = 0 }
                            listing && /^    [A-Za-z0-9_:]+$/ { print $1 }' "$test_log" | sort -u)
  if [ ${#failed[@]} -eq 0 ] || [ ${#failed[@]} -gt 3 ]; then
    echo "cargo test failed (${#failed[@]} failing tests named); not retried" >&2
    exit 1
  fi
  say "run once more, alone: ${failed[*]}"
  cargo test --features ssr -- --exact "${failed[@]}"
  retried="passed when run again alone: ${failed[*]}"
  printf '\033[1;33mWARNING\033[0m failed in the full run, %s\n' "$retried" >&2
  timings+=("        (failed in the full run, $retried)")
fi

step "build the app as it ships (cargo leptos build --release --precompress --split)"
cargo leptos build --release --precompress --split

step "end-to-end tests against the release build (Playwright, headless Chromium)"
(cd end2end && MSSP_BIN="$PWD/../target/release/mssp-dashboard" npx playwright test)

step "done"
printf '\nAll tests passed in %s s:\n' "$((SECONDS - started))"
printf '%s\n' "${timings[@]}"
