"""Human-readable, translatable names for the domain's enumerations."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from app.models import (
    Channel,
    EventKind,
    FacilityKind,
    LetterStatus,
    MailroomState,
    OfficialKind,
    PrisonerStatus,
)
from app.models.mailroom import ReturnReason

PRISONER_STATUS = {
    PrisonerStatus.PRETRIAL: _l("Pretrial detention"),
    PrisonerStatus.CONVICTED: _l("Convicted"),
    PrisonerStatus.IN_TRANSIT: _l("In transit, whereabouts unknown"),
    PrisonerStatus.RELEASED: _l("Released"),
    PrisonerStatus.DECEASED: _l("Deceased"),
}

FACILITY_KIND = {
    FacilityKind.PRETRIAL: _l("Pretrial detention centre"),
    FacilityKind.COLONY: _l("Penal colony"),
    FacilityKind.PRISON: _l("Prison"),
    FacilityKind.SETTLEMENT: _l("Colony settlement"),
    FacilityKind.HOSPITAL: _l("Prison hospital"),
    FacilityKind.OTHER: _l("Other institution"),
}

EVENT_KIND = {
    EventKind.SENT: _l("Sent"),
    EventKind.ARRIVED: _l("Arrived at the facility"),
    EventKind.REPLY: _l("Reply received"),
    EventKind.RETURNED: _l("Returned to sender"),
    EventKind.WITHHELD: _l("Withheld or censored"),
    EventKind.NO_NEWS: _l("No news"),
    EventKind.EXTENDED: _l("Term for the answer extended"),
    EventKind.REFUSED: _l("Refused"),
}

# For appeals the same events read differently.
APPEAL_EVENT_KIND = {
    **EVENT_KIND,
    EventKind.ARRIVED: _l("Received by the addressee"),
    EventKind.REPLY: _l("Answer received"),
}

CHANNEL = {
    Channel.POST: _l("Ordinary post"),
    Channel.REGISTERED: _l("Registered post"),
    Channel.ELECTRONIC: _l("Electronic letter service"),
    Channel.ORGANISATION: _l("Via an organisation"),
    Channel.LAWYER: _l("Via a lawyer"),
    Channel.IN_PERSON: _l("In person"),
}

LETTER_STATUS = {
    LetterStatus.WRITTEN: _l("Written, not sent yet"),
    LetterStatus.SENT: _l("Sent"),
    LetterStatus.DELIVERED: _l("Arrived at the facility"),
    LetterStatus.ANSWERED: _l("Answered"),
    LetterStatus.RETURNED: _l("Returned to sender"),
    LetterStatus.WITHHELD: _l("Withheld or censored"),
    LetterStatus.NO_NEWS: _l("No news"),
    LetterStatus.EXTENDED: _l("Term extended, waiting for the answer"),
    LetterStatus.REFUSED: _l("Refused"),
}

OFFICIAL_KIND = {
    OfficialKind.FACILITY_HEAD: _l("Head of the facility"),
    OfficialKind.REGIONAL_DIRECTORATE: _l("Regional penitentiary directorate"),
    OfficialKind.PROSECUTOR: _l("Prosecutor supervising prisons in the region"),
    OfficialKind.REGIONAL_OMBUDSMAN: _l("Regional human rights commissioner"),
    OfficialKind.MONITORING_COMMISSION: _l("Public monitoring commission"),
    OfficialKind.FEDERAL_SERVICE: _l("Federal Penitentiary Service"),
    OfficialKind.PROSECUTOR_GENERAL: _l("Prosecutor General's Office"),
    OfficialKind.OMBUDSMAN: _l("High Commissioner for Human Rights"),
}

PRINT_STATUS = {
    "queued": _l("Waiting to start"),
    "running": _l("Building"),
    "done": _l("Ready"),
    "failed": _l("Failed"),
}

MAILROOM_STATE = {
    MailroomState.TRANSLATION: _l("Waiting for a translator"),
    MailroomState.REVIEW: _l("Waiting for review"),
    MailroomState.SENT_BACK: _l("Sent back to the writer"),
    MailroomState.APPROVED: _l("Approved"),
    MailroomState.REJECTED: _l("Rejected"),
    MailroomState.PRINTED: _l("Printed"),
    MailroomState.POSTED: _l("Posted"),
    MailroomState.RETURNED: _l("Returned to the organisation"),
}

RETURN_REASON = {
    ReturnReason.MOVED: _l("The addressee has moved"),
    ReturnReason.UNKNOWN_ADDRESSEE: _l("The addressee is unknown there"),
    ReturnReason.REFUSED: _l("Refused"),
    ReturnReason.CENSORSHIP: _l("Stopped by the censor"),
    ReturnReason.OTHER: _l("Another reason"),
}

SEVERITY = {"low": _l("Low risk"), "medium": _l("Medium risk"), "high": _l("High risk")}

LANGUAGE = {"ru": _l("Russian"), "en": _l("English"), "uk": _l("Ukrainian")}


#: What each kind of email in the outbox is, for the admins' outbox page.
MAIL_KIND = {
    "confirm_address": _l("Address confirmation"),
    "invitation": _l("Account invitation"),
    "password_reset": _l("Password reset"),
    "login_link": _l("Login link"),
    "drive_invitation": _l("Letter-writing evening invitation"),
    "reminder": _l("Reminder to report back"),
    "transfer_alert": _l("Transfer alert"),
    "digest": _l("Weekly summary"),
    "letter_news": _l("News about a letter"),
    "translation_digest": _l("Translators' daily digest"),
}


def inject_labels() -> dict[str, Any]:
    """Make the label tables available in every page template."""
    return {
        "labels": {
            "prisoner_status": PRISONER_STATUS,
            "facility_kind": FACILITY_KIND,
            "event_kind": EVENT_KIND,
            "appeal_event_kind": APPEAL_EVENT_KIND,
            "official_kind": OFFICIAL_KIND,
            "channel": CHANNEL,
            "letter_status": LETTER_STATUS,
            "language": LANGUAGE,
            "severity": SEVERITY,
            "print_status": PRINT_STATUS,
            "mailroom_state": MAILROOM_STATE,
            "return_reason": RETURN_REASON,
            "mail_kind": MAIL_KIND,
        }
    }
