# Sourced by scripts/test.sh: makes sure a PostgreSQL server answers for the integration tests
# and exports MSSP_TEST_POSTGRES_URL.
#
# - MSSP_TEST_POSTGRES_URL set: used as it is.
# - Something answers on 127.0.0.1:5432: postgres://postgres@127.0.0.1:5432/test (trust auth).
# - Otherwise: installs Debian's `postgresql` when missing and starts a private cluster (initdb in
#   a temporary directory, a free port, trust auth on 127.0.0.1), stopped and removed on exit.

mssp_pg_dir=""

mssp_pg_stop() {
  [ -n "$mssp_pg_dir" ] || return 0
  mssp_pg_as_owner "$mssp_pg_bin/pg_ctl" -D "$mssp_pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$mssp_pg_dir"
  mssp_pg_dir=""
}

# initdb and postgres refuse to run as root: run them as the `postgres` user then.
mssp_pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

mssp_pg_answers() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

mssp_pg_start_private() {
  local initdb
  initdb=$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$initdb" ]; then
    apt_install postgresql
    initdb=$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)
  fi
  mssp_pg_bin=$(dirname "$initdb")
  mssp_pg_dir=$(mktemp -d /tmp/mssp-test-pg.XXXXXX)
  chmod 755 "$mssp_pg_dir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$mssp_pg_dir"
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  say "starting a private PostgreSQL ($("$mssp_pg_bin/postgres" --version | awk '{print $3}')) on 127.0.0.1:$port for the tests"
  mssp_pg_as_owner "$initdb" -D "$mssp_pg_dir/data" -U postgres --auth=trust -E UTF8 >/dev/null
  mssp_pg_as_owner "$mssp_pg_bin/pg_ctl" -D "$mssp_pg_dir/data" -w -l "$mssp_pg_dir/server.log" \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $mssp_pg_dir -c max_connections=300 -c fsync=off" start >/dev/null
  "$mssp_pg_bin/createdb" -h 127.0.0.1 -p "$port" -U postgres test
  export MSSP_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/test"
}

if [ -z "${MSSP_TEST_POSTGRES_URL:-}" ]; then
  if [ "${MSSP_TEST_PRIVATE_POSTGRES:-0}" != 1 ] && mssp_pg_answers 5432; then
    export MSSP_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:5432/test"
  else
    mssp_pg_start_private
  fi
fi
