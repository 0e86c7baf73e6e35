"""Appeal pages: thin views over app.appeals.services and the shared composer."""

from __future__ import annotations

from datetime import date

from flask import abort, current_app, render_template
from werkzeug.wrappers import Response

from app.appeals import bp, services
from app.composer.views import compose
from app.directory.services import get_prisoner
from app.extensions import limiter
from app.security import public_write_limit


@bp.get("/prisoners/<int:prisoner_id>/appeal")
def choose_official(prisoner_id: int) -> str:
    """Suggest who to appeal to about this prisoner."""
    prisoner = get_prisoner(prisoner_id) or abort(404)
    officials = services.suggested_officials(prisoner)
    return render_template(
        "appeals/choose.html",
        prisoner=prisoner,
        facility=prisoner.last_known_facility,
        officials=officials,
    )


@bp.route("/prisoners/<int:prisoner_id>/appeal/<int:official_id>", methods=["GET", "POST"])
@limiter.limit(public_write_limit, methods=["POST"])
def write(prisoner_id: int, official_id: int) -> Response | str | tuple[str, int]:
    """Compose an appeal to one official about one prisoner."""
    prisoner = get_prisoner(prisoner_id) or abort(404)
    official = services.get_official(official_id) or abort(404)
    return compose(prisoner, official)


@bp.get("/appeals/overdue")
def overdue() -> str:
    """Appeals whose legal term for an answer has passed, without who wrote them."""
    today = date.today()
    return render_template(
        "appeals/overdue.html",
        appeals=services.overdue_appeals(today, current_app.config["APPEAL_DELIVERY_DAYS"]),
        today=today,
    )
