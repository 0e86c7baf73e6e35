"""Loading the fictional demo data set into the database.

The data comes from the YAML files read by app/demo/data.py; the letters and their events are
planned by a pure, seeded function (app/demo/plan.py) so the data set is the same on every load
relative to ``today``. ``load_demo_data`` writes the facilities, prisoners, placements,
officials, letters and events that are not there yet.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from app.appeals.federal import sync_federal_officials
from app.demo.data import AppealsData, PrisonerData, demo_data
from app.demo.plan import placement_end, plan_letters, russian_post_number
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
    TemplateKind,
)
from app.russian.names import Case, decline
from app.tokens import new_tracking_token


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


def _ensure_facilities() -> tuple[dict[str, Facility], int]:
    ids = [facility.external_id for facility in demo_data().facilities]
    existing = {
        facility.external_id: facility
        for facility in db.session.scalars(select(Facility).where(Facility.external_id.in_(ids)))
    }
    by_key: dict[str, Facility] = {}
    created = 0
    for item in demo_data().facilities:
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
    ids = [official.external_id for official in demo_data().officials]
    existing = set(
        db.session.scalars(select(Official.external_id).where(Official.external_id.in_(ids)))
    )
    created = 0
    for item in demo_data().officials:
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
        gender=item.gender,
        birth_date=item.birth_date,
        birth_year=item.birth_year,
        status=item.status,
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
                ended_on=placement_end(placement, today),
                note=placement.note,
            )
        )
    return prisoner


def _ensure_prisoners(
    facilities: dict[str, Facility], today: date
) -> tuple[dict[str, Prisoner], set[str]]:
    ids = [prisoner.external_id for prisoner in demo_data().prisoners]
    existing = {
        prisoner.external_id: prisoner
        for prisoner in db.session.scalars(select(Prisoner).where(Prisoner.external_id.in_(ids)))
    }
    by_key: dict[str, Prisoner] = {}
    created: set[str] = set()
    for item in demo_data().prisoners:
        prisoner = existing.get(item.external_id)
        if prisoner is None:
            prisoner = _new_prisoner(item, facilities, today)
            db.session.add(prisoner)
            created.add(item.key)
        by_key[item.key] = prisoner
    return by_key, created


def _reported_at(day: date, lag_days: int, hour: int, today: date) -> datetime:
    reported = min(day + timedelta(days=lag_days), today)
    return datetime.combine(reported, time(hour))  # supporters' actions: to the hour


def _demo_appeals(prisoners: list[Prisoner], demo: AppealsData, today: date) -> tuple[int, int]:
    """A few appeals to facility heads, so deadlines and the overdue list show something."""
    appeals = events = 0
    rng = random.Random(59)  # noqa: S311 - fictional demo numbers, not secrets
    candidates = [(p, f) for p in prisoners if (f := p.current_facility) is not None]
    for (prisoner, facility), plan in zip(candidates, demo.plans, strict=False):
        head = db.session.scalar(
            select(Official).where(
                Official.facility_id == facility.id,
                Official.kind == OfficialKind.FACILITY_HEAD,
            )
        )
        if head is None:
            continue
        written = today - timedelta(days=plan.written_ago)
        appeal = Letter.written(
            new_tracking_token(),
            prisoner=prisoner,
            facility=facility,
            kind=TemplateKind.APPEAL,
            official=head,
            language="ru",
            body=demo.body.format(name=decline(prisoner.person_name, Case.DATIVE)),
            signature=demo.signature,
            created_at=datetime.combine(written, time(11, 0)),
        )
        for event in plan.events:
            day = today - timedelta(days=event.ago)
            MailEvent(  # added to appeal.events by the relationship
                letter=appeal,
                kind=event.kind,
                happened_on=day,
                reported_at=_reported_at(day, 1, 11, today),
                channel=Channel.REGISTERED if event.kind is EventKind.SENT else None,
                # Appeals go registered, with a notification of delivery as proof.
                tracking_number=russian_post_number(rng, "190000", day.month)
                if event.kind is EventKind.SENT
                else None,
                extension_days=event.extension_days,
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
            # Nobody holds a demo letter's link: its content is readable by no one, like a
            # real letter whose writer lost the link; only its dates and outcome count.
            letter = Letter.written(
                new_tracking_token(),
                prisoner=prisoners[plan.prisoner_key],
                facility=facilities[plan.facility_key],
                language=plan.language,
                body=plan.body,
                signature=plan.signature,
                created_at=datetime.combine(plan.written_on, time(plan.written_hour)),
            )
            for event in plan.events:
                MailEvent(  # added to letter.events by the relationship
                    letter=letter,
                    kind=event.kind,
                    happened_on=event.day,
                    reported_at=_reported_at(
                        event.day, event.reported_lag_days, plan.written_hour, today
                    ),
                    channel=event.channel,
                    tracking_number=event.tracking_number,
                    note=event.note,
                )
                events += 1
            db.session.add(letter)
            letters += 1
        db.session.flush()
        new = [prisoners[key] for key in sorted(new_prisoners)]
        appeals, appeal_events = _demo_appeals(new, demo_data().appeals, today)
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
