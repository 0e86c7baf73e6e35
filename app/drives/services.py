"""Letter-writing evenings: creating drives, joining, balanced assignment, marking sent."""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.auth.permissions import require_organizer
from app.concurrency import lock
from app.database import forget_freed_pages
from app.domain import DomainError
from app.drives.print_jobs import delete_drive_packs
from app.edge import after_commit
from app.extensions import db
from app.mail.services import queue_email, valid_address
from app.models import (
    Assignment,
    Channel,
    Drive,
    DriveParticipant,
    EventKind,
    Letter,
    LetterStatus,
    Prisoner,
    Template,
    TemplateKind,
    User,
)
from app.models.drive import JOIN_LINK_PURPOSE, participant_link_hash
from app.privacy.instance import link_hash
from app.tracking.services import EventInput, record_event, same_report

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud in a room
CODE_LENGTH = 6
RECENT_DAYS = 90
FIRST_ASSIGNMENTS = 2


@dataclass(frozen=True)
class DriveInput:
    """What an organizer typed to create a drive."""

    title: str
    held_on: date
    place: str
    prisoner_ids: list[int]
    template_ids: list[int]
    target_per_prisoner: int


def _new_code() -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if db.session.scalar(select(Drive.id).where(Drive.code == code)) is None:
            return code


def create_drive(actor: User, data: DriveInput) -> Drive:
    """Create a drive with a join link and a short code; the caller commits."""
    organizer = require_organizer(actor)
    if not data.title.strip():
        raise DomainError("title", _l("Give the evening a title."))
    if not 1 <= data.target_per_prisoner <= 20:
        raise DomainError("target_per_prisoner", _l("Choose 1 to 20 letters per prisoner."))
    prisoners = list(
        db.session.scalars(select(Prisoner).where(Prisoner.id.in_(data.prisoner_ids)))
    )
    prisoners = [p for p in prisoners if p.can_receive_letters]
    if not prisoners:
        raise DomainError(
            "prisoner_ids", _l("Choose at least one prisoner who can receive letters.")
        )
    templates = list(
        db.session.scalars(
            select(Template).where(
                Template.id.in_(data.template_ids),
                Template.kind == TemplateKind.LETTER,
                Template.retired.is_(False),
            )
        )
    )
    drive = Drive(
        title=data.title.strip(),
        held_on=data.held_on,
        place=data.place.strip(),
        code=_new_code(),
        join_token=secrets.token_urlsafe(24),
        target_per_prisoner=data.target_per_prisoner,
        organizer=organizer,
        prisoners=prisoners,
        templates=templates,
    )
    db.session.add(drive)
    db.session.flush()
    return drive


def pool_candidates(region: str = "", facility_id: int | None = None) -> list[Prisoner]:
    """Prisoners who can receive letters, optionally in one region or facility, by name."""
    from app.directory.services import PrisonerFilters, search_prisoners

    filters = PrisonerFilters(
        region=region, facility_id=facility_id, accepts_letters=True, sort="name"
    )
    page = search_prisoners(filters, page=1, per_page=1000)
    return [row.prisoner for row in page.rows if row.prisoner.can_receive_letters]


def drives_for(actor: User) -> list[Drive]:
    """Every drive, newest first: organizers run evenings together."""
    require_organizer(actor)
    return list(db.session.scalars(select(Drive).order_by(Drive.held_on.desc(), Drive.id.desc())))


def get_drive(actor: User, drive_id: int) -> Drive | None:
    """A drive for an organizer, or None."""
    require_organizer(actor)
    return db.session.get(Drive, drive_id)


def find_drive_to_join(code_or_token: str) -> Drive | None:
    """The drive behind a short code (any case, spaces ignored) or a join-link token."""
    value = code_or_token.strip()
    code = value.replace(" ", "").replace("-", "").upper()
    drive = db.session.scalar(select(Drive).where(Drive.code == code))
    if drive is None and value:
        by_link = select(Drive).where(Drive.join_token_hash == link_hash(value, JOIN_LINK_PURPOSE))
        drive = db.session.scalar(by_link)
    return drive


def join(drive: Drive, name: str, languages: list[str]) -> DriveParticipant:
    """Add a participant under any name and give them their first assignments."""
    name = name.strip()
    if not name:
        raise DomainError("name", _l("Any name will do, a first name or a nickname."))
    if len(name) > 100:
        raise DomainError("name", _l("Please use a shorter name."))
    lock(drive)  # see assign_next
    participant = DriveParticipant.joined(
        secrets.token_urlsafe(32),
        drive=drive,
        name=name,
        languages=",".join(languages or ["ru"]),
    )
    db.session.add(participant)
    db.session.flush()
    for _ in range(FIRST_ASSIGNMENTS):
        if assign_next(participant) is None:
            break
    return participant


def get_participant(token: str) -> DriveParticipant | None:
    """A participant by their private link, unlocked with it for this request."""
    participant = db.session.scalar(
        select(DriveParticipant).where(DriveParticipant.token_hash == participant_link_hash(token))
    )
    if participant is not None:
        participant.unlock(token)
    return participant


def _drive_counts(drive: Drive) -> Counter[int]:
    rows = db.session.execute(
        select(Assignment.prisoner_id, func.count(Assignment.id))
        .where(Assignment.drive_id == drive.id)
        .group_by(Assignment.prisoner_id)
    )
    return Counter({key: count for key, count in rows})


def _recent_counts(prisoner_ids: list[int], today: date) -> Counter[int]:
    rows = db.session.execute(
        select(Letter.prisoner_id, func.count(Letter.id))
        .where(
            Letter.prisoner_id.in_(prisoner_ids),
            Letter.kind == TemplateKind.LETTER,
            Letter.created_at >= today - timedelta(days=RECENT_DAYS),
        )
        .group_by(Letter.prisoner_id)
    )
    return Counter({key: count for key, count in rows})


def choose_next_prisoner(
    participant: DriveParticipant, today: date | None = None
) -> Prisoner | None:
    """The prisoner this participant should write to next, or None when nobody is left.

    Fewest assignments in this drive first, then fewest letters in the last 90 days; never
    someone the participant already has; only people who read a language the participant
    writes. Because the drive count comes first, nobody goes over the target while someone
    this participant could write to is still under it.
    """
    drive = participant.drive
    taken = {a.prisoner_id for a in participant.assignments}
    languages = set(participant.languages.split(","))
    eligible = [
        p
        for p in drive.prisoners
        if p.id not in taken
        and p.can_receive_letters
        # Someone in transit has no address to write to yet: never assigned.
        and p.current_facility is not None
        and languages & set(p.language_list or ["ru"])
    ]
    if not eligible:
        return None
    in_drive = _drive_counts(drive)
    recent = _recent_counts([p.id for p in eligible], today or date.today())
    return min(eligible, key=lambda p: (in_drive[p.id], recent[p.id], p.last_name, p.id))


def templates_for(participant: DriveParticipant) -> list[Template]:
    """The drive's templates in the languages the participant writes (all of them when
    none is); the composer groups them by language."""
    languages = set(participant.languages.split(","))
    mine = [t for t in participant.drive.templates if t.language in languages]
    return mine or list(participant.drive.templates)


def assign_next(participant: DriveParticipant) -> Assignment | None:
    """Give the participant one more prisoner to write to; None when nobody is left.

    Assignments in one drive are made one at a time (the drive's row is locked until the
    transaction ends): two people joining or asking for more at the same moment would
    otherwise both count the same assignments and both take the same prisoner.
    """
    lock(participant.drive)
    db.session.expire(participant, ["assignments"])  # a second tab may have added one
    prisoner = choose_next_prisoner(participant)
    if prisoner is None:
        return None
    assignment = Assignment(
        drive_id=participant.drive_id, participant=participant, prisoner=prisoner
    )
    db.session.add(assignment)
    db.session.flush()
    return assignment


def attach_letter(assignment: Assignment, letter: Letter) -> None:
    """Record that the assignment was written; the letter belongs to the drive.

    The organizers can read it until its batch is marked sent (a copy of its key wrapped with
    the master key); the participant's page keeps its link, encrypted with theirs.
    """
    letter.drive_id = assignment.drive_id
    assignment.letter = letter
    db.session.flush()
    letter.share_with_organisers()
    assignment.remember_letter_link(letter.token)


@dataclass(frozen=True)
class DriveStats:
    """The drive page's live figures."""

    participants: int
    assigned: int
    written: int
    printed: int
    sent: int
    delivered: int
    answered: int


def drive_stats(drive: Drive) -> DriveStats:
    """Counts for the drive page, derived from letters and their events."""
    # Polled every few seconds while the evening runs: events in one query, not per letter.
    letters = list(
        db.session.scalars(
            select(Letter).where(Letter.drive_id == drive.id).options(selectinload(Letter.events))
        )
    )
    statuses = [letter.status for letter in letters]
    return DriveStats(
        participants=len(drive.participants),
        assigned=db.session.scalar(
            select(func.count(Assignment.id)).where(Assignment.drive_id == drive.id)
        )
        or 0,
        written=len(letters),
        printed=sum(1 for letter in letters if letter.printed_at is not None),
        sent=sum(1 for letter in letters if letter.first_event(EventKind.SENT) is not None),
        delivered=sum(1 for s in statuses if s in {LetterStatus.DELIVERED, LetterStatus.ANSWERED}),
        answered=statuses.count(LetterStatus.ANSWERED),
    )


def mark_batch_sent(actor: User, drive: Drive, sent_on: date, channel: Channel) -> int:
    """Record "sent" for every printed letter of the drive not yet reported sent; return how
    many letters are recorded sent on that day that way.

    Idempotent: marking the same batch again (a double click, two organizers at once)
    records nothing more and returns the same count. A letter its writer reported sent
    otherwise keeps that report and is not counted.
    """
    require_organizer(actor)
    lock(drive)
    # Every letter is locked before any "sent" is written, in one order: a writer's report
    # on one of them (which locks its letter, then the statistics rows) cannot deadlock
    # with this batch on PostgreSQL.
    letters = db.session.scalars(
        select(Letter)
        .where(Letter.drive_id == drive.id, Letter.printed_at.is_not(None))
        .order_by(Letter.id)
        .with_for_update()
        .options(selectinload(Letter.events))
        .execution_options(populate_existing=True)
    ).all()
    batch = EventInput(EventKind.SENT, sent_on, channel)
    count = 0
    for letter in letters:
        sent = letter.first_event(EventKind.SENT)
        if sent is not None and not same_report(sent, batch):
            continue
        try:
            record_event(letter, batch, date.today())
        except DomainError as error:
            raise DomainError("sent_on", error.message) from error
        count += 1
    # Posted: the letters are their writers' alone again, and the packs that held their text
    # go too (a pack is made again from the letters still in the organizers' hands).
    for letter in letters:
        letter.stop_sharing_with_organisers()
    delete_drive_packs(drive.id)
    after_commit(forget_freed_pages)
    return count


def invite_by_email(
    actor: User, drive: Drive, addresses: list[str], join_url: str
) -> tuple[int, list[str]]:
    """Queue an invitation with the join link to each valid address; return (sent, refused)."""
    require_organizer(actor)
    sent, refused = 0, []
    for raw in addresses:
        address = raw.strip()
        if not address:
            continue
        if not valid_address(address):
            refused.append(address)
            continue
        queue_email(
            address,
            "drive_invitation",
            {"drive": drive, "join_url": join_url},
            language="ru",
        )
        sent += 1
    return sent, refused
