"""Task locks that know their holder, so that a lock left by a dead consumer is taken over.

Huey's ``lock_task`` stores a bare flag: a consumer killed while it held one leaves it set for
ever, which is why consumers used to start with ``--flush-locks``, clearing, with the dead
one's locks, those of every consumer still running elsewhere. These locks record who holds them
(machine, process) and since when. A task that finds its lock held takes it over when the
holder is provably gone (same machine, process no longer running) or has held it for longer than
KONVERT_JOB_LOCK_STALE_SECONDS (another machine: its processes cannot be seen from here);
otherwise it does not run, as with Huey's locks.

Taking over is not atomic on every storage: two consumers finding the same stale lock at the
same moment may both run the task once. The locked tasks are recounts, for which that only
costs time.
"""

from __future__ import annotations

import functools
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from huey.exceptions import TaskLockedException

from app.jobs import huey, log, task_app

F = TypeVar("F", bound=Callable[..., Any])


def _machine() -> str:
    """This machine (and boot, and process namespace, where Linux tells them): processes with
    the same machine see each other's pids, and only they."""
    parts = [socket.gethostname()]
    try:
        parts.append(Path("/proc/sys/kernel/random/boot_id").read_text().strip())
        parts.append(str(os.stat("/proc/self/ns/pid").st_ino))
    except OSError:
        pass  # not Linux: the host name, and the age of the lock, have to do
    return ":".join(parts)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: running
    return True


def holder_gone(holder: dict[str, Any], stale_seconds: float, now: float) -> bool:
    """Whether the lock ``holder`` recorded can be taken over now."""
    try:
        machine, pid, since = str(holder["machine"]), int(holder["pid"]), float(holder["since"])
    except (KeyError, TypeError, ValueError):
        return True  # not ours (a Huey lock from an older version): nobody can be holding it
    if machine == _machine() and not _running(pid):
        return True
    return now - since > stale_seconds


class OwnedLock:
    """A named lock in the queue's storage whose value says who holds it since when."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.key = f"{huey.name}.lock.{name}"

    def _record(self) -> dict[str, Any]:
        return {"machine": _machine(), "pid": os.getpid(), "since": time.time()}

    def acquire(self) -> dict[str, Any]:
        """Take the lock (taking over a stale one); raises TaskLockedException when it is held."""
        mine = self._record()
        if huey.put_if_empty(self.key, mine):
            return mine
        held = huey.get(self.key, peek=True)
        stale = float(task_app().config["JOB_LOCK_STALE_SECONDS"])
        if held is not None and not holder_gone(held, stale, time.time()):
            raise TaskLockedException(f"unable to acquire lock {self.name}")
        log.warning(
            "lock %s was left by a consumer that is gone (%s): taken over", self.name, held
        )
        huey.delete(self.key)
        if not huey.put_if_empty(self.key, mine):
            raise TaskLockedException(f"unable to acquire lock {self.name}")
        return mine

    def release(self, mine: dict[str, Any]) -> None:
        """Give the lock back, unless it was taken over meanwhile (then it is not ours)."""
        if huey.get(self.key, peek=True) == mine:
            huey.delete(self.key)

    def is_locked(self) -> bool:
        """Whether someone holds the lock (stale or not)."""
        return huey.get(self.key, peek=True) is not None


def lock_task(name: str) -> Callable[[F], F]:
    """Like Huey's ``lock_task``: the decorated task does not run while another holds ``name``."""
    lock = OwnedLock(name)

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def locked(*args: Any, **kwargs: Any) -> Any:
            mine = lock.acquire()
            try:
                return function(*args, **kwargs)
            finally:
                lock.release(mine)

        return locked  # type: ignore[return-value]

    return decorate
