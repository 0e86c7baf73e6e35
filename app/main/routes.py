"""Home page, language switch, and what Konvert keeps."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.directory.services import suggest_prisoner
from app.i18n import LANGUAGE_COOKIE, LANGUAGE_COOKIE_SECONDS
from app.main import bp
from app.privacy.kept import what_konvert_keeps
from app.security import safe_next_url


@bp.get("/")
def index() -> str:
    """What Konvert is, and where to start."""
    return render_template("main/index.html", suggestion=suggest_prisoner())


@bp.get("/suggest")
def suggest() -> Response:
    """Send the writer to someone who has had few letters lately."""
    prisoner = suggest_prisoner()
    if prisoner is None:
        return redirect(url_for("directory.prisoners"))
    return redirect(url_for("directory.prisoner", prisoner_id=prisoner.id))


@bp.get("/privacy")
def privacy() -> str:
    """What Konvert keeps, for how long and who can read it, from the settings in force."""
    return render_template("main/privacy.html", kept=what_konvert_keeps(current_app.config))


@bp.get("/language/<code>")
def set_language(code: str) -> Response:
    """Remember the chosen language in a cookie and go back where the reader was."""
    target = safe_next_url(request.args.get("next"), url_for("main.index"))
    response = redirect(target)
    if code in current_app.config["LANGUAGES"]:
        response.set_cookie(
            LANGUAGE_COOKIE,
            code,
            max_age=LANGUAGE_COOKIE_SECONDS,
            httponly=True,
            samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
    return response
