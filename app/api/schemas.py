"""The JSON API's request bodies and query parameters, declared once (the responses' bodies
are in `app.api.responses`).

These pydantic models validate what a client sends (see `app.api.openapi`, which wires them
to the routes) and are the source of the OpenAPI 3.1 document: pydantic v2 writes JSON Schema
2020-12, which is OpenAPI 3.1's own dialect, so the document needs no translation layer.
Request models ignore keys they do not know (as the API always did) and name every field a
client may send.

Descriptions are English and marked with ``N_`` so that ``pybabel extract`` collects them:
the HTML reference page shows them in the reader's language.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, model_validator
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from app.directory.services import MAX_PER_PAGE, PrisonerFilters
from app.domain import MAX_ID
from app.models import Channel, EventKind, PrisonerStatus
from app.tracking.corrections import EventChange
from app.tracking.services import EventInput

Model = TypeVar("Model", bound=type[BaseModel])


def described(text: str) -> Callable[[Model], Model]:
    """Give a model its description in the document (marked with ``N_``, unlike a docstring,
    so that pybabel collects it); it is the model's docstring too."""

    def describe(model: Model) -> Model:
        model.__doc__ = text
        return model

    return describe


def N_(text: str) -> str:  # noqa: N802 - the name pybabel looks for by default
    """Mark ``text`` for translation where it is shown; it stays English in the document."""
    return text


def _integral_float(value: Any) -> Any:
    """JSON Schema counts 1.0 as an integer, and so do we; 1.5, "1" and true are refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# A whole number in a JSON body: no strings, no booleans, no fractions. (Constraints must
# come before the validator, or pydantic cannot write them as JSON Schema's minimum/maximum.)
WholeNumber = Annotated[StrictInt, BeforeValidator(_integral_float)]
IdNumber = Annotated[StrictInt, Field(ge=1, le=MAX_ID), BeforeValidator(_integral_float)]


# --- requests -----------------------------------------------------------------------------


class RequestModel(BaseModel):
    """A request body or a query string: unknown keys are ignored, some blanks mean absent.

    ``blank_means_absent`` names fields for which an empty string counts as not sent, as it
    always did (an empty search form field, ``"channel": ""``). In a query string, a repeated
    parameter counts once, by its first value, as Flask's ``args.get`` reads it.
    """

    model_config = ConfigDict(extra="ignore")
    blank_means_absent: ClassVar[tuple[str, ...]] = ()
    is_query: ClassVar[bool] = False

    @model_validator(mode="before")
    @classmethod
    def _drop_blanks(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if cls.is_query:
            data = {
                key: value[0] if isinstance(value, list) and value else value
                for key, value in data.items()
            }
        return {
            key: value
            for key, value in data.items()
            if not (key in cls.blank_means_absent and value == "")
        }


def _no_default(schema: dict[str, Any]) -> None:
    """Leave out ``"default": null`` of an optional parameter whose documented type has no
    null (a query string cannot say null: leaving the parameter out is how to say none)."""
    schema.pop("default", None)


@described(N_("Search, filters and paging of the prisoner list."))
class PrisonerQuery(RequestModel):
    is_query: ClassVar[bool] = True
    blank_means_absent: ClassVar[tuple[str, ...]] = (
        "q", "region", "facility", "status", "accepts", "sort", "page", "per_page",
    )  # fmt: skip

    q: Annotated[
        str,
        Field(
            max_length=200,
            description=N_(
                "Part of a name, in Cyrillic or Latin letters; at most 200 characters."
            ),
        ),
    ] = ""
    region: Annotated[
        str,
        Field(description=N_("The region of the current facility, exactly as listed.")),
    ] = ""
    facility: Annotated[
        Annotated[int, Field(ge=1, le=MAX_ID)] | SkipJsonSchema[None],
        Field(
            description=N_("Only prisoners held in the facility with this id."),
            json_schema_extra=_no_default,
        ),
    ] = None
    status: Annotated[
        PrisonerStatus | SkipJsonSchema[None],
        Field(
            description=N_("Only prisoners with this status."),
            json_schema_extra=_no_default,
        ),
    ] = None
    accepts: Annotated[
        Literal["yes", "no"] | SkipJsonSchema[None],
        Field(
            description=N_("Only prisoners who accept letters (yes) or who do not (no)."),
            json_schema_extra=_no_default,
        ),
    ] = None
    sort: Annotated[
        Literal["fewest", "name"],
        Field(
            description=N_(
                "fewest: those who got the fewest letters lately first; name: by surname."
            )
        ),
    ] = "fewest"
    page: Annotated[
        int,
        Field(ge=1, le=MAX_ID, description=N_("The page, from 1.")),
    ] = 1
    per_page: Annotated[
        int,
        Field(ge=1, le=MAX_PER_PAGE, description=N_("Prisoners per page, 1 to 100.")),
    ] = 20

    def filters(self) -> PrisonerFilters:
        """The directory service's filters for this query."""
        return PrisonerFilters(
            query=self.q.strip(),
            region=self.region,
            facility_id=self.facility,
            status=self.status,
            accepts_letters=None if self.accepts is None else self.accepts == "yes",
            sort=self.sort,
        )


def _iso_date(value: Any) -> Any:
    """A calendar date written YYYY-MM-DD, and nothing else (no timestamps, no times)."""
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise PydanticCustomError("iso_date", "date must be a real date written YYYY-MM-DD")


CONFIRM_SAME_DAY = N_(
    "true: the letter, sent by post or registered post, really arrived (or its reply came) on "
    "the day it was sent; without it such a report is refused."
)


@described(N_("What happened to a letter, reported by the holder of its tracking token."))
class EventReport(RequestModel):
    blank_means_absent: ClassVar[tuple[str, ...]] = ("channel",)

    kind: EventKind = Field(
        description=N_(
            "What happened. extended (with extension_days) and refused apply to appeals only."
        )
    )
    date: Annotated[
        date,
        BeforeValidator(_iso_date),
        Field(description=N_("When it happened: not in the future, not before the letter.")),
    ]
    channel: Channel | None = Field(
        default=None, description=N_("How the letter was sent; required with sent.")
    )
    tracking_number: str | None = Field(
        default=None,
        description=N_("The postal tracking number, checked against its check digit."),
    )
    note: str | None = Field(
        default=None,
        description=N_("A short note, at most 1000 characters; required with returned."),
    )
    extension_days: WholeNumber | None = Field(
        default=None,
        description=N_("With extended: by how many days the term was extended, 1 to 30."),
    )

    confirm_same_day: bool | None = Field(default=None, description=CONFIRM_SAME_DAY)

    def as_input(self) -> EventInput:
        """The tracking service's report."""
        return EventInput(
            kind=self.kind,
            happened_on=self.date,
            channel=self.channel,
            tracking_number=self.tracking_number or "",
            note=self.note or "",
            extension_days=self.extension_days,
            confirm_same_day=bool(self.confirm_same_day),
        )


@described(
    N_(
        "A correction of a reported event: only the fields sent change; its kind stays. "
        "An empty tracking_number or note removes it."
    )
)
class EventCorrection(RequestModel):
    blank_means_absent: ClassVar[tuple[str, ...]] = ("channel",)

    date: Annotated[
        date | None,
        BeforeValidator(lambda value: None if value is None else _iso_date(value)),
        Field(
            default=None,
            description=N_("When it happened: not in the future, not before the letter."),
        ),
    ]
    channel: Channel | None = Field(
        default=None, description=N_("How the letter was sent; for sent only.")
    )
    tracking_number: str | None = Field(
        default=None,
        description=N_("The postal tracking number, checked against its check digit."),
    )
    note: str | None = Field(
        default=None,
        description=N_("A short note, at most 1000 characters; required with returned."),
    )
    extension_days: WholeNumber | None = Field(
        default=None,
        description=N_("With extended: by how many days the term was extended, 1 to 30."),
    )
    confirm_same_day: bool | None = Field(default=None, description=CONFIRM_SAME_DAY)

    def as_change(self) -> EventChange:
        """The tracking service's correction."""
        return EventChange(
            happened_on=self.date,
            channel=self.channel,
            tracking_number=self.tracking_number,
            note=self.note,
            extension_days=self.extension_days,
            confirm_same_day=bool(self.confirm_same_day),
        )


@described(N_("A text to check for censor risks."))
class CheckRequest(RequestModel):
    blank_means_absent: ClassVar[tuple[str, ...]] = ("prisoner_id",)

    text: str = Field(
        description=N_("The letter's text; at most 20,000 characters unless configured.")
    )
    language: Literal["ru", "en"] = Field(
        default="ru", description=N_("The language the text is written in.")
    )
    prisoner_id: IdNumber | None = Field(
        default=None,
        description=N_(
            "The recipient, optional: their facility's page limit applies "
            "and their own name is not flagged."
        ),
    )


@described(N_("Request headers of a cached endpoint."))
class ConditionalHeaders(RequestModel):
    if_none_match: str | None = Field(
        default=None,
        alias="If-None-Match",
        description=N_("The ETag of a copy you have: the answer is 304 while it is current."),
    )


# The enums are the models'; their docstrings are written for developers, these for readers.
ENUM_DESCRIPTIONS = {
    "Channel": N_("How a letter was sent."),
    "EventKind": N_("What happened to a letter."),
    "FacilityKind": N_("The kind of facility."),
    "LetterStatus": N_("Where a letter stands, after the latest report."),
    "MailroomState": N_("Where a letter sent through the organisation stands in its mailroom."),
    "PrisonerStatus": N_("Where a prisoner stands: before trial, convicted, in transit, out."),
    "Severity": N_("How likely a finding is to cost the letter or its reader something."),
    "ReturnReason": N_("Why an envelope came back to the organisation."),
    "TemplateKind": N_("A letter to a prisoner, or an appeal to an official."),
    "TranslationState": N_(
        "Where a translation stands: open (waiting for a translator), claimed (being "
        "translated), submitted (waiting for a second translator), done."
    ),
}
