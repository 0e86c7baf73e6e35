"""The translation desk's pages, for translators (thin views over app.translation's
services), and its API routes (on the API blueprint).

Each part keeps its views in a module of its own, imported here so that create_app()
registers them with the blueprint.
"""

from app.translation import (  # noqa: F401 - each module registers its routes
    api,
    desk_views,
    settings_views,
)
