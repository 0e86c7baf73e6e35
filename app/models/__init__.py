"""The domain model: typed SQLAlchemy 2.0 models, one module per aggregate."""

from app.models.facility import Facility, FacilityKind
from app.models.letter import Channel, EventKind, Letter, LetterStatus, MailEvent, derive_status
from app.models.prisoner import Placement, Prisoner, PrisonerStatus
from app.models.template import Template, TemplateKind

__all__ = [
    "Channel",
    "EventKind",
    "Facility",
    "FacilityKind",
    "Letter",
    "LetterStatus",
    "MailEvent",
    "Placement",
    "Prisoner",
    "PrisonerStatus",
    "Template",
    "TemplateKind",
    "derive_status",
]
