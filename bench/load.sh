#!/usr/bin/env bash
# Serve the large data set as `make run` does and load it with bench/load.py; `make bench-load`.
# Builds the data set first when its folder does not exist (bench/generate_large.py, about
# 2–3 minutes). The server always stops at the end, also when the load script fails.
# BENCH_INSTANCE (default ./instance-bench), BENCH_PORT (default: a free port) and
# KONVERT_WEB_WORKERS (gunicorn workers: scripts/run.sh's default is 1 with threads, several
# need a shared KONVERT_RATELIMIT_STORAGE_URI) are honoured; arguments are passed to
# bench/load.py (e.g. --duration 60 --clients 10).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin
INSTANCE=$(realpath -m "${BENCH_INSTANCE:-$PWD/instance-bench}")
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

if [ ! -d "$INSTANCE" ]; then
  "$BIN/python" bench/generate_large.py --instance "$INSTANCE"
fi
if answers; then
  echo "Something already answers on $URL: stop it or set BENCH_PORT." >&2
  exit 1
fi

log=$(mktemp)
# Its own session and process group (setsid), so that stopping it reaches the web server and
# the job consumer that scripts/run.sh starts. The database URL is set explicitly so that a
# KONVERT_DATABASE_URL in the environment cannot point the server at another database.
KONVERT_INSTANCE_PATH=$INSTANCE KONVERT_DATABASE_URL="sqlite:///$INSTANCE/konvert.db" \
  HOST=$HOST PORT=$PORT setsid scripts/run.sh >"$log" 2>&1 &
server=$!

stop() {
  local status=$?
  trap - EXIT INT TERM
  kill -TERM -- "-$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  if [ "$status" -ne 0 ]; then
    echo "--- server log (last 30 lines) ---" >&2
    tail -n 30 "$log" >&2
  fi
  rm -f "$log"
  exit "$status"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

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

"$BIN/python" bench/load.py "$URL" --instance "$INSTANCE" "$@"
