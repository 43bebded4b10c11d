#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the tests and prints its URL.
#   .ci/postgres.sh start   → installs Debian's postgresql if needed, starts a cluster
#                             on 127.0.0.1:${PYLON_CI_PG_PORT:-55432} with a role and database
#                             for the tests, and prints PYLON_TEST_PG_URL=…
#   .ci/postgres.sh stop    → stops it and removes its data directory
# Run as root (CI) or as a user who can `su postgres`.
set -euo pipefail
PORT="${PYLON_CI_PG_PORT:-55432}"
DATA="${PYLON_CI_PG_DATA:-/tmp/pylon-ci-pg-$PORT}"
ROLE=pylon_test
PASSWORD=pylon-test-password
DB=pylon_test

# The newest installed server's bin folder (the client package alone has the folder, without initdb).
pgbin() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ]; then echo "$dir"; return 0; fi
  done
  return 0
}

as_postgres() { if [ "$(id -un)" = postgres ]; then "$@"; else su postgres -s /bin/bash -c "$(printf '%q ' "$@")"; fi; }

case "${1:-start}" in
  start)
    if [ -z "$(pgbin)" ]; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
    BIN="$(pgbin)"
    if [ -f "$DATA/postmaster.pid" ] && as_postgres "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
      as_postgres "$BIN/pg_ctl" -D "$DATA" stop -m fast >/dev/null
    fi
    rm -rf "$DATA"
    mkdir -p "$DATA"
    chown postgres:postgres "$DATA"
    as_postgres "$BIN/initdb" -D "$DATA" -U postgres -A trust --no-sync >/dev/null
    # Password logins over TCP, so the tests see a real authentication failure for a wrong password.
    printf 'local all all trust\nhost all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n' > "$DATA/pg_hba.conf"
    chown postgres:postgres "$DATA/pg_hba.conf"
    as_postgres "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DATA -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
    as_postgres "$BIN/psql" -q -h "$DATA" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 \
      -c "CREATE ROLE $ROLE LOGIN PASSWORD '$PASSWORD'" -c "CREATE DATABASE $DB OWNER $ROLE" >/dev/null
    echo "PYLON_TEST_PG_URL=postgresql://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DB"
    ;;
  stop)
    BIN="$(pgbin)"
    if [ -n "$BIN" ] && [ -d "$DATA" ]; then as_postgres "$BIN/pg_ctl" -D "$DATA" stop -m fast >/dev/null 2>&1 || true; fi
    rm -rf "$DATA"
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
