"""Writing a letter to a prisoner from a template."""

from flask import Blueprint

bp = Blueprint("composer", __name__)

from app.composer import routes  # noqa: E402, F401 - registers the routes
