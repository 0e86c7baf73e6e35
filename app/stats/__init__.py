"""Statistics of how mail fares, computed from reported events."""

from flask import Blueprint

# The routes are imported by create_app(), so that importing this package's services
# from another feature never pulls in its views.
bp = Blueprint("stats", __name__)
