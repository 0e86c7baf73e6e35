"""Error pages: HTML for people, JSON for the API."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from app.extensions import db


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _forget_the_view_s_work() -> None:
    """Roll back what the view did before its error page is made.

    An error answer keeps nothing of the view's work anyway (see app.edge); and after a
    database error (a write that broke a constraint, say) the session refuses every query
    until it is rolled back, so the page, which reads who is logged in, would fail too.
    """
    db.session.rollback()


def register_error_handlers(app: Flask) -> None:
    """Turn HTTP errors into pages in the reader's language."""

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> tuple[Response | str, int]:
        _forget_the_view_s_work()
        message = _(
            "This form has expired or was sent from somewhere else. "
            "Go back, reload the page and send it again: what you typed is still in your browser."
        )
        if _wants_json():
            return jsonify(error="csrf", message=message), 400
        return render_template("errors/error.html", code=400, message=message), 400

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> tuple[Response | str, int]:
        _forget_the_view_s_work()
        code = error.code or 500
        if isinstance(error.response, Response):
            # A page made for this case (the login page of a locked account, say).
            return error.response, code
        messages = {
            400: _("The request could not be understood."),
            403: _("Your account may not do this. Ask an admin if you need it."),
            404: _("There is nothing here. The link may be mistyped or out of date."),
            405: _("This page cannot be used that way."),
            413: _("What you sent is too large."),
            429: _("Too many requests. Please wait a minute and try again."),
        }
        message = messages.get(code, _("Something went wrong."))
        if _wants_json():
            return jsonify(error=error.name.lower().replace(" ", "_"), message=message), code
        return render_template("errors/error.html", code=code, message=message), code
