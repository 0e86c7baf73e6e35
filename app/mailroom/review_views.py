"""The review desk at /mailroom: letters waiting for review, and the reviewer's decisions
(thin views over app.mailroom.services)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth.permissions import login_required, require_mailroom
from app.domain import DomainError
from app.mailroom import bp, services
from app.mailroom.reference import format_reference
from app.mailroom.review_forms import ReviewForm
from app.refusals import flash_refusal
from app.translation.desk import turnaround_by_pair


@bp.get("")
@login_required
def review() -> str:
    """Letters waiting for review, oldest first, with their censor-risk findings."""
    require_mailroom(current_user)
    return render_template(
        "mailroom/review.html",
        entries=services.review_queue(current_user),
        counts=services.state_counts(current_user),
        format_reference=format_reference,
        turnaround=turnaround_by_pair(),
    )


@bp.post("/letters/<int:item_id>/review")
@login_required
def decide(item_id: int) -> Response:
    """Approve, send back or reject one letter waiting for review."""
    require_mailroom(current_user)
    item = services.get_item(current_user, item_id) or abort(404)
    form = ReviewForm()
    if not form.validate():
        abort(400)
    decision = services.Decision(form.decision.data)
    try:
        services.decide(current_user, item, decision, form.reason.data or "")
    except DomainError as error:
        flash_refusal(error)
        return redirect(url_for("mailroom.review") + f"#item-{item_id}")
    reference = format_reference(item.reference)
    messages = {
        services.Decision.APPROVE: _("Letter %(reference)s approved.", reference=reference),
        services.Decision.SEND_BACK: _(
            "Letter %(reference)s sent back to its writer.", reference=reference
        ),
        services.Decision.REJECT: _("Letter %(reference)s rejected.", reference=reference),
    }
    flash(messages[decision], "success")
    return redirect(url_for("mailroom.review"))
