"""The organisation's mailroom: letters sent through the organisation, reviewed, printed in
runs and posted; replies and returned envelopes scanned and brought back to the writer."""

from flask import Blueprint

# The routes are imported by create_app(), so that importing this package's services
# from another feature never pulls in its views.
bp = Blueprint("mailroom", __name__, url_prefix="/mailroom")
