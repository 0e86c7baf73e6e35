from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

from huey.storage import BaseStorage

_F = TypeVar("_F", bound=Callable[..., Any])

class Result:
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...

class Task:
    id: str
    name: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]

class TaskWrapper:
    huey: Huey
    func: Callable[..., Any]
    # The Task subclass made for this function: each queued call is an instance of it.
    task_class: type[Task]
    # The name given to task(name=...); None unless one was (the task class is named after
    # the function either way).
    name: str | None
    # Queues the task (in immediate mode: runs it now); a Result handle when the queue keeps
    # results, else None.
    def __call__(self, *args: Any, **kwargs: Any) -> Result | None: ...
    def call_local(self, *args: Any, **kwargs: Any) -> Any: ...

class TaskLock:
    def __call__(self, fn: _F) -> _F: ...
    def __enter__(self) -> TaskLock: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None: ...
    def is_locked(self) -> bool: ...

class Serializer:
    def serialize(self, data: Any) -> bytes: ...
    def deserialize(self, data: bytes) -> Any: ...

class Huey:
    name: str
    serializer: Serializer
    results: bool
    storage: BaseStorage
    storage_class: type[BaseStorage] | None
    storage_kwargs: dict[str, Any]
    def __init__(
        self,
        name: str = "huey",
        results: bool = True,
        store_none: bool = False,
        utc: bool = True,
        immediate: bool = False,
        serializer: Any = None,
        compression: bool = False,
        use_zlib: bool = False,
        immediate_use_memory: bool = True,
        storage_class: type[BaseStorage] | None = None,
        store_intermediate_errors: bool = True,
        **storage_kwargs: Any,
    ) -> None: ...
    @property
    def immediate(self) -> bool: ...
    @immediate.setter
    def immediate(self, value: bool) -> None: ...
    def create_storage(self) -> BaseStorage: ...
    def task(
        self,
        retries: int = 0,
        retry_delay: int = 0,
        retry_backoff: float = 0,
        priority: int | None = None,
        context: bool = False,
        name: str | None = None,
        expires: Any = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> Callable[[Callable[..., Any]], TaskWrapper]: ...
    def periodic_task(
        self,
        validate_datetime: Callable[[datetime], bool],
        retries: int = 0,
        retry_delay: int = 0,
        retry_backoff: float = 0,
        priority: int | None = None,
        context: bool = False,
        name: str | None = None,
        expires: Any = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> Callable[[Callable[..., Any]], TaskWrapper]: ...
    def lock_task(self, lock_name: str, ttl: int | None = None) -> TaskLock: ...
    def on_startup(self, name: str | None = None) -> Callable[[_F], _F]: ...
    def on_shutdown(self, name: str | None = None) -> Callable[[_F], _F]: ...
    # True when the key was empty and is now set.
    def put_if_empty(self, key: str, data: Any, ttl: int | None = None) -> bool: ...
    def put(self, key: str, data: Any) -> bool: ...
    # The value stored under key (None when there is none); with peek it stays stored.
    def get(self, key: str, peek: bool = False) -> Any: ...
    def delete(self, key: str) -> bool: ...
    # Calls the decorated receiver(signal, task, *args) when one of ``signals`` is sent (all
    # of them when none is named).
    def signal(self, *signals: str) -> Callable[[_F], _F]: ...
    def flush(self) -> None: ...
    def pending_count(self) -> int: ...
    def scheduled_count(self) -> int: ...

class MemoryHuey(Huey): ...
class SqliteHuey(Huey): ...
class RedisHuey(Huey): ...

def crontab(
    minute: str = "*",
    hour: str = "*",
    day: str = "*",
    month: str = "*",
    day_of_week: str = "*",
    strict: bool = False,
) -> Callable[[datetime], bool]: ...
