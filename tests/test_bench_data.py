"""The load benchmark's data set on PostgreSQL (`make bench-load DB=postgres`).

bench/generate_large.py writes it with COPY into a database of the session's throwaway cluster,
small here; the app then serves it and writes to it as it would to the real one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.models import Facility, Letter, LetterOutcome, MailEvent, Prisoner, StatsSnapshot
from bench.load import read_ids_from_postgres
from config import BASE_DIR
from scripts import pg_cluster
from tests.factories import make_prisoner
from tests.postgres import PostgresServer
from tests.servers import MASTER_KEY

EVENTS, PRISONERS, FACILITIES = 3000, 200, 80


@pytest.fixture
def bench_database(postgres_server: PostgresServer) -> Iterator[str]:
    """A database of its own in the session's cluster (the generator replaces its schema)."""
    name = f"bench_{uuid.uuid4().hex[:8]}"
    port = postgres_server.port
    pg_cluster.create_database(port, name)
    yield pg_cluster.database_url(port, name)
    with psycopg.connect(
        host="127.0.0.1", port=port, user="postgres", dbname="postgres", autocommit=True
    ) as connection:
        connection.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def generate(instance: Path, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            str(BASE_DIR / "bench" / "generate_large.py"),
            "--instance",
            str(instance),
            "--database-url",
            url,
            "--events",
            str(EVENTS),
            "--prisoners",
            str(PRISONERS),
            "--facilities",
            str(FACILITIES),
            "--today",
            "2025-11-05",
            *extra,
        ],
        env={
            **os.environ,
            "KONVERT_SECRET_KEY": "a bench key shared by generator and server",
            "KONVERT_MASTER_KEY": MASTER_KEY,
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def test_the_generator_fills_postgresql_with_a_data_set_the_app_serves_and_extends(
    bench_database: str, tmp_path: Path
):
    instance = tmp_path / "instance"
    made = generate(instance, bench_database)
    assert made.returncode == 0, made.stdout + made.stderr
    assert (instance / ".demo-loaded").exists()  # the run that serves it adds no demo data

    settings = {"INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": bench_database}
    app = create_app("testing", settings)
    with app.app_context():

        def count(model: type) -> int:
            return db.session.scalar(select(func.count()).select_from(model)) or 0

        assert count(MailEvent) == EVENTS
        assert count(Prisoner) == PRISONERS
        assert count(Facility) == FACILITIES
        assert 0 < count(LetterOutcome) <= count(Letter)
        assert count(StatsSnapshot) > FACILITIES  # every facility's figures, and the overview

        client = app.test_client()
        assert client.get("/prisoners/1").status_code == 200
        assert client.get(f"/facilities/{FACILITIES}").status_code == 200
        assert client.get("/stats").status_code == 200

        # COPY with explicit ids left the sequences where they were: the generator moved them.
        assert make_prisoner(last_name="Новый").id == PRISONERS + 1
        db.session.remove()
        db.engine.dispose()

    ids = read_ids_from_postgres(bench_database)
    assert len(ids["prisoner"]) == PRISONERS + 1
    assert sorted(ids["facility"]) == list(range(1, FACILITIES + 1))

    again = generate(instance, bench_database)
    assert again.returncode != 0
    assert "pass --force" in again.stderr
