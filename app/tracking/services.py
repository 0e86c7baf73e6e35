"""Reporting what happened to a letter, and preparing it for print."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.appeals.deadlines import MAX_EXTENSION_DAYS
from app.concurrency import lock
from app.directory.services import mailing_address, recipient_name
from app.domain import DomainError
from app.extensions import db
from app.models import APPEAL_ONLY_EVENTS, Channel, EventKind, Facility, Letter, MailEvent
from app.models.letter import closing_signature, letter_link_hash
from app.pdf.render import SUPPORTED_LANGUAGES, AppealDocument, EnvelopeDocument, LetterDocument
from app.russian.address import sends_from_abroad, with_country_line
from app.russian.tracking_numbers import normalize_tracking_number, tracking_number_problem
from app.tokens import looks_like_token
from app.translation.requests import printed_translation

MAX_NOTE_CHARS = 1000
NOTE_REQUIRED = frozenset({EventKind.RETURNED, EventKind.WITHHELD})


@dataclass(frozen=True)
class EventInput:
    """A report as typed in the form or sent to the API."""

    kind: EventKind
    happened_on: date
    channel: Channel | None = None
    tracking_number: str = ""
    note: str = ""
    extension_days: int | None = None
    #: The writer confirmed that a post letter arrived, or its reply came, on the day it was sent.
    confirm_same_day: bool = False
    #: Recorded by the organisation's mailroom (a matched reply or return), not by the writer.
    by_organisation: bool = False

    @property
    def stored_channel(self) -> Channel | None:
        """The channel as stored: how a letter was sent, or the organisation that recorded
        a later event (so that its writer cannot change it)."""
        if self.kind is EventKind.SENT:
            return self.channel
        return Channel.ORGANISATION if self.by_organisation else None


#: Channels by which a letter cannot arrive, nor its reply come back, on the day it is posted
#: without the writer saying so; electronic letters, lawyers and hand delivery can.
PAPER_POST = frozenset({Channel.POST, Channel.REGISTERED})
SAME_DAY_KINDS = frozenset({EventKind.ARRIVED, EventKind.REPLY})
SAME_DAY = _l(
    "A letter sent by post cannot usually arrive, or be answered, on the day it was sent: "
    "check the date. If it really was the same day, tick the box and report again."
)


def get_letter(token: str) -> Letter | None:
    """The letter behind a tracking token, unlocked with it for this request, or None."""
    if not looks_like_token(token):
        return None
    letter = db.session.scalar(select(Letter).where(Letter.token_hash == letter_link_hash(token)))
    if letter is not None:
        letter.unlock(token)
    return letter


def first_other(letter: Letter, kind: EventKind, ignoring: MailEvent | None) -> MailEvent | None:
    """The letter's earliest event of ``kind`` other than ``ignoring`` (a report being
    corrected is checked against the rest of the story, not against itself)."""
    return next((e for e in letter.events if e.kind is kind and e is not ignoring), None)


def check_dates(
    letter: Letter, report: EventInput, today: date, ignoring: MailEvent | None = None
) -> None:
    """Refuse a report whose date cannot be right against the letter's other events."""
    if report.happened_on > today:
        raise DomainError("date", _l("This date is in the future."))
    written_on = letter.created_at.date()
    if report.happened_on < written_on:
        raise DomainError(
            "date",
            _l(
                "The letter was written on %(date)s; this cannot have happened before.",
                date=format_date(written_on),
            ),
        )
    sent = first_other(letter, EventKind.SENT, ignoring)
    if report.kind is EventKind.SENT:
        return  # every other kind needs "sent" first (corrections: app.tracking.corrections)
    if sent is None:
        raise DomainError("kind", _l("First report when and how the letter was sent."))
    if report.happened_on < sent.happened_on:
        raise DomainError(
            "date",
            _l(
                "This cannot be before the letter was sent (%(date)s).",
                date=format_date(sent.happened_on),
            ),
        )
    arrived = first_other(letter, EventKind.ARRIVED, ignoring)
    reply = first_other(letter, EventKind.REPLY, ignoring)
    if report.kind is EventKind.REPLY and arrived and report.happened_on < arrived.happened_on:
        raise DomainError(
            "date",
            _l(
                "A reply cannot come before the letter arrived (%(date)s).",
                date=format_date(arrived.happened_on),
            ),
        )
    if report.kind is EventKind.ARRIVED and reply and report.happened_on > reply.happened_on:
        raise DomainError(
            "date",
            _l(
                "The letter must have arrived before the reply came (%(date)s).",
                date=format_date(reply.happened_on),
            ),
        )


def check_same_day(letter: Letter, report: EventInput, ignoring: MailEvent | None = None) -> None:
    """Refuse an arrival or a reply dated the day a letter went by post, unless the writer
    confirmed it: a 0-day delay would otherwise pull the facility's median down unseen."""
    if report.confirm_same_day or report.kind not in SAME_DAY_KINDS:
        return
    sent = first_other(letter, EventKind.SENT, ignoring)
    if sent is not None and sent.channel in PAPER_POST and sent.happened_on == report.happened_on:
        raise DomainError("confirm_same_day", SAME_DAY)


def _tracking_number_as_stored(typed: str) -> str | None:
    """A tracking number as it is stored: normalised when valid (an invalid one is refused
    before anything is stored), None when none was given."""
    if not typed.strip():
        return None
    return typed if tracking_number_problem(typed) else normalize_tracking_number(typed)


def same_report(event: MailEvent, report: EventInput) -> bool:
    """Whether ``event`` is what recording ``report`` would store: the same report again."""
    return (
        event.kind is report.kind
        and event.happened_on == report.happened_on
        and event.channel == report.stored_channel
        and _same_secret(
            event.has_tracking_number,
            lambda: event.tracking_number,
            _tracking_number_as_stored(report.tracking_number) or "",
        )
        and event.extension_days
        == (report.extension_days if report.kind is EventKind.EXTENDED else None)
        and _same_secret(event.has_note, lambda: event.note, report.note.strip())
    )


def _same_secret(recorded: bool, read: Callable[[], str | None], wanted: str) -> bool:
    # An encrypted field compared with what a report would store. With nothing on either side
    # the letter's key is not needed (a drive's batch "sent" has neither note nor number).
    if not wanted or not recorded:
        return bool(wanted) == recorded
    return read() == wanted


def record_event(letter: Letter, report: EventInput, today: date) -> MailEvent:
    """Validate a report against the letter's history and add it; the caller commits.

    Reports on one letter are recorded one at a time (the letter's row is locked until the
    transaction ends): of two sent at the same moment, the second is checked against the
    first. A report identical to one already recorded records nothing and returns that
    event, so that a double click or a request sent again is answered as the first was; a
    different report of a kind already recorded is refused.
    """
    lock(letter)
    recorded = [event for event in letter.events if event.kind is report.kind]
    if recorded:
        same = next((event for event in recorded if same_report(event, report)), None)
        if same is None:
            raise DomainError("kind", _l("This has already been reported for this letter."))
        return same
    if report.kind in APPEAL_ONLY_EVENTS and not letter.is_appeal:
        raise DomainError("kind", _l("This applies to appeals to officials only."))
    check_dates(letter, report, today)
    check_same_day(letter, report)
    extension_days, note, tracking_number = checked_details(report)
    if report.kind is EventKind.SENT:
        attribute_facility(letter, report.happened_on)
    event = MailEvent(
        letter=letter,  # first: the note is encrypted with the letter's key
        kind=report.kind,
        happened_on=report.happened_on,
        channel=report.stored_channel,
        tracking_number=tracking_number,
        extension_days=extension_days,
        note=note,
    )
    db.session.add(event)
    db.session.flush()
    return event


def attribute_facility(letter: Letter, sent_on: date) -> None:
    """Statistics count a letter for the facility it was posted to: the prisoner's facility on
    the day it was sent (a transfer may have been recorded since, or before, with an earlier
    date), else the one it was written for. Appeals go to officials and count for none."""
    if not letter.is_appeal:
        letter.facility = (
            letter.prisoner.facility_on(sent_on)
            or letter.facility
            or letter.prisoner.current_facility
        )


def checked_details(report: EventInput) -> tuple[int | None, str, str | None]:
    """A report's extension, note and tracking number as stored, or a refusal naming the
    field that is wrong (a missing channel for "sent" too)."""
    extension_days = None
    if report.kind is EventKind.EXTENDED:
        extension_days = report.extension_days
        if extension_days is None or not 1 <= extension_days <= MAX_EXTENSION_DAYS:
            raise DomainError(
                "extension_days",
                _l("The term can be extended by 1 to %(max)d days.", max=MAX_EXTENSION_DAYS),
            )
    note = report.note.strip()
    if len(note) > MAX_NOTE_CHARS:
        raise DomainError(
            "note", _l("The note is too long (at most %(max)d characters).", max=MAX_NOTE_CHARS)
        )
    if report.kind in NOTE_REQUIRED and not note:
        raise DomainError(
            "note", _l("Say briefly what happened, e.g. the reason given for the return.")
        )
    if report.kind is EventKind.SENT and report.channel is None:
        raise DomainError("channel", _l("Choose how the letter was sent."))
    tracking_number = None
    if report.tracking_number.strip():
        problem = tracking_number_problem(report.tracking_number)
        if problem == "check_digit":
            raise DomainError(
                "tracking_number",
                _l("The check digit of this tracking number is wrong; check for a typo."),
            )
        if problem:
            raise DomainError(
                "tracking_number",
                _l(
                    "A tracking number has 14 digits (within Russia) "
                    "or looks like RA123456785RU (international)."
                ),
            )
        tracking_number = normalize_tracking_number(report.tracking_number)
    return extension_days, note, tracking_number


@dataclass(frozen=True)
class Delays:
    """Days from sending to arrival and to a reply, where known."""

    to_delivery: int | None
    to_reply: int | None


def delays(letter: Letter) -> Delays:
    """The letter's delays, derived from its events."""
    return Delays(
        to_delivery=letter.days_between(EventKind.SENT, EventKind.ARRIVED),
        to_reply=letter.days_between(EventKind.SENT, EventKind.REPLY),
    )


def destination(letter: Letter) -> Facility | None:
    """Where the envelope goes: once sent, where it was sent; before that, where they are now."""
    if letter.first_event(EventKind.SENT) is not None:
        return letter.facility
    return letter.prisoner.current_facility


def letter_document(letter: Letter, reference: str = "") -> LetterDocument:
    """The letter as the PDF renderer takes it; a mailroom letter's ``reference`` code
    ("4821-0937") is printed under the signature.

    A letter whose volunteers' translation is done is printed in the translation, with the
    line that says so; its original is never printed then (app.translation.requests).
    """
    language, body, line = letter.language, letter.body, ""
    translated = printed_translation(letter)
    if translated is not None:
        language, body, line = translated
        # Laid out as Russian when the renderer does not know the language (Cyrillic fonts).
        language = language if language in SUPPORTED_LANGUAGES else "ru"
    return LetterDocument(
        language=language,
        body=body,
        signature=closing_signature(body, letter.signature),
        written_on=letter.created_at.date(),
        recipient_header=recipient_name(letter.prisoner),
        reference=reference,
        translation_line=line,
    )


def appeal_document(letter: Letter, applicant_address: str) -> AppealDocument:
    """An appeal as the PDF renderer takes it: addressee, applicant, text, date."""
    assert letter.official is not None
    return AppealDocument(
        addressee_lines=letter.official.recipient_lines,
        applicant_name=letter.signature,
        applicant_address_lines=applicant_address.splitlines(),
        body=letter.body,
        written_on=letter.created_at.date(),
    )


def remember_applicant_address(letter: Letter, address: str, remember: bool) -> None:
    """Keep the applicant's address with the appeal only on request; otherwise forget it."""
    letter.sender_address = (address.strip() or None) if remember else None


def envelope_document(
    letter: Letter, size: str, sender_name: str, sender_address: str, sender_country: str
) -> EnvelopeDocument | None:
    """The envelope for this letter or appeal, or None while no address is known.

    The sender's address is used for this envelope only and never stored.
    """
    if letter.official is not None:
        lines: list[str] | None = letter.official.recipient_lines
    else:
        lines = mailing_address(letter.prisoner, destination(letter))
    if lines is None:
        return None
    sender_lines = [line.strip() for line in sender_address.splitlines() if line.strip()]
    country = sender_country.strip()
    if sends_from_abroad(country) and (
        not sender_lines or sender_lines[-1].casefold() != country.casefold()
    ):
        # Mail from abroad must name the sender's country for a return to work.
        sender_lines.append(country)
    return EnvelopeDocument(
        size=size,
        sender_name=sender_name.strip(),
        sender_address_lines=sender_lines,
        recipient_lines=with_country_line(lines, sender_country),
    )
