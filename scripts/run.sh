#!/usr/bin/env bash
# Serve Konvert in one of its roles:
#
#   scripts/run.sh [all]     set up, then the web server and the scheduler on this machine
#                            (what `make run` does; Ctrl+C stops both)
#   scripts/run.sh setup     set up and exit: migrate the database, load the letter templates,
#                            the federal addressees and, the first time, the demo data
#   scripts/run.sh web       the web server only (gunicorn)
#   scripts/run.sh worker    a job consumer that runs queued jobs, and no periodic schedule
#   scripts/run.sh scheduler the job consumer that also puts the periodic jobs on the queue
#                            (run exactly one in the whole deployment)
#
# web, worker and scheduler never migrate: run `setup` once per deployment (and after each
# upgrade) before them. HOST, PORT, KONVERT_INSTANCE_PATH, KONVERT_PUBLIC_URL, KONVERT_DEMO=0,
# KONVERT_WEB_WORKERS, KONVERT_WEB_THREADS, KONVERT_HUEY_WORKERS, KONVERT_REDIS_URL,
# KONVERT_RATELIMIT_STORAGE_URI and KONVERT_TLS_CERT/KONVERT_TLS_KEY are honoured.
set -euo pipefail
cd "$(dirname "$0")/.."

ROLE=${1:-all}
case $ROLE in
  all | setup | web | worker | scheduler) ;;
  *)
    echo "Usage: scripts/run.sh [all|setup|web|worker|scheduler] (got '$ROLE')" >&2
    exit 2
    ;;
esac

BIN=${VENV_BIN:-.venv/bin}  # the tests point it at the virtualenv they run in
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-5000}
# Every link in an email is built on KONVERT_PUBLIC_URL; unless it is set, the address served
# here (an IPv6 address in brackets). Behind a proxy or on a public name, set it.
if [[ $HOST == *:* ]]; then URL_HOST="[$HOST]"; else URL_HOST=$HOST; fi
export KONVERT_PUBLIC_URL=${KONVERT_PUBLIC_URL:-http://$URL_HOST:$PORT}
# Rate limits counted in memory (the default store) hold within one process only: serve with
# one process and threads, and refuse several, unless a shared store counts them (redis://…:
# KONVERT_RATELIMIT_STORAGE_URI, or else the job queue's KONVERT_REDIS_URL, as config.py does).
# gunicorn.conf.py refuses the same for a gunicorn started by hand.
STORAGE=${KONVERT_RATELIMIT_STORAGE_URI:-${KONVERT_REDIS_URL:-memory://}}
if [[ $STORAGE == memory://* ]]; then
  WORKERS=${KONVERT_WEB_WORKERS:-1}
  if [[ $ROLE == all || $ROLE == web ]] && [ "$WORKERS" -gt 1 ]; then
    echo "Refusing KONVERT_WEB_WORKERS=$WORKERS: rate limits are counted in each process's" \
      "memory (KONVERT_RATELIMIT_STORAGE_URI=$STORAGE), so every limit would be multiplied by" \
      "$WORKERS. Serve with one worker process (it has threads), or set" \
      "KONVERT_RATELIMIT_STORAGE_URI (or KONVERT_REDIS_URL) to a store all processes share," \
      "such as redis://127.0.0.1:6379/1." >&2
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

if [[ $ROLE == all || $ROLE == setup ]]; then
  "$BIN/flask" setup
fi
if [[ $ROLE == setup ]]; then
  exit 0
fi

# HTTPS served by gunicorn itself when a certificate is given (behind a reverse proxy that
# terminates TLS, leave these unset).
TLS_ARGS=()
SCHEME=http
if [ -n "${KONVERT_TLS_CERT:-}" ]; then
  SCHEME=https
  TLS_ARGS=(--certfile "$KONVERT_TLS_CERT" --keyfile "${KONVERT_TLS_KEY:?KONVERT_TLS_KEY goes with KONVERT_TLS_CERT}")
fi
# No access log: it would record addresses and private tracking links.
WEB=("$BIN/gunicorn" --config gunicorn.conf.py --workers "$WORKERS" --worker-class gthread
  --threads "$THREADS" --bind "$HOST:$PORT" --timeout 120 "${TLS_ARGS[@]}"
  --error-logfile - --log-level info "app:create_app()")

# The job consumer (mail delivery, print packs, recounts). Only the scheduler (and `all`) puts
# the periodic jobs on the queue; a worker gets --no-periodic and runs whatever is queued.
JOB_WORKERS=${KONVERT_HUEY_WORKERS:-2}
if [[ $ROLE == worker ]]; then PERIODIC=(--no-periodic); else PERIODIC=(); fi
# Poll the queue at least every 2 s (Huey's default backs off to 10 s): a print pack or a
# /stats recount then starts within moments of being asked for. No --flush-locks: it would
# clear the locks of consumers still running on other machines; a lock left by a consumer that
# died is taken over once it is stale (app/job_locks.py).
# TERM stops gracefully: the task at hand may finish for KONVERT_JOB_STOP_SECONDS, then a print
# pack still being built is released as interrupted (app/drives/tasks.py). INT stops at once.
CONSUMER=("$BIN/huey_consumer" app.worker.huey --workers "$JOB_WORKERS" --worker-type thread
  --max-delay 2 --graceful-signal TERM --shutdown-timeout "${KONVERT_JOB_STOP_SECONDS:-60}"
  "${PERIODIC[@]}")

case $ROLE in
  web)
    echo "Konvert (web) is at $SCHEME://$HOST:$PORT"
    exec "${WEB[@]}"
    ;;
  worker | scheduler)
    echo "Konvert ($ROLE) consumes the job queue"
    exec "${CONSUMER[@]}"
    ;;
esac

# all: the web server and the scheduler side by side; both stop together on Ctrl+C, on
# `kill`, or when either of them exits.
"${CONSUMER[@]}" &
consumer=$!
"${WEB[@]}" &
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
