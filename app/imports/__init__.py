"""Import and export of prisoners and facilities (CSV and JSON), with a dry run."""

from flask import Blueprint

# The routes are imported by create_app(), so that importing this package's services
# from another feature never pulls in its views.
bp = Blueprint("imports", __name__)
