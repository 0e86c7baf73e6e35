"""Home page, language switching, and the page on what Konvert keeps."""

from flask import Blueprint

# The routes are imported by create_app(), so that importing this package's services
# from another feature never pulls in its views.
bp = Blueprint("main", __name__)
