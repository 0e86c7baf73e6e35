"""The mailroom's pages, for mailroom volunteers, organizers and admins (thin views over
app.mailroom's services), and its API routes (on the API blueprint).

Each part of the mailroom keeps its views in a module of its own, imported here so that
create_app() registers them with the blueprint.
"""

# Review (views and API) and print runs (views and API).
from app.mailroom import api, api_runs, review_views, run_views  # noqa: F401
