import sqlite3
import threading
from contextlib import AbstractContextManager
from typing import Any

class BaseStorage:
    name: str
    def __init__(self, name: str = "huey", **storage_kwargs: Any) -> None: ...
    def close(self) -> bool | None: ...
    # The raw (serialized) value under key, or huey.constants.EmptyData when there is none.
    def peek_data(self, key: str) -> Any: ...
    def pop_data(self, key: str) -> Any: ...
    def put_data(self, key: str, value: bytes, is_result: bool = False) -> Any: ...
    # True when the key was empty and now holds value (atomic in every storage).
    def put_if_empty(self, key: str, value: bytes, ttl: int | None = None) -> bool: ...

class MemoryStorage(BaseStorage):
    _lock: threading.RLock

class BaseSqlStorage(BaseStorage):
    ddl: list[str]
    def _create_connection(self) -> Any: ...
    # A cursor under the storage's lock; with commit, in the storage's BEGIN (EXCLUSIVE on
    # SQLite), committed at the end.
    def db(self, commit: bool = False, close: bool = False) -> AbstractContextManager[Any]: ...
    def to_blob(self, data: bytes) -> Any: ...

class SqliteStorage(BaseSqlStorage):
    filename: str
    def __init__(
        self,
        name: str = "huey",
        filename: str = "huey.db",
        cache_mb: int = 8,
        fsync: bool | None = None,
        journal_mode: str = "wal",
        timeout: float = 5,
        strict_fifo: bool = False,
        create_tables: bool = True,
        **kwargs: Any,
    ) -> None: ...
    def _create_connection(self) -> sqlite3.Connection: ...

class RedisStorage(BaseStorage):
    conn: Any  # the redis.Redis client
    result_key: str  # the hash that holds the stored values (results, locks) of this queue
    def __init__(
        self,
        name: str = "huey",
        blocking: bool = True,
        read_timeout: int = 1,
        connection_pool: Any = None,
        url: str | None = None,
        client_name: str | None = None,
        notify_result: bool = False,
        notify_result_ttl: int = 60,
        clean_name: bool = True,
        **connection_params: Any,
    ) -> None: ...
