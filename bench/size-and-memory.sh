#!/usr/bin/env bash
# Measures the release build: WASM size (raw, gzip -9, brotli -q 11) and the server's resident
# memory at idle: after start-up (with the demo account, three argon2id hashes) and one page
# load, then 5 s of nothing; again after 20 sign-ins (each an argon2id hash of 19 MiB) and 5 s
# of nothing (one verification buffer kept); and after two minutes (given back).
#
#   bench/size-and-memory.sh            # builds with `cargo leptos build --release --precompress --split` first
#   SKIP_BUILD=1 bench/size-and-memory.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:${MSSP_TOOLS_PREFIX:-$HOME/.local/mssp-tools}/bin:$PATH"

if [ -z "${SKIP_BUILD:-}" ]; then
  cargo leptos build --release --precompress --split
fi

# Named by their content hash (`hash-files`), listed in the hash file beside the server.
hash_of() { sed -n "s/^$1: *//p" target/release/hash.txt; }
wasm=target/site/pkg/mssp-dashboard.$(hash_of wasm).wasm
js=target/site/pkg/mssp-dashboard.$(hash_of js).js
css=target/site/pkg/mssp-dashboard.$(hash_of css).css
size() { stat -c %s "$1"; }
gz() { gzip -9 -c "$1" | wc -c; }
br() { if command -v brotli >/dev/null; then brotli -q 11 -c "$1" | wc -c; else echo "n/a"; fi; }
printf '%-28s %10s %10s %10s\n' file raw gzip brotli
for f in "$wasm" "$js" "$css"; do
  printf '%-28s %10s %10s %10s\n' "$(basename "$f")" "$(size "$f")" "$(gz "$f")" "$(br "$f")"
done

dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
port=${PORT:-3917}
DATABASE_URL="sqlite://$dir/bench.db" MSSP_BIND="127.0.0.1:$port" LEPTOS_SITE_ROOT=target/site \
  RUST_LOG=warn target/release/mssp-dashboard serve --demo >"$dir/log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/login" >/dev/null 2>&1 && break
  sleep 0.2
done
# The page must name the WASM this build made (a server built without cargo-leptos asks for
# a `_bg.wasm` that does not exist, and nothing hydrates).
wasm_url=$(curl -fsS "http://127.0.0.1:$port/login" | grep -o '/pkg/[^"]*\.wasm' | head -n 1)
curl -fsS -o /dev/null "http://127.0.0.1:$port$wasm_url" || {
  echo "the page asks for $wasm_url, which the server does not serve" >&2
  exit 1
}
# What a browser downloads on its first visit of the sign-in page (it accepts br): the page and
# every file it names, as the server sends them.
first_visit=0
echo
printf '%-40s %10s %s\n' "first visit of /login" bytes encoding
for path in /login $(curl -fsS "http://127.0.0.1:$port/login" | grep -o '/pkg/[^"]*\.\(js\|wasm\|css\)' | sort -u); do
  read -r bytes encoding < <(curl -fsS -o /dev/null -H 'Accept-Encoding: br, gzip' \
    -w '%{size_download} %header{content-encoding}\n' "http://127.0.0.1:$port$path")
  printf '%-40s %10s %s\n' "$path" "$bytes" "${encoding:-none}"
  first_visit=$((first_visit + bytes))
done
printf '%-40s %10s\n' "total" "$first_visit"
sleep 5
echo
echo "server at idle: $(grep -E 'VmRSS' /proc/$pid/status | awk '{print $2, $3}') resident ($(grep -E 'VmHWM' /proc/$pid/status | awk '{print $2, $3}') peak)"

base="http://127.0.0.1:$port"
for _ in $(seq 1 20); do
  curl -fsS -o /dev/null -H "Origin: $base" \
    --data-urlencode identifier=super --data-urlencode password=demo-super-admin-pw \
    "$base/api/sign_in"
done
sleep 5
echo "after 20 sign-ins, idle 5 s: $(grep -E 'VmRSS' /proc/$pid/status | awk '{print $2, $3}') resident ($(grep -E 'VmHWM' /proc/$pid/status | awk '{print $2, $3}') peak)"
# The verification memory kept for the next sign-in goes back after a minute unused (the
# background task looks once a minute): measured after two.
sleep 120
echo "after 20 sign-ins, idle 2 min: $(grep -E 'VmRSS' /proc/$pid/status | awk '{print $2, $3}') resident"
