"""Small builders for test data, committed through the real session."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.auth.passwords import hash_password
from app.extensions import db
from app.mailroom.reference import new_reference
from app.models import (
    Channel,
    EventKind,
    Facility,
    FacilityKind,
    Jurisdiction,
    Letter,
    MailEvent,
    MailroomItem,
    MailroomState,
    Official,
    OfficialKind,
    Placement,
    Prisoner,
    PrisonerStatus,
    Role,
    User,
)
from app.tokens import new_tracking_token


def make_facility(**fields: object) -> Facility:
    values: dict[str, object] = {
        "code": "ИК-3",
        "name": "ФКУ ИК-3 УФСИН России по Владимирской области",
        "kind": FacilityKind.COLONY,
        "region": "Владимирская область",
        "postcode": "601120",
        "locality": "г. Покров",
        "street_address": "ул. Франца Штольверка, д. 100",
    }
    values.update(fields)
    facility = Facility(**values)
    db.session.add(facility)
    db.session.commit()
    return facility


def make_prisoner(facility: Facility | None = None, since: date | None = None, **fields: object):
    values: dict[str, object] = {
        "last_name": "Горинов",
        "first_name": "Алексей",
        "patronymic": "Александрович",
        "birth_year": 1961,
        "status": PrisonerStatus.CONVICTED,
    }
    values.update(fields)
    prisoner = Prisoner(**values)
    if facility is not None:
        prisoner.placements.append(
            Placement(facility=facility, started_on=since or date.today() - timedelta(days=400))
        )
    db.session.add(prisoner)
    db.session.commit()
    return prisoner


def make_letter(prisoner: Prisoner, written: date | None = None, **fields: object) -> Letter:
    values: dict[str, object] = {
        "prisoner": prisoner,
        "facility": prisoner.current_facility,
        "language": "ru",
        "body": "Дорогой Алексей!\n\nПишу Вам из Тбилиси.\n",
        "signature": "Аня",
    }
    if written is not None:
        values["created_at"] = datetime.combine(written, datetime.min.time())
    values.update(fields)
    token = str(fields.pop("token", None) or new_tracking_token())
    values.pop("token", None)
    body, signature = str(values.pop("body")), str(values.pop("signature"))
    sender_address = values.pop("sender_address", None)
    letter = Letter.written(
        token,
        body=body,
        signature=signature,
        sender_address=None if sender_address is None else str(sender_address),
        **values,
    )
    db.session.add(letter)
    if letter.drive_id is not None:  # written at a drive: the organizers may read it, as
        db.session.flush()  # app.drives.services.attach_letter lets them
        letter.share_with_organisers()
    db.session.commit()
    return letter


def add_event(
    letter: Letter, kind: EventKind, on: date, channel: Channel | None = None, note: str = ""
) -> MailEvent:
    event = MailEvent(letter=letter, kind=kind, happened_on=on, channel=channel, note=note)
    db.session.add(event)
    db.session.commit()
    return event


def make_official(facility: Facility | None = None, **fields: object) -> Official:
    values: dict[str, object] = {
        "kind": OfficialKind.FACILITY_HEAD,
        "position": "Начальник ФКУ ИК-3 УФСИН России по Владимирской области",
        "position_dative": "Начальнику ФКУ ИК-3 УФСИН России по Владимирской области",
        "organisation": "ФКУ ИК-3 УФСИН России по Владимирской области",
        "street_address": "ул. Франца Штольверка, д. 100",
        "locality": "г. Покров",
        "region": "Владимирская область",
        "postcode": "601120",
        "jurisdiction": Jurisdiction.FACILITY if facility else Jurisdiction.FEDERAL,
        "facility": facility,
    }
    values.update(fields)
    official = Official(**values)
    db.session.add(official)
    db.session.commit()
    return official


def make_user(
    email: str = "organizer@example.org",
    role: Role = Role.ORGANIZER,
    password: str = "correct horse battery staple",
    **fields: object,
) -> User:
    user = User(email=email, role=role, password_hash=hash_password(password), **fields)
    db.session.add(user)
    db.session.commit()
    return user


def insert_drive_as_before_privacy_at_rest(connection: Any, title: str = "Вечер") -> int:
    """A drive row as the schema before migration 0012 held it (its join link in clear), for
    tests of older migrations; returns its id."""
    from sqlalchemy import text

    number = connection.execute(text("SELECT count(*) FROM drive")).scalar_one() + 1
    return int(
        connection.execute(
            text(
                "INSERT INTO drive (title, held_on, place, code, join_token, "
                "target_per_prisoner, created_at) VALUES (:title, :day, '', :code, :token, 2, "
                ":now) RETURNING id"
            ),
            {"title": title, "day": date.today(), "code": f"OLD{number:03d}",
             "token": f"old-join-link-{number:03d}", "now": datetime.now()},
        ).scalar_one()
    )  # fmt: skip


def make_mailroom_letter(
    prisoner: Prisoner,
    state: Any = None,
    body: str = "Дорогой Алексей!\n\nПишу Вам из Тбилиси.\n",
    **fields: object,
) -> Any:
    """A letter sent through the organisation, shared with its organisers, as a mailroom item
    (approved unless ``state`` says otherwise); returns the item."""
    from app.mailroom.reference import new_reference
    from app.models import MailroomItem, MailroomState

    values: dict[str, object] = {
        "prisoner": prisoner,
        "facility": prisoner.current_facility,
        "language": "ru",
    }
    values.update(fields)
    signature = str(values.pop("signature", "Аня"))
    letter = Letter.written(new_tracking_token(), body=body, signature=signature, **values)
    db.session.add(letter)
    db.session.flush()
    letter.share_with_organisers()
    item = MailroomItem(
        letter=letter, reference=new_reference(), state=state or MailroomState.APPROVED
    )
    db.session.add(item)
    db.session.commit()
    return item


def make_posted_mailroom_letter(
    prisoner: Prisoner,
    state: MailroomState = MailroomState.POSTED,
    body: str = "Дорогой Алексей!\n\nПишу Вам через организацию.\n",
    posted_on: date | None = None,
) -> tuple[Letter, str, MailroomItem]:
    """A letter sent through the organisation, shared with its organisers, in ``state``.

    A posted (or returned) letter was posted ``posted_on`` (by default ten days ago), with
    its "sent" report on that day, channel organisation, and was written five days before.
    Returns the letter, its link and its mailroom item.
    """
    posted = state in (MailroomState.POSTED, MailroomState.RETURNED)
    if posted and posted_on is None:
        posted_on = date.today() - timedelta(days=10)
    written = (posted_on or date.today()) - timedelta(days=5)
    token = new_tracking_token()
    letter = Letter.written(
        token,
        body=body,
        signature="Аня",
        prisoner=prisoner,
        facility=prisoner.current_facility,
        language="ru",
        created_at=datetime.combine(written, datetime.min.time()),
    )
    db.session.add(letter)
    db.session.flush()
    letter.share_with_organisers()
    reference = new_reference()
    while db.session.scalar(select(MailroomItem).where(MailroomItem.reference == reference)):
        reference = new_reference()
    item = MailroomItem(letter=letter, reference=reference, state=state, posted_on=posted_on)
    db.session.add(item)
    if posted_on is not None:
        db.session.add(
            MailEvent(
                letter=letter,
                kind=EventKind.SENT,
                happened_on=posted_on,
                channel=Channel.ORGANISATION,
            )
        )
    db.session.commit()
    return letter, token, item
