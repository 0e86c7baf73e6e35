#!/usr/bin/env bash
# Migrate, load the template library and (the first time) the demo data, then serve.
# Called by `make run`; HOST, PORT, KONVERT_INSTANCE_PATH and KONVERT_DEMO=0 are honoured.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-5000}
WORKERS=${KONVERT_WEB_WORKERS:-2}
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

echo "Konvert is at http://$HOST:$PORT (Ctrl+C to stop)"
# No access log: it would record addresses and private tracking links.
exec "$BIN/gunicorn" --workers "$WORKERS" --bind "$HOST:$PORT" --timeout 120 \
  --error-logfile - --log-level info "app:create_app()"
