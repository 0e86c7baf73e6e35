import sqlite3
from typing import Any

class BaseStorage:
    name: str
    def __init__(self, name: str = "huey", **storage_kwargs: Any) -> None: ...
    def close(self) -> bool | None: ...

class MemoryStorage(BaseStorage): ...

class BaseSqlStorage(BaseStorage):
    ddl: list[str]
    def _create_connection(self) -> Any: ...

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
