#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server (a fresh cluster in a temporary directory) on a free
# loopback port, with a database and a password user, for the PostgreSQL tests of sync-core and pos-sync-flows.
# Installs PostgreSQL with apt-get when it is missing (Debian/Ubuntu, as root).
#
#   eval "$(scripts/pg-server.sh)"      # exports SYNC_TEST_DATABASE_URL, SYNC_TEST_PG_PID, SYNC_TEST_PG_DIR
#   cargo test -p sync-core --features postgres; cargo test -p pos-sync-flows --features postgres
#   kill "$SYNC_TEST_PG_PID"            # a fast shutdown; then rm -rf "$SYNC_TEST_PG_DIR"
#
# Only `export ...` lines go to stdout; progress goes to stderr.
set -euo pipefail

DB_USER="${SYNC_TEST_PG_USER:-sync}"
DB_NAME="${SYNC_TEST_PG_DB:-sync_test}"
DB_PASS="${SYNC_TEST_PG_PASS:-sync-$RANDOM$RANDOM$RANDOM}"

find_bindir() {
    local d
    if command -v pg_config >/dev/null 2>&1; then
        d="$(pg_config --bindir 2>/dev/null || true)"
        if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
    fi
    # Debian keeps the server binaries out of PATH, one directory per major version.
    d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
    if command -v initdb >/dev/null 2>&1; then dirname "$(readlink -f "$(command -v initdb)")"; return 0; fi
    return 1
}

if ! BIN="$(find_bindir)"; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "PostgreSQL is not installed and this is not root: install the postgresql package first" >&2
        exit 1
    fi
    echo "installing PostgreSQL with apt-get..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
    BIN="$(find_bindir)" || { echo "initdb not found after installing postgresql" >&2; exit 1; }
fi

# The server refuses to run as root: run it as `postgres` (created if missing) when we are root.
RUN=()
if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
        useradd --system --user-group --home-dir /nonexistent --shell /usr/sbin/nologin postgres
    fi
    if command -v runuser >/dev/null 2>&1; then RUN=(runuser -u postgres --); else RUN=(su postgres -s /bin/sh -c); fi
fi
as_owner() {
    if [ "${#RUN[@]}" -eq 0 ]; then "$@"
    elif [ "${RUN[0]}" = runuser ]; then "${RUN[@]}" "$@"
    else "${RUN[@]}" "$(printf '%q ' "$@")"
    fi
}

ROOT="$(mktemp -d "${TMPDIR:-/tmp}/sync-pg.XXXXXX")"
chmod 0755 "$ROOT"
mkdir -p "$ROOT/sock"
printf '%s\n' "$DB_PASS" >"$ROOT/pwfile"
chmod 0600 "$ROOT/pwfile"
if [ "${#RUN[@]}" -ne 0 ]; then chown -R postgres: "$ROOT"; fi

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null || true)"
if [ -z "$PORT" ]; then PORT=$((20000 + RANDOM % 20000)); fi

echo "initialising a cluster in $ROOT/data with $BIN..." >&2
as_owner "$BIN/initdb" -D "$ROOT/data" -U "$DB_USER" --pwfile="$ROOT/pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$ROOT/initdb.log" 2>&1 \
    || as_owner "$BIN/initdb" -D "$ROOT/data" -U "$DB_USER" --pwfile="$ROOT/pwfile" \
        --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C >"$ROOT/initdb.log" 2>&1 \
    || { cat "$ROOT/initdb.log" >&2; exit 1; }
rm -f "$ROOT/pwfile"

# A throwaway server: durability off, so tests are fast.
if ! as_owner "$BIN/pg_ctl" -D "$ROOT/data" -l "$ROOT/server.log" -w -t 60 start -o \
    "-p $PORT -k $ROOT/sock -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >&2; then
    echo "PostgreSQL failed to start:" >&2
    cat "$ROOT/server.log" >&2
    exit 1
fi
PID="$(head -n 1 "$ROOT/data/postmaster.pid")"

as_owner "$BIN/createdb" -h "$ROOT/sock" -p "$PORT" -U "$DB_USER" "$DB_NAME" >&2

echo "PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT (pid $PID, data in $ROOT/data)" >&2
echo "export SYNC_TEST_DATABASE_URL='postgres://$DB_USER:$DB_PASS@127.0.0.1:$PORT/$DB_NAME'"
echo "export SYNC_TEST_PG_PID='$PID'"
echo "export SYNC_TEST_PG_DIR='$ROOT'"
