"""Issue 14, "A recipe for several machines": scripts/run.sh in its roles (setup, web, worker,
scheduler), started as real processes on a real PostgreSQL and a real Redis, and the refusal
to start without a shared secret key."""

from __future__ import annotations

import subprocess
import time
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from psycopg import sql

from app import create_app
from config import database_needs_shared_secret
from tests.postgres import SUPERUSER, PostgresServer
from tests.servers import (
    REPO,
    START_SECONDS,
    Served,
    consumer_sh,
    free_port,
    konvert_environment,
    listening,
    redis_server,
    run_sh,
    run_sh_setup,
    wait_for_log,
)
from tests.test_findings_auth import CHECK_LIMIT, _post_checks

# Nothing listens here: a refusal must come before any connection is tried.
UNREACHABLE_POSTGRES = "postgresql+psycopg://konvert@127.0.0.1:9/konvert"


def _new_database(server: PostgresServer) -> str:
    """An empty database of its own in the session's cluster; its SQLAlchemy URL."""
    name = f"konvert_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(
        host="127.0.0.1", port=server.port, user=SUPERUSER, dbname="postgres", autocommit=True
    ) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{server.port}/{name}"


def _query(url: str, statement: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        return connection.execute(statement).fetchall()


def _overview_stored(url: str) -> bool:
    rows = _query(url, "SELECT stale FROM stats_snapshot WHERE key = 'overview'")
    return rows == [(False,)]


def _status(url: str) -> int:
    with urllib.request.urlopen(url, timeout=60) as response:
        return int(response.status)


def _wait_until(condition, what: str, served: list[Served]) -> None:
    deadline = time.monotonic() + START_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            logs = "\n\n".join(process.log_text() for process in served)
            pytest.fail(f"{what} never happened:\n{logs}")
        time.sleep(0.5)


def test_roles_on_postgresql_and_redis_serve_consume_and_schedule(postgres_server, tmp_path):
    """Several machines, on loopback: two setups started at once on a new database, then a web
    server with two processes, a worker and the scheduler, each its own `scripts/run.sh`."""
    database = _new_database(postgres_server)
    with redis_server(tmp_path) as redis_url:
        # Only the queue's Redis is named: rate limits are counted there too, so that two web
        # processes are accepted and count together.
        settings = {
            "DATABASE_URL": database,
            "REDIS_URL": redis_url,
            "DEMO": "0",
            "WEB_WORKERS": "2",
            "RATELIMIT_CHECKS": f"{CHECK_LIMIT} per minute",
            "PROXY_COUNT": "1",
        }
        machines = [tmp_path / "machine-a", tmp_path / "machine-b"]
        for folder in machines:
            folder.mkdir()

        # 1. Two setups at once (say, two machines booting): one waits for the other.
        with ThreadPoolExecutor(2) as pool:
            setups = list(pool.map(lambda folder: run_sh_setup(folder, settings), machines))
        for result in setups:
            assert result.returncode == 0, result.stdout + result.stderr
            assert "setup: the database is ready" in result.stdout
        assert _query(database, "SELECT count(*) FROM template")[0][0] >= 14
        assert _query(database, "SELECT count(*) FROM facility") == [(0,)]  # KONVERT_DEMO=0

        # 2. The web server (machine A) and a worker (machine B): pages answer, both web
        # processes count each limit together, and a job the web server queues is done by
        # the worker, which puts no periodic job on the queue.
        with (
            run_sh(machines[0], settings, tmp_path / "web.log", role="web") as web,
            consumer_sh(machines[1], settings, tmp_path / "worker.log", role="worker") as worker,
        ):
            assert web.wait_for_workers() == 2
            assert "Periodic tasks are disabled" in worker.log_text()
            statuses = _post_checks(web.url, ["203.0.113.7"] * (3 * CHECK_LIMIT))
            assert statuses == Counter({200: CHECK_LIMIT, 429: 2 * CHECK_LIMIT}), web.log_text()

            # No figures stored yet: computed for this reader, and a recount queued.
            assert _status(web.url + "/stats") == 200
            _wait_until(lambda: _overview_stored(database), "the recount", [web, worker])
            assert "Executing app.stats.tasks.refresh_overview" in worker.log_text()
            assert not list((machines[0]).glob("jobs.db*"))  # the queue is in Redis

            # 3. The scheduler (machine B again) puts the periodic jobs on the queue.
            with consumer_sh(
                machines[1], settings, tmp_path / "scheduler.log", role="scheduler"
            ) as scheduler:
                assert "Periodic tasks are enabled" in scheduler.log_text()
                wait_for_log(scheduler, "Enqueueing periodic task app.mail.tasks.")
            assert "Enqueueing periodic task" not in worker.log_text()


# --- a shared secret key ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["all", "setup", "web", "worker", "scheduler"])
def test_every_role_refuses_a_shared_database_without_a_shared_secret_key(tmp_path, role):
    instance = tmp_path / "instance"
    instance.mkdir()
    port = free_port()
    environment = konvert_environment(instance, {"DATABASE_URL": UNREACHABLE_POSTGRES})
    del environment["KONVERT_SECRET_KEY"]
    environment.update({"HOST": "127.0.0.1", "PORT": str(port)})
    result = subprocess.run(
        [str(REPO / "scripts" / "run.sh"), role],
        cwd=REPO,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=START_SECONDS,
        check=False,
    )
    assert result.returncode != 0
    assert "Set KONVERT_SECRET_KEY (the same random value on every machine" in (
        result.stdout + result.stderr
    )
    assert not (instance / "secret_key").exists()  # no key of its own was made
    assert not listening(port)


def test_the_app_refuses_a_shared_database_without_a_secret_key(tmp_path):
    settings = {"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": UNREACHABLE_POSTGRES}
    with pytest.raises(RuntimeError, match="Set KONVERT_SECRET_KEY"):
        create_app("default", settings)
    assert not (tmp_path / "secret_key").exists()
    with pytest.raises(RuntimeError, match="Set KONVERT_MASTER_KEY"):
        create_app("default", {**settings, "SECRET_KEY": "shared" * 8})
    assert not (tmp_path / "master_key").exists()
    configured = create_app(
        "default", {**settings, "SECRET_KEY": "shared" * 8, "MASTER_KEY": "ab" * 32}
    )
    assert configured.config["SECRET_KEY"] == "shared" * 8
    assert not (tmp_path / "master_key").exists()  # the shared key is used, none is made


@pytest.mark.parametrize(
    ("uri", "shared"),
    [
        ("sqlite:///{instance}/konvert.db", False),
        ("sqlite:///{instance}/sub/other.db", False),
        ("sqlite://", False),
        ("sqlite:///:memory:", False),
        ("sqlite:///{elsewhere}/konvert.db", True),
        ("postgresql+psycopg://konvert@db.example/konvert", True),
    ],
)
def test_which_databases_need_a_shared_secret_key(tmp_path, uri, shared):
    instance, elsewhere = tmp_path / "instance", tmp_path / "elsewhere"
    url = uri.format(instance=instance, elsewhere=elsewhere)
    assert database_needs_shared_secret(url, instance) is shared


def test_run_sh_names_its_roles_when_given_another(tmp_path):
    result = subprocess.run(
        [str(REPO / "scripts" / "run.sh"), "everything"],
        cwd=REPO,
        env=konvert_environment(tmp_path, {}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "Usage: scripts/run.sh [all|setup|web|worker|scheduler]" in result.stderr
