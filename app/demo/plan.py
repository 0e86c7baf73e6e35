"""Planning the demo letters and their events: pure and seeded, no database.

``plan_letters`` draws the same letters on every call for a given ``today`` (the random
generator is seeded and the data files are read in a fixed order), so the demo data set looks
the same whenever it is loaded; app/demo/services.py writes the plan to the database.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from app.demo.data import FacilityData, LetterTexts, PlacementData, PrisonerData, demo_data
from app.models import Channel, EventKind, PrisonerStatus
from app.russian.names import PersonName, greeting, transliterate
from app.russian.tracking_numbers import domestic_check_digit

SEED = 20261123
LETTER_COUNT = 150
WINDOW_DAYS = 240  # letters are spread over this many days before today
QUIET_DAYS = 95  # "quiet" prisoners got no letter more recent than this
LETTERS_BEFORE_TRANSFER = (23, 25, 27, 30)  # days ago, to the in-transit prisoner's old facility


@dataclass(frozen=True)
class EventPlan:
    """One event of a planned letter."""

    kind: EventKind
    day: date
    channel: Channel | None = None
    tracking_number: str | None = None
    note: str = ""
    reported_lag_days: int = 0


@dataclass(frozen=True)
class LetterPlan:
    """A planned letter: to whom, where it was addressed, when written, what happened."""

    prisoner_key: str
    facility_key: str
    written_on: date
    written_hour: int
    language: str
    body: str
    signature: str
    events: tuple[EventPlan, ...] = field(default_factory=tuple)


def placement_on(prisoner: PrisonerData, today: date, day: date) -> PlacementData | None:
    """The placement covering ``day`` (start <= day < end), or None before the first one."""
    for placement in prisoner.placements:
        start = today - timedelta(days=placement.start_ago)
        end = None if placement.end_ago is None else today - timedelta(days=placement.end_ago)
        if start <= day and (end is None or day < end):
            return placement
    return None


def placement_end(placement: PlacementData, today: date) -> date | None:
    """The day the placement ended, or None while it is open."""
    return None if placement.end_ago is None else today - timedelta(days=placement.end_ago)


def russian_post_number(rng: random.Random, office: str, month: int) -> str:
    """A 14-digit Russian Post tracking number with a valid check digit.

    Office postcode (6 digits), month (2), serial (5), check digit: odd positions count
    three times, even positions once, and the digit tops the sum up to a multiple of ten.
    """
    stem = f"{office}{month:02d}{rng.randint(0, 99999):05d}"
    return f"{stem}{domestic_check_digit(stem)}"


def _season(day: date) -> str:
    return {12: "winter", 1: "winter", 2: "winter", 3: "spring", 4: "spring", 5: "spring"}.get(
        day.month, "summer" if day.month in (6, 7, 8) else "autumn"
    )


def _person_name(prisoner: PrisonerData) -> PersonName:
    return PersonName(
        last_name=prisoner.last_name,
        first_name=prisoner.first_name,
        patronymic=prisoner.patronymic,
        gender=prisoner.gender,
        overrides=dict(prisoner.name_overrides),
    )


def _body(
    rng: random.Random,
    texts: LetterTexts,
    prisoner: PrisonerData,
    language: str,
    day: date,
    signature: str,
) -> str:
    """A short letter made of fixed, censor-safe sentences."""
    if language == "en":
        first = prisoner.first_name_latin or transliterate(prisoner.first_name)
        paragraphs = [rng.choice(texts.openers_en), rng.choice(texts.middles_en)]
        closing = rng.choice(texts.closings_en)
        return f"Dear {first},\n\n" + "\n\n".join(paragraphs) + f"\n\n{closing}\n{signature}"
    lines = [
        rng.choice(texts.openers_ru),
        texts.seasons_ru[_season(day)],
        rng.choice(texts.middles_ru),
    ]
    return (
        f"{greeting(_person_name(prisoner), 'ru')}\n\n"
        + "\n\n".join(lines)
        + f"\n\n{rng.choice(texts.closings_ru)}\n{signature}"
    )


def _plan_events(
    rng: random.Random,
    texts: LetterTexts,
    facility: FacilityData,
    ended_on: date | None,
    released: bool,
    sent_on: date,
    today: date,
) -> list[EventPlan]:
    """What happened to a letter sent on ``sent_on``: only events on or before today."""
    profile = facility.mail
    roll = rng.random()
    if facility.electronic_services and roll < 0.2:
        channel = Channel.ELECTRONIC
    elif roll < 0.42:
        channel = Channel.REGISTERED
    else:
        channel = Channel.POST
    tracking = (
        russian_post_number(rng, rng.choice(texts.posting_offices), sent_on.month)
        if channel is Channel.REGISTERED
        else None
    )
    events = [EventPlan(EventKind.SENT, sent_on, channel, tracking, "", rng.choice((0, 0, 1)))]

    if channel is Channel.ELECTRONIC:
        delay = rng.randint(1, 4)
    else:
        delay = rng.randint(*profile.arrival_days)
    arrival = sent_on + timedelta(days=delay)
    outcome = rng.random()
    lag = rng.choice((0, 1, 2, 5))

    def add(kind: EventKind, day: date, note: str = "") -> None:
        if day <= today:
            events.append(EventPlan(kind, day, None, None, note, lag))

    # The prisoner was moved (or released) before the letter got there: it comes back.
    if ended_on is not None and arrival >= ended_on:
        reason = texts.return_released if released else texts.return_moved
        add(EventKind.RETURNED, arrival + timedelta(days=rng.randint(7, 20)), reason)
        return events

    tracked = channel in (Channel.REGISTERED, Channel.ELECTRONIC) or rng.random() < 0.15
    if outcome < profile.returned_rate:
        if tracked:
            add(EventKind.ARRIVED, arrival)
        add(
            EventKind.RETURNED,
            arrival + timedelta(days=rng.randint(10, 30)),
            rng.choice(texts.return_reasons),
        )
    elif outcome < profile.returned_rate + profile.withheld_rate:
        if tracked:
            add(EventKind.ARRIVED, arrival)
        withheld_on = sent_on + timedelta(days=rng.randint(max(25, delay + 3), 60))
        add(EventKind.WITHHELD, withheld_on, rng.choice(texts.withheld_notes))
    else:
        if tracked:
            add(EventKind.ARRIVED, arrival)
        if rng.random() < profile.reply_rate:
            add(EventKind.REPLY, sent_on + timedelta(days=rng.randint(max(20, delay + 5), 70)))
        elif not tracked and (today - sent_on).days >= 60 and rng.random() < 0.35:
            waited = rng.randint(60, min(100, (today - sent_on).days))
            add(EventKind.NO_NEWS, sent_on + timedelta(days=waited))
    return events


def _eligible_days(prisoner: PrisonerData, today: date) -> list[int]:
    """Days ago on which the prisoner was in a facility (not on a transfer day)."""
    nearest = QUIET_DAYS if prisoner.quiet else 0
    days = []
    for ago in range(nearest, WINDOW_DAYS + 1):
        day = today - timedelta(days=ago)
        placement = placement_on(prisoner, today, day)
        if placement is None or placement.facility is None:
            continue
        start = today - timedelta(days=placement.start_ago)
        end = placement_end(placement, today)
        if day == start or (end is not None and day + timedelta(days=1) >= end):
            continue
        days.append(ago)
    return days


def plan_letters(today: date) -> list[LetterPlan]:
    """The demo letters and their events, deterministic for a given ``today``."""
    data = demo_data()
    rng = random.Random(SEED)  # noqa: S311 - reproducible demo data, not security
    facilities = {facility.key: facility for facility in data.facilities}
    writers = [p for p in data.prisoners if p.weight > 0]
    eligible = {p.key: _eligible_days(p, today) for p in writers}
    writers = [p for p in writers if eligible[p.key]]
    weights = [p.weight for p in writers]

    chosen: list[tuple[PrisonerData, int]] = []
    in_transit = [p for p in data.prisoners if p.status is PrisonerStatus.IN_TRANSIT]
    for prisoner in in_transit:
        chosen.extend((prisoner, ago) for ago in LETTERS_BEFORE_TRANSFER)
    while len(chosen) < LETTER_COUNT:
        prisoner = rng.choices(writers, weights)[0]
        chosen.append((prisoner, rng.choice(eligible[prisoner.key])))
    chosen.sort(key=lambda item: (-item[1], item[0].key))

    plans = []
    for prisoner, sent_ago in chosen:
        sent_on = today - timedelta(days=sent_ago)
        placement = placement_on(prisoner, today, sent_on)
        if placement is None or placement.facility is None:  # pragma: no cover - data error
            raise ValueError(f"{prisoner.key} is in no facility {sent_ago} days ago")
        facility = facilities[placement.facility]
        start = today - timedelta(days=placement.start_ago)
        written_on = sent_on - timedelta(days=rng.choice((0, 0, 1, 1, 2, 3, 5)))
        written_on = max(written_on, start + timedelta(days=1))
        unsent = rng.random() < (0.5 if sent_ago <= 10 else 0.05)
        languages = prisoner.languages.split(",")
        language = "en" if "en" in languages and rng.random() < 0.4 else "ru"
        pool = data.texts.signatures_en if language == "en" else data.texts.signatures_ru
        signature = rng.choice(pool)
        body = _body(rng, data.texts, prisoner, language, written_on, signature)
        events: list[EventPlan] = []
        if not unsent:
            events = _plan_events(
                rng,
                data.texts,
                facility,
                placement_end(placement, today),
                prisoner.status is PrisonerStatus.RELEASED,
                sent_on,
                today,
            )
        plans.append(
            LetterPlan(
                prisoner_key=prisoner.key,
                facility_key=facility.key,
                written_on=written_on,
                written_hour=rng.randint(8, 22),
                language=language,
                body=body,
                signature=signature,
                events=tuple(events),
            )
        )
    return plans
