"""Gunicorn reads this file whenever it starts in this folder (scripts/run.sh names it too).

It refuses to start several worker processes while rate limits are counted in each process's
memory (KONVERT_RATELIMIT_STORAGE_URI=memory://, the default without KONVERT_REDIS_URL): every
limit would be multiplied by the number of processes. Serve with one process and threads (what
scripts/run.sh does by default), or count in a store all processes share (redis://…, the job
queue's Redis when KONVERT_REDIS_URL is set).

It also refuses to start without KONVERT_SECRET_KEY on any database but the default SQLite in
the instance folder: web servers on several machines must share one key.
"""

from __future__ import annotations

from typing import Any

from config import Config, missing_shared_secret_in_environment

# Gunicorn 24+ opens a control socket at ~/.gunicorn/gunicorn.ctl by default: one path for
# every server this user starts, so a second Konvert (or a test's) would take over the first
# one's socket. Konvert does not use it. (Older gunicorn ignores the unknown setting.)
control_socket_disable = True


def refusal(workers: int, storage_uri: str) -> str | None:
    """Why ``workers`` processes must not serve with this rate-limit store, or None if they may."""
    if workers > 1 and storage_uri.startswith("memory://"):
        return (
            f"Refusing to start {workers} web worker processes: rate limits are counted in "
            f"each process's memory (KONVERT_RATELIMIT_STORAGE_URI={storage_uri}), so every "
            f"limit would be multiplied by {workers}. Serve with one worker process (it has "
            "threads: KONVERT_WEB_WORKERS=1), or set KONVERT_RATELIMIT_STORAGE_URI to a store "
            "all processes share, such as redis://127.0.0.1:6379/1."
        )
    return None


def on_starting(server: Any) -> None:
    """Gunicorn's hook before the master starts: stop here, before any socket is bound."""
    message = refusal(int(server.cfg.workers), str(Config.RATELIMIT_STORAGE_URI))
    message = message or missing_shared_secret_in_environment()
    if message is not None:
        raise RuntimeError(message)  # gunicorn prints "Error: <message>" and exits with 1


def post_worker_init(worker: Any) -> None:
    """Say when a worker has loaded the app and takes requests (the tests wait for it)."""
    worker.log.info("Worker ready (pid: %s)", worker.pid)
