"""Loading the fictional demo data set into the database.

The letters and their events are planned by a pure, seeded function (``plan_letters``) so the
data set is the same on every load relative to ``today``; ``load_demo_data`` then writes the
facilities, prisoners, placements, letters and events that are not there yet.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from app.appeals.federal import sync_federal_officials
from app.demo import data
from app.demo.data import FacilityData, PlacementData, PrisonerData
from app.extensions import db
from app.models import (
    Channel,
    EventKind,
    Facility,
    Letter,
    MailEvent,
    Official,
    OfficialKind,
    Placement,
    Prisoner,
    PrisonerStatus,
    TemplateKind,
)
from app.russian.names import Case, Gender, PersonName, decline, greeting, transliterate
from app.tokens import new_tracking_token

SEED = 20261123
LETTER_COUNT = 150
WINDOW_DAYS = 240  # letters are spread over this many days before today
QUIET_DAYS = 95  # "quiet" prisoners got no letter more recent than this
LETTERS_BEFORE_TRANSFER = (23, 25, 27, 30)  # days ago, to the in-transit prisoner's old facility


@dataclass
class DemoReport:
    """What one load created."""

    facilities: int
    prisoners: int
    letters: int
    events: int
    skipped: bool  # True when demo data was already there
    # Addressees of appeals created or updated: the demo officials plus the real federal bodies.
    officials: int = 0


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


def _facility_by_key() -> dict[str, FacilityData]:
    return {facility.key: facility for facility in data.FACILITIES}


def placement_on(prisoner: PrisonerData, today: date, day: date) -> PlacementData | None:
    """The placement covering ``day`` (start <= day < end), or None before the first one."""
    for placement in prisoner.placements:
        start = today - timedelta(days=placement.start_ago)
        end = None if placement.end_ago is None else today - timedelta(days=placement.end_ago)
        if start <= day and (end is None or day < end):
            return placement
    return None


def _placement_end(placement: PlacementData, today: date) -> date | None:
    return None if placement.end_ago is None else today - timedelta(days=placement.end_ago)


def russian_post_number(rng: random.Random, office: str, month: int) -> str:
    """A 14-digit Russian Post tracking number with a valid check digit.

    Office postcode (6 digits), month (2), serial (5), check digit: odd positions count
    three times, even positions once, and the digit tops the sum up to a multiple of ten.
    """
    stem = f"{office}{month:02d}{rng.randint(0, 99999):05d}"
    total = sum(int(digit) * (3 if index % 2 == 0 else 1) for index, digit in enumerate(stem))
    return f"{stem}{(10 - total % 10) % 10}"


def _season(day: date) -> str:
    return {12: "winter", 1: "winter", 2: "winter", 3: "spring", 4: "spring", 5: "spring"}.get(
        day.month, "summer" if day.month in (6, 7, 8) else "autumn"
    )


def _person_name(prisoner: PrisonerData) -> PersonName:
    return PersonName(
        last_name=prisoner.last_name,
        first_name=prisoner.first_name,
        patronymic=prisoner.patronymic,
        gender=Gender(prisoner.gender),
        overrides=dict(prisoner.name_overrides),
    )


def _body(
    rng: random.Random, prisoner: PrisonerData, language: str, day: date, signature: str
) -> str:
    """A short letter made of fixed, censor-safe sentences."""
    if language == "en":
        first = prisoner.first_name_latin or transliterate(prisoner.first_name)
        paragraphs = [rng.choice(data.OPENERS_EN), rng.choice(data.MIDDLES_EN)]
        closing = rng.choice(data.CLOSINGS_EN)
        return f"Dear {first},\n\n" + "\n\n".join(paragraphs) + f"\n\n{closing}\n{signature}"
    lines = [
        rng.choice(data.OPENERS_RU),
        data.SEASONS_RU[_season(day)],
        rng.choice(data.MIDDLES_RU),
    ]
    return (
        f"{greeting(_person_name(prisoner), 'ru')}\n\n"
        + "\n\n".join(lines)
        + f"\n\n{rng.choice(data.CLOSINGS_RU)}\n{signature}"
    )


def _plan_events(
    rng: random.Random,
    facility: FacilityData,
    placement_end: date | None,
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
        russian_post_number(rng, rng.choice(data.POSTING_OFFICES), sent_on.month)
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
    if placement_end is not None and arrival >= placement_end:
        reason = data.RETURN_RELEASED if released else data.RETURN_MOVED
        add(EventKind.RETURNED, arrival + timedelta(days=rng.randint(7, 20)), reason)
        return events

    tracked = channel in (Channel.REGISTERED, Channel.ELECTRONIC) or rng.random() < 0.15
    if outcome < profile.returned_rate:
        if tracked:
            add(EventKind.ARRIVED, arrival)
        add(
            EventKind.RETURNED,
            arrival + timedelta(days=rng.randint(10, 30)),
            rng.choice(data.RETURN_REASONS),
        )
    elif outcome < profile.returned_rate + profile.withheld_rate:
        if tracked:
            add(EventKind.ARRIVED, arrival)
        withheld_on = sent_on + timedelta(days=rng.randint(max(25, delay + 3), 60))
        add(EventKind.WITHHELD, withheld_on, rng.choice(data.WITHHELD_NOTES))
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
        end = _placement_end(placement, today)
        if day == start or (end is not None and day + timedelta(days=1) >= end):
            continue
        days.append(ago)
    return days


def plan_letters(today: date) -> list[LetterPlan]:
    """The demo letters and their events, deterministic for a given ``today``."""
    rng = random.Random(SEED)  # noqa: S311 - reproducible demo data, not security
    facilities = _facility_by_key()
    writers = [p for p in data.PRISONERS if p.weight > 0]
    eligible = {p.key: _eligible_days(p, today) for p in writers}
    writers = [p for p in writers if eligible[p.key]]
    weights = [p.weight for p in writers]

    chosen: list[tuple[PrisonerData, int]] = []
    in_transit = [p for p in data.PRISONERS if p.status == PrisonerStatus.IN_TRANSIT.value]
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
        pool = data.SIGNATURES_EN if language == "en" else data.SIGNATURES_RU
        signature = rng.choice(pool)
        body = _body(rng, prisoner, language, written_on, signature)
        events: list[EventPlan] = []
        if not unsent:
            events = _plan_events(
                rng,
                facility,
                _placement_end(placement, today),
                prisoner.status == PrisonerStatus.RELEASED.value,
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


def _ensure_facilities() -> tuple[dict[str, Facility], int]:
    ids = [facility.external_id for facility in data.FACILITIES]
    existing = {
        facility.external_id: facility
        for facility in db.session.scalars(select(Facility).where(Facility.external_id.in_(ids)))
    }
    by_key: dict[str, Facility] = {}
    created = 0
    for item in data.FACILITIES:
        facility = existing.get(item.external_id)
        if facility is None:
            facility = Facility(
                external_id=item.external_id,
                code=item.code,
                name=item.name,
                kind=item.kind,
                region=item.region,
                country="RU",
                postcode=item.postcode,
                locality=item.locality,
                street_address=item.street_address,
                electronic_services=item.electronic_services,
                mail_rules=item.mail_rules,
                source_url=None,
                is_demo=True,
            )
            db.session.add(facility)
            created += 1
        by_key[item.key] = facility
    return by_key, created


def _ensure_officials(facilities: dict[str, Facility]) -> int:
    """Create the demo officials that are missing; return how many were created."""
    ids = [official.external_id for official in data.OFFICIALS]
    existing = set(
        db.session.scalars(select(Official.external_id).where(Official.external_id.in_(ids)))
    )
    created = 0
    for item in data.OFFICIALS:
        if item.external_id in existing:
            continue
        db.session.add(
            Official(
                external_id=item.external_id,
                kind=item.kind,
                position=item.position,
                position_dative=item.position_dative,
                organisation=item.organisation,
                street_address=item.street_address,
                locality=item.locality,
                region=item.region,
                postcode=item.postcode,
                jurisdiction=item.jurisdiction,
                facility=None if item.facility is None else facilities[item.facility],
                jurisdiction_region=item.jurisdiction_region,
                source_url=None,
                is_demo=True,
            )
        )
        created += 1
    return created


def _new_prisoner(item: PrisonerData, facilities: dict[str, Facility], today: date) -> Prisoner:
    prisoner = Prisoner(
        external_id=item.external_id,
        last_name=item.last_name,
        first_name=item.first_name,
        patronymic=item.patronymic,
        last_name_latin=item.last_name_latin,
        first_name_latin=item.first_name_latin,
        gender=Gender(item.gender),
        birth_date=item.birth_date,
        birth_year=item.birth_year,
        status=PrisonerStatus(item.status),
        case_summary=item.case_summary,
        detained_on=(
            None if item.detained_ago is None else today - timedelta(days=item.detained_ago)
        ),
        sentence=item.sentence,
        languages=item.languages,
        interests=item.interests,
        notes_for_writers=item.notes_for_writers,
        accepts_letters=item.accepts_letters,
        source_url=None,
        name_overrides=dict(item.name_overrides),
        is_demo=True,
    )
    for placement in item.placements:
        prisoner.placements.append(
            Placement(
                facility=None if placement.facility is None else facilities[placement.facility],
                started_on=today - timedelta(days=placement.start_ago),
                ended_on=_placement_end(placement, today),
                note=placement.note,
            )
        )
    return prisoner


def _ensure_prisoners(
    facilities: dict[str, Facility], today: date
) -> tuple[dict[str, Prisoner], set[str]]:
    ids = [prisoner.external_id for prisoner in data.PRISONERS]
    existing = {
        prisoner.external_id: prisoner
        for prisoner in db.session.scalars(select(Prisoner).where(Prisoner.external_id.in_(ids)))
    }
    by_key: dict[str, Prisoner] = {}
    created: set[str] = set()
    for item in data.PRISONERS:
        prisoner = existing.get(item.external_id)
        if prisoner is None:
            prisoner = _new_prisoner(item, facilities, today)
            db.session.add(prisoner)
            created.add(item.key)
        by_key[item.key] = prisoner
    return by_key, created


def _reported_at(day: date, lag_days: int, hour: int, today: date) -> datetime:
    reported = min(day + timedelta(days=lag_days), today)
    return datetime.combine(reported, time(hour, (hour * 7) % 60))


# Appeals to the head of the facility: (days ago written, events as (kind, days ago, extra)).
_DEMO_APPEALS: tuple[tuple[int, tuple[tuple[EventKind, int, int | None], ...]], ...] = (
    (88, ((EventKind.SENT, 86, None), (EventKind.ARRIVED, 80, None))),  # overdue
    (
        72,
        ((EventKind.SENT, 70, None), (EventKind.ARRIVED, 60, None), (EventKind.EXTENDED, 40, 30)),
    ),
    (77, ((EventKind.SENT, 75, None), (EventKind.REPLY, 31, None))),  # answered
    (22, ((EventKind.SENT, 20, None),)),  # waiting
    (3, ()),  # written, not sent yet
)
_DEMO_APPEAL_BODY = (
    "Прошу восстановить {name} право на телефонные разговоры с родственниками в соответствии "
    "с Уголовно-исполнительным кодексом Российской Федерации.\n\n"
    "Ответ прошу направить в письменной форме в срок, "
    "установленный статьёй 12 Федерального закона от 02.05.2006 № 59-ФЗ «О порядке "
    "рассмотрения обращений граждан Российской Федерации».\n"
)


def _demo_appeals(prisoners: list[Prisoner], today: date) -> tuple[int, int]:
    """A few appeals to facility heads, so deadlines and the overdue list show something."""
    appeals = events = 0
    rng = random.Random(59)  # noqa: S311 - fictional demo numbers, not secrets
    candidates = [p for p in prisoners if p.current_facility is not None]
    for prisoner, (written_ago, plan) in zip(candidates, _DEMO_APPEALS, strict=False):
        head = db.session.scalar(
            select(Official).where(
                Official.facility_id == prisoner.current_facility.id,
                Official.kind == OfficialKind.FACILITY_HEAD,
            )
        )
        if head is None:
            continue
        written = today - timedelta(days=written_ago)
        appeal = Letter(
            token=new_tracking_token(),
            prisoner=prisoner,
            facility=prisoner.current_facility,
            kind=TemplateKind.APPEAL,
            official=head,
            language="ru",
            body=_DEMO_APPEAL_BODY.format(name=decline(prisoner.person_name, Case.DATIVE)),
            signature="Смирнова Анна Петровна",
            created_at=datetime.combine(written, time(11, 0)),
        )
        for kind, days_ago, extension in plan:
            day = today - timedelta(days=days_ago)
            appeal.events.append(
                MailEvent(
                    kind=kind,
                    happened_on=day,
                    reported_at=_reported_at(day, 1, 11, today),
                    channel=Channel.REGISTERED if kind is EventKind.SENT else None,
                    # Appeals go registered, with a notification of delivery as proof.
                    tracking_number=russian_post_number(rng, "190000", day.month)
                    if kind is EventKind.SENT
                    else None,
                    extension_days=extension,
                )
            )
            events += 1
        db.session.add(appeal)
        appeals += 1
    return appeals, events


def load_demo_data(today: date | None = None) -> DemoReport:
    """Idempotent: creates the fictional facilities, prisoners, placements, letters, events and
    officials unless they exist (match on external_id 'demo-...'), and creates or updates the
    real federal bodies that receive appeals. Adds to db.session and flushes; the caller commits.

    Letters are created only for prisoners created by this call, so a second load adds nothing.
    """
    today = today or date.today()
    facilities, facilities_created = _ensure_facilities()
    prisoners, new_prisoners = _ensure_prisoners(facilities, today)
    officials = _ensure_officials(facilities) + sync_federal_officials()
    letters = events = 0
    if new_prisoners:
        for plan in plan_letters(today):
            if plan.prisoner_key not in new_prisoners:
                continue
            letter = Letter(
                token=new_tracking_token(),
                prisoner=prisoners[plan.prisoner_key],
                facility=facilities[plan.facility_key],
                language=plan.language,
                body=plan.body,
                signature=plan.signature,
                created_at=datetime.combine(plan.written_on, time(plan.written_hour, 15)),
            )
            for event in plan.events:
                letter.events.append(
                    MailEvent(
                        kind=event.kind,
                        happened_on=event.day,
                        reported_at=_reported_at(
                            event.day, event.reported_lag_days, plan.written_hour, today
                        ),
                        channel=event.channel,
                        tracking_number=event.tracking_number,
                        note=event.note,
                    )
                )
                events += 1
            db.session.add(letter)
            letters += 1
        db.session.flush()
        new = [prisoners[key] for key in sorted(new_prisoners)]
        appeals, appeal_events = _demo_appeals(new, today)
        letters += appeals
        events += appeal_events
    db.session.flush()
    return DemoReport(
        facilities=facilities_created,
        prisoners=len(new_prisoners),
        letters=letters,
        events=events,
        skipped=not facilities_created and not new_prisoners and not officials,
        officials=officials,
    )
