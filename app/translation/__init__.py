"""The translation desk: volunteers translate letters into the prisoner's language before they
are printed, and replies back into the writer's (DESIGN.md, "Translation")."""

from flask import Blueprint

# The routes are imported by create_app(), so that importing this package's services
# from another feature never pulls in its views.
bp = Blueprint("translation", __name__)
