"""Issue 15, "Privacy at rest": the seized-server test.

Konvert is served as `make run` serves it (scripts/run.sh: setup, gunicorn and the job
consumer) on a fresh instance folder of a single-machine install: no KONVERT_SECRET_KEY and no
KONVERT_MASTER_KEY, so both keys are files in the instance folder, next to the database. A
headless Chromium walks every supporter path with canary strings made for this run; then every
byte of every file under the instance folder (konvert.db and its -wal/-shm, jobs.db, key files,
anything) and the server's log is read, once while the server still runs (a seizure does not
wait for a clean shutdown) and once after it stopped, and no canary and no raw link may be in
it, in any of the forms it could take (UTF-8, UTF-16, JSON and URL escapes).

What a seizure reveals depends on whether it gets the master key (the `master_key` file here;
KONVERT_MASTER_KEY when it is kept off the disk):
- without it: no letter text, signature, address, note or link at all; link hashes cannot even
  be tested against a guessed link;
- with it (this install: the file is on the seized disk): also the text of the drive letters
  still in the organisers' hands (their key copy is wrapped with the master key), and what the
  instance must read back itself (a drive's join link, reminder addresses). Once a drive's
  batch is marked sent, its letters are their writers' alone: no byte on the disk, read with
  the master key, gives their text back. The test proves both halves with the key file.

Links searched for: every letter's tracking link, the drive participant's link, the drive's
join link (the organisers share it, but the drive page shows it again, so it is kept encrypted
with the instance key and must not be found in plaintext either), and the reminder's
confirmation and delete links. Not searched for, because the app keeps them readable on
purpose: the name a participant gives for the evening (the organisers see it), the
organiser's account, the prisoners and officials (public data).

SQLite's write-ahead log keeps the frames that held a row after the row is changed or deleted,
until it is checkpointed and truncated or overwritten; `secure_delete` zeroes the database
file only. The checks of what must be gone (a posted drive letter's key copy and pack, a
deleted reminder subscription) therefore read the WAL of the running server too.
"""

from __future__ import annotations

import io
import json
import re
import secrets
import shutil
import sqlite3
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect, sync_playwright
from pypdf import PdfReader

from app.privacy.crypto import CannotDecrypt, decrypt_field, unwrap_key
from app.privacy.master_key import parse_master_key
from app.russian.tracking_numbers import domestic_check_digit
from tests.servers import START_SECONDS, VENV_BIN, Served, free_port, konvert_environment, run_sh
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS
from tests.test_mail import smtp_server

pytestmark = pytest.mark.browser

# A single-machine install: both keys are made in the instance folder on first start.
OWN_KEYS = ("SECRET_KEY", "MASTER_KEY")
PRISONER = "Горелов Михаил Андреевич"  # a demo prisoner (app/demo/prisoners.yaml)
ORGANIZER = ("organiser@example.org", "a long organiser password")
# As `make run` serves a new install: with the demo data (prisoners, officials, letters).
DEMO = {"DEMO": "1"}
TIME = re.compile(r"\d{4}-\d\d-\d\d")  # a stored time: shared by many rows, not a secret


def _canary(label: str) -> str:
    """A string made for this run only: a readable label and 16 random hex digits."""
    return f"{label}-{secrets.token_hex(8)}"


@dataclass
class Secrets:
    """What must not be found on the seized disk, by name."""

    found_by_name: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, value: str) -> str:
        self.found_by_name[name] = value
        return value


def _forms(value: str) -> set[bytes]:
    """The byte sequences ``value`` may be stored as: UTF-8, UTF-16 (both orders), a JSON
    string with \\u escapes, URL-encoded. A canary's random hex part alone is searched too, so
    that any other escaping of its label (HTML entities, a pickled or quoted string) is
    caught as well."""
    texts = {value, json.dumps(value)[1:-1], urllib.parse.quote_plus(value)}
    if "-" in value and all(c in "0123456789abcdef" for c in value.rsplit("-", 1)[1]):
        texts.add(value.rsplit("-", 1)[1])
    return {
        text.encode(encoding) for text in texts for encoding in ("utf-8", "utf-16-le", "utf-16-be")
    }


def _every_byte(instance: Path, log: Path) -> dict[str, bytes]:
    """Every file under the instance folder, and the server's log (on a real machine in the
    journal, on the same disk), by name."""
    files = {str(path.relative_to(instance)): path.read_bytes() for path in _files(instance)}
    files["(server log)"] = log.read_bytes()
    return files


def _files(folder: Path) -> Iterator[Path]:
    return (path for path in sorted(folder.rglob("*")) if path.is_file())


def _leaks(files: dict[str, bytes], hidden: dict[str, str]) -> list[str]:
    """Where any of ``hidden`` appears, as "name in file at byte offset", once a file."""
    found = []
    for name, value in hidden.items():
        forms = _forms(value)
        for file_name, content in files.items():
            offsets = [offset for offset in map(content.find, forms) if offset >= 0]
            if offsets:
                found.append(f"{name} {value!r} in {file_name} at byte {min(offsets)}")
    return found


def _database_copy(instance: Path, into: Path) -> sqlite3.Connection:
    """A copy of the database files as they are on the disk now, opened (the copy, never the
    live files: opening those could checkpoint the server's WAL)."""
    into.mkdir(parents=True, exist_ok=True)
    for path in instance.glob("konvert.db*"):
        shutil.copyfile(path, into / path.name)
    return sqlite3.connect(into / "konvert.db")


def _create_organiser(instance: Path, folder: Path) -> None:
    """An admin account made with the command line, as the README says."""
    password_file = folder / "password"
    password_file.write_text(ORGANIZER[1] + "\n")
    environment = konvert_environment(instance, {}, OWN_KEYS)
    environment["FLASK_APP"] = "app:create_app"
    flask = str(VENV_BIN / "flask")
    result = subprocess.run(
        [flask, "users", "create-admin", ORGANIZER[0], "--password-file", str(password_file)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=START_SECONDS,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _token(url: str, before: str) -> str:
    return urllib.parse.urlsplit(url).path.split(before, 1)[1].split("/")[0]


def _open_prisoner(page: Page, served: Served) -> None:
    page.goto(served.url + "/")
    page.get_by_label("Find a prisoner by name").fill("Горелов")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=PRISONER).first.click()


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _print_form_pdf(page: Page) -> str:
    """Submit the print form; the text of the PDF the server answered.

    Chromium shows a PDF in its viewer, which stands in for the response's body: the answer
    is read on its way to the page instead (sent once, as the browser sent it)."""
    answers: list[bytes] = []

    def keep(route: Route) -> None:
        answer = route.fetch()
        answers.append(answer.body())
        route.fulfill(response=answer)

    page.route("**/t/*/pdf", keep)
    with page.expect_response(lambda response: response.url.endswith("/pdf")):
        page.get_by_role("button", name="Download PDF").click()
    page.unroute("**/t/*/pdf", keep)
    [pdf] = answers
    return _pdf_text(pdf)


def _write_letter(page: Page, served: Served, hidden: Secrets) -> str:
    """A letter with a canary text and signature, its PDF, a print with a typed return address
    (never stored), a report with a note and a tracking number; returns its token."""
    _open_prisoner(page, served)
    page.get_by_role("link", name="Write a letter").click()
    signature = hidden.add("signature", _canary("Подпись"))
    text = hidden.add("letter text", _canary("канарейка"))
    page.get_by_label("Sign with").fill(signature)
    page.get_by_label("Your letter").fill(f"Здравствуйте!\n\nУ нас весна. {text}\n\n{signature}")
    page.get_by_role("button", name="Save and get my tracking link").click()
    expect(page.get_by_role("heading", name="Your letter is saved")).to_be_visible()
    token = hidden.add("letter link", _token(page.url, "/t/"))

    href = page.get_by_role("link", name="Download PDF with a DL envelope").get_attribute("href")
    assert text in _pdf_text(page.context.request.get(served.url + str(href)).body())

    return_address = hidden.add("return address", _canary("ул. Канареечная"))
    page.locator("summary", has_text="Print with your return address").click()
    page.get_by_label("Your return address").fill(return_address)
    assert return_address in _print_form_pdf(page)
    page.goto(f"{served.url}/t/{token}")

    stem = "".join(secrets.choice("0123456789") for _ in range(13))
    number = hidden.add("tracking number", f"{stem}{domestic_check_digit(stem)}")
    note = hidden.add("event note", _canary("заметка"))
    page.get_by_label("What happened").select_option("sent")
    page.get_by_label("When").fill(date.today().isoformat())
    page.get_by_label("How it was sent").select_option("registered")
    page.get_by_label("Tracking number (optional)").fill(number)
    page.get_by_label("Note").fill(note)
    page.get_by_role("button", name="Report").click()
    expect(page.locator(".timeline")).to_contain_text(note)
    expect(page.locator(".timeline")).to_contain_text(number)
    return token


def _use_the_api(context: BrowserContext, served: Served, token: str, hidden: Secrets) -> None:
    letter = context.request.get(f"{served.url}/api/v1/letters/{token}")
    assert letter.status == 200 and letter.json()["status"] == "sent"
    note = hidden.add("API note", _canary("заметка-api"))
    report = {"kind": "arrived", "date": date.today().isoformat(), "note": note,
              "confirm_same_day": True}  # fmt: skip
    answer = context.request.post(f"{served.url}/api/v1/letters/{token}/events", data=report)
    assert answer.status == 201, answer.text()
    assert context.request.get(f"{served.url}/t/{token}").text().count(note) == 1


def _write_appeal(page: Page, served: Served, hidden: Secrets) -> None:
    """An appeal to the head of the prisoner's facility, its sender address kept."""
    _open_prisoner(page, served)
    page.get_by_role("link", name="Write an appeal").click()
    page.locator(".official-card").first.get_by_role(
        "link", name="Write to this addressee"
    ).click()
    page.get_by_label("Your full name").fill(hidden.add("appeal signature", _canary("Заявитель")))
    page.get_by_label("Your appeal").fill(
        "Прошу сообщить о состоянии здоровья. " + hidden.add("appeal text", _canary("обращение"))
    )
    page.get_by_role("button", name="Save and get my tracking link").click()
    expect(page.get_by_role("heading", name="Your appeal is saved")).to_be_visible()
    appeal = hidden.add("appeal link", _token(page.url, "/t/"))
    address = hidden.add("appeal address", _canary("ул. Обращения"))
    page.locator("summary", has_text="Print with your return address").click()
    page.get_by_label("Your postal address for the answer").fill(address)
    page.get_by_label("Keep this address with the appeal").check()
    assert address in _print_form_pdf(page)
    page.goto(f"{served.url}/t/{appeal}")
    expect(page.get_by_label("Your postal address for the answer")).to_have_value(address)


def _log_in(page: Page, served: Served) -> None:
    page.goto(served.url + "/login")
    page.get_by_label("Email").fill(ORGANIZER[0])
    page.get_by_label("Password").fill(ORGANIZER[1])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def _drive_letter(
    organiser: Page, writer: Page, served: Served, hidden: Secrets
) -> tuple[str, str]:
    """A drive, a participant and their letter; returns (drive page URL, letter text)."""
    organiser.goto(served.url + "/drives/new")
    organiser.get_by_label("Title").fill("Вечер писем")
    organiser.get_by_label("Date").fill(date.today().isoformat())
    organiser.get_by_role("button", name="Create the drive").click()
    code = organiser.locator("#drive-code").inner_text()
    # The join link is the organisers' to share, not a supporter's: the drive page must show it
    # again, so it is kept encrypted with the instance key. In plaintext it must not be.
    hidden.add(
        "drive join link", _token(organiser.get_by_label("Join link").input_value(), "/join/")
    )

    writer.goto(served.url + "/join")
    writer.get_by_label("Code of the evening").fill(code)
    writer.get_by_role("button", name="Continue").click()
    writer.get_by_label("Your name for this evening").fill("Лиса")
    writer.get_by_role("button", name="Join").click()
    hidden.add("participant link", _token(writer.url, "/drives/p/"))
    writer.get_by_role("link", name="Write", exact=True).first.click()
    text = hidden.add("drive letter text", _canary("письмо-вечера"))
    writer.get_by_label("Sign with").fill(hidden.add("drive signature", _canary("Лиса")))
    writer.get_by_label("Your letter").fill(f"Добрый день!\n\n{text}")
    writer.get_by_role("button", name="Save and get my tracking link").click()
    mine = writer.get_by_role("link", name="Your private link to this letter")
    hidden.add("drive letter link", _token(str(mine.get_attribute("href")), "/t/"))
    return organiser.url, text


def _build_pack(organiser: Page, served: Served) -> str:
    """Build the drive's print pack; returns its download URL."""
    organiser.get_by_role("button", name="Build the print pack").click()
    expect(organiser.locator("#job-status")).to_have_text("Ready", timeout=90_000)
    href = organiser.get_by_role("link", name="Download the print pack").get_attribute("href")
    return served.url + str(href)


def _organisers_copy(database: sqlite3.Connection) -> tuple[int, bytes | None, bytes]:
    """The drive letter's id, its organisers' key copy and its encrypted text."""
    row = database.execute(
        "SELECT id, organisers_key, body_encrypted FROM letter WHERE drive_id IS NOT NULL"
    ).fetchone()
    return row[0], row[1], row[2]


def _read_with_master_key(master: bytes, letter_id: int, wrapped: bytes, body: bytes) -> str:
    """What anyone with the master key file reads of a letter with an organisers' copy."""
    key = unwrap_key(master, wrapped, context=f"letter:{letter_id}")
    return decrypt_field(key, body, context="letter:body")


def _blobs_in(files: dict[str, bytes], blobs: dict[str, bytes]) -> list[str]:
    """Where any of ``blobs`` (or a 64-byte piece of it) appears, as "name in file at offset"."""
    found = []
    for name, blob in blobs.items():
        pieces = {blob[start : start + 64] for start in range(0, max(len(blob) - 63, 1), 4096)}
        for file_name, content in files.items():
            offsets = sorted(o for o in (content.find(piece) for piece in pieces) if o >= 0)
            if offsets:
                found.append(f"{name} in {file_name} at byte {offsets[0]}")
    return found


def _delete_with_the_button(page: Page, served: Served, token: str) -> None:
    page.goto(f"{served.url}/t/{token}")
    page.get_by_role("link", name="Delete this letter…").click()
    page.get_by_role("button", name="Delete this letter for good").click()
    expect(page.locator(".flash")).to_contain_text("Your letter was deleted.")
    assert page.context.request.get(f"{served.url}/t/{token}").status == 404


def test_a_seized_server_reveals_no_letter_and_no_link(tmp_path):
    instance, log, hidden = tmp_path / "instance", tmp_path / "server.log", Secrets()
    instance.mkdir()
    with run_sh(instance, DEMO, log, unset=OWN_KEYS) as served, sync_playwright() as playwright:
        _create_organiser(instance, tmp_path)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        writer = browser.new_context(locale="en-GB")
        page = writer.new_page()
        letter = _write_letter(page, served, hidden)
        _use_the_api(writer, served, letter, hidden)
        _write_appeal(page, served, hidden)

        organiser = browser.new_context(locale="en-GB").new_page()
        _log_in(organiser, served)
        participant = browser.new_context(locale="en-GB").new_page()
        drive_page, drive_text = _drive_letter(organiser, participant, served, hidden)
        pack = _build_pack(organiser, served)
        assert drive_text in _pdf_text(organiser.context.request.get(pack).body())

        # Until the batch is posted, the master key file reads the drive letter: organisers
        # must print it. (Without the master key, the same rows give nothing.)
        master = parse_master_key((instance / "master_key").read_text(), source="master_key")
        before = _database_copy(instance, tmp_path / "before")
        letter_id, wrapped, body = _organisers_copy(before)
        [(pack_bytes,)] = before.execute("SELECT data FROM stored_file_chunk").fetchall()
        assert wrapped is not None
        assert drive_text in _read_with_master_key(master, letter_id, wrapped, body)
        with pytest.raises(CannotDecrypt):
            _read_with_master_key(secrets.token_bytes(32), letter_id, wrapped, body)
        seized_in_hands = _every_byte(instance, log)

        organiser.goto(drive_page)
        organiser.get_by_role("button", name="Mark the printed letters sent").click()
        expect(organiser.locator(".flash")).to_contain_text("1 letter marked sent.")
        assert organiser.context.request.get(pack).status == 410  # the pack is gone
        # The participant's own link still opens the letter.
        participant.reload()
        participant.get_by_role("link", name="Your private link to this letter").click()
        expect(participant.locator(".paper")).to_contain_text(drive_text)

        _delete_with_the_button(page, served, letter)
        time.sleep(2)  # let the job consumer finish what the last requests queued
        seized_running = _every_byte(instance, log)
        browser.close()
    seized_stopped = _every_byte(instance, log)

    seizures = {
        "running, drive letter in the organisers' hands": seized_in_hands,
        "running, batch posted and a letter deleted": seized_running,
        "stopped": seized_stopped,
    }
    found = [
        f"{when}: {leak}"
        for when, seized in seizures.items()
        for leak in _leaks(seized, hidden.found_by_name)
    ]
    assert not found, "\n".join(found)
    # After posting, no copy of the drive letter's key (which the master key file opens) and no
    # byte of its print pack (encrypted with a key derived from the master key) may be left.
    # SQLite's secure_delete zeroes them in konvert.db, but the WAL keeps the frames that held
    # them until the WAL is checkpointed and truncated (a clean shutdown does that; a seizure
    # of the running server does not wait for it): then anyone with the master key file reads
    # the letter after all.
    posted = {"the drive letter's organisers' key copy": wrapped, "its print pack": pack_bytes}
    found = [
        f"{when}: {leak}"
        for when, seized in list(seizures.items())[1:]
        for leak in _blobs_in(seized, posted)
    ]
    assert not found, "\n".join(found)
    # The master key is in its own file only: not logged, not in a database.
    master_key = {"master key": master.hex()}
    for seized in seizures.values():
        assert [leak for leak in _leaks(seized, master_key) if " in master_key " not in leak] == []

    database = _database_copy(instance, tmp_path / "after")
    assert _organisers_copy(database)[1] is None
    assert database.execute("SELECT count(*) FROM stored_file_chunk").fetchone() == (0,)
    # The deleted letter: nothing tied to its link is left, only its anonymous outcome.
    assert database.execute(
        "SELECT count(*) FROM letter WHERE token_hash IS NULL AND body_encrypted IS NULL"
        " AND signature_encrypted IS NULL AND public_key IS NULL"
    ).fetchone() == (1,)
    kept_reports = database.execute(
        "SELECT mail_event.kind, note_encrypted, tracking_number_encrypted FROM mail_event"
        " JOIN letter ON letter.id = mail_event.letter_id WHERE letter.token_hash IS NULL"
        " ORDER BY mail_event.kind"
    ).fetchall()
    assert kept_reports == [("arrived", None, None), ("sent", None, None)]


def test_a_seized_server_reveals_no_reminder_address(tmp_path):
    """A reminder subscription, confirmed through the mailed link, then deleted."""
    instance, log, hidden = tmp_path / "instance", tmp_path / "server.log", Secrets()
    instance.mkdir()
    smtp_port = free_port()
    settings = {
        **DEMO,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_port),
        "MAIL_USE_TLS": "0",
    }
    with (
        smtp_server(smtp_port) as inbox,
        run_sh(instance, settings, log, unset=OWN_KEYS) as served,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(locale="en-GB").new_page()
        _open_prisoner(page, served)
        page.get_by_role("link", name="Write a letter").click()
        page.get_by_label("Sign with").fill("Марк")
        page.get_by_label("Your letter").fill("Здравствуйте! У нас весна.")
        page.get_by_role("button", name="Save and get my tracking link").click()
        letter = hidden.add("letter link", _token(page.url, "/t/"))

        email = hidden.add("reminder email", f"{_canary('seized')}@example.org")
        page.get_by_label("Your email").fill(email)
        page.get_by_role("button", name="Remind me").click()
        deadline = time.monotonic() + START_SECONDS
        while not inbox.messages:
            assert time.monotonic() < deadline, f"no confirmation mail:\n{served.log_text()}"
            time.sleep(0.3)
        [(_sender, recipients)] = inbox.envelopes
        assert recipients == [email]
        mailed = inbox.text(inbox.messages[0])
        confirm_url = next(word for word in mailed.split() if "/confirm/" in word)
        hidden.add("confirmation link", _token(confirm_url, "/confirm/"))
        page.goto(confirm_url)
        page.get_by_role("button", name="Confirm my address").click()
        page.goto(f"{served.url}/t/{letter}")
        expect(page.locator("#reminders")).to_contain_text(
            f"Reminders for this letter go to {email}."
        )
        delete_form = page.locator("#reminders form").first.get_attribute("action")
        hidden.add("unsubscribe link", _token(str(delete_form), "/unsubscribe/reminder/"))
        time.sleep(2)  # let the job consumer finish what the last requests queued
        seized_while_kept = _every_byte(instance, log)
        # Whatever form the subscription takes in the database (plain or encrypted), none of
        # its values may outlive it.
        copy = _database_copy(instance, tmp_path / "subscribed")
        kept = _stored_values(copy, "SELECT * FROM reminder_subscription")
        kept |= _stored_values(copy, "SELECT * FROM outbox_message WHERE reminder_id IS NOT NULL")

        page.locator("#reminders").get_by_role("button", name="Delete my address").click()
        expect(page.locator("body")).to_contain_text("deleted")
        time.sleep(2)  # let the job consumer finish what the last requests queued
        seized_after_deletion = _every_byte(instance, log)
        browser.close()
    seized_after_stopping = _every_byte(instance, log)

    # needs mail-privacy: on main the address and the unsubscribe link are kept in plaintext
    # (reminder_subscription.email and .token; the confirmation email's recipient and link in
    # outbox_message until it is sent, and in the WAL after that).
    found = [
        f"{when}: {leak}"
        for when, seized in (
            ("while kept", seized_while_kept),
            ("after deletion", seized_after_deletion),
            ("after stopping", seized_after_stopping),
        )
        for leak in _leaks(seized, hidden.found_by_name)
    ]
    assert not found, "\n".join(found)
    # Deleted: no value of the subscription is left, in any form, WAL included.
    found = [
        f"{when}: {leak}"
        for when, seized in (
            ("after deletion", seized_after_deletion),
            ("after stopping", seized_after_stopping),
        )
        for leak in _blobs_in(seized, kept)
    ]
    assert not found, "\n".join(found)


def _stored_values(database: sqlite3.Connection, query: str) -> dict[str, bytes]:
    """The values of the rows ``query`` selects that could only be theirs: texts and blobs of
    16 bytes or more (addresses, links, hashes, ciphertexts), by column."""
    cursor = database.execute(query)
    names = [column[0] for column in cursor.description]
    values = {}
    for number, row in enumerate(cursor.fetchall()):
        for name, value in zip(names, row, strict=True):
            if isinstance(value, str) and len(value) >= 16 and not TIME.match(value):
                value = value.encode()
            if isinstance(value, bytes) and len(value) >= 16:
                values[f"{query.split()[3]}.{name} (row {number})"] = value
    return values
