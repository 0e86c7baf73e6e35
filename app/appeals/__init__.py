"""Appeals to officials: addressees, composing, and the legal deadlines of 59-FZ."""

from flask import Blueprint

bp = Blueprint("appeals", __name__)

from app.appeals import routes  # noqa: E402, F401 - registers the routes
