"""Print runs of the mailroom: started from the approved letters, built in the background into
three files (letters, envelopes, a list for the post office), posted, failed and retried;
electronic runs; the API; and two starts at the same moment against a served app."""

from __future__ import annotations

import io
import re
import threading
import zipfile
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import requests
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import func, select

from app.auth.api_tokens import create_api_token
from app.extensions import db
from app.mailroom.electronic import FSIN_PISMO_PAGE_CHARS, split_pages
from app.mailroom.reference import format_reference
from app.models import (
    Channel,
    EventKind,
    MailEvent,
    MailroomItem,
    MailroomState,
    Organisation,
    PrintJobStatus,
    PrintRun,
    PrintRunKind,
    Role,
    StoredFile,
    User,
)
from app.models.base import utcnow
from app.pdf.run_files import letter_grams, postage_label, postage_step
from tests.conftest import count_queries, csrf_token, flashed, follow, log_in, page_text, submit
from tests.factories import make_facility, make_mailroom_letter, make_prisoner, make_user
from tests.servers import served_in_thread

pytestmark = pytest.mark.both_databases

TODAY = date.today()
LONG = "\n\n".join(
    f"Абзац {n}. " + "Пишу Вам о том, как прошла неделя, и о книгах, которые я читаю. " * 6
    for n in range(40)
)


def set_organisation(country: str = "DE") -> None:
    db.session.add(
        Organisation(
            id=1,
            name="Письма свободы",
            return_address="Postfach 12\nBerlin",
            postcode="10999",
            country=country,
            mailroom_open=True,
        )
    )
    db.session.commit()


def two_facilities() -> tuple[object, object]:
    """A colony in Vladimir region and a pretrial centre in Moscow (which sorts first)."""
    colony = make_facility()
    moscow = make_facility(
        code="СИЗО-1", name="ФКУ СИЗО-1 УФСИН России по г. Москве", region="Москва",
        postcode="105187", locality="г. Москва", street_address="ул. Матросская Тишина, д. 18",
        electronic_services="ФСИН-письмо",
    )  # fmt: skip
    return colony, moscow


def pdf_pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def runs_of() -> list[PrintRun]:
    return list(db.session.scalars(select(PrintRun).order_by(PrintRun.id)))


def item_states() -> dict[int, MailroomState]:
    rows = db.session.execute(select(MailroomItem.id, MailroomItem.state))
    return {row.id: row.state for row in rows}


# --- pure parts ------------------------------------------------------------------------------


def test_weights_and_postage_classes() -> None:
    assert letter_grams(1) == 10 and letter_grams(3) == 20 and letter_grams(4) == 25
    assert [postage_step(g) for g in (10, 20, 21, 50, 51, 100)] == [20, 20, 50, 50, 100, 100]
    assert postage_label(20, "en") == "up to 20 g" and postage_label(50) == "до 50 г"


def test_text_is_cut_into_pages_at_paragraphs_then_words() -> None:
    pages = split_pages(LONG, FSIN_PISMO_PAGE_CHARS)
    assert len(pages) > 1 and all(len(page) <= FSIN_PISMO_PAGE_CHARS for page in pages)
    assert all(page.startswith("Абзац") for page in pages)  # cut between paragraphs
    assert " ".join(" ".join(page.split()) for page in pages) == " ".join(LONG.split())
    assert split_pages("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


# --- a paper run, from the page --------------------------------------------------------------


def test_a_paper_run_makes_three_files_in_post_office_order_and_is_posted_once(
    client, organizer
) -> None:
    set_organisation(country="DE")
    colony, moscow = two_facilities()
    gorinov = make_prisoner(colony)
    ivanova = make_prisoner(moscow, last_name="Иванова", first_name="Анна", patronymic=None)
    first = make_mailroom_letter(gorinov, body=LONG)  # several pages: heavier than 20 g
    second = make_mailroom_letter(ivanova)
    make_mailroom_letter(gorinov, state=MailroomState.REVIEW)  # not approved: not printed
    references = {first.id: format_reference(first.reference),
                  second.id: format_reference(second.reference)}  # fmt: skip
    log_in(client, organizer)

    page = client.get("/mailroom/runs")
    assert page.status_code == 200
    assert "2 approved letters waiting for a run" in page_text(page)
    answer = submit(client, "/mailroom/runs", {"kind": "paper", "envelope": "dl",
                                               "all_approved": "1"})  # fmt: skip
    shown = follow(client, answer)
    assert "Built" in page_text(shown)

    [run] = runs_of()
    assert run.status is PrintJobStatus.DONE and run.total == run.done == 2
    assert run.lease_until is None and run.finished_at is not None
    states = item_states()
    assert states[first.id] is states[second.id] is MailroomState.PRINTED
    assert sorted(states.values()).count(MailroomState.REVIEW) == 1

    letters = client.get(f"/mailroom/runs/{run.id}/letters")
    assert letters.status_code == 200 and letters.mimetype == "application/pdf"
    assert letters.headers["Cache-Control"] == "no-store"
    texts = [" ".join(text.split()) for text in pdf_pages(letters.data)]
    # By region: Vladimir region before Moscow, so Gorinov's pages come first, then Ivanova's.
    pages_of_first = len(texts) - 1
    assert pages_of_first >= 4
    assert all("Горинову" in text for text in texts[:-1]) and "Ивановой" in texts[-1]
    for text, item in ((texts[pages_of_first - 1], first), (texts[-1], second)):
        assert f"Пожалуйста, укажите в ответе код {references[item.id]}" in text

    envelopes = pdf_pages(client.get(f"/mailroom/runs/{run.id}/envelopes").data)
    assert len(envelopes) == 2
    assert "Горинову" in envelopes[0] and "601120" in envelopes[0]
    assert "Ивановой" in envelopes[1] and "105187" in envelopes[1]
    for envelope in envelopes:
        assert "Письма свободы" in envelope and "Postfach 12" in envelope
        assert "РОССИЯ / RUSSIA" in envelope and "ГЕРМАНИЯ / GERMANY" in envelope

    cover = " ".join(pdf_pages(client.get(f"/mailroom/runs/{run.id}/cover").data))
    cover = " ".join(cover.split())
    heavy = letter_grams(pages_of_first)
    assert "ФКУ СИЗО-1 УФСИН России по г. Москве 105187 1 10 up to 20 g × 1" in cover
    assert f"{heavy} {postage_label(postage_step(heavy), 'en')} × 1" in cover
    assert f"Total 2 {heavy + 10}" in cover

    # Posted: "sent" through the organisation for both, once, however often it is said.
    token = csrf_token(client.get(f"/mailroom/runs/{run.id}").get_data(as_text=True))
    for _ in range(2):  # a double click, or the page sent again
        answer = client.post(
            f"/mailroom/runs/{run.id}/posted",
            data={"csrf_token": token, "posted_on": TODAY.isoformat()},
        )
        assert flashed(follow(client, answer)) == ["2 letters marked posted."]
    events = db.session.scalars(select(MailEvent).where(MailEvent.kind == EventKind.SENT)).all()
    assert len(events) == 2
    assert {(e.channel, e.happened_on) for e in events} == {(Channel.ORGANISATION, TODAY)}
    db.session.expire_all()
    assert {s for s in item_states().values()} >= {MailroomState.POSTED}
    posted = db.session.get(MailroomItem, first.id)
    assert posted.posted_on == TODAY and posted.state is MailroomState.POSTED
    run = db.session.get(PrintRun, run.id)
    assert run.posted_on == TODAY and run.letters_file_id is None  # the text is gone
    assert client.get(f"/mailroom/runs/{run.id}/letters").status_code == 404
    assert client.get(f"/mailroom/runs/{run.id}/envelopes").status_code == 200

    yesterday = (TODAY - timedelta(days=1)).isoformat()
    other_day = client.post(
        f"/mailroom/runs/{run.id}/posted", data={"csrf_token": token, "posted_on": yesterday}
    )
    assert "already marked posted" in flashed(follow(client, other_day))[0]
    listing = page_text(client.get("/mailroom/runs"))
    assert "No approved letters are waiting for a run." in listing


def test_posting_refuses_a_date_in_the_future_or_before_the_run(client, organizer) -> None:
    colony, _ = two_facilities()
    make_mailroom_letter(make_prisoner(colony))
    log_in(client, organizer)
    submit(client, "/mailroom/runs", {"kind": "electronic", "all_approved": "1"})
    assert runs_of() == []  # the colony has no electronic service: nothing to start
    submit(client, "/mailroom/runs", {"kind": "paper", "all_approved": "1"})
    [run] = runs_of()
    refusals = [
        (TODAY + timedelta(days=1), "This date is in the future."),
        (TODAY - timedelta(days=3), "cannot have been posted before"),
    ]
    for day, reason in refusals:
        answer = submit(client, f"/mailroom/runs/{run.id}", {"posted_on": day.isoformat()},
                        action=f"/mailroom/runs/{run.id}/posted")  # fmt: skip
        assert reason in flashed(follow(client, answer))[0]
    assert db.session.scalar(select(func.count(MailEvent.id))) == 0


# --- choosing, refusing, failing -------------------------------------------------------------


def test_a_selection_takes_only_the_chosen_letters_and_one_run_at_a_time(app, client) -> None:
    volunteer = make_user(email="post@example.org", role=Role.MAILROOM)
    colony, _ = two_facilities()
    prisoner = make_prisoner(colony)
    chosen, other = make_mailroom_letter(prisoner), make_mailroom_letter(prisoner)
    review = make_mailroom_letter(prisoner, state=MailroomState.REVIEW)
    log_in(client, volunteer)
    # A run of the same kind at work: refused, and nothing is claimed.
    busy = PrintRun(kind=PrintRunKind.PAPER, status=PrintJobStatus.RUNNING,
                    lease_until=utcnow() + timedelta(minutes=5))  # fmt: skip
    db.session.add(busy)
    db.session.commit()
    answer = submit(client, "/mailroom/runs", {"kind": "paper", "letters": [chosen.id],
                                               "chosen": "1"})  # fmt: skip
    assert flashed(follow(client, answer)) == ["A run is already being built."]
    assert db.session.scalar(select(func.count(PrintRun.id))) == 1
    # Its lease ran out: swept as interrupted, and the start goes ahead.
    busy.lease_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    answer = submit(client, "/mailroom/runs", {"kind": "paper", "letters": [review.id],
                                               "chosen": "1"})  # fmt: skip
    assert "not approved letters waiting for a run" in flashed(follow(client, answer))[0]
    submit(client, "/mailroom/runs", {"kind": "paper", "letters": [chosen.id], "chosen": "1"})
    db.session.expire_all()
    swept, run = runs_of()
    assert swept.status is PrintJobStatus.FAILED and "interrupted" in page_text(
        client.get(f"/mailroom/runs/{swept.id}")
    )
    assert run.status is PrintJobStatus.DONE and run.total == 1
    states = item_states()
    assert states[chosen.id] is MailroomState.PRINTED
    assert states[other.id] is MailroomState.APPROVED
    assert db.session.get(MailroomItem, other.id).print_run_id is None


def test_a_run_page_follows_the_build_through_its_status(client) -> None:
    volunteer = make_user(email="post@example.org", role=Role.MAILROOM)
    building = PrintRun(kind=PrintRunKind.PAPER, status=PrintJobStatus.RUNNING, total=40,
                        done=10, lease_until=utcnow() + timedelta(minutes=5))  # fmt: skip
    db.session.add(building)
    db.session.commit()
    url = f"/mailroom/runs/{building.id}/status"
    assert client.get(url).status_code == 302  # to the login page
    log_in(client, volunteer)
    page = client.get(f"/mailroom/runs/{building.id}").get_data(as_text=True)
    assert f'data-url="{url}"' in page and "js/run.js" in page
    assert client.get(url).get_json() == {
        "state": "running", "label": "Being built", "done": 10, "total": 40, "percent": 25,
        "active": True,
    }  # fmt: skip
    building.status, building.done = PrintJobStatus.DONE, 40
    db.session.commit()
    assert client.get(url).get_json()["active"] is False  # the page reloads to show its files
    assert 'data-url="' not in client.get(f"/mailroom/runs/{building.id}").get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.TRANSLATOR])
def test_only_the_mailroom_sees_runs(client, role) -> None:
    assert client.get("/mailroom/runs").status_code == 302  # to the login page
    log_in(client, make_user(email="t@example.org", role=role))
    assert client.get("/mailroom/runs").status_code == 403


def test_a_failed_run_says_why_gives_its_letters_back_and_can_be_retried(
    client, organizer, monkeypatch
) -> None:
    import app.pdf.pack
    from app.pdf.pack_layout import PackRenderError

    colony, _ = two_facilities()
    item = make_mailroom_letter(make_prisoner(colony))
    log_in(client, organizer)

    def broken(*args, **kwargs):
        raise PackRenderError("letter 1 of 1 could not be rendered")

    monkeypatch.setattr(app.pdf.pack, "render_pack", broken)
    shown = follow(client, submit(client, "/mailroom/runs", {"kind": "paper",
                                                             "all_approved": "1"}))  # fmt: skip
    assert "could not be rendered" in page_text(shown)
    assert "Its letters are back among the approved letters." in page_text(shown)
    [failed] = runs_of()
    assert failed.status is PrintJobStatus.FAILED and failed.lease_until is None
    assert client.get(f"/mailroom/runs/{failed.id}/letters").status_code == 404
    assert db.session.scalar(select(StoredFile.id)) is None
    back = db.session.get(MailroomItem, item.id)
    assert back.state is MailroomState.APPROVED and back.print_run_id is None

    monkeypatch.undo()
    submit(client, "/mailroom/runs", {"kind": "paper", "all_approved": "1"})
    db.session.expire_all()
    retried = runs_of()[-1]
    assert retried.id != failed.id and retried.status is PrintJobStatus.DONE
    assert db.session.get(MailroomItem, item.id).state is MailroomState.PRINTED


# --- electronic runs -------------------------------------------------------------------------


def test_an_electronic_run_exports_text_pages_and_records_the_electronic_channel(
    client, organizer
) -> None:
    colony, moscow = two_facilities()
    electronic = make_mailroom_letter(
        make_prisoner(moscow, last_name="Иванова", first_name="Анна", patronymic=None), body=LONG
    )
    on_paper = make_mailroom_letter(make_prisoner(colony))
    log_in(client, organizer)
    answer = submit(client, "/mailroom/runs", {"kind": "electronic", "all_approved": "1"})
    [run] = runs_of()
    assert run.kind is PrintRunKind.ELECTRONIC and run.status is PrintJobStatus.DONE
    assert run.total == 1 and run.envelopes_file_id is None and run.cover_file_id is None
    assert "Built" in page_text(follow(client, answer))
    download = client.get(f"/mailroom/runs/{run.id}/letters")
    assert download.mimetype == "application/zip"
    assert (
        f'filename="konvert-run-{run.id}-letters.zip"' in download.headers["Content-Disposition"]
    )
    archive = zipfile.ZipFile(io.BytesIO(download.data))
    code = format_reference(electronic.reference)
    assert sorted(archive.namelist()) == [f"001-{code}.txt", "index.txt"]
    text = archive.read(f"001-{code}.txt").decode()
    assert f"Код: {code}" in text and "Кому: Ивановой Анне" in text
    assert "ФСИН-письмо (2500 знаков на странице" in text
    pages = re.split(r"----- Страница \d+ из \d+ -----\n", text)[1:]
    assert len(pages) > 1 and all(len(page.strip()) <= FSIN_PISMO_PAGE_CHARS for page in pages)
    assert f"Пожалуйста, укажите в ответе код {code}" in pages[-1]
    states = item_states()
    assert states[electronic.id] is MailroomState.PRINTED
    assert states[on_paper.id] is MailroomState.APPROVED

    submit(client, f"/mailroom/runs/{run.id}", {"posted_on": TODAY.isoformat()},
           action=f"/mailroom/runs/{run.id}/posted")  # fmt: skip
    event = db.session.scalar(select(MailEvent))
    assert event.kind is EventKind.SENT and event.channel is Channel.ELECTRONIC


# --- the API ---------------------------------------------------------------------------------


def bearer(user: User) -> dict[str, str]:
    _token, raw = create_api_token(db.session.get(User, user.id), "script")
    db.session.commit()
    return {"Authorization": f"Bearer {raw}"}


def test_the_api_starts_follows_downloads_and_posts_a_run(client, organizer) -> None:
    _colony, moscow = two_facilities()
    items = [make_mailroom_letter(make_prisoner(moscow)) for _ in range(2)]
    headers = bearer(organizer)
    assert client.post("/api/v1/mailroom/runs", json={"all_approved": True}).status_code == 401
    refused = client.post("/api/v1/mailroom/runs", json={}, headers=headers)
    assert refused.status_code == 422 and refused.get_json()["field"] == "body"
    started = client.post("/api/v1/mailroom/runs", json={"letters": [items[0].id]},
                          headers=headers)  # fmt: skip
    assert started.status_code == 202
    run_id = started.get_json()["id"]
    assert started.get_json()["state"] == "queued"  # as it was when answered
    shown = client.get(f"/api/v1/mailroom/runs/{run_id}", headers=headers).get_json()
    assert shown["state"] == "done" and shown["progress"] == 100 and shown["letters"] == 1
    files = shown["files"]
    assert set(files) == {"letters", "envelopes", "cover"} and all(files.values())
    letters = client.get(files["letters"], headers=headers)
    assert letters.status_code == 200 and letters.mimetype == "application/pdf"
    assert client.get(files["letters"]).status_code == 401

    nothing = client.post("/api/v1/mailroom/runs", json={"letters": [items[0].id]},
                          headers=headers)  # fmt: skip
    assert nothing.status_code == 422 and nothing.get_json()["field"] == "letters"

    for _ in range(2):
        posted = client.post(f"/api/v1/mailroom/runs/{run_id}/posted",
                             json={"date": TODAY.isoformat()}, headers=headers)  # fmt: skip
        assert posted.status_code == 200
        assert posted.get_json() == {"id": run_id, "posted_on": TODAY.isoformat(), "letters": 1}
    assert db.session.scalar(select(func.count(MailEvent.id))) == 1
    future = client.post(f"/api/v1/mailroom/runs/{run_id}/posted",
                         json={"date": "2999-01-01"}, headers=headers)  # fmt: skip
    assert future.status_code == 422
    assert client.get("/api/v1/mailroom/runs/999", headers=headers).status_code == 404
    after = client.get(f"/api/v1/mailroom/runs/{run_id}", headers=headers).get_json()
    assert after["posted_on"] == TODAY.isoformat() and after["files"]["letters"] is None


# --- two starts at the same moment, against a served app -------------------------------------


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    """The app on a real threaded HTTP server on loopback; runs are queued for a consumer
    that is not running, so that they stay claimed while the test looks."""
    app.config["HUEY_IMMEDIATE"] = False
    with served_in_thread(app) as url:
        yield url


def race(url: str, bodies: list[tuple[dict[str, str], dict[str, object]]]) -> list[int]:
    """POST each body at the same moment (a barrier); the status codes, in order (and the
    refusals' messages in ``race.refusals``)."""
    barrier = threading.Barrier(len(bodies))
    codes: list[int] = [0] * len(bodies)
    race.refusals = []

    def send(index: int) -> None:
        headers, body = bodies[index]
        barrier.wait()
        answer = requests.post(url, json=body, headers=headers, timeout=30)
        codes[index] = answer.status_code
        if answer.status_code == 422:
            race.refusals.append(answer.json()["message"])

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return codes


def test_two_starts_at_the_same_moment_never_share_a_letter(app, served) -> None:
    _colony, moscow = two_facilities()
    one = bearer(make_user(email="one@example.org", role=Role.MAILROOM))
    two = bearer(make_user(email="two@example.org", role=Role.MAILROOM))
    url = f"{served}/api/v1/mailroom/runs"
    for trial in range(3):
        prisoner = make_prisoner(moscow, last_name=f"Петров{trial}")
        for _ in range(3):
            make_mailroom_letter(prisoner)
        # Two paper runs: one is made, the other is told a run is being built.
        codes = race(url, [(one, {"all_approved": True}), (two, {"all_approved": True})])
        assert sorted(codes) == [202, 422], codes
        assert race.refusals == ["A run is already being built."]
        # A paper run and an electronic run of the same letters: each letter goes to one.
        db.session.execute(PrintRun.__table__.update().values(status=PrintJobStatus.FAILED))
        db.session.execute(MailroomItem.__table__.update().values(print_run_id=None))
        db.session.commit()
        codes = race(url, [(one, {"all_approved": True}),
                           (two, {"all_approved": True, "kind": "electronic"})])  # fmt: skip
        assert 202 in codes, codes
        db.session.expire_all()
        active = db.session.scalars(
            select(PrintRun).where(PrintRun.status == PrintJobStatus.QUEUED)
        ).all()
        claimed = db.session.scalars(
            select(MailroomItem.print_run_id).where(MailroomItem.print_run_id.is_not(None))
        ).all()
        assert sum(run.total for run in active) == len(claimed)
        assert {run.id for run in active} >= set(claimed)
        # Ready for the next trial: every run failed, every letter printed.
        db.session.execute(PrintRun.__table__.update().values(status=PrintJobStatus.FAILED))
        db.session.execute(MailroomItem.__table__.update().values(state=MailroomState.PRINTED))
        db.session.commit()


def test_the_runs_page_asks_the_same_number_of_queries_however_many_letters(
    client, organizer
) -> None:
    colony, moscow = two_facilities()
    log_in(client, organizer)
    make_mailroom_letter(make_prisoner(colony))
    db.session.add(PrintRun(total=0))
    db.session.commit()
    few = count_queries(client, "/mailroom/runs")
    for number in range(5):
        make_mailroom_letter(
            make_prisoner(moscow if number % 2 else colony, last_name=f"П{number}")
        )
        db.session.add(PrintRun(total=0, status=PrintJobStatus.FAILED))
    db.session.commit()
    assert count_queries(client, "/mailroom/runs") == few


def test_the_sweeper_gives_back_the_letters_of_a_lost_run_and_old_files_are_purged(app) -> None:
    from app.mailroom import runs
    from app.mailroom.tasks import end_abandoned_print_runs, purge_print_run_files
    from app.stored_files import store_file

    colony, _ = two_facilities()
    item = make_mailroom_letter(make_prisoner(colony))
    lost = PrintRun(kind=PrintRunKind.PAPER, status=PrintJobStatus.RUNNING, total=1,
                    lease_until=utcnow() - timedelta(seconds=1))  # fmt: skip
    db.session.add(lost)
    db.session.flush()
    db.session.get(MailroomItem, item.id).print_run_id = lost.id
    old = store_file(runs.PRINT_RUN_FILE, b"%PDF old", "application/pdf")
    kept = store_file(runs.PRINT_RUN_FILE, b"%PDF new", "application/pdf")
    orphan = store_file(runs.PRINT_RUN_FILE, b"%PDF orphan", "application/pdf")
    pack = store_file("print_pack", b"%PDF drive", "application/pdf")
    db.session.add_all([
        PrintRun(kind=PrintRunKind.ELECTRONIC, status=PrintJobStatus.DONE, cover_file_id=old.id,
                 finished_at=utcnow() - timedelta(days=30)),
        PrintRun(kind=PrintRunKind.ELECTRONIC, status=PrintJobStatus.DONE, cover_file_id=kept.id,
                 finished_at=utcnow()),
    ])  # fmt: skip
    db.session.commit()
    ids = {old.id, kept.id, orphan.id, pack.id}

    end_abandoned_print_runs.call_local()
    purge_print_run_files.call_local()
    db.session.expire_all()
    assert db.session.get(PrintRun, lost.id).error == "interrupted"
    back = db.session.get(MailroomItem, item.id)
    assert back.print_run_id is None and back.state is MailroomState.APPROVED
    left = set(db.session.scalars(select(StoredFile.id).where(StoredFile.id.in_(ids))))
    assert left == {kept.id, pack.id}
