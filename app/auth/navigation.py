"""Where each kind of account starts and what its navigation leads to.

Organizers and admins start on the organizers' pages; mailroom volunteers in the mailroom,
which is all they may use; translators at the translation desk.
"""

from __future__ import annotations

from flask import current_app, url_for

from app.models import Role, User

#: The mailroom's start page. Its view belongs to the mailroom feature; while that has no
#: page at this path, links still point here.
MAILROOM_PATH = "/mailroom"
_MAILROOM_ENDPOINT = "konvert_mailroom_endpoint"


def mailroom_url() -> str:
    """The address of the mailroom's start page (built by its endpoint once one serves it)."""
    extensions = current_app.extensions
    if _MAILROOM_ENDPOINT not in extensions:
        # The URL map does not change once the app serves: look the endpoint up once.
        extensions[_MAILROOM_ENDPOINT] = next(
            (
                rule.endpoint
                for rule in current_app.url_map.iter_rules()
                if rule.rule.rstrip("/") == MAILROOM_PATH
                and "GET" in (rule.methods or ())
                and not rule.arguments
            ),
            None,
        )
    endpoint = extensions[_MAILROOM_ENDPOINT]
    return url_for(endpoint) if endpoint else MAILROOM_PATH


def home_for(user: User) -> str:
    """Where ``user`` lands after logging in (unless the login asked to go elsewhere)."""
    if user.role is Role.MAILROOM:
        return mailroom_url()
    if user.role is Role.TRANSLATOR:
        return url_for("translation.queue")
    return url_for("manage.index")
