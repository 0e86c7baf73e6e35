"""Issue 14, "Resilience": a PostgreSQL restart fails no later request, and a Redis that is
stopped or hangs fails no page: /stats serves its last figures, and rate limits count in each
process's memory until Redis is back. Real PostgreSQL, real redis-server."""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import redis
from flask import Flask

from app import create_app
from app.extensions import db, limiter
from app.jobs import bind_queue
from app.models import Channel, EventKind
from app.stats import tasks as stats_tasks
from config import ratelimit_storage
from tests.factories import add_event, make_facility, make_letter, make_prisoner
from tests.isolation import isolate_requests
from tests.postgres import restart_server
from tests.servers import redis_server

TODAY = date.today()
RECOUNTING = "the figures are being recounted"


def _reported_letters(prisoner, delays: list[int], start: int = 120) -> None:
    """Letters sent ``start`` days ago, one a day, arriving after the given delays."""
    for number, delay in enumerate(delays):
        sent_on = TODAY - timedelta(days=start - number)
        letter = make_letter(prisoner, written=sent_on)
        add_event(letter, EventKind.SENT, sent_on, Channel.POST)
        add_event(letter, EventKind.ARRIVED, sent_on + timedelta(days=delay))


# --- a database restart -------------------------------------------------------------------------


def test_after_a_database_restart_the_next_requests_succeed(pg_app, postgres_server):
    """`pg_ctl restart` closes every connection the pool holds; the requests that come after
    it get fresh ones (pool_pre_ping) instead of failing one each."""
    facility = make_facility(code="ИК-17", name="ФКУ ИК-17", region="Красноярский край")
    prisoner = make_prisoner(facility)
    _reported_letters(prisoner, [30, 34, 40, 41, 50])
    pages = ["/prisoners", f"/prisoners/{prisoner.id}", f"/facilities/{facility.id}", "/stats"]
    client = pg_app.test_client()
    for page in pages:
        assert client.get(page).status_code == 200
    # Several idle connections in the pool, as a server with threads keeps them; the test's
    # own session gives its connection back too.
    held = [db.engine.connect() for _ in range(4)]
    for connection in held:
        connection.close()
    db.session.close()
    assert db.engine.pool.checkedin() >= 4  # type: ignore[attr-defined]

    restart_server(postgres_server)

    for _ in range(3):  # more requests than pooled connections
        for page in pages:
            response = client.get(page)
            assert response.status_code == 200, page
    assert "ИК-17" in client.get(pages[2]).get_data(as_text=True)


# --- Redis stopped or hanging -------------------------------------------------------------------


@pytest.fixture
def slow_facility(app: Flask):
    facility = make_facility(code="ИК-17", name="ФКУ ИК-17", region="Красноярский край")
    prisoner = make_prisoner(facility)
    _reported_letters(prisoner, [30, 34, 40, 41, 50])  # median 40 days
    return prisoner


@pytest.fixture
def queue_on_redis(app: Flask, tmp_path, monkeypatch) -> Iterator[str]:
    """The app's jobs go to a real Redis (no consumer), as on several machines."""
    with redis_server(tmp_path) as url:
        app.config.update(HUEY_IMMEDIATE=False, REDIS_URL=url)
        monkeypatch.setattr(stats_tasks, "_last_asked", 0.0)  # no throttle left by others
        try:
            yield url
        finally:
            app.config.update(HUEY_IMMEDIATE=True, REDIS_URL=None)
            bind_queue(app)


class Outage:
    """Redis stopped (SHUTDOWN: connections refused) or paused (SIGSTOP: connections accepted
    by the kernel, never answered, until the client's timeout)."""

    def __init__(self, url: str, how: str) -> None:
        self.client = redis.Redis.from_url(url)
        self.pid = int(self.client.info("server")["process_id"])
        self.how = how

    def __enter__(self) -> Outage:
        if self.how == "stopped":
            self.client.shutdown(nosave=True)
        else:
            os.kill(self.pid, signal.SIGSTOP)
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.how == "paused":
            os.kill(self.pid, signal.SIGCONT)  # so that the fixture can stop it


def _figures(html: str) -> str:
    return re.sub(r"\s+", " ", html)


@pytest.mark.parametrize("how", ["stopped", "paused"])
def test_stats_serves_its_last_figures_while_the_queue_is_down(
    client, app, slow_facility, queue_on_redis, caplog, how
):
    app.config["HUEY_IMMEDIATE"] = True
    client.get("/stats")  # the figures stored, as the consumer would have
    app.config["HUEY_IMMEDIATE"] = False
    letter = make_letter(slow_facility, written=TODAY - timedelta(days=20))
    add_event(letter, EventKind.SENT, TODAY - timedelta(days=20), Channel.POST)
    add_event(letter, EventKind.ARRIVED, TODAY - timedelta(days=1))  # out of date now

    with Outage(queue_on_redis, how), caplog.at_level(logging.ERROR, "konvert.jobs"):
        response = client.get("/stats")
    assert response.status_code == 200
    page = _figures(response.get_data(as_text=True))
    assert re.search(r"ИК-17</a>.*?>40</td>.*?>5</td>", page)  # the last figures stored
    assert RECOUNTING in page
    assert "could not enqueue refresh_overview" in caplog.text  # logged, not raised


def test_stats_counts_for_the_reader_when_no_figures_are_stored_and_the_queue_is_down(
    client, slow_facility, queue_on_redis, caplog
):
    with Outage(queue_on_redis, "stopped"), caplog.at_level(logging.ERROR, "konvert.jobs"):
        response = client.get("/stats")
    assert response.status_code == 200
    assert re.search(r"ИК-17</a>.*?>40</td>.*?>5</td>", _figures(response.get_data(as_text=True)))
    assert "could not enqueue refresh_overview" in caplog.text


@pytest.fixture
def limits_on_redis(migrated_database, tmp_path) -> Iterator[tuple[Flask, str]]:
    """An app whose rate limits count in the queue's Redis (KONVERT_REDIS_URL alone)."""
    instance = tmp_path / "instance"
    instance.mkdir()
    shutil.copy(migrated_database, instance / "konvert.db")
    with redis_server(tmp_path) as url:
        application = create_app(
            "testing",
            {
                "INSTANCE_PATH": str(instance),
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'konvert.db'}",
                "REDIS_URL": url,
                "HUEY_IMMEDIATE": False,
                "RATELIMIT_STORAGE_URI": ratelimit_storage(None, url),
                "RATELIMIT_CHECKS": "3 per minute",
            },
        )
        isolate_requests(application)
        try:
            with application.app_context():
                yield application, url
        finally:
            limiter._storage_dead = False  # the limiter object outlives this app


def test_rate_limits_hold_in_memory_while_redis_is_down(limits_on_redis):
    application, url = limits_on_redis
    client = application.test_client()
    body = {"text": "Здравствуйте! Как вы там?", "language": "ru"}
    assert client.post("/api/v1/check", json=body).status_code == 200
    keys = [key.decode() for key in redis.Redis.from_url(url).keys("*")]
    assert keys and all(key.startswith("LIMITS:LIMITER/konvert-ratelimit/") for key in keys), keys
    with Outage(url, "stopped"):
        statuses = [client.post("/api/v1/check", json=body).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]  # counted again, in this process, not a 500
