#!/usr/bin/env bash
# Makes a PostgreSQL 15 server with the pgvector extension available for the test suite.
#
# Installs what is missing (PostgreSQL 15 server and headers from Debian, pgvector built from
# Debian trixie's source package), then starts a throw-away cluster owned by the `postgres` user
# on 127.0.0.1:${GOCLAW_TEST_PG_PORT:-54329} with trust authentication, and prints its DSN on
# stdout. Running it again reuses a cluster that is already up.
set -euo pipefail

PORT="${GOCLAW_TEST_PG_PORT:-54329}"
PGDATA_DIR="${GOCLAW_TEST_PG_DIR:-/tmp/goclaw-test-pg-$PORT}"
PG_BIN=/usr/lib/postgresql/15/bin

log() { echo "postgres.sh: $*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$1"; else sudo -u postgres sh -c "$1"; fi
}

apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then
    as_root apt-get update -qq >&2
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >&2
}

if [ ! -x "$PG_BIN/postgres" ] || [ ! -x "$PG_BIN/pg_config" ]; then
  log "installing PostgreSQL 15"
  apt_install postgresql-15 postgresql-server-dev-15
fi

ext_dir="$("$PG_BIN/pg_config" --sharedir)/extension"
if [ ! -f "$ext_dir/vector.control" ]; then
  log "building pgvector from Debian's source package"
  if [ ! -f /etc/apt/sources.list.d/goclaw-trixie-src.list ]; then
    # The machine's own Debian mirror, as its apt sources name it.
    mirror="$(grep -rhE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)"
    if [ -z "$mirror" ]; then
      mirror="$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)"
    fi
    [ -n "$mirror" ] || { log "no Debian mirror found in /etc/apt sources"; exit 1; }
    echo "deb-src $mirror trixie main" | as_root tee /etc/apt/sources.list.d/goclaw-trixie-src.list >/dev/null
    apt_updated=0
  fi
  apt_install dpkg-dev build-essential postgresql-server-dev-15
  build_dir="$(mktemp -d)"
  (
    cd "$build_dir"
    apt-get source -qq pgvector >&2
    cd pgvector-*/
    make -s PG_CONFIG="$PG_BIN/pg_config" >&2
    as_root make -s install PG_CONFIG="$PG_BIN/pg_config" >&2
  )
  rm -rf "$build_dir"
fi

if ! id postgres >/dev/null 2>&1; then
  as_root useradd --system --create-home postgres
fi

if ! "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
  if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
    as_root rm -rf "$PGDATA_DIR"
    as_root install -d -o postgres -g postgres "$PGDATA_DIR"
    as_postgres "$PG_BIN/initdb -D '$PGDATA_DIR' --auth=trust -U postgres >/dev/null"
  fi
  log "starting PostgreSQL on 127.0.0.1:$PORT"
  as_postgres "$PG_BIN/pg_ctl -D '$PGDATA_DIR' -l '$PGDATA_DIR/server.log' -w -o \"-p $PORT -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off\" start >/dev/null"
fi

echo "postgres://postgres@127.0.0.1:$PORT/postgres"
