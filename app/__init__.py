"""Application factory."""

from __future__ import annotations

import importlib
import logging
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

from app.private_files import create_private_once, private_folder
from config import BASE_DIR, CONFIGS, instance_path, missing_shared_secret


def create_app(config_name: str | None = None, overrides: dict[str, Any] | None = None) -> Flask:
    """Build the Konvert application: configuration, extensions, blueprints, CLI, error pages."""
    custom_folder = (overrides or {}).get("INSTANCE_PATH")
    folder = private_folder(Path(custom_folder) if custom_folder else instance_path())
    app = Flask(
        __name__,
        instance_path=str(folder),
        template_folder=str(BASE_DIR / "templates"),
    )
    name = config_name or os.environ.get("KONVERT_CONFIG", "default")
    app.config.from_object(CONFIGS[name])
    app.config.update(overrides or {})
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{folder / 'konvert.db'}"
    refusal = missing_shared_secret(
        app.config.get("SECRET_KEY"),
        app.config["SQLALCHEMY_DATABASE_URI"],
        folder,
        app.config.get("MASTER_KEY"),
    )
    if refusal is not None:
        raise RuntimeError(refusal)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(folder)
    from app.privacy.instance import install_master_key

    install_master_key(app, folder)
    _require_public_url(app)
    _refuse_test_hooks(name)

    from app.inputguard import register_input_guards

    register_input_guards(app)  # first: before CSRF checks and rate limits read the request
    _init_extensions(app)
    from app.database import bound_ids_in_urls

    bound_ids_in_urls(app)
    _register_blueprints(app)

    from app.caching import register_private_caching
    from app.cli import register_cli
    from app.errors import register_error_handlers
    from app.security import register_security_headers, trust_proxies

    register_cli(app)
    register_error_handlers(app)
    register_security_headers(app)
    register_private_caching(app)
    trust_proxies(app)

    from app.logredact import install_for_app

    install_for_app(app)  # no token in any log line: needs the routes, registered above

    from app.pdf.render import warn_if_subsetting_unavailable

    warn_if_subsetting_unavailable(app.logger)
    # Flask-Limiter logs the key of every limit hit at INFO: keys derive from addresses.
    logging.getLogger("flask-limiter").setLevel(logging.WARNING)
    return app


def _require_public_url(app: Flask) -> None:
    """Refuse to start without a usable PUBLIC_URL: every link in an email is built on it,
    never on a request's Host header (which anyone can forge)."""
    url = str(app.config.get("PUBLIC_URL") or "")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise RuntimeError(
            "Set KONVERT_PUBLIC_URL to the address people open Konvert at, such as "
            f"https://konvert.example.org: every link in an email is built on it (got {url!r})."
        )


def _refuse_test_hooks(config_name: str) -> None:
    """Refuse to start in production with a setting that only tests may use."""
    from app.pdf.pool import TEST_HANG_VARIABLE

    if config_name == "production" and os.environ.get(TEST_HANG_VARIABLE):
        raise RuntimeError(f"{TEST_HANG_VARIABLE} is for tests only: unset it.")


def _instance_secret_key(folder: Path) -> str:
    """Read the secret key kept in the instance folder, creating it on first run.

    Processes started at once on a new folder (the web server and the job consumer) agree on
    one key (see `create_private_once`); nobody ever reads a half-written key.
    """
    key_file = folder / "secret_key"
    if create_private_once(key_file, secrets.token_hex(32).encode("ascii")):
        logging.getLogger(__name__).info("Generated a new secret key in %s", key_file)
    return key_file.read_text().strip()


def _init_extensions(app: Flask) -> None:
    from app import edge
    from app.database import configure_sqlite
    from app.directory import recent
    from app.extensions import babel, csrf, db, limiter, login_manager, mail, migrate
    from app.i18n import select_locale
    from app.mail import hooks as mail_hooks
    from app.stats import outcomes

    db.init_app(app)
    configure_sqlite(app)
    # Where requests commit, and what runs in the same transaction as every write or after
    # its commit: outcome rows, recent letter counts, mail delivery. Jobs use this app too.
    edge.install(app)
    outcomes.install_session_hooks()
    recent.install_session_hooks()
    mail_hooks.install_session_hooks()
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    mail.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    # No IP- or browser-bound session check: people on Tor or a VPN change address often.
    # Flask-Login would still put a hash of address and browser into the session cookie.
    login_manager.session_protection = None
    login_manager._session_identifier_generator = lambda: ""
    from app.auth.loader import load_user

    login_manager.user_loader(load_user)
    from app.html import select_options
    from app.i18n import inject_language_context
    from app.labels import inject_labels
    from app.numbers import register_number_filters
    from app.russian.tracking_numbers import russian_post_tracking_url

    register_number_filters(app)
    app.add_template_global(select_options)
    app.add_template_global(russian_post_tracking_url)
    app.context_processor(inject_language_context)
    app.context_processor(inject_labels)


FEATURES = (
    "main", "directory", "composer", "tracking", "api", "appeals", "auth",
    "manage", "imports", "drives", "mail", "stats", "mailroom", "translation",
)  # fmt: skip


def _register_blueprints(app: Flask) -> None:
    for feature in FEATURES:
        importlib.import_module(f"app.{feature}.routes")
    from app.api import bp as api_bp
    from app.appeals import bp as appeals_bp
    from app.auth import bp as auth_bp
    from app.composer import bp as composer_bp
    from app.directory import bp as directory_bp
    from app.drives import bp as drives_bp
    from app.imports import bp as imports_bp
    from app.mail import bp as mail_bp
    from app.mailroom import bp as mailroom_bp
    from app.main import bp as main_bp
    from app.manage import bp as manage_bp
    from app.stats import bp as stats_bp
    from app.tracking import bp as tracking_bp
    from app.translation import bp as translation_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(directory_bp)
    app.register_blueprint(composer_bp)
    app.register_blueprint(tracking_bp)
    app.register_blueprint(appeals_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(manage_bp, url_prefix="/manage")
    app.register_blueprint(imports_bp, url_prefix="/manage/import")
    app.register_blueprint(drives_bp)
    app.register_blueprint(mail_bp)
    app.register_blueprint(stats_bp)
    app.register_blueprint(mailroom_bp)
    app.register_blueprint(translation_bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    from app.extensions import csrf

    # The API is authenticated by the tracking token in its URL, never by cookies.
    csrf.exempt(api_bp)
