"""Security headers on every response. Nothing is loaded from third parties."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def register_security_headers(app: Flask) -> None:
    """Add CSP and the usual hardening headers to every response."""

    @app.after_request
    def _add_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        # Modern browsers have no XSS filter and rely on the CSP above; the old ones that do
        # are told to block the page rather than rewrite it (rewriting could be abused).
        response.headers.setdefault("X-XSS-Protection", "1; mode=block")
        # Tracking links are credentials: never leak them to another site. Within the site the
        # browser sends its Referer, which CSRF protection over HTTPS requires (Flask-WTF's
        # strict referrer check); "no-referrer" made every form fail in production.
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"
        )
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        # Production only (KONVERT_HSTS_SECONDS): browsers then refuse plain HTTP to the site.
        hsts_seconds = int(app.config.get("HSTS_SECONDS") or 0)
        if hsts_seconds > 0:
            response.headers.setdefault("Strict-Transport-Security", f"max-age={hsts_seconds}")
        return response


def trust_proxies(app: Flask) -> None:
    """Behind PROXY_COUNT reverse proxies, take the client's address and scheme from the
    X-Forwarded-For and X-Forwarded-Proto headers they add (the last PROXY_COUNT entries).

    With 0 (the default) the headers are ignored: anyone can send them, and trusting them
    would let a client pick the address its requests are rate-limited under. The Host header
    is never taken from a proxy: emailed links are built on PUBLIC_URL.
    """
    count = int(app.config["PROXY_COUNT"])
    if count > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=count, x_proto=count, x_host=0, x_port=0, x_prefix=0
        )


def safe_next_url(target: str | None, fallback: str) -> str:
    """A redirect target on this site only: a path, never another host or scheme.

    Control characters (CR, LF, tab, NUL…) are refused too: a header cannot carry them, and
    browsers drop some of them, which would turn "/", a tab, "/evil.example" into another host.
    """
    if not target or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    if "\\" in target:
        return fallback
    return target


def public_write_limit() -> str:
    """The rate limit for anonymous writes (letters, reports, prints), from configuration."""
    return str(current_app.config["RATELIMIT_PUBLIC_WRITES"])


def pdf_limit() -> str:
    """The rate limit shared by every route that renders or serves a PDF (RATELIMIT_PDF)."""
    return str(current_app.config["RATELIMIT_PDF"])


def keyed_hash(secret_value: str) -> str:
    """The HMAC-SHA256 (hex) of a bearer secret under the app's secret key.

    What is stored instead of a session key or a login link: a copy of the database alone
    cannot even be checked against guessed values without the key.
    """
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, secret_value.encode("utf-8"), hashlib.sha256).hexdigest()


def hashed_remote_address() -> str:
    """The rate-limit key of a request: a keyed hash of its address, never the address."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    address = (request.remote_addr or "unknown").encode()
    return hmac.new(secret, address, hashlib.sha256).hexdigest()[:32]
