"""What the organizers' forms share: reading typed text, date fields, how a facility reads in a
select box; and the labels the audit trail shows for fields, actions and kinds of record.

The forms (prisoner_forms, facility_forms, official_forms) parse and check the shape of what
was typed; the rules about dates, placements and jurisdictions live in the services
(app.manage.prisoners, facilities, officials), whose errors the routes put next to the fields.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DateField
from wtforms.validators import InputRequired, Optional

from app.models import Facility

BAD_DATE = _l("Not a real date. Use the calendar, or type it as YYYY-MM-DD (e.g. 2021-03-25).")


def text(value: str | None) -> str:
    """A typed value without surrounding spaces; nothing typed is the empty string."""
    return (value or "").strip()


def optional_text(value: str | None) -> str | None:
    """A typed value without surrounding spaces, or None when nothing (but spaces) was typed."""
    return text(value) or None


def date_field(label: str, required: bool = False, **kwargs: Any) -> DateField:
    """A date input that explains an impossible date; optional unless ``required``."""
    requirement = InputRequired(message=_l("Give the date.")) if required else Optional()
    # invalid_value_message is new in WTForms 3.3; types-WTForms (3.2) does not know it yet.
    return DateField(  # type: ignore[call-arg]
        label, validators=[requirement], invalid_value_message=BAD_DATE, **kwargs
    )


def facility_option(facility: Facility) -> str:
    """How a facility reads in a select box: code, region, full name."""
    return f"{facility.code}, {facility.region} — {facility.name}"


AUDIT_FIELD_LABELS = {
    "last_name": _l("Surname"),
    "first_name": _l("First name"),
    "patronymic": _l("Patronymic"),
    "last_name_latin": _l("Surname in Latin letters"),
    "first_name_latin": _l("First name in Latin letters"),
    "gender": _l("Gender"),
    "birth_date": _l("Date of birth"),
    "birth_year": _l("Year of birth"),
    "status": _l("Status"),
    "case_summary": _l("About the case"),
    "detained_on": _l("Detained on"),
    "sentence": _l("Sentence"),
    "languages": _l("Languages"),
    "interests": _l("Interests"),
    "notes_for_writers": _l("Notes for writers"),
    "accepts_letters": _l("Accepts letters"),
    "source_url": _l("Source"),
    "name_overrides": _l("Declined name forms"),
    "placement": _l("Placement"),
    "placed_since": _l("Placed since"),
    "facility_id": _l("Facility"),
    "in_transit": _l("In transit"),
    "moved_on": _l("Moved on"),
    "note": _l("Note"),
    "code": _l("Short code"),
    "name": _l("Full official name"),
    "kind": _l("Kind"),
    "region": _l("Region"),
    "country": _l("Country"),
    "postcode": _l("Postcode"),
    "locality": _l("Town or village"),
    "street_address": _l("Street address"),
    "electronic_services": _l("Electronic letter services"),
    "mail_rules": _l("Mail rules"),
    "max_letter_pages": _l("Page limit per letter"),
    "position": _l("Position"),
    "position_dative": _l("Position in the dative"),
    "organisation": _l("Organisation"),
    "jurisdiction": _l("Answers for"),
    "jurisdiction_region": _l("Region answered for"),
    "return_address": _l("Return address"),
    "mailroom_open": _l("Mailroom open"),
    "reply_window_days": _l("Reply window (days)"),
    "daily_intake_cap": _l("Letters taken in a day"),
    "prisoner_daily_cap": _l("Letters to one prisoner in a day"),
    "next_run_on": _l("Next print run"),
    "translation_review": _l("Second translator reviews"),
    "translation_claim_minutes": _l("Minutes a translator holds an item"),
    "name_dative": _l("Name in the dative"),
    "external_id": _l("External id"),
    "address": _l("Address"),
    "facility": _l("Facility"),
    "since": _l("Since"),
    # What an import adds to each entry: how, from which file, which line, with what result.
    "via": _l("Through"),
    "file": _l("File"),
    "line": _l("Line"),
    "item": _l("Item"),
    "outcome": _l("Result"),
    "created": _l("Created"),
    "updated": _l("Updated"),
    "unchanged": _l("Unchanged"),
}
#: The values an import records in "via" and "outcome".
AUDIT_VALUE_LABELS = {
    "via": {"web": _l("the import page"), "cli": _l("the command line")},
    "outcome": {"created": _l("created"), "updated": _l("updated")},
}
#: Audited fields that hold yes or no (an import writes them as text: "true", "false").
AUDIT_BOOLEAN_FIELDS = frozenset(
    {"accepts_letters", "in_transit", "mailroom_open", "translation_review"}
)
AUDIT_ACTIONS = {
    "create": _l("created"),
    "update": _l("edited"),
    "transfer": _l("transfer recorded"),
    "import": _l("imported"),
}
ENTITY_TYPE_LABELS = {
    "prisoner": _l("Prisoners"),
    "facility": _l("Facilities"),
    "official": _l("Officials"),
    "organisation": _l("The organisation"),
}


def today_iso() -> str:
    """Today as YYYY-MM-DD, the upper bound of date inputs."""
    return date.today().isoformat()
