"""Task locks that know their holder, so that a lock left by a dead consumer is taken over.

Huey's ``lock_task`` stores a bare flag: a consumer killed while it held one leaves it set for
ever, which is why consumers used to start with ``--flush-locks``, clearing, with the dead
one's locks, those of every consumer still running elsewhere. These locks record who holds them
(machine, process) and since when. A task that finds its lock held takes it over when the
holder is provably gone (same machine, process no longer running) or has held it for longer than
KONVERT_JOB_LOCK_STALE_SECONDS (another machine: its processes cannot be seen from here);
otherwise it does not run, as with Huey's locks.

Taking over is a compare-and-set on the stored record: the lock becomes ours only if it still
holds, byte for byte, the stale record we read. Of several consumers that find the same stale
lock at the same moment exactly one takes it; the others see it held. Giving a lock back is
conditional the same way, so a consumer never deletes a lock that was taken over from it. On
Redis each is one Lua script (atomic in the server), on SQLite one conditional statement in
an exclusive transaction, as Huey's own ``put_if_empty`` does on each storage.
"""

from __future__ import annotations

import functools
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from huey.constants import EmptyData
from huey.exceptions import TaskLockedException
from huey.storage import BaseStorage, MemoryStorage, RedisStorage, SqliteStorage

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


#: Redis: replace (ARGV[4] = "set") or delete the hash field KEYS[1][ARGV[1]] only while it
#: holds ARGV[2]. A script runs atomically: no other command runs between its read and write.
_REDIS_SWAP = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then
    return 0
end
if ARGV[4] == 'set' then
    redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
else
    redis.call('HDEL', KEYS[1], ARGV[1])
end
return 1
"""


def swap(storage: BaseStorage, key: str, expected: bytes, new: bytes | None) -> bool:
    """Replace the value stored under ``key`` by ``new`` (delete it when None), only when it
    is still ``expected``, in one atomic step of the storage; True when it was replaced."""
    if isinstance(storage, RedisStorage):
        script = storage.conn.register_script(_REDIS_SWAP)
        arguments = [key, expected, new or b"", "set" if new is not None else "delete"]
        return bool(script(keys=[storage.result_key], args=arguments))
    if isinstance(storage, SqliteStorage):
        # storage.db(commit=True) runs it in BEGIN EXCLUSIVE, as Huey's put_if_empty.
        with storage.db(commit=True) as cursor:
            old = (storage.name, key, storage.to_blob(expected))
            if new is None:
                cursor.execute("DELETE FROM kv WHERE queue = ? AND key = ? AND value = ?", old)
            else:
                cursor.execute(
                    "UPDATE kv SET value = ? WHERE queue = ? AND key = ? AND value = ?",
                    (storage.to_blob(new), *old),
                )
            return bool(cursor.rowcount == 1)
    if isinstance(storage, MemoryStorage):  # immediate mode: one process
        with storage._lock:  # the lock Huey's own put_if_empty takes
            if storage.peek_data(key) != expected:
                return False
            if new is None:
                storage.pop_data(key)
            else:
                storage.put_data(key, new)
            return True
    raise NotImplementedError(f"task locks need Redis or SQLite storage, not {type(storage)}")


@dataclass(frozen=True)
class Holding:
    """A lock held: who holds it (``holder``), and the record as stored (``stored``)."""

    holder: dict[str, Any]
    stored: bytes


class OwnedLock:
    """A named lock in the queue's storage whose value says who holds it since when."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.key = f"{huey.name}.lock.{name}"

    def _record(self) -> dict[str, Any]:
        return {"machine": _machine(), "pid": os.getpid(), "since": time.time()}

    def acquire(self) -> Holding:
        """Take the lock (taking over a stale one); raises TaskLockedException when it is held."""
        mine = self._record()
        stored = huey.serializer.serialize(mine)
        storage = huey.storage
        if storage.put_if_empty(self.key, stored):
            return Holding(mine, stored)
        held_stored = storage.peek_data(self.key)
        if held_stored is EmptyData:  # given back meanwhile: try once more, like anyone
            if storage.put_if_empty(self.key, stored):
                return Holding(mine, stored)
            raise TaskLockedException(f"unable to acquire lock {self.name}")
        try:
            held = huey.serializer.deserialize(held_stored)
        except Exception:  # not a record at all: nobody can be holding it
            held = None
        stale = float(task_app().config["JOB_LOCK_STALE_SECONDS"])
        if held is not None and not holder_gone(held, stale, time.time()):
            raise TaskLockedException(f"unable to acquire lock {self.name}")
        # Ours only if nobody changed it since we read it (another consumer taking it over).
        if not swap(storage, self.key, bytes(held_stored), stored):
            raise TaskLockedException(f"unable to acquire lock {self.name}")
        log.warning(
            "lock %s was left by a consumer that is gone (%s): taken over", self.name, held
        )
        return Holding(mine, stored)

    def release(self, mine: Holding) -> None:
        """Give the lock back, unless it was taken over meanwhile (then it is not ours)."""
        swap(huey.storage, self.key, mine.stored, None)

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
