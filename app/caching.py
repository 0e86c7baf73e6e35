"""Which responses no cache may keep: one rule, applied to every response in one place.

A response is private, and gets ``Cache-Control: no-store`` (whatever its view said), when

- its URL holds a bearer token: any route with a ``<token>`` variable (tracking links, drive
  participants, join links, invitations, password resets, reminder and follow links, the
  API's letter routes): the page is the letter, the person, or the way in;
- someone is logged in: every page they see carries their account and its CSRF token;
- it answers a request with a personal API token (``Authorization``): it is that account's;
- it belongs to an organizers' feature (PRIVATE_BLUEPRINTS), even before login;
- it answers anything but GET or HEAD: it may show back what was typed;
- it is a PDF (letters, appeals, print packs).

Everything else keeps what its view said: public pages say nothing, as before, and the public
statistics and API answers set their own public caching (app.stats.caching). Static files are
never private.
"""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_login import current_user
from werkzeug.wrappers import Response

PRIVATE_BLUEPRINTS = frozenset({"manage", "imports", "drives", "auth", "mailroom", "translation"})
PRIVATE_MIMETYPES = frozenset({"application/pdf"})


def _logged_in() -> bool:
    # Without a session cookie nobody is logged in; asking Flask-Login would touch the
    # session and add "Vary: Cookie" to public answers that never looked at it.
    if current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
        return False
    return bool(current_user.is_authenticated)


def is_private(response: Response) -> bool:
    """True when ``response`` (to the current request) may show private data."""
    if request.endpoint == "static":
        return False
    return (
        "token" in (request.view_args or {})
        or request.method not in ("GET", "HEAD")
        or request.blueprint in PRIVATE_BLUEPRINTS
        or response.mimetype in PRIVATE_MIMETYPES
        or "Authorization" in request.headers
        or _logged_in()
    )


def register_private_caching(app: Flask) -> None:
    """Send ``Cache-Control: no-store`` with every private response (see the module)."""

    @app.after_request
    def _no_store_when_private(response: Response) -> Response:
        if is_private(response):
            response.headers["Cache-Control"] = "no-store"
        return response
