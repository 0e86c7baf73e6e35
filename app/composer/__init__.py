"""Writing a letter to a prisoner from a template."""

from flask import Blueprint

from app.composer.drafts import drafts_to_forget

# The routes are imported by create_app(), so that importing this package's services
# from another feature never pulls in its views.
bp = Blueprint("composer", __name__)
bp.add_app_template_global(drafts_to_forget)
