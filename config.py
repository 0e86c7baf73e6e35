"""Configuration classes. Every setting can be overridden by a KONVERT_* environment variable."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.engine import make_url

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


def ratelimit_storage(explicit: str | None, redis_url: str | None) -> str:
    """Where rate limits are counted: KONVERT_RATELIMIT_STORAGE_URI when it is set; else the
    job queue's Redis when KONVERT_REDIS_URL is set (several processes or machines then count
    together, under their own key prefix); else the memory of each process."""
    if explicit:
        return explicit
    if redis_url:
        parts = urlsplit(redis_url)
        if parts.scheme == "unix":  # redis-py's name for a socket; the limits library's:
            return urlunsplit(parts._replace(scheme="redis+unix"))
        return redis_url
    return "memory://"


def database_needs_shared_secret(database_uri: str, folder: Path) -> bool:
    """Whether processes on this database could run on other machines: every database but a
    SQLite one in memory or in the instance folder ``folder`` (whose secret key file all the
    processes of this machine share)."""
    url = make_url(database_uri)
    if url.get_backend_name() != "sqlite":
        return True
    database = url.database or ""
    if database in ("", ":memory:") or url.query.get("mode") == "memory":
        return False
    if database.startswith("file:"):  # a URI filename (?uri=true)
        database = urlsplit(database).path
    return not Path(database).resolve().is_relative_to(folder.resolve())


def missing_shared_secret(
    secret_key: str | None, database_uri: str, folder: Path, master_key: str | None
) -> str | None:
    """Why a process must not start without KONVERT_SECRET_KEY or KONVERT_MASTER_KEY, or None
    when it may.

    Without them, each instance folder gets keys of its own: sessions, form tokens and
    rate-limit keys (secret key), private links and the letters organisers may read (master
    key) made on one machine would mean nothing on another.
    """
    if not database_needs_shared_secret(database_uri, folder):
        return None
    missing = [
        name
        for name, value in (("KONVERT_SECRET_KEY", secret_key), ("KONVERT_MASTER_KEY", master_key))
        if not value
    ]
    if not missing:
        return None
    return (
        f"Set {' and '.join(missing)} (the same random value on every machine, for example "
        "from `python3 -c 'import secrets; print(secrets.token_hex(32))'`, a different one "
        "for each) before starting Konvert on this database: without it each machine would "
        "make a key of its own in its instance folder, and sessions, forms, private links and "
        "letters made on one machine would fail on another. Only the default SQLite database "
        "in the instance folder works without it."
    )


class Config:
    """Defaults for running Konvert on one machine (SQLite, console mail)."""

    SECRET_KEY: str | None = env("SECRET_KEY")
    # The instance master key (app/privacy/master_key.py); unset: the instance folder's file.
    MASTER_KEY: str | None = env("MASTER_KEY")
    SQLALCHEMY_DATABASE_URI: str | None = env("DATABASE_URL")
    # Test each pooled connection before a request uses it (a round trip on loopback): after
    # a database restart the dead connections are replaced instead of failing one request each.
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}  # noqa: RUF012
    SQLITE_BUSY_TIMEOUT_MS = int(env("SQLITE_BUSY_TIMEOUT_MS", 5000))

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "app" / "translations")
    LANGUAGES = ("en", "ru")

    # Uploads (imports) are refused above this size before any form code reads them.
    MAX_CONTENT_LENGTH = int(env("MAX_CONTENT_LENGTH", 6 * 1024 * 1024))
    WTF_CSRF_TIME_LIMIT: int | None = None  # a letter can take longer than an hour to write
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)

    # memory:// counts in each process: scripts/run.sh then serves with one process (threads)
    # and refuses several; with several processes or machines, use a shared store (redis://…),
    # which is the job queue's Redis by default when KONVERT_REDIS_URL is set.
    RATELIMIT_STORAGE_URI = ratelimit_storage(env("RATELIMIT_STORAGE_URI"), env("REDIS_URL"))
    RATELIMIT_KEY_PREFIX = "konvert-ratelimit"  # beside the queue's keys in the same Redis
    # While a shared store cannot be reached, each process counts in its own memory (and
    # tries the store again): limits still hold, per process, and no request fails.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted (0: none,
    # the headers are ignored, so that nobody can pick the address their requests count for).
    PROXY_COUNT = int(env("PROXY_COUNT", 0))
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_PUBLIC_WRITES = env("RATELIMIT_PUBLIC_WRITES", "30 per minute; 300 per hour")
    # The live censor-risk check runs as people type: generous, but bounded.
    RATELIMIT_CHECKS = env("RATELIMIT_CHECKS", "120 per minute")

    PRISONERS_PER_PAGE = int(env("PRISONERS_PER_PAGE", 20))
    LETTERS_DIR = str(env("LETTERS_DIR", BASE_DIR / "letters"))
    DEMO = env_bool("DEMO", True)
    MAX_LETTER_CHARS = int(env("MAX_LETTER_CHARS", 20000))
    # PDFs: pages one letter may take (checked when it is saved), seconds a PDF may take to
    # render while someone waits (then 503), PDFs per address, days a print pack is kept.
    MAX_LETTER_PAGES = int(env("MAX_LETTER_PAGES", 12))
    PDF_TIMEOUT_SECONDS = float(env("PDF_TIMEOUT_SECONDS", 10))
    RATELIMIT_PDF = env("RATELIMIT_PDF", "10 per minute; 60 per hour")
    PACK_KEEP_DAYS = int(env("PACK_KEEP_DAYS", 7))
    # Strict-Transport-Security max-age; 0 sends none (development serves plain HTTP).
    HSTS_SECONDS = int(env("HSTS_SECONDS", 0))
    # An organizer's template must fill in within this time (and 3 letters' length, see
    # app/library/bounds.py), or it is refused with a template error.
    TEMPLATE_RENDER_SECONDS = float(env("TEMPLATE_RENDER_SECONDS", 1.0))
    # Check every JSON API response against its schema (a wrong one answers 500): on in tests,
    # off by default in production, where it would parse every response a second time.
    API_VALIDATE_RESPONSES = env_bool("API_VALIDATE_RESPONSES", False)
    # Days an appeal is assumed to take to arrive when nobody reported its arrival.
    APPEAL_DELIVERY_DAYS = int(env("APPEAL_DELIVERY_DAYS", 7))
    # Email. Without a server, messages are printed to the "konvert.mail" log (development).
    MAIL_SERVER: str | None = env("MAIL_SERVER") or None
    MAIL_PORT = int(env("MAIL_PORT", 587))
    MAIL_USE_TLS = env_bool("MAIL_USE_TLS", True)  # STARTTLS, certificate verified
    MAIL_USE_SSL = env_bool("MAIL_USE_SSL", False)  # TLS from the first byte (port 465)
    MAIL_USERNAME: str | None = env("MAIL_USERNAME")
    MAIL_PASSWORD: str | None = env("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = env("MAIL_DEFAULT_SENDER", "Konvert <konvert@localhost>")
    MAIL_TIMEOUT = float(env("MAIL_TIMEOUT", 10))  # seconds, for every SMTP operation
    # Trust only this CA bundle instead of the system's (a server with a private CA).
    MAIL_CA_FILE: str | None = env("MAIL_CA_FILE") or None
    # The outbox: retries with exponential backoff, then "dead" until an admin re-queues it.
    OUTBOX_MAX_ATTEMPTS = int(env("OUTBOX_MAX_ATTEMPTS", 8))
    OUTBOX_BACKOFF_SECONDS = int(env("OUTBOX_BACKOFF_SECONDS", 60))
    OUTBOX_BACKOFF_MAX_SECONDS = int(env("OUTBOX_BACKOFF_MAX_SECONDS", 6 * 3600))
    # How long a consumer owns a message it is sending before another may try it.
    OUTBOX_LEASE_SECONDS = int(env("OUTBOX_LEASE_SECONDS", 300))
    # Once sent, a message keeps only its kind, status and times; a dead one keeps its content
    # this many days, for an admin to re-queue it.
    OUTBOX_DEAD_KEEP_DAYS = int(env("OUTBOX_DEAD_KEEP_DAYS", 7))
    # Every link in an email is built on this, never on a request's Host header. Required in
    # production; `make run` sets it from HOST and PORT.
    PUBLIC_URL: str | None = env("PUBLIC_URL", "http://127.0.0.1:5000")
    # Jobs: Huey on SQLite in the instance folder, or on Redis when this is set.
    REDIS_URL: str | None = env("REDIS_URL") or None
    HUEY_IMMEDIATE = env_bool("HUEY_IMMEDIATE", False)  # run jobs in-process (tests)
    HUEY_WORKERS = int(env("HUEY_WORKERS", 2))
    # A running print job renews its lease as it progresses; with no progress for this long its
    # consumer is taken for dead and the job ends as interrupted (see app.drives.print_jobs).
    JOB_LEASE_SECONDS = int(env("JOB_LEASE_SECONDS", 120))
    # A print job may run at most this long plus this much per letter of its drive, however
    # alive its consumer is: a render that hangs (a letter the layout engine never finishes)
    # would otherwise hold the drive's one active job for ever. Past it the job fails as
    # "timed out" and its rendering processes are killed (see app.drives.print_jobs). The
    # default gives a 500-letter pack 13 minutes; it renders in about 30 s on 2 cores.
    PACK_TIME_LIMIT_SECONDS = int(env("PACK_TIME_LIMIT_SECONDS", 300))
    PACK_TIME_PER_LETTER_SECONDS = float(env("PACK_TIME_PER_LETTER_SECONDS", 1.0))
    # A job still queued after this long was lost with its queue: it ends as interrupted too.
    JOB_QUEUE_TIMEOUT_SECONDS = int(env("JOB_QUEUE_TIMEOUT_SECONDS", 600))
    # A task lock held this long by a consumer on another machine is taken for a dead one's
    # (on the same machine, a lock whose process is gone is taken over at once).
    JOB_LOCK_STALE_SECONDS = int(env("JOB_LOCK_STALE_SECONDS", 900))
    # Backups on PostgreSQL: the folder of pg_dump and pg_restore. Unset, they are looked up
    # on PATH, then in Debian's /usr/lib/postgresql/<version>/bin (app/backup/postgres.py).
    PG_BIN: str | None = env("PG_BIN") or None
    # Days after "sent" with no news at which a subscribed supporter is reminded, once each.
    REMINDER_DAYS = (14, 45)
    # Double opt-in: an address left for reminders or transfer alerts gets one confirmation
    # email and nothing else; unconfirmed, it is deleted after this many hours.
    OPTIN_CONFIRM_HOURS = int(env("OPTIN_CONFIRM_HOURS", 48))
    # Opt-ins (and so confirmation emails) per address, across reminders and follows, and
    # follows per prisoner: nobody can flood a stranger's mailbox or subscribe a list.
    RATELIMIT_OPTIN_ADDRESS = env("RATELIMIT_OPTIN_ADDRESS", "3 per hour; 10 per day")
    RATELIMIT_OPTIN_PRISONER = env("RATELIMIT_OPTIN_PRISONER", "30 per hour; 100 per day")
    # Accounts: how long invitation and password-reset links work, and login rate limits.
    INVITATION_DAYS = int(env("INVITATION_DAYS", 7))
    PASSWORD_RESET_HOURS = int(env("PASSWORD_RESET_HOURS", 2))
    # Failed logins per account (keyed by the submitted email, never by the address).
    RATELIMIT_LOGIN = env("RATELIMIT_LOGIN", "5 per minute; 20 per hour")
    RATELIMIT_LOGIN_GLOBAL = env("RATELIMIT_LOGIN_GLOBAL", "100 per minute")
    # One-time login links by email (the way in when the password login is locked): how long
    # one works, and how many may be open at once per account (see app/auth/login_links.py).
    LOGIN_LINK_MINUTES = int(env("LOGIN_LINK_MINUTES", 15))
    LOGIN_LINK_MAX_OPEN = int(env("LOGIN_LINK_MAX_OPEN", 3))
    # A login session ends after this many days at the latest (or at logout).
    SESSION_DAYS = int(env("SESSION_DAYS", 30))


class ProductionConfig(Config):
    """Behind HTTPS: cookies only over TLS, and browsers told to use nothing else (HSTS)."""

    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    HSTS_SECONDS = int(env("HSTS_SECONDS", 365 * 24 * 3600))
    PUBLIC_URL = env("PUBLIC_URL")  # no default: create_app refuses to start without it


class TestConfig(Config):
    """Used by the test suite: real SQLite in a temporary folder, CSRF on as in production."""

    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105 - tests only
    # Tests share PostgreSQL databases between processes, as machines would.
    MASTER_KEY = "6b6f6e766572742d746573742d6d61737465722d6b65792d6e6f742d7265616c"
    HUEY_IMMEDIATE = True  # jobs run synchronously, right after the commit that queued them
    MAIL_SERVER = None  # never a real server from tests, whatever the environment says
    REDIS_URL = None
    RATELIMIT_ENABLED = True
    API_VALIDATE_RESPONSES = True


CONFIGS: dict[str, type[Config]] = {
    "default": Config,
    "production": ProductionConfig,
    "testing": TestConfig,
}


def missing_shared_secret_in_environment() -> str | None:
    """`missing_shared_secret` for the configuration the environment names, checked before a
    process builds the app: the web server's master and the job consumer refuse at once."""
    config = CONFIGS[os.environ.get("KONVERT_CONFIG", "default")]
    database_uri = config.SQLALCHEMY_DATABASE_URI or "sqlite://"  # unset: the default SQLite
    return missing_shared_secret(
        config.SECRET_KEY, database_uri, instance_path(), config.MASTER_KEY
    )
