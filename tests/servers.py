"""Real server processes for tests: Konvert served by scripts/run.sh as `make run` serves it
(or in one of its roles: setup, web, worker, scheduler), and a throwaway redis-server on
loopback.

Both listen on 127.0.0.1 on a free port, run in their own process group, and are stopped at the
end of the test, also when it fails. redis-server comes from Debian's `redis-server` package,
which scripts/install-system-deps.sh installs (CI runs it before the tests).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
START_SECONDS = 90  # migrations, template sync and the first import of the app on 2 busy cores
SECRET_KEY = "test-secret-key-not-for-production"
MASTER_KEY = "6b6f6e766572742d746573742d6d61737465722d6b65792d6e6f742d7265616c"  # as in TestConfig
REDIS_HINT = (
    "run scripts/install-system-deps.sh (it installs Debian's `redis-server` package) so that "
    "the tests can start a throwaway Redis"
)


def free_port() -> int:
    """A TCP port on loopback that nothing listens on at the moment."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def listening(port: int) -> bool:
    """True when something accepts connections on this loopback port."""
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def konvert_environment(
    instance: Path, settings: Mapping[str, str], unset: Collection[str] = ()
) -> dict[str, str]:
    """The environment of a Konvert process on its own instance folder: no KONVERT_* setting of
    the machine leaks in; ``settings`` are KONVERT_* names without the prefix.

    The secret key and the master key are given (shared-database tests need them) unless named
    in ``unset`` ("SECRET_KEY", "MASTER_KEY"): then the app makes its own in the instance
    folder, as a single-machine install does."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KONVERT_")}
    environment.update(
        {
            "VENV_BIN": str(VENV_BIN),
            "KONVERT_INSTANCE_PATH": str(instance),
            "KONVERT_DATABASE_URL": f"sqlite:///{instance / 'konvert.db'}",
            "KONVERT_SECRET_KEY": SECRET_KEY,
            "KONVERT_MASTER_KEY": MASTER_KEY,
            "KONVERT_DEMO": "0",
        }
    )
    environment.update({f"KONVERT_{key}": value for key, value in settings.items()})
    for key in unset:
        environment.pop(f"KONVERT_{key}", None)
    return environment


def stop_group(process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    """Stop a process started in its own session, and everything it started."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    with contextlib.suppress(ProcessLookupError):  # children that outlived their parent
        os.killpg(process.pid, signal.SIGKILL)


@dataclass(frozen=True)
class Served:
    """Konvert served by scripts/run.sh."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        """What run.sh, gunicorn and the job consumer wrote so far."""
        return self.log.read_text(errors="replace")

    def web_workers(self) -> set[int]:
        """The gunicorn worker processes that were booted and still live, by pid.

        Read from gunicorn's own log rather than from ``ps``: process tables differ between
        machines and sandboxes (on CI it never matched), the log does not."""
        return {pid for pid in self._logged_pids(r"Booting worker with pid: (\d+)") if _alive(pid)}

    def _logged_pids(self, pattern: str) -> set[int]:
        return {int(pid) for pid in re.findall(pattern, self.log_text())}

    def wait_for_workers(self) -> int:
        """Wait until every worker process has loaded the app (gunicorn.conf.py logs it), so
        that requests can reach each of them; return how many there are."""
        deadline = time.monotonic() + START_SECONDS
        while True:
            workers = self.web_workers()
            if workers and workers <= self._logged_pids(r"Worker ready \(pid: (\d+)\)"):
                return len(workers)
            if time.monotonic() > deadline:
                pytest.fail(f"the web workers did not all start:\n{self.log_text()}")
            time.sleep(0.3)


def _alive(pid: int) -> bool:
    """Whether a process with this pid exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _start_run_sh(
    role: str | None, environment: Mapping[str, str], log: Path
) -> subprocess.Popen[bytes]:
    """Start scripts/run.sh (in ``role``, or with no argument) in a session of its own."""
    command = [str(REPO / "scripts" / "run.sh"), *([role] if role else [])]
    with log.open("wb") as output:
        return subprocess.Popen(
            command,
            cwd=REPO,
            env=dict(environment),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@contextmanager
def run_sh(
    instance: Path,
    settings: Mapping[str, str],
    log: Path,
    role: str | None = None,
    unset: Collection[str] = (),
) -> Iterator[Served]:
    """Serve ``instance`` with scripts/run.sh until the block ends: with no role (`all`, as
    `make run` does: setup, web server and scheduler), or in the role ``web``; ``unset`` as in
    `konvert_environment`."""
    port = free_port()
    environment = konvert_environment(instance, settings, unset)
    environment.update({"HOST": "127.0.0.1", "PORT": str(port)})
    url = f"http://127.0.0.1:{port}"
    process = _start_run_sh(role, environment, log)
    served = Served(url, process, log)
    try:
        deadline = time.monotonic() + START_SECONDS
        while not _answers(url):
            if process.poll() is not None:
                status = process.returncode
                pytest.fail(f"scripts/run.sh exited with {status}:\n{served.log_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"scripts/run.sh did not answer in time:\n{served.log_text()}")
            time.sleep(0.3)
        yield served
    finally:
        stop_group(process)


def run_sh_setup(instance: Path, settings: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``scripts/run.sh setup`` on ``instance`` to its end (migrations, templates,
    addressees, demo data unless KONVERT_DEMO=0)."""
    return subprocess.run(
        [str(REPO / "scripts" / "run.sh"), "setup"],
        cwd=REPO,
        env=konvert_environment(instance, settings),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=START_SECONDS,
        check=False,
    )


@contextmanager
def consumer_sh(
    instance: Path, settings: Mapping[str, str], log: Path, role: str = "worker"
) -> Iterator[Served]:
    """A job consumer started by ``scripts/run.sh worker`` (or ``scheduler``) until the block
    ends, once it has started consuming (its ``url`` is empty)."""
    process = _start_run_sh(role, konvert_environment(instance, settings), log)
    served = Served("", process, log)
    try:
        deadline = time.monotonic() + START_SECONDS
        while "Huey consumer started" not in served.log_text():
            if process.poll() is not None:
                pytest.fail(
                    f"scripts/run.sh {role} exited with {process.returncode}:\n{served.log_text()}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"scripts/run.sh {role} did not start in time:\n{served.log_text()}")
            time.sleep(0.3)
        yield served
    finally:
        stop_group(process)


def wait_for_log(served: Served, text: str, seconds: float = START_SECONDS) -> None:
    """Wait until ``text`` appears in the process's log (fail after ``seconds``)."""
    deadline = time.monotonic() + seconds
    while text not in served.log_text():
        if served.process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{text!r} never appeared in the log:\n{served.log_text()}")
        time.sleep(0.3)


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url + "/", timeout=5).close()
    except urllib.error.HTTPError:
        return True  # any HTTP answer means the server is up
    except OSError:
        return False
    return True


class RedisServer:
    """A throwaway redis-server on a loopback port of its own, nothing saved, that a test can
    stop (TERM, as a service manager does), kill outright and start again on the same port: it
    comes back empty, as a Redis without persistence does."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail(f"redis-server not found: {REDIS_HINT}")
        self.binary = binary
        self.folder = folder
        self.port = free_port()
        self.log = folder / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Its URL, the same across restarts."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it and wait until it answers."""
        options = {"port": str(self.port), "bind": "127.0.0.1", "save": "", "appendonly": "no"}
        arguments = [part for name, value in options.items() for part in (f"--{name}", value)]
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [self.binary, *arguments, "--dir", str(self.folder)],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1)
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    client.ping()
                    return
                except redis.exceptions.ConnectionError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        stop_group(self.process, seconds=10)
                        pytest.fail(
                            f"redis-server did not start:\n{self.log.read_text(errors='replace')}"
                        )
                    time.sleep(0.1)
        finally:
            client.close()

    def stop(self) -> None:
        """Stop it as a service manager does (TERM: it closes its connections and exits)."""
        if self.process is not None:
            stop_group(self.process, seconds=10)

    def kill(self) -> None:
        """Kill it outright (kill -9): nothing in it can react."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@contextmanager
def restartable_redis_server(folder: Path) -> Iterator[RedisServer]:
    """A started `RedisServer`, stopped at the end of the block (also when the test failed)."""
    server = RedisServer(folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    """A throwaway redis-server on a free loopback port, nothing saved; yields its URL."""
    with restartable_redis_server(folder) as server:
        yield server.url


@contextmanager
def served_in_thread(app: Any, **options: Any) -> Iterator[str]:
    """``app`` on a real threaded HTTP server on loopback, in this process; its base URL.
    ``options`` go to werkzeug's make_server (a request_handler, say)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True, **options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
