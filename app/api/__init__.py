"""Read-only JSON API, plus reporting on a letter for the holder of its token."""

from flask import Blueprint

# The routes are imported by create_app(), so that importing this package's services
# from another feature never pulls in its views.
bp = Blueprint("api", __name__)
