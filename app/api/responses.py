"""The JSON API's response bodies, declared once: what the views answer, and the document says.

Response models forbid extra keys: the document lists exactly the keys the README promises,
and a response that grows a key by mistake fails its validation (on in tests, see
`app.api.openapi`). Every key is always present, so none has a default. Descriptions are
marked with ``N_``, as in `app.api.schemas`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.api.schemas import N_, described
from app.models import (
    Channel,
    EventKind,
    FacilityKind,
    LetterStatus,
    MailroomState,
    PrisonerStatus,
    TranslationState,
)
from app.models.template import TemplateKind
from app.russian.censor import Severity


class ResponseModel(BaseModel):
    """A response body: every key is always present, and there are no others."""

    model_config = ConfigDict(extra="forbid")


@described(N_("Refused input: which field, and why, in the reader's language."))
class FieldErrorBody(ResponseModel):
    error: Literal["invalid"] = Field(description=N_("Always invalid."))
    field: str = Field(
        description=N_("The parameter or body field to correct; body for the body as a whole.")
    )
    message: str = Field(description=N_("What is wrong, in the reader's language."))


@described(N_("An HTTP error: an unknown id or token, too many requests."))
class HttpErrorBody(ResponseModel):
    error: str = Field(description=N_("The error's name, e.g. not_found or too_many_requests."))
    message: str = Field(description=N_("What happened, in the reader's language."))


@described(N_("A facility's public fields."))
class Facility(ResponseModel):
    id: int
    code: str = Field(description=N_("The short name, e.g. ИК-3."))
    name: str = Field(description=N_("The full official name."))
    kind: FacilityKind
    region: str
    postcode: str
    is_demo: bool = Field(description=N_("Invented for the demonstration."))


@described(N_("The full name in the six Russian cases, with the prisoner's manual overrides."))
class NameForms(ResponseModel):
    nominative: str
    genitive: str
    dative: str
    accusative: str
    instrumental: str
    prepositional: str


@described(N_("A prisoner's public fields, with the address exactly as printed on the envelope."))
class Prisoner(ResponseModel):
    id: int
    full_name: str
    full_name_latin: str
    full_name_dative: str
    name_forms: NameForms
    recipient_line: str = Field(description=N_("The recipient line of the envelope."))
    status: PrisonerStatus
    accepts_letters: bool
    can_receive_letters: bool = Field(description=N_("Whether letters may be written now."))
    year_of_birth: int | None
    languages: list[str] = Field(description=N_("Language codes the prisoner reads."))
    facility: Facility | None = Field(description=N_("The current facility."))
    mailing_address: list[str] | None = Field(
        description=N_("The lines of the envelope's recipient block, without the country line.")
    )
    is_demo: bool


@described(N_("One page of prisoners."))
class PrisonerPage(ResponseModel):
    items: list[Prisoner]
    page: int
    per_page: int
    total: int = Field(description=N_("How many prisoners match in all."))
    pages: int = Field(description=N_("How many pages there are, at least one."))


@described(N_("One reported event."))
class Event(ResponseModel):
    id: int = Field(description=N_("The event's id: to correct or withdraw it."))
    kind: EventKind
    date: date
    channel: Channel | None
    extension_days: int | None
    tracking_number: str | None
    note: str


@described(N_("Days from sending to arrival and to a reply, where known."))
class Delays(ResponseModel):
    days_to_delivery: int | None
    days_to_reply: int | None


@described(N_("A letter's translation by the organisation's volunteers, as its writer sees it."))
class LetterTranslation(ResponseModel):
    state: TranslationState
    target_language: str = Field(description=N_("The language it is translated into, e.g. ru."))
    text: str | None = Field(description=N_("The translation, once done; null until then."))


@described(N_("A reply scanned by the organisation; its pages are shown through the link only."))
class Reply(ResponseModel):
    received_on: date = Field(description=N_("When the organisation received it."))
    pages: int = Field(description=N_("How many pages the scan has."))
    translation: LetterTranslation | None = Field(
        description=N_(
            "Its translation back into the letter's language by the organisation's volunteers "
            "(for letters they translated); null if none."
        )
    )


@described(N_("What the holder of the token may see: status, events and delays, never the text."))
class Letter(ResponseModel):
    kind: TemplateKind = Field(description=N_("A letter to a prisoner or an appeal."))
    status: LetterStatus
    written_on: date
    language: str
    prisoner_id: int
    facility_id: int | None
    events: list[Event]
    delays: Delays
    delivery: Literal["self", "organisation"] = Field(
        description=N_("self: its writer prints and posts it; organisation: sent through it.")
    )
    mailroom_state: MailroomState | None = Field(
        description=N_("Where it stands in the organisation's mailroom; null for self.")
    )
    reference: str | None = Field(
        description=N_("The reference code printed on it, e.g. 4821-0937; null for self.")
    )
    replies: list[Reply] = Field(
        description=N_("Replies the organisation received and matched to it, oldest first.")
    )
    translation: LetterTranslation | None = Field(
        description=N_("Its translation by the organisation's volunteers; null if not asked.")
    )


@described(N_("The event as recorded and the letter's status after it."))
class EventRecorded(ResponseModel):
    event: Event
    status: LetterStatus


@described(N_("The letter's status once the event is withdrawn."))
class EventWithdrawn(ResponseModel):
    status: LetterStatus


@described(N_("One risky passage: text[start:end], counted in Unicode code points."))
class Finding(ResponseModel):
    start: int
    end: int
    category: str
    severity: Severity
    reason: str = Field(description=N_("Why a censor may stop this, in the reader's language."))
    rule: str


@described(N_("Censor-risk findings and the length estimate of a text."))
class CheckResult(ResponseModel):
    findings: list[Finding]
    characters: int
    pages: int = Field(description=N_("Estimated handwritten-style A4 pages."))
    max_pages: int | None = Field(
        description=N_("The facility's page limit, when a prisoner was given and it is known.")
    )


@described(N_("Every facility."))
class FacilityList(ResponseModel):
    items: list[Facility]


@described(N_("How a group of letters fared: medians need 5 reports, the share 5 letters."))
class Figures(ResponseModel):
    letters_sent: int
    delivered: int = Field(description=N_("Arrival or reply reported."))
    answered: int
    returned: int
    withheld: int
    no_news: int = Field(description=N_("Sent 60 or more days ago, no outcome since."))
    median_days_to_delivery: float | None
    p75_days_to_delivery: float | None
    p90_days_to_delivery: float | None
    median_days_to_reply: float | None
    p90_days_to_reply: float | None
    withheld_or_returned_share: Annotated[float, Field(ge=0, le=1)] | None
    sample_size: int = Field(
        description=N_("Letters whose sending and arrival dates are both known and consistent.")
    )
    reply_sample_size: int
    dates_excluded: int


@described(N_("A facility and its figures."))
class FacilityFigures(Figures):
    facility: Facility


@described(N_("Every facility with its figures (zeros where nobody reported a letter)."))
class FacilityFiguresList(ResponseModel):
    as_of: date
    min_sample: int = Field(description=N_("Reports needed before a median is shown."))
    items: list[FacilityFigures]


@described(N_("One facility's figures in all, by channel and by month sent (the last 24 months)."))
class FacilityStatistics(Figures):
    facility: Facility
    as_of: date
    min_sample: int
    by_channel: dict[Channel, Figures]
    by_month: dict[Annotated[str, Field(pattern=r"^\d{4}-\d{2}$")], Figures]
