"""Configuration classes. Every setting can be overridden by a KONVERT_* environment variable."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent


def env(name: str, default: Any = None) -> Any:
    """Return the KONVERT_<name> environment variable, or ``default`` when it is unset."""
    return os.environ.get(f"KONVERT_{name}", default)


def env_bool(name: str, default: bool) -> bool:
    """Read a yes/no setting: 1, true, yes and on count as true."""
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def instance_path() -> Path:
    """The data folder: KONVERT_INSTANCE_PATH, or ./instance beside the code."""
    return Path(env("INSTANCE_PATH", BASE_DIR / "instance")).resolve()


class Config:
    """Defaults for running Konvert on one machine (SQLite, console mail)."""

    SECRET_KEY: str | None = env("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI: str | None = env("DATABASE_URL")
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {}  # noqa: RUF012 - read-only settings
    SQLITE_BUSY_TIMEOUT_MS = int(env("SQLITE_BUSY_TIMEOUT_MS", 5000))

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "app" / "translations")
    LANGUAGES = ("en", "ru")

    WTF_CSRF_TIME_LIMIT: int | None = None  # a letter can take longer than an hour to write
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)

    RATELIMIT_STORAGE_URI = env("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_PUBLIC_WRITES = env("RATELIMIT_PUBLIC_WRITES", "30 per minute; 300 per hour")
    # The live censor-risk check runs as people type: generous, but bounded.
    RATELIMIT_CHECKS = env("RATELIMIT_CHECKS", "120 per minute")

    PRISONERS_PER_PAGE = int(env("PRISONERS_PER_PAGE", 20))
    LETTERS_DIR = str(env("LETTERS_DIR", BASE_DIR / "letters"))
    DEMO = env_bool("DEMO", True)
    MAX_LETTER_CHARS = int(env("MAX_LETTER_CHARS", 20000))
    # Days an appeal is assumed to take to arrive when nobody reported its arrival.
    APPEAL_DELIVERY_DAYS = int(env("APPEAL_DELIVERY_DAYS", 7))


class ProductionConfig(Config):
    """Behind HTTPS: cookies only over TLS."""

    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)


class TestConfig(Config):
    """Used by the test suite: real SQLite in a temporary folder, CSRF on as in production."""

    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105 - tests only
    RATELIMIT_ENABLED = True


CONFIGS: dict[str, type[Config]] = {
    "default": Config,
    "production": ProductionConfig,
    "testing": TestConfig,
}
