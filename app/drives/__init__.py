"""Letter-writing evenings: drives, participants, balanced assignments, print packs."""

from flask import Blueprint

# The routes are imported by create_app(), so that importing this package's services
# from another feature never pulls in its views.
bp = Blueprint("drives", __name__)
