#!/usr/bin/env bash
# One command for a fresh machine: installs what is missing, then builds and starts the
# dashboard on an embedded SQLite database (created on first run, migrations applied at
# start-up) with a demo MSSP account whose sign-in details are printed in the console.
#
#   scripts/dev.sh                 # http://127.0.0.1:3000
#   MSSP_BIND=0.0.0.0:8080 scripts/dev.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install-tools.sh
export PATH="$HOME/.cargo/bin:${MSSP_TOOLS_PREFIX:-$HOME/.local/mssp-tools}/bin:$PATH"

export DATABASE_URL="${DATABASE_URL:-sqlite://mssp-dashboard.db}"
export MSSP_DEMO="${MSSP_DEMO:-true}"
if [ -n "${MSSP_BIND:-}" ]; then
  export LEPTOS_SITE_ADDR="$MSSP_BIND"
fi

echo "Building (the first build takes several minutes; later ones seconds)..."
exec cargo leptos serve
