"""Email through a transactional outbox, and the supporters' one-click unsubscribe links."""

from flask import Blueprint

# The routes are imported by create_app(), so that importing this package's services
# from another feature never pulls in its views.
bp = Blueprint("mail", __name__)
