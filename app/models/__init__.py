"""The domain model: typed SQLAlchemy 2.0 models, one module per aggregate."""

from app.models.drive import (
    Assignment,
    Drive,
    DriveParticipant,
    PrintJob,
    PrintJobStatus,
    drive_prisoner,
    drive_template,
)
from app.models.facility import Facility, FacilityKind
from app.models.import_upload import ImportUpload
from app.models.letter import (
    APPEAL_ONLY_EVENTS,
    Channel,
    EventKind,
    Letter,
    LetterStatus,
    MailEvent,
    derive_status,
)
from app.models.mail import Follow, OutboxMessage, OutboxStatus, ReminderSubscription
from app.models.mailroom import (
    ApiToken,
    IncomingKind,
    IncomingMail,
    IncomingState,
    MailroomItem,
    MailroomState,
    Organisation,
    PrintRun,
    PrintRunKind,
    ReturnReason,
)
from app.models.official import Jurisdiction, Official, OfficialKind
from app.models.outcome import DateProblem, LetterOutcome, RecentLetterCount, StatsSnapshot
from app.models.prisoner import Placement, Prisoner, PrisonerStatus
from app.models.stored_file import StoredFile, StoredFileChunk
from app.models.template import Template, TemplateKind
from app.models.user import (
    AuditEntry,
    Invitation,
    LoginLink,
    LoginSession,
    PasswordReset,
    Role,
    User,
)

__all__ = [
    "APPEAL_ONLY_EVENTS",
    "ApiToken",
    "Assignment",
    "AuditEntry",
    "Channel",
    "DateProblem",
    "Drive",
    "DriveParticipant",
    "EventKind",
    "Facility",
    "FacilityKind",
    "Follow",
    "ImportUpload",
    "IncomingKind",
    "IncomingMail",
    "IncomingState",
    "Invitation",
    "Jurisdiction",
    "Letter",
    "LetterOutcome",
    "LetterStatus",
    "LoginLink",
    "LoginSession",
    "MailEvent",
    "MailroomItem",
    "MailroomState",
    "Official",
    "OfficialKind",
    "Organisation",
    "OutboxMessage",
    "OutboxStatus",
    "PasswordReset",
    "Placement",
    "PrintJob",
    "PrintJobStatus",
    "PrintRun",
    "PrintRunKind",
    "Prisoner",
    "PrisonerStatus",
    "RecentLetterCount",
    "ReminderSubscription",
    "ReturnReason",
    "Role",
    "StatsSnapshot",
    "StoredFile",
    "StoredFileChunk",
    "Template",
    "TemplateKind",
    "User",
    "derive_status",
    "drive_prisoner",
    "drive_template",
]
