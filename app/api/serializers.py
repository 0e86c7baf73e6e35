"""Plain-data views of the models for the JSON API."""

from __future__ import annotations

from typing import Any

from app.directory.services import mailing_address, recipient_name
from app.mailroom.reference import format_reference
from app.mailroom.services import item_for, replies
from app.models import Facility, Letter, MailEvent, Prisoner, TranslationState
from app.models.facility import PublicFacility
from app.russian.censor import Finding
from app.russian.names import Case, all_forms, decline
from app.stats.services import Figures
from app.tracking.services import delays
from app.translation import requests
from app.translation.replies import reply_translations


def facility_json(facility: PublicFacility | None) -> dict[str, Any] | None:
    """A facility's public fields."""
    if facility is None:
        return None
    return {
        "id": facility.id,
        "code": facility.code,
        "name": facility.name,
        "kind": facility.kind.value,
        "region": facility.region,
        "postcode": facility.postcode,
        "is_demo": facility.is_demo,
    }


def prisoner_json(prisoner: Prisoner, facility: Facility | None) -> dict[str, Any]:
    """A prisoner's public fields, with the address exactly as printed on the envelope."""
    return {
        "id": prisoner.id,
        "full_name": prisoner.full_name,
        "full_name_latin": prisoner.latin_name,
        "full_name_dative": decline(prisoner.person_name, Case.DATIVE),
        "name_forms": all_forms(prisoner.person_name),
        "recipient_line": recipient_name(prisoner),
        "status": prisoner.status.value,
        "accepts_letters": prisoner.accepts_letters,
        "can_receive_letters": prisoner.can_receive_letters,
        "year_of_birth": prisoner.year_of_birth,
        "languages": prisoner.language_list,
        "facility": facility_json(facility),
        "mailing_address": mailing_address(prisoner, facility) if facility else None,
        "is_demo": prisoner.is_demo,
    }


def event_json(event: MailEvent) -> dict[str, Any]:
    """One reported event."""
    return {
        "id": event.id,
        "kind": event.kind.value,
        "date": event.happened_on.isoformat(),
        "channel": event.channel.value if event.channel else None,
        "extension_days": event.extension_days,
        "tracking_number": event.tracking_number,
        "note": event.note,
    }


def letter_json(letter: Letter) -> dict[str, Any]:
    """What the holder of the token may see: status, events and delays, how it travels (and,
    through the organisation, its mailroom state, reference and replies), not the text."""
    letter_delays = delays(letter)
    item = item_for(letter)
    return {
        "kind": letter.kind.value,
        "status": letter.status.value,
        "written_on": letter.created_at.date().isoformat(),
        "language": letter.language,
        "prisoner_id": letter.prisoner_id,
        "facility_id": letter.facility_id,
        "events": [event_json(event) for event in letter.events],
        "delays": {
            "days_to_delivery": letter_delays.to_delivery,
            "days_to_reply": letter_delays.to_reply,
        },
        "delivery": "self" if item is None else "organisation",
        "mailroom_state": None if item is None else item.state.value,
        "reference": None if item is None else format_reference(item.reference),
        "replies": _replies_json(letter) if item is not None else [],
        "translation": _translation_json(letter),
    }


def _replies_json(letter: Letter) -> list[dict[str, Any]]:
    translated = reply_translations(letter)
    result = []
    for reply in replies(letter):
        translation = translated.get(reply.id)
        result.append(
            {
                "received_on": reply.received_on.isoformat(),
                "pages": reply.pages,
                "translation": None
                if translation is None
                else _translation_state(
                    translation.state, translation.target_language, translation.text
                ),
            }
        )
    return result


def _translation_json(letter: Letter) -> dict[str, Any] | None:
    translation = requests.letter_translation(letter)
    if translation is None:
        return None
    return _translation_state(
        translation.state, translation.target_language, requests.done_text(letter, translation)
    )


def _translation_state(
    state: TranslationState, target_language: str, text: str | None
) -> dict[str, Any]:
    """A translation as its writer sees it (the API's LetterTranslation)."""
    return {"state": state.value, "target_language": target_language, "text": text}


def finding_json(finding: Finding, language: str) -> dict[str, Any]:
    """One censor-risk finding, its reason in ``language`` (the reader's)."""
    return {
        "start": finding.start,
        "end": finding.end,
        "category": finding.category,
        "severity": finding.severity.value,
        "reason": finding.reason(language),
        "rule": finding.rule,
    }


def figures_json(figures: Figures) -> dict[str, Any]:
    """Statistics under stable keys; medians, percentiles and shares are null below 5 reports.

    ``sample_size`` is the number of letters whose arrival date and sending date are both
    known and consistent: the reports the delivery delays are computed from.
    """
    return {
        "letters_sent": figures.letters_sent,
        "delivered": figures.delivered,
        "answered": figures.answered,
        "returned": figures.returned,
        "withheld": figures.withheld,
        "no_news": figures.no_news,
        "median_days_to_delivery": figures.median_days_to_delivery,
        "p75_days_to_delivery": figures.p75_days_to_delivery,
        "p90_days_to_delivery": figures.p90_days_to_delivery,
        "median_days_to_reply": figures.median_days_to_reply,
        "p90_days_to_reply": figures.p90_days_to_reply,
        "withheld_or_returned_share": figures.withheld_or_returned_share,
        "sample_size": figures.delivery_sample,
        "reply_sample_size": figures.reply_sample,
        "dates_excluded": figures.dates_excluded,
    }
