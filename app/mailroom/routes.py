"""The mailroom's pages, for mailroom volunteers, organizers and admins (thin views over
app.mailroom's services), and its API routes (on the API blueprint).

Each part of the mailroom keeps its views in a module of its own, imported here so that
create_app() registers them with the blueprint.
"""

# Review (views and API), print runs (views and API), incoming post (views and API).
from app.mailroom import (  # noqa: F401 - each module registers its routes
    api,
    api_incoming,
    api_runs,
    incoming_views,
    review_views,
    run_views,
)
