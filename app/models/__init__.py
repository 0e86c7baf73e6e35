"""The domain model: typed SQLAlchemy 2.0 models, one module per aggregate."""

from app.models.facility import Facility, FacilityKind
from app.models.letter import (
    APPEAL_ONLY_EVENTS,
    Channel,
    EventKind,
    Letter,
    LetterStatus,
    MailEvent,
    derive_status,
)
from app.models.official import Jurisdiction, Official, OfficialKind
from app.models.prisoner import Placement, Prisoner, PrisonerStatus
from app.models.template import Template, TemplateKind

__all__ = [
    "APPEAL_ONLY_EVENTS",
    "Channel",
    "EventKind",
    "Facility",
    "FacilityKind",
    "Jurisdiction",
    "Letter",
    "LetterStatus",
    "MailEvent",
    "Official",
    "OfficialKind",
    "Placement",
    "Prisoner",
    "PrisonerStatus",
    "Template",
    "TemplateKind",
    "derive_status",
]
