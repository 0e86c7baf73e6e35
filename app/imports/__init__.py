"""Import and export of prisoners and facilities (CSV and JSON), with a dry run."""

from flask import Blueprint

bp = Blueprint("imports", __name__)

from app.imports import routes  # noqa: E402, F401 - registers the routes
