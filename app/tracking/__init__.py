"""The private tracking page of a letter: print it, report what happened."""

from flask import Blueprint

bp = Blueprint("tracking", __name__)

from app.tracking import routes  # noqa: E402, F401 - registers the routes
