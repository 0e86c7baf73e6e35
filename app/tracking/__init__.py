"""The private tracking page of a letter: print it, report what happened."""

from flask import Blueprint

# The routes are imported by create_app(), so that importing this package's services
# from another feature never pulls in its views.
bp = Blueprint("tracking", __name__)
