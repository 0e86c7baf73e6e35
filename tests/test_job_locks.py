"""Task locks (app/job_locks.py) taken over from a dead holder by real consumer processes at
the same moment, on a real redis-server and on Huey's SQLite storage: exactly one takes the
lock, and nobody gives back a lock that was taken over from them.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from huey.exceptions import TaskLockedException

from app import jobs
from app.job_locks import OwnedLock
from tests.servers import REPO, VENV_BIN, konvert_environment, redis_server, stop_group

CONTENDERS = 6
ROUNDS = 25
#: A record left by a consumer of another machine long ago: stale, anyone may take it over.
LEFT_BEHIND = {"machine": "a-machine-that-died", "pid": 4242, "since": 1000.0}

# A consumer's process, reduced to taking the lock: one attempt for each "go" it reads.
CONTENDER = """
import os, sys
from huey.exceptions import TaskLockedException
from app import create_app
from app.job_locks import OwnedLock
app = create_app()
lock = OwnedLock(sys.argv[1])
with app.app_context():
    print("ready", flush=True)
    for line in sys.stdin:
        try:
            lock.acquire()
            print("took", os.getpid(), flush=True)
        except TaskLockedException:
            print("locked", flush=True)
"""


@pytest.fixture(params=["redis", "sqlite"])
def queue(request: pytest.FixtureRequest, app: Flask, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The test's queue on a real redis-server, or on Huey's SQLite storage (jobs.db in the
    instance folder, shared by the processes of this machine); yields the contenders'
    KONVERT_* settings for it."""
    if request.param == "redis":
        with redis_server(tmp_path) as url:
            app.config.update(REDIS_URL=url, HUEY_IMMEDIATE=False)
            jobs.bind_queue(app)
            yield {"REDIS_URL": url}
    else:
        app.config.update(HUEY_IMMEDIATE=False)
        jobs.bind_queue(app)
        yield {}
    app.config.update(REDIS_URL=None, HUEY_IMMEDIATE=True)
    jobs.bind_queue(app)


def _contenders(app: Flask, settings: dict[str, str], name: str) -> list[subprocess.Popen[str]]:
    environment = konvert_environment(Path(app.instance_path), settings)
    started = [
        subprocess.Popen(
            [str(VENV_BIN / "python"), "-c", CONTENDER, name],
            cwd=REPO,
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        for _ in range(CONTENDERS)
    ]
    for process in started:
        assert process.stdout is not None
        assert process.stdout.readline() == "ready\n"
    return started


def test_of_consumers_taking_over_a_stale_lock_at_once_exactly_one_gets_it(app, queue):
    lock = OwnedLock("konvert-test-takeover")
    contenders = _contenders(app, queue, "konvert-test-takeover")
    try:
        for _ in range(ROUNDS):
            jobs.huey.put(lock.key, LEFT_BEHIND)
            for process in contenders:  # all at once: each is waiting for this line
                assert process.stdin is not None
                process.stdin.write("go\n")
                process.stdin.flush()
            answers = [process.stdout.readline().split() for process in contenders]
            winners = [int(answer[1]) for answer in answers if answer[0] == "took"]
            assert len(winners) == 1, answers
            assert [answer for answer in answers if answer[0] == "locked"] == [["locked"]] * (
                CONTENDERS - 1
            )
            assert jobs.huey.get(lock.key, peek=True)["pid"] == winners[0]
    finally:
        for process in contenders:
            assert process.stdin is not None
            process.stdin.close()
            stop_group(process)
            assert process.stdout is not None
            process.stdout.close()
    jobs.huey.delete(lock.key)


def test_a_lock_taken_over_is_not_given_back_by_its_former_holder(app, queue):
    lock = OwnedLock("konvert-test-release")
    first = lock.acquire()
    # Its holder hangs past the stale time; another consumer takes the lock over.
    jobs.huey.put(lock.key, {**first.holder, "machine": "elsewhere", "since": time.time() - 10**6})
    second = lock.acquire()
    lock.release(first)  # the former holder wakes up and finishes its task
    assert jobs.huey.get(lock.key, peek=True) == second.holder
    with pytest.raises(TaskLockedException):
        lock.acquire()  # still held, by the second, alive
    lock.release(second)
    assert not lock.is_locked()
