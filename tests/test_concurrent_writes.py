"""Writes that race: real clients hitting a served Konvert at the same moment, on SQLite and on
PostgreSQL.

Konvert is served by scripts/run.sh as an organisation scales it out: two gunicorn worker
processes with threads, rate limits counted in a real Redis, on a SQLite file or on the
throwaway PostgreSQL cluster. In each trial several clients get their forms, wait at a barrier
and send at once; each race runs TRIALS times, each time on new data. A trial passes when no
answer is a 500, every client is answered as if it had been alone (a repeated report as the
first, a conflicting one refused), and what was stored is what one client alone would have
stored: one "sent" per letter, one active print pack per drive, assignments in balance.
"""

from __future__ import annotations

import re
import shutil
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from html import unescape
from typing import Any, TypeVar
from urllib.parse import urljoin

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select

from app import create_app
from app.drives import services as drive_services
from app.extensions import db
from app.models import (
    Assignment,
    Drive,
    EventKind,
    ImportUpload,
    Letter,
    LetterOutcome,
    MailEvent,
    PrintJob,
    Prisoner,
    User,
)
from tests.factories import make_facility, make_letter, make_prisoner, make_user
from tests.servers import Served, redis_server, run_sh

TRIALS = 10
PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
FLASH = re.compile(r'<div class="flash flash-\w+" role="status">(.*?)</div>', re.DOTALL)
THANKS = "Thank you. Your report was recorded."
ALREADY_REPORTED = "This has already been reported for this letter."
T = TypeVar("T")


@dataclass(frozen=True)
class Site:
    """Konvert served on one database, and an app of the test's own on the same database for
    setting up each trial and reading what was stored."""

    url: str
    served: Served
    app: Flask


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp(f"served-{request.param}")
    instance = folder / "instance"
    instance.mkdir()
    if request.param == "sqlite":
        shutil.copy(request.getfixturevalue("migrated_database"), instance / "konvert.db")
        database_url = f"sqlite:///{instance / 'konvert.db'}"
    else:
        database_url = request.getfixturevalue("postgres_server").url
    ours = folder / "test-instance"
    ours.mkdir()
    data_app = create_app(
        "testing", {"INSTANCE_PATH": str(ours), "SQLALCHEMY_DATABASE_URI": database_url}
    )
    with redis_server(folder) as redis_url:
        settings = {
            "DATABASE_URL": database_url,
            "RATELIMIT_STORAGE_URI": redis_url,
            "WEB_WORKERS": "2",
            "RATELIMIT_PUBLIC_WRITES": "100000 per minute",
        }
        with run_sh(instance, settings, folder / "server.log") as served:
            assert served.wait_for_workers() == 2
            yield Site(served.url, served, data_app)
    with data_app.app_context():
        db.engine.dispose()


@pytest.fixture
def on_site(site: Site) -> Iterator[Site]:
    """The test body in an app context on the served database."""
    with site.app.app_context():
        yield site
        db.session.remove()


class Browser:
    """One person's browser: its own cookies; forms carry the CSRF token of their page."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()
        self.token = ""

    def open(self, path: str) -> requests.Response:
        """Open a page (it must answer 200) and keep the CSRF token of its forms."""
        page = self.http.get(self.url + path, timeout=120)
        assert page.status_code == 200, f"{path} answered {page.status_code}"
        match = CSRF.search(page.text)
        self.token = match.group(1) if match else self.token
        return page

    def post(self, path: str, data: dict[str, Any]) -> requests.Response:
        """Send a form, without following its redirect."""
        fields = {"csrf_token": self.token, **data}
        return self.http.post(self.url + path, data=fields, allow_redirects=False, timeout=120)

    def follow(self, response: requests.Response) -> list[str]:
        """The notices on the page a redirect leads to."""
        assert response.status_code in (302, 303), response.status_code
        page = self.http.get(urljoin(self.url, response.headers["Location"]), timeout=120)
        return [unescape(notice).strip() for notice in FLASH.findall(page.text)]

    def second_tab(self) -> Browser:
        """The same browser (same cookies, same session), for a double click."""
        other = Browser(self.url)
        other.http.cookies.update(self.http.cookies)
        other.token = self.token
        return other

    def log_in(self, email: str) -> None:
        """Log in through the login form."""
        self.open("/login")
        assert self.post("/login", {"email": email, "password": PASSWORD}).status_code == 302
        self.open("/drives")


def at_once(actions: list[Callable[[], T]]) -> list[T]:
    """Run every action in its own thread, all released at the same moment."""
    barrier = threading.Barrier(len(actions))

    def run(action: Callable[[], T]) -> T:
        barrier.wait(timeout=60)
        return action()

    with ThreadPoolExecutor(len(actions)) as pool:
        return list(pool.map(run, actions))


def _fresh() -> None:
    """Read what the served processes committed, not what this session remembers."""
    db.session.rollback()
    db.session.expire_all()


def _organizer() -> str:
    email = f"organizer-{uuid.uuid4().hex[:12]}@example.org"
    make_user(email=email, password=PASSWORD)
    return email


def _prisoners(count: int) -> list[Prisoner]:
    facility = make_facility(code=f"ИК-{uuid.uuid4().int % 1000}")
    return [
        make_prisoner(
            facility,
            last_name=f"Иванов-{chr(ord('А') + number)}",
            first_name="Пётр",
            patronymic=None,
            languages="ru",
        )
        for number in range(count)
    ]


def _drive(email: str, prisoners: list[Prisoner], target: int = 2) -> Drive:
    organizer = db.session.scalar(select(User).where(User.email == email))
    data = drive_services.DriveInput(
        title="Вечер писем",
        held_on=date.today(),
        place="",
        prisoner_ids=[p.id for p in prisoners],
        template_ids=[],
        target_per_prisoner=target,
    )
    drive = drive_services.create_drive(organizer, data)
    db.session.commit()
    return drive


def _sent_events(letter: Letter) -> list[MailEvent]:
    return list(
        db.session.scalars(
            select(MailEvent).where(
                MailEvent.letter_id == letter.id, MailEvent.kind == EventKind.SENT
            )
        )
    )


# --- reports on one letter --------------------------------------------------------------------


def _report_through_the_page(site: Site, letter: Letter, when: date) -> Callable[[], Any]:
    browser = Browser(site.url)
    browser.open(f"/t/{letter.token}")
    fields = {"kind": "sent", "happened_on": when.isoformat(), "channel": "post"}

    def send() -> tuple[str, int, list[str] | str]:
        answer = browser.post(f"/t/{letter.token}/events", fields)
        if answer.status_code == 302:
            return "page", 302, browser.follow(answer)
        return "page", answer.status_code, answer.text

    return send


def _report_through_the_api(site: Site, letter: Letter, when: date) -> Callable[[], Any]:
    body = {"kind": "sent", "date": when.isoformat(), "channel": "post"}

    def send() -> tuple[str, int, Any]:
        answer = requests.post(f"{site.url}/api/v1/letters/{letter.token}/events", json=body)
        return "api", answer.status_code, answer.json() if answer.content else None

    return send


def test_the_same_report_sent_at_once_is_recorded_once_and_thanked_each_time(on_site):
    """Two browsers and two API clients report the same "sent" at the same moment: each is
    answered as the first one was, and the letter has one "sent" and its outcome row."""
    prisoner = _prisoners(1)[0]
    for _trial in range(TRIALS):
        letter = make_letter(prisoner, date.today() - timedelta(days=10))
        when = date.today() - timedelta(days=2)
        answers = at_once(
            [_report_through_the_page(on_site, letter, when) for _ in range(2)]
            + [_report_through_the_api(on_site, letter, when) for _ in range(2)]
        )
        pages = [answer for answer in answers if answer[0] == "page"]
        api = [answer for answer in answers if answer[0] == "api"]
        assert pages == [("page", 302, [THANKS])] * 2, answers
        assert [status for _, status, _ in api] == [201, 201], answers
        assert api[0][2] == api[1][2]
        _fresh()
        [sent] = _sent_events(letter)
        assert api[0][2]["event"]["id"] == sent.id
        outcome = db.session.get(LetterOutcome, letter.id)
        assert outcome is not None and outcome.sent_on == when


def test_conflicting_reports_sent_at_once_keep_one_and_refuse_the_others(on_site):
    """Four different "sent" dates at the same moment: one is recorded, three are refused
    with the reason, and none is a 500."""
    prisoner = _prisoners(1)[0]
    for _trial in range(TRIALS):
        letter = make_letter(prisoner, date.today() - timedelta(days=10))
        days = [date.today() - timedelta(days=ago) for ago in (1, 2, 3, 4)]
        answers = at_once(
            [_report_through_the_page(on_site, letter, day) for day in days[:2]]
            + [_report_through_the_api(on_site, letter, day) for day in days[2:]]
        )
        statuses = Counter(status for _, status, _ in answers)
        assert statuses[422] == 3 and statuses[302] + statuses[201] == 1, answers
        for where, status, body in answers:
            if status == 422:
                said = body if where == "page" else body["message"]
                assert ALREADY_REPORTED in said
        _fresh()
        assert len(_sent_events(letter)) == 1


# --- drives -----------------------------------------------------------------------------------


def _assignment_counts(drive: Drive, prisoners: list[Prisoner]) -> list[int]:
    rows = db.session.execute(
        select(Assignment.prisoner_id, func.count())
        .where(Assignment.drive_id == drive.id)
        .group_by(Assignment.prisoner_id)
    )
    counts = {prisoner_id: count for prisoner_id, count in rows}
    return [counts.get(p.id, 0) for p in prisoners]


def test_participants_joining_and_asking_for_more_at_once_stay_balanced(on_site):
    """Four people join at once (two prisoners each), then all ask for one more at once: the
    eight prisoners stay within one letter of each other, as if they had come one by one."""
    prisoners = _prisoners(8)
    email = _organizer()
    for trial in range(TRIALS):
        drive = _drive(email, prisoners)
        browsers = [Browser(on_site.url) for _ in range(4)]
        for browser in browsers:
            browser.open(f"/join/{drive.join_token}")
        path = f"/join/{drive.join_token}"
        joined = at_once(
            [
                partial(b.post, path, {"name": f"T{trial}-{n}", "languages": "ru"})
                for n, b in enumerate(browsers)
            ]
        )
        assert [answer.status_code for answer in joined] == [302] * 4
        _fresh()
        assert _assignment_counts(drive, prisoners) == [1] * 8, f"trial {trial}"
        pages = [answer.headers["Location"] for answer in joined]
        for browser, page in zip(browsers, pages, strict=True):
            browser.open(page)
        more = at_once(
            [partial(b.post, f"{p}/more", {}) for b, p in zip(browsers, pages, strict=True)]
        )
        assert [answer.status_code for answer in more] == [302] * 4
        _fresh()
        counts = _assignment_counts(drive, prisoners)
        assert sum(counts) == 12 and max(counts) - min(counts) <= 1, f"trial {trial}: {counts}"


def test_a_double_click_on_build_makes_one_print_pack(on_site):
    """Two clicks on "Build the print pack" at once: one pack is built, the other click is
    told it is already being built."""
    prisoners = _prisoners(1)
    email = _organizer()
    browser = Browser(on_site.url)
    browser.log_in(email)
    for trial in range(TRIALS):
        drive = _drive(email, prisoners)
        make_letter(prisoners[0], drive_id=drive.id, body="Здравствуйте!\n")
        browser.open(f"/drives/{drive.id}")
        tabs = [browser.second_tab() for _ in range(2)]
        fields = {"envelope": "dl", "sender_country": ""}
        answers = at_once([partial(t.post, f"/drives/{drive.id}/print", fields) for t in tabs])
        assert [answer.status_code for answer in answers] == [302, 302], f"trial {trial}"
        notices = sorted(tab.follow(answer) for tab, answer in zip(tabs, answers, strict=True))
        assert notices == [[], ["A print pack is already being built."]], f"trial {trial}"
        _fresh()
        jobs = db.session.scalar(
            select(func.count()).select_from(PrintJob).where(PrintJob.drive_id == drive.id)
        )
        assert jobs == 1, f"trial {trial}"


def test_marking_the_batch_sent_twice_at_once_records_each_letter_once(on_site):
    """Two clicks on "Mark the printed letters sent" at once, while two writers report two of
    the letters sent on the same day: each letter is sent once, both clicks are answered
    alike, and so are both writers (nothing waits on anything forever: no deadlock)."""
    prisoners = _prisoners(3)
    email = _organizer()
    browser = Browser(on_site.url)
    browser.log_in(email)
    for trial in range(TRIALS):
        drive = _drive(email, prisoners)
        letters = [
            make_letter(
                p, date.today() - timedelta(days=5), drive_id=drive.id, printed_at=datetime.now()
            )
            for p in prisoners
        ]
        browser.open(f"/drives/{drive.id}")
        tabs = [browser.second_tab() for _ in range(2)]
        fields = {"sent_on": date.today().isoformat(), "channel": "post"}
        writers = [_report_through_the_page(on_site, one, date.today()) for one in letters[1:]]
        answers = at_once(
            [partial(t.post, f"/drives/{drive.id}/mark-sent", fields) for t in tabs] + writers
        )
        clicks, reports = answers[:2], answers[2:]
        assert [answer.status_code for answer in clicks] == [302, 302], f"trial {trial}"
        notices = [tab.follow(answer) for tab, answer in zip(tabs, clicks, strict=True)]
        assert notices == [["3 letters marked sent."]] * 2, f"trial {trial}"
        assert reports == [("page", 302, [THANKS])] * 2, f"trial {trial}"
        _fresh()
        assert [len(_sent_events(letter)) for letter in letters] == [1, 1, 1], f"trial {trial}"


def _facilities_file(trial: int) -> bytes:
    """Two facilities no other trial has (rows match on external_id and source_url)."""
    tag = uuid.uuid4().hex[:8]
    rows = [
        "external_id,code,name,kind,region,postcode,address",
        *(
            f"race-{tag}-{n},ИК-{n},ФКУ ИК-{n} {tag},colony,Пермский край,618350,"
            f'"ул. Заводская, д. {trial}, г. Кизел"'
            for n in (1, 2)
        ),
    ]
    return ("\n".join(rows) + "\n").encode()


def test_a_double_click_on_import_imports_the_file_once(on_site):
    """Two clicks on "Import" at once, after one dry run: the file is imported once, and the
    other click is told that its upload is gone (the two machines share the upload)."""
    email = _organizer()
    browser = Browser(on_site.url)
    browser.log_in(email)
    for trial in range(TRIALS):
        browser.open("/manage/import/")
        dry_run = browser.http.post(
            f"{on_site.url}/manage/import/preview",
            data={"csrf_token": browser.token, "kind": "facilities"},
            files={"file": ("f.csv", _facilities_file(trial), "text/csv")},
            timeout=120,
        )
        assert dry_run.status_code == 200, f"trial {trial}"
        token = dry_run.text.split('name="token" type="hidden" value="', 1)[1].split('"', 1)[0]
        tabs = [browser.second_tab() for _ in range(2)]
        answers = at_once(
            [partial(t.post, "/manage/import/confirm", {"token": token}) for t in tabs]
        )
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses == [200, 302], f"trial {trial}: {statuses}"
        [(tab, gone)] = [
            (tab, answer) for tab, answer in zip(tabs, answers, strict=True)
            if answer.status_code == 302
        ]  # fmt: skip
        assert tab.follow(gone) == [
            "That upload has expired (files are kept for an hour). Upload the file again."
        ], f"trial {trial}"
        [done] = [answer for answer in answers if answer.status_code == 200]
        assert "Imported: 2 created, 0 updated." in unescape(done.text), f"trial {trial}"
        _fresh()
        assert db.session.scalar(select(func.count()).select_from(ImportUpload)) == 0


def test_the_served_site_logged_no_server_error(site):
    """Nothing above made a 500: Flask logs every exception a view raised."""
    assert "Traceback" not in site.served.log_text()
