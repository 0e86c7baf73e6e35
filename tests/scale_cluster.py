"""The set-up of `make scale-test` (tests/test_scale.py): two "machines" on loopback sharing a
PostgreSQL database, a redis-server and an SMTP port, and what the scenarios do to them.

Machine 0 is served as `make run` serves (`scripts/run.sh all`: setup, the web server and the
consumer that runs the schedule); machine 1 as the other machines of a deployment
(`scripts/run.sh web` and `scripts/run.sh worker`). The scenarios kill, stop and start again
machine 1's worker and the Redis server; every process they ever started is read for server
errors.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from flask.ctx import AppContext

from app import create_app
from app.extensions import db
from tests.postgres import PostgresServer, truncate_all_tables
from tests.servers import (
    RedisServer,
    Served,
    consumer_sh,
    free_port,
    restartable_redis_server,
    run_sh,
)
from tests.test_print_consumer import alive, children

#: How long a consumer paused with SIGSTOP may still take a job: a consumer waits for the next
#: job in a BRPOP of one second (huey's RedisStorage), which Redis answers when it times out.
QUEUE_WAIT_SECONDS = 2.5
#: What Flask (an exception in a view) and gunicorn (one outside the app) log for a 500.
REQUEST_FAILURES = ("Exception on /", "Error handling request")


@dataclass
class Cluster:
    """The running set-up: what the scenarios drive and what they check against."""

    machines: list[Served]  # the web servers, one per machine
    processes: list[Served]  # every process ever started, whose log is read for server errors
    database_url: str
    redis: RedisServer
    smtp_port: int
    folder: Path
    settings: dict[str, str]
    stack: ExitStack
    _app: Flask | None = None
    _log_marks: dict[Path, int] = field(default_factory=dict)

    @property
    def redis_url(self) -> str:
        return self.redis.url

    @property
    def worker(self) -> Served:
        """Machine 1's job consumer (the latest one started)."""
        return self.processes[-1]

    def context(self) -> AppContext:
        """An app context on the shared database and queue, for setting up data and reading
        results (the app is made once: it binds the job queue to this Redis)."""
        if self._app is None:
            self._app = create_app(
                "testing",
                {
                    "SQLALCHEMY_DATABASE_URI": self.database_url,
                    "INSTANCE_PATH": str(self.folder / "test-side"),
                    "REDIS_URL": self.redis_url,
                    "HUEY_IMMEDIATE": False,
                },
            )
        return self._app.app_context()

    def close(self) -> None:
        """Close this side's pooled database connections (left open they would be collected
        unclosed at exit, which pytest reports as an error)."""
        if self._app is not None:
            with self._app.app_context():
                db.session.remove()
                db.engine.dispose()

    # --- logs ---------------------------------------------------------------------------------

    def mark_logs(self) -> None:
        """From now on, server_errors() reads only what the machines log from here."""
        self._log_marks = {process.log: len(process.log_text()) for process in self.processes}

    def _logged(self) -> Iterator[str]:
        """What each process logged since the last mark."""
        for process in self.processes:
            yield process.log_text()[self._log_marks.get(process.log, 0) :]

    def server_errors(self) -> list[str]:
        """Tracebacks the machines logged since the last mark: every one is a server error."""
        errors = []
        for text in self._logged():
            errors += [part[:3000] for part in text.split("Traceback (most recent")[1:]]
        return errors

    def failed_requests(self) -> list[str]:
        """The requests that failed with a server error (500) since the last mark. While Redis
        is down the processes log, with tracebacks, each job they could not queue or take;
        those are expected, a failed request never is."""
        return [
            line[:500]
            for text in self._logged()
            for line in text.splitlines()
            if any(failure in line for failure in REQUEST_FAILURES)
        ]

    # --- consumers ------------------------------------------------------------------------------

    def scheduler_pid(self) -> int:
        """The pid of machine 0's consumer (run.sh all starts it beside the web server)."""
        for pid in children(self.machines[0].process.pid):
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"huey_consumer" in command:
                return pid
        pytest.fail(f"machine 0 runs no consumer:\n{self.machines[0].log_text()[-3000:]}")

    @contextmanager
    def only_machine_1_consumes(self) -> Iterator[None]:
        """Pause machine 0's consumer until the block ends, so that the jobs queued meanwhile go
        to machine 1's worker: the process a scenario kills or stops is then one that serves no
        page (`run.sh all` stops its web server with its consumer)."""
        with paused([self.scheduler_pid()]):
            yield

    @contextmanager
    def no_consumer_takes_jobs(self) -> Iterator[None]:
        """Pause both consumers until the block ends: the jobs queued meanwhile stay queued."""
        with paused([self.scheduler_pid(), self.worker.process.pid]):
            yield

    def ensure_worker(self) -> None:
        """Start machine 1's worker again if a scenario killed or stopped it (as its service
        manager would), with a log of its own."""
        if self.worker.process.poll() is None:
            return
        number = len(self.processes) - len(self.machines)
        log = self.folder / f"worker-1.{number}.log"
        worker = self.stack.enter_context(
            consumer_sh(self.folder / "machine-1", self.settings, log, role="worker")
        )
        self.processes.append(worker)


@contextmanager
def paused(pids: list[int]) -> Iterator[None]:
    """Pause the consumers (SIGSTOP) until the block ends; the block starts once none of them
    can take a job any more."""
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(QUEUE_WAIT_SECONDS)  # their last waits for a job have ended in Redis
        yield
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):  # killed meanwhile
                os.kill(pid, signal.SIGCONT)


def wait_gone(pids: set[int], seconds: float = 30) -> bool:
    """Wait until none of the processes is left (zombies count as gone); True when so."""
    deadline = time.monotonic() + seconds
    while any(alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


@contextmanager
def running_cluster(
    postgres_server: PostgresServer, folder: Path, settings: dict[str, str]
) -> Iterator[Cluster]:
    """PostgreSQL (emptied), Redis, an SMTP port and two machines serving from them, with the
    KONVERT_* ``settings`` (without the prefix) on top of the shared ones."""
    (folder / "test-side").mkdir()
    emptying = create_app("testing", {"SQLALCHEMY_DATABASE_URI": postgres_server.url,
                                      "INSTANCE_PATH": str(folder / "test-side")})  # fmt: skip
    with emptying.app_context():
        truncate_all_tables()
        db.engine.dispose()
    smtp_port = free_port()
    with restartable_redis_server(folder) as redis, ExitStack() as stack:
        shared = {
            "DATABASE_URL": postgres_server.url,
            "REDIS_URL": redis.url,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(smtp_port),
            "MAIL_USE_TLS": "0",
            **settings,
        }
        first = folder / "machine-0"
        second = folder / "machine-1"
        first.mkdir()
        second.mkdir()
        machines = [
            stack.enter_context(run_sh(first, shared, folder / "machine-0.log")),
            stack.enter_context(run_sh(second, shared, folder / "web-1.log", role="web")),
        ]
        worker = stack.enter_context(
            consumer_sh(second, shared, folder / "worker-1.log", role="worker")
        )
        cluster = Cluster(
            machines, [*machines, worker], postgres_server.url, redis, smtp_port, folder,
            shared, stack,
        )  # fmt: skip
        try:
            yield cluster
        finally:
            cluster.close()
