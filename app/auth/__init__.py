"""Accounts of every role: login, invitations, password resets, the account page with personal
API tokens, and the admin's pages (accounts, the organisation's settings)."""

from flask import Blueprint

# The routes are imported by create_app(), so that importing this package's services
# from another feature never pulls in its views.
bp = Blueprint("auth", __name__)
