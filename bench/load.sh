#!/usr/bin/env bash
# Serve the large data set as `make run` does and load it with bench/load.py; `make bench-load`.
#
# DB=sqlite (the default): the data set is ./instance-bench/konvert.db, built first when the
# folder does not exist (bench/generate_large.py, about 2–3 minutes).
# DB=postgres: the data set is in a PostgreSQL cluster of its own, kept in
# ./instance-bench-pg/cluster (BENCH_PG_CLUSTER) and started here on a free loopback port, with
# the instance folder (job queue, secret key) in ./instance-bench-pg/instance; the data set is
# built into it the first time, and again when a previous build did not finish.
#
# BENCH_REDIS=yes (the default): served as an organisation serving that load would, with a
# redis-server on a free loopback port for the job queue and the rate limits, which lets
# scripts/run.sh run one web process per core (KONVERT_WEB_WORKERS, default: the number of
# cores) instead of one. BENCH_REDIS=no serves exactly as `make run` does: one web process
# with threads and the queue in the instance folder.
#
# The server, Redis and the cluster always stop at the end, also when a step fails.
# BENCH_INSTANCE (the instance folder), BENCH_PORT (default: a free port), KONVERT_WEB_WORKERS
# and KONVERT_WEB_THREADS are honoured; arguments are passed to bench/load.py
# (e.g. --duration 60 --clients 10).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin
DB=${DB:-sqlite}
case $DB in
  sqlite) INSTANCE=$(realpath -m "${BENCH_INSTANCE:-$PWD/instance-bench}") ;;
  postgres)
    INSTANCE=$(realpath -m "${BENCH_INSTANCE:-$PWD/instance-bench-pg/instance}")
    CLUSTER=$(realpath -m "${BENCH_PG_CLUSTER:-$PWD/instance-bench-pg/cluster}")
    ;;
  *)
    echo "DB must be sqlite or postgres (got '$DB')." >&2
    exit 2
    ;;
esac
HOST=127.0.0.1
# A free port unless told: a `make run` (5000) or another engineer's server stays untouched.
PORT=${BENCH_PORT:-$("$BIN/python" -c '
import socket
with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    print(probe.getsockname()[1])
')}
URL="http://$HOST:$PORT"

answers() {
  "$BIN/python" -c '
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=5).close()
except urllib.error.HTTPError:
    pass  # any HTTP answer means the server is up
except OSError:
    sys.exit(1)
' "$URL/"
}

if answers; then
  echo "Something already answers on $URL: stop it or set BENCH_PORT." >&2
  exit 1
fi

log=$(mktemp)
server=
cluster_started=
redis=
redis_dir=

stop() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$server" ]; then
    kill -TERM -- "-$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  if [ -n "$cluster_started" ]; then
    "$BIN/python" scripts/pg_cluster.py stop "$CLUSTER" || true
  fi
  if [ -n "$redis" ]; then
    kill -TERM "$redis" 2>/dev/null || true
    wait "$redis" 2>/dev/null || true
  fi
  if [ -n "$redis_dir" ]; then
    rm -rf "$redis_dir"
  fi
  if [ "$status" -ne 0 ] && [ -s "$log" ]; then
    echo "--- server log (last 30 lines) ---" >&2
    tail -n 30 "$log" >&2
  fi
  rm -f "$log"
  exit "$status"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$DB" = postgres ]; then
  # The settings of a small dedicated server: the data set (about 500 MB with its indexes)
  # mostly in PostgreSQL's own cache, and fewer checkpoints while it is loaded.
  cluster_started=yes
  DATABASE_URL=$("$BIN/python" scripts/pg_cluster.py start "$CLUSTER" \
    --setting shared_buffers=512MB --setting max_wal_size=4GB)
  echo "PostgreSQL cluster in $CLUSTER: $DATABASE_URL"
  # Several machines share one database, so Konvert wants one shared secret key and master
  # key rather than one per instance folder: this data set keeps its own.
  mkdir -p -m 700 "$INSTANCE"
  if [ ! -s "$INSTANCE/bench-secret-key" ]; then
    (umask 077 && "$BIN/python" -c 'import secrets; print(secrets.token_hex(32))' \
      >"$INSTANCE/bench-secret-key")
  fi
  if [ ! -s "$INSTANCE/bench-master-key" ]; then
    (umask 077 && "$BIN/python" -c 'import secrets; print(secrets.token_hex(32))' \
      >"$INSTANCE/bench-master-key")
  fi
  KONVERT_SECRET_KEY=$(cat "$INSTANCE/bench-secret-key")
  KONVERT_MASTER_KEY=$(cat "$INSTANCE/bench-master-key")
  export KONVERT_SECRET_KEY KONVERT_MASTER_KEY
  # The generator marks a finished build last: without the mark, build (again) from scratch.
  if [ ! -e "$INSTANCE/.demo-loaded" ]; then
    "$BIN/python" bench/generate_large.py --instance "$INSTANCE" \
      --database-url "$DATABASE_URL" --force
  fi
  IDS=(--database-url "$DATABASE_URL")
else
  if [ ! -d "$INSTANCE" ]; then
    "$BIN/python" bench/generate_large.py --instance "$INSTANCE"
  fi
  DATABASE_URL="sqlite:///$INSTANCE/konvert.db"
  IDS=(--instance "$INSTANCE")
fi

if [ "${BENCH_REDIS:-yes}" = yes ]; then
  REDIS_PORT=$("$BIN/python" -c '
import socket
with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    print(probe.getsockname()[1])
')
  redis_dir=$(mktemp -d)
  # Nothing saved: a throwaway queue for the length of the run.
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$redis_dir" >"$redis_dir/redis.log" 2>&1 &
  redis=$!
  for _ in $(seq 50); do
    if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then break; fi
    sleep 0.1
  done
  redis-cli -p "$REDIS_PORT" ping >/dev/null || { echo "redis-server did not start." >&2; exit 1; }
  export KONVERT_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
  export KONVERT_WEB_WORKERS=${KONVERT_WEB_WORKERS:-$(nproc)}
  echo "Job queue and rate limits in $KONVERT_REDIS_URL; $KONVERT_WEB_WORKERS web processes."
fi

# Its own session and process group (setsid), so that stopping it reaches the web server and
# the job consumer that scripts/run.sh starts. The database URL is set explicitly so that a
# KONVERT_DATABASE_URL in the environment cannot point the server at another database.
KONVERT_INSTANCE_PATH=$INSTANCE KONVERT_DATABASE_URL=$DATABASE_URL \
  HOST=$HOST PORT=$PORT setsid scripts/run.sh >"$log" 2>&1 &
server=$!

echo "Starting the server on $INSTANCE at $URL ..."
for _ in $(seq 180); do
  if ! kill -0 "$server" 2>/dev/null; then
    echo "The server exited before answering." >&2
    exit 1
  fi
  if answers; then
    break
  fi
  sleep 1
done
answers || { echo "The server did not answer within 3 minutes." >&2; exit 1; }

"$BIN/python" bench/load.py "$URL" "${IDS[@]}" "$@"
