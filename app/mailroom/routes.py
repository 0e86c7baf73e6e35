"""The mailroom's pages, for mailroom volunteers, organizers and admins (thin views over
app.mailroom's services), and its API routes (on the API blueprint).

Each part of the mailroom keeps its views in a module of its own, imported here so that
create_app() registers them with the blueprint.
"""

from app.mailroom import (
    api_incoming,  # noqa: F401 - the incoming post's API routes
    incoming_views,  # noqa: F401 - the incoming post's pages
)
