"""The reviewer's form: a decision on one letter, with a reason where one is needed."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, TextAreaField

# SelectChoice is new in WTForms 3.3; types-WTForms (3.2) does not know it yet.
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]
from wtforms.validators import Length

from app.forms import Form
from app.mailroom.services import MAX_REASON_CHARS, Decision


class ReviewForm(Form):
    """Approve, send back (the reason is for the writer) or reject (the reason is for
    organizers); each is its own small form on the page, with the decision fixed."""

    decision = SelectField(
        choices=[
            SelectChoice(Decision.APPROVE.value, _l("Approve")),
            SelectChoice(Decision.SEND_BACK.value, _l("Send back")),
            SelectChoice(Decision.REJECT.value, _l("Reject")),
        ],
    )
    reason = TextAreaField(_l("Reason"), validators=[Length(max=MAX_REASON_CHARS)])
