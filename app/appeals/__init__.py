"""Appeals to officials: addressees, composing, and the legal deadlines of 59-FZ."""

from flask import Blueprint

# The routes are imported by create_app(), so that importing this package's services
# from another feature never pulls in its views.
bp = Blueprint("appeals", __name__)
