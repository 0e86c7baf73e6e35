"""Read-only JSON API, plus reporting on a letter for the holder of its token."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from app.api import routes  # noqa: E402, F401 - registers the routes
