#!/usr/bin/env bash
# One command for a fresh machine: installs what is missing, builds, and runs the dashboard on an
# embedded SQLite database under `cargo leptos watch` (rebuilds and reloads on change), with a
# demo MSSP account whose sign-in the server prints once it listens.
#
#   scripts/dev.sh                          # http://localhost:3000
#   MSSP_BIND=0.0.0.0:8080 scripts/dev.sh   # another address
#   MSSP_DEMO=false scripts/dev.sh          # no demo account
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
started=$SECONDS

scripts/install-tools.sh
tools_done=$SECONDS
export PATH="$HOME/.cargo/bin:${MSSP_TOOLS_PREFIX:-$HOME/.local/mssp-tools}/bin:$PATH"

export DATABASE_URL="${DATABASE_URL:-sqlite://mssp-dashboard.db}"
# The demo account on an empty database (the server prints how to sign in).
export MSSP_DEMO="${MSSP_DEMO:-true}"
if [ -n "${MSSP_BIND:-}" ]; then
  # cargo-leptos hands LEPTOS_SITE_ADDR to the server; keep both the same.
  export LEPTOS_SITE_ADDR="$MSSP_BIND"
fi

echo "Building (the first build takes several minutes; later ones seconds)..."
cargo leptos build --split
build_done=$SECONDS

printf '\nSet-up took %s s (tools %s s, build %s s). Starting cargo leptos watch:\n' \
  "$((build_done - started))" "$((tools_done - started))" "$((build_done - tools_done))"
echo "a change to a component or to server code rebuilds and reloads the page; a change to"
echo "style/main.css is pushed to the open page. Stop with Ctrl-C."
exec cargo leptos watch --split
