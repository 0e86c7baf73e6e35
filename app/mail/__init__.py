"""Email through a transactional outbox, and the supporters' one-click unsubscribe links."""

from flask import Blueprint

bp = Blueprint("mail", __name__)

from app.mail import routes  # noqa: E402, F401 - registers the routes
