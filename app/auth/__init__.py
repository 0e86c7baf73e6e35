"""Organizer and admin accounts: login, invitations, password resets."""

from flask import Blueprint

# The routes are imported by create_app(), so that importing this package's services
# from another feature never pulls in its views.
bp = Blueprint("auth", __name__)
