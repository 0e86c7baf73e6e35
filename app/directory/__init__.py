"""The directory: finding prisoners and facilities."""

from flask import Blueprint

bp = Blueprint("directory", __name__)

from app.directory import routes  # noqa: E402, F401 - registers the routes
