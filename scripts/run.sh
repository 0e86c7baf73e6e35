#!/usr/bin/env bash
# Migrate, load the template library and (the first time) the demo data, then serve.
# Called by `make run`; HOST, PORT, KONVERT_INSTANCE_PATH, KONVERT_PUBLIC_URL, KONVERT_DEMO=0,
# KONVERT_WEB_WORKERS, KONVERT_WEB_THREADS, KONVERT_RATELIMIT_STORAGE_URI and
# KONVERT_TLS_CERT/KONVERT_TLS_KEY are honoured.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${VENV_BIN:-.venv/bin}  # the tests point it at the virtualenv they run in
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-5000}
# Every link in an email is built on KONVERT_PUBLIC_URL; unless it is set, the address served
# here (an IPv6 address in brackets). Behind a proxy or on a public name, set it.
if [[ $HOST == *:* ]]; then URL_HOST="[$HOST]"; else URL_HOST=$HOST; fi
export KONVERT_PUBLIC_URL=${KONVERT_PUBLIC_URL:-http://$URL_HOST:$PORT}
# Rate limits counted in memory (the default store) hold within one process only: serve with
# one process and threads, and refuse several, unless a shared store (redis://…) counts them.
# gunicorn.conf.py refuses the same for a gunicorn started by hand.
STORAGE=${KONVERT_RATELIMIT_STORAGE_URI:-memory://}
if [[ $STORAGE == memory://* ]]; then
  WORKERS=${KONVERT_WEB_WORKERS:-1}
  if [ "$WORKERS" -gt 1 ]; then
    echo "Refusing KONVERT_WEB_WORKERS=$WORKERS: rate limits are counted in each process's" \
      "memory (KONVERT_RATELIMIT_STORAGE_URI=$STORAGE), so every limit would be multiplied by" \
      "$WORKERS. Serve with one worker process (it has threads), or set" \
      "KONVERT_RATELIMIT_STORAGE_URI to a store all processes share, such as" \
      "redis://127.0.0.1:6379/1." >&2
    exit 2
  fi
else
  WORKERS=${KONVERT_WEB_WORKERS:-2}
fi
THREADS=${KONVERT_WEB_THREADS:-8}
export FLASK_APP=app:create_app
INSTANCE=${KONVERT_INSTANCE_PATH:-$PWD/instance}
export KONVERT_INSTANCE_PATH=$INSTANCE
mkdir -p "$INSTANCE"

"$BIN/flask" db upgrade
"$BIN/flask" letters sync
"$BIN/flask" officials sync
if [ "${KONVERT_DEMO:-1}" != "0" ] && [ ! -e "$INSTANCE/.demo-loaded" ]; then
  "$BIN/flask" demo load
  touch "$INSTANCE/.demo-loaded"
fi

# The job consumer (mail delivery, reminders, digest) runs beside the web server; both stop
# together on Ctrl+C, on `kill`, or when either of them exits.
JOB_WORKERS=${KONVERT_HUEY_WORKERS:-2}
# Poll the queue at least every 2 s (Huey's default backs off to 10 s): a print pack or a
# /stats recount then starts within moments of being asked for. No --flush-locks: it would
# clear the locks of consumers still running on other machines; a lock left by a consumer that
# died is taken over once it is stale (app/job_locks.py).
# TERM stops gracefully: the task at hand may finish for KONVERT_JOB_STOP_SECONDS, then a print
# pack still being built is released as interrupted (app/drives/tasks.py). INT stops at once.
# Only one consumer of a site enqueues the periodic jobs: KONVERT_JOB_SCHEDULER=0 on the others.
CONSUMER_ARGS=(--graceful-signal TERM --shutdown-timeout "${KONVERT_JOB_STOP_SECONDS:-20}")
if [ "${KONVERT_JOB_SCHEDULER:-1}" = "0" ]; then CONSUMER_ARGS+=(--no-periodic); fi
"$BIN/huey_consumer" app.worker.huey --workers "$JOB_WORKERS" --worker-type thread --max-delay 2 \
  "${CONSUMER_ARGS[@]}" &
consumer=$!

# HTTPS served by gunicorn itself when a certificate is given (behind a reverse proxy that
# terminates TLS, leave these unset).
TLS_ARGS=()
SCHEME=http
if [ -n "${KONVERT_TLS_CERT:-}" ]; then
  SCHEME=https
  TLS_ARGS=(--certfile "$KONVERT_TLS_CERT" --keyfile "${KONVERT_TLS_KEY:?KONVERT_TLS_KEY goes with KONVERT_TLS_CERT}")
fi

# No access log: it would record addresses and private tracking links.
"$BIN/gunicorn" --config gunicorn.conf.py --workers "$WORKERS" --worker-class gthread \
  --threads "$THREADS" --bind "$HOST:$PORT" --timeout 120 "${TLS_ARGS[@]}" \
  --error-logfile - --log-level info "app:create_app()" &
web=$!

stop() {
  trap - EXIT INT TERM
  kill -TERM "$web" "$consumer" 2>/dev/null || true
  wait "$web" "$consumer" 2>/dev/null || true
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "Konvert is at $SCHEME://$HOST:$PORT (Ctrl+C to stop)"
status=0
wait -n "$web" "$consumer" || status=$?
exit "$status"
