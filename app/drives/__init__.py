"""Letter-writing evenings: drives, participants, balanced assignments, print packs."""

from flask import Blueprint

bp = Blueprint("drives", __name__)

from app.drives import routes  # noqa: E402, F401 - registers the routes
