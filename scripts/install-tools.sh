#!/usr/bin/env bash
# Installs what building, running and testing mssp-dashboard needs, each piece only when it is
# missing or at the wrong version. Safe to run again: the second run takes seconds.
# Everything comes from the package registries (crates.io, Debian apt, npm); nothing downloads a
# binary at run time.
set -euo pipefail

CARGO_LEPTOS_VERSION=0.3.10
WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen version in Cargo.lock
BINARYEN_VERSION=132.0.0        # Debian's binaryen (108) breaks hydration: use npm's

want_browser=0
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=1 ;;
    *) echo "usage: $0 [--browser]" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
export PATH="$HOME/.cargo/bin:$PATH"

sudo_if_needed() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=0
apt_install() {
  local missing=()
  for pkg in "$@"; do
    # Installed means "install ok installed": a removed package keeps its status entry.
    [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" = "install ok installed" ] || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "apt-get install ${missing[*]}"
  if [ $apt_updated -eq 0 ]; then
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# 1. The WASM target for the hydrate build.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# 2. wasm-opt from npm (release builds). Installed into a prefix we own so no root is needed.
TOOLS_PREFIX="${MSSP_TOOLS_PREFIX:-$HOME/.local/mssp-tools}"
export PATH="$TOOLS_PREFIX/bin:$PATH"
if ! wasm-opt --version 2>/dev/null | grep -q "version ${BINARYEN_VERSION%%.*}"; then
  say "npm install binaryen@$BINARYEN_VERSION (wasm-opt)"
  npm install --silent --global --prefix "$TOOLS_PREFIX" "binaryen@$BINARYEN_VERSION"
fi

# 3. wasm-bindgen-cli, same version as the library (the mirror lacks one locked dependency,
#    so no --locked here).
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION"; then
  say "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (~4 min)"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

# 4. cargo-leptos; no_downloads turns any tool download into a clear error.
if ! cargo leptos --version 2>/dev/null | grep -q " $CARGO_LEPTOS_VERSION"; then
  say "cargo install cargo-leptos $CARGO_LEPTOS_VERSION (~22 min on 2 cores, once)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads --force
fi

# 5. Browser tests: Debian's Chromium, a real authenticator (oathtool), a QR reader, npm deps.
if [ $want_browser -eq 1 ]; then
  apt_install chromium oathtool zbar-tools
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  if [ -f "$here/end2end/package-lock.json" ]; then
    if [ ! -d "$here/end2end/node_modules" ] || [ "$here/end2end/package-lock.json" -nt "$here/end2end/node_modules/.package-lock.json" ]; then
      say "npm ci (end2end)"
      (cd "$here/end2end" && npm ci --silent --no-audit --no-fund)
    fi
  fi
fi
