"""Post coming back to the organisation: reply scans cleaned, matched by code or held,
matched by hand, sealed to the writer's link; returned envelopes; retention and deletion."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.actions import JavaScript
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from app.auth.api_tokens import create_api_token
from app.domain import DomainError
from app.extensions import db
from app.mailroom import incoming, returns
from app.mailroom.incoming_tasks import end_closed_reply_windows, purge_unmatched_replies
from app.mailroom.organisation import organisation_for_update
from app.mailroom.reference import format_reference
from app.mailroom.retention import end_expired_access, purge_unmatched
from app.mailroom.scans import MAX_FILE_BYTES, ScanPage, check_limits, clean_scan
from app.models import (
    Channel,
    EventKind,
    IncomingMail,
    IncomingState,
    Letter,
    LetterOutcome,
    LetterStatus,
    MailroomItem,
    MailroomState,
    ReturnReason,
    Role,
    StoredFile,
    User,
)
from app.privacy.crypto import CannotDecrypt, letter_keys, open_sealed
from app.stored_files import read_file
from tests.conftest import csrf_token, flashed, follow, log_in, page_text, submit
from tests.factories import (
    make_facility,
    make_letter,
    make_posted_mailroom_letter,
    make_prisoner,
    make_user,
)

pytestmark = pytest.mark.both_databases

TODAY = date.today()
WINDOW = 30  # the organisation's reply window in these tests, in days


# --- test data ---------------------------------------------------------------------------------


def jpeg_with_gps(size: tuple[int, int] = (600, 800), orientation: int = 1) -> bytes:
    """A photo as a phone takes it: EXIF with the maker, the GPS position, the orientation."""
    image = Image.new("RGB", size, "white")
    exif = Image.Exif()
    exif[0x010F] = "SecretPhoneMaker"
    exif[0x0112] = orientation
    exif[0x8825] = {1: "N", 2: (55.0, 45.0, 21.0), 3: "E", 4: (37.0, 37.0, 4.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def png_page() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (300, 400), (0, 0, 0, 0)).save(out, "PNG")
    return out.getvalue()


def big_png() -> bytes:
    """A 7 MB page: more than any other form may send (6 MB), less than a scan may be."""
    noise = Image.frombytes("RGB", (1600, 1600), bytes(range(256)) * (1600 * 1600 * 3 // 256))
    out = io.BytesIO()
    noise.save(out, "PNG", compress_level=0)
    big = out.getvalue()
    assert 6 * 1024 * 1024 < len(big) < 10 * 1024 * 1024
    return big


def pdf_with_metadata(pages: int = 2) -> bytes:
    """A scanner's PDF: an author, software, a script run on opening, an attachment."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    writer.add_metadata({"/Author": "Ivan Scannerov", "/Producer": "SecretScan 9"})
    writer.add_open_action(JavaScript("app.alert('hello');"))
    writer.add_attachment("secret.txt", b"an attached secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def window(app):
    organisation = organisation_for_update()
    organisation.name = "Письма свободы"
    organisation.return_address = "а/я 12\nг. Москва"
    organisation.reply_window_days = WINDOW
    db.session.commit()
    return WINDOW


@pytest.fixture
def prisoner(app):
    return make_prisoner(make_facility())


@pytest.fixture
def volunteer(app):
    return make_user(email="post@example.org", role=Role.MAILROOM)


def _actor(user: User) -> User:
    found = db.session.get(User, user.id)
    assert found is not None
    return found


def reply(user, files, received_on=TODAY, reference="", prisoner_id=None):
    """Receive a reply through the service, committed, in a context of its own."""
    result = incoming.receive_reply(
        _actor(user),
        incoming.ReplyInput(
            files=files, received_on=received_on, reference=reference, prisoner_id=prisoner_id
        ),
        TODAY,
    )
    db.session.commit()
    return result


def record_return(user, reference, reason, received_on=TODAY):
    """Record a returned envelope through the service, committed."""
    found = returns.record_return(
        _actor(user), returns.ReturnInput(reference, received_on, reason), TODAY
    )
    db.session.commit()
    return found


def pages():
    return [ScanPage("page1.jpg", jpeg_with_gps())]


def multipart(fields):
    boundary, body = encode_multipart(MultiDict(fields))
    return body, f"multipart/form-data; boundary={boundary}"


def scan_fields(*files):
    return [("scan", FileStorage(io.BytesIO(data), filename=name)) for name, data in files]


# --- scans ---------------------------------------------------------------------------------------


def test_a_photo_loses_its_exif_and_gps_and_is_turned_upright():
    photo = jpeg_with_gps(orientation=6)  # taken sideways
    assert b"SecretPhoneMaker" in photo
    scan = clean_scan([ScanPage("photo.jpg", photo)])
    assert scan.pages == 1
    assert scan.pdf.startswith(b"%PDF-")
    for secret in (b"SecretPhoneMaker", b"Exif", b"GPS"):
        assert secret not in scan.pdf
    page = PdfReader(io.BytesIO(scan.pdf)).pages[0]
    assert page.mediabox.width > page.mediabox.height  # 600×800 turned a quarter: landscape


def test_pdf_pages_are_copied_without_metadata_scripts_or_attachments():
    original = pdf_with_metadata(pages=2)
    assert PdfReader(io.BytesIO(original)).metadata["/Author"] == "Ivan Scannerov"
    scan = clean_scan([ScanPage("a.png", png_page()), ScanPage("scan.pdf", original)])
    assert scan.pages == 3
    reader = PdfReader(io.BytesIO(scan.pdf))
    assert len(reader.pages) == 3
    assert reader.metadata is None
    assert reader.xmp_metadata is None
    assert reader.attachments == {}
    for key in ("/Names", "/OpenAction", "/AcroForm"):
        assert key not in reader.trailer["/Root"]
    for secret in (b"Ivan", b"SecretScan", b"JavaScript", b"secret.txt"):
        assert secret not in scan.pdf


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([], "Choose the scanned pages"),
        ([ScanPage(f"{n}.jpg", b"\xff\xd8\xff") for n in range(21)], "At most 20 files"),
        ([ScanPage("big.jpg", b"\xff" * (MAX_FILE_BYTES + 1))], "big.jpg is larger than 10 MB"),
        ([ScanPage(f"{n}.pdf", b"%" * (9 * 1024 * 1024)) for n in range(5)], "40 MB in all"),
        ([ScanPage("empty.png", b"")], "empty.png is empty"),
    ],
)
def test_uploads_beyond_the_limits_are_refused(files, message):
    with pytest.raises(DomainError) as refused:
        check_limits(files)
    assert refused.value.field == "scan"
    assert message in refused.value.message


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", b"hello", "notes.txt is not a JPEG, PNG or PDF file"),
        ("fake.jpg", b"GIF89a" + b"\x00" * 20, "fake.jpg is not a JPEG, PNG or PDF file"),
        ("broken.jpg", b"\xff\xd8\xff\xe0broken", "broken.jpg is damaged or unreadable"),
        ("broken.pdf", b"%PDF-1.7 nothing else", "broken.pdf is damaged or unreadable"),
    ],
)
def test_anything_but_jpeg_png_or_pdf_is_refused_by_name(name, content, message):
    with pytest.raises(DomainError) as refused:
        clean_scan([ScanPage(name, content)])
    assert message in refused.value.message


# --- matching by code ------------------------------------------------------------------------


def test_a_reply_with_its_code_reaches_the_letter_sealed(app, window, prisoner, volunteer):
    letter, token, item = make_posted_mailroom_letter(
        prisoner, posted_on=TODAY - timedelta(days=12)
    )
    received = TODAY - timedelta(days=2)
    with app.app_context():
        result = reply(volunteer, pages(), received, format_reference(item.reference))
        assert result.matched
        incoming_id = result.incoming.id

    with app.app_context():
        found = db.session.get(IncomingMail, incoming_id)
        assert found.state is IncomingState.MATCHED and found.sealed and found.pages == 1
        assert found.letter_id == letter.id and found.delete_after is None
        stored = db.session.get(StoredFile, found.scan_file_id)
        assert stored.kind == "reply_scan"
        blob = read_file(stored.id)  # decrypted with the instance key: still sealed
        assert not blob.startswith(b"%PDF") and b"%PDF" not in blob
        with pytest.raises(CannotDecrypt):
            open_sealed(letter_keys("B" * 43).private_key, blob, context=f"reply-scan:{found.id}")
        pdf = open_sealed(letter_keys(token).private_key, blob, context=f"reply-scan:{found.id}")
        assert pdf.startswith(b"%PDF-")
        # No readable copy is left anywhere.
        assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 1
        refreshed = db.session.get(Letter, letter.id)
        reply_event = refreshed.first_event(EventKind.REPLY)
        assert reply_event is not None and reply_event.happened_on == received
        assert refreshed.status is LetterStatus.ANSWERED
        assert db.session.get(MailroomItem, item.id).state is MailroomState.POSTED
        # The statistics follow, through the same session hook as a writer's report.
        outcome = db.session.get(LetterOutcome, letter.id)
        assert outcome.channel is Channel.ORGANISATION and outcome.replied_on == received
        assert outcome.days_to_reply == 10


def test_a_wrong_check_digit_sends_the_reply_to_the_holding_pen(app, window, prisoner, volunteer):
    _letter, _token, item = make_posted_mailroom_letter(prisoner)
    digits = item.reference
    typo = digits[:7] + str((int(digits[7]) + 1) % 10)
    received = TODAY - timedelta(days=1)
    with app.app_context():
        result = reply(volunteer, pages(), received, typo)
        assert result.held_because is incoming.HoldReason.BAD_CODE
        incoming_id = result.incoming.id
    with app.app_context():
        held = db.session.get(IncomingMail, incoming_id)
        assert held.state is IncomingState.HELD and not held.sealed and held.letter_id is None
        assert held.reference_typed == typo
        assert held.delete_after == received + timedelta(days=90)
        stored = db.session.get(StoredFile, held.scan_file_id)
        assert stored.kind == "held_scan"
        assert read_file(stored.id).startswith(b"%PDF-")  # readable by the organisation
        assert db.session.get(Letter, item.letter_id).first_event(EventKind.REPLY) is None


@pytest.mark.parametrize(
    ("days_after_posting", "matched"),
    [(-1, False), (0, True), (WINDOW, True), (WINDOW + 1, False)],
)
def test_the_reply_window_edges(app, window, prisoner, volunteer, days_after_posting, matched):
    posted_on = TODAY - timedelta(days=WINDOW + 5)
    _letter, _token, item = make_posted_mailroom_letter(prisoner, posted_on=posted_on)
    received = posted_on + timedelta(days=days_after_posting)
    with app.app_context():
        result = reply(volunteer, pages(), received, item.reference)
    assert result.matched is matched
    if not matched:
        assert result.held_because is incoming.HoldReason.OUTSIDE_WINDOW


def test_no_code_a_valid_unknown_code_or_an_unposted_letter_are_held(
    app, window, prisoner, volunteer
):
    _letter, _token, printed = make_posted_mailroom_letter(prisoner, state=MailroomState.PRINTED)
    cases = [
        ("", incoming.HoldReason.NO_CODE),
        ("1234-5671", incoming.HoldReason.UNKNOWN_CODE),
        (printed.reference, incoming.HoldReason.NOT_POSTED),
    ]
    for typed, reason in cases:
        with app.app_context():
            result = reply(volunteer, pages(), TODAY, typed)
        assert result.held_because is reason


def test_a_date_in_the_future_and_an_unknown_prisoner_are_refused(app, window, volunteer):
    with pytest.raises(DomainError) as future:
        reply(volunteer, pages(), TODAY + timedelta(days=1))
    assert future.value.field == "received_on"
    db.session.rollback()
    with pytest.raises(DomainError) as unknown:
        reply(volunteer, pages(), TODAY, prisoner_id=999_999)
    assert unknown.value.field == "prisoner_id"


# --- the pages -------------------------------------------------------------------------------


def test_the_upload_page_matches_a_reply_and_says_so(client, window, prisoner, volunteer):
    letter, _token, item = make_posted_mailroom_letter(prisoner)
    log_in(client, volunteer)
    page = client.get("/mailroom/replies/new")
    assert page.status_code == 200
    fields = [
        ("csrf_token", csrf_token(page.get_data(as_text=True))),
        ("reference", format_reference(item.reference)),
        ("received_on", TODAY.isoformat()),
        ("prisoner_id", ""),
        *scan_fields(("p1.jpg", jpeg_with_gps()), ("p2.pdf", pdf_with_metadata(1))),
    ]
    body, content_type = multipart(fields)
    response = client.post("/mailroom/replies/new", data=body, content_type=content_type)
    assert response.status_code == 302
    assert any(
        format_reference(item.reference) in message
        for message in flashed(follow(client, response))
    )
    found = db.session.scalar(select(IncomingMail).where(IncomingMail.letter_id == letter.id))
    assert found is not None and found.pages == 2 and found.sealed


def test_the_upload_page_refuses_a_text_file_keeping_what_was_typed(client, window, volunteer):
    log_in(client, volunteer)
    page = client.get("/mailroom/replies/new")
    fields = [
        ("csrf_token", csrf_token(page.get_data(as_text=True))),
        ("reference", "4821-0937"),
        ("received_on", TODAY.isoformat()),
        ("prisoner_id", ""),
        *scan_fields(("letter.docx", b"PK\x03\x04 not a scan")),
    ]
    body, content_type = multipart(fields)
    response = client.post("/mailroom/replies/new", data=body, content_type=content_type)
    assert response.status_code == 422
    text = page_text(response)
    assert "letter.docx is not a JPEG, PNG or PDF file." in text
    assert 'value="4821-0937"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(IncomingMail)) == 0


def test_a_scan_sent_as_text_instead_of_a_file_is_refused_as_no_pages(client, window, volunteer):
    # Found by the route fuzzer: a form-encoded "scan" field was read as an uploaded file.
    log_in(client, volunteer)
    page = client.get("/mailroom/replies/new")
    response = client.post(
        "/mailroom/replies/new",
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "scan": "99999999",
            "reference": "",
            "received_on": TODAY.isoformat(),
            "prisoner_id": "",
        },
    )
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(IncomingMail)) == 0


def test_a_scan_larger_than_the_usual_upload_limit_is_taken(client, window, volunteer):
    # 7 MB: more than any other form may send (6 MB), less than a scan may be.
    log_in(client, volunteer)
    page = client.get("/mailroom/replies/new")
    big = big_png()
    fields = [
        ("csrf_token", csrf_token(page.get_data(as_text=True))),
        ("reference", ""),
        ("received_on", TODAY.isoformat()),
        ("prisoner_id", ""),
        *scan_fields(("big.png", big)),
    ]
    body, content_type = multipart(fields)
    response = client.post("/mailroom/replies/new", data=body, content_type=content_type)
    assert response.status_code == 302  # held: it had no code


def test_the_holding_pen_lists_candidates_and_matches_one(
    app, client, window, prisoner, volunteer
):
    other = make_prisoner(make_facility(code="ИК-6", name="ФКУ ИК-6"), last_name="Скочиленко")
    first, _t1, first_item = make_posted_mailroom_letter(
        prisoner,
        body="Здравствуйте, Алексей!\nВторая строка",
        posted_on=TODAY - timedelta(days=20),
    )
    second, token, second_item = make_posted_mailroom_letter(
        prisoner, body="Привет из Тбилиси", posted_on=TODAY - timedelta(days=8)
    )
    make_posted_mailroom_letter(other, posted_on=TODAY - timedelta(days=8))
    old, _t3, _old_item = make_posted_mailroom_letter(
        prisoner, posted_on=TODAY - timedelta(days=WINDOW + 9)
    )
    with app.app_context():
        first_letter = db.session.get(Letter, first.id)
        first_letter.stop_sharing_with_organisers()  # its first line is no longer readable
        db.session.commit()
    with app.app_context():
        held = reply(volunteer, pages(), TODAY - timedelta(days=1)).incoming.id

    log_in(client, volunteer)
    page = client.get("/mailroom/held")
    text = page_text(page)
    assert "No reference code was given." not in text  # the reason is told at upload only
    assert "Горинов" in text and "Скочиленко" in text  # prisoners to choose from
    response = submit(
        client,
        page,
        {f"h{held}-prisoner_id": str(prisoner.id)},
        action=f"/mailroom/held/{held}/prisoner",
    )
    page = follow(client, response)
    text = page_text(page)
    assert "Привет из Тбилиси" in text
    assert format_reference(first_item.reference) in text and "no longer readable" in text
    assert "Здравствуйте" not in text
    assert format_reference(_old_item.reference) not in text  # outside the window
    assert client.get(f"/mailroom/held/{held}/scan").data.startswith(b"%PDF-")

    response = submit(
        client, page, {"letter_id": str(second.id)}, action=f"/mailroom/held/{held}/match"
    )
    assert "Matched" in " ".join(flashed(follow(client, response)))
    with app.app_context():
        matched = db.session.get(IncomingMail, held)
        assert matched.state is IncomingState.MATCHED and matched.letter_id == second.id
        assert db.session.scalars(select(StoredFile.kind)).all() == ["reply_scan"]
        assert db.session.get(Letter, second.id).status is LetterStatus.ANSWERED
    assert client.get(f"/mailroom/held/{held}/scan").status_code == 404
    # The writer opens it through the link.
    tracking = client.get(f"/t/{token}")
    assert f"/t/{token}/replies/{held}" in tracking.get_data(as_text=True)
    assert "1 page" in page_text(tracking)
    del old, second_item


def test_a_letter_that_is_no_candidate_cannot_be_matched(app, client, window, prisoner, volunteer):
    other = make_prisoner(make_facility(code="ИК-6", name="ФКУ ИК-6"), last_name="Скочиленко")
    elsewhere, _token, _item = make_posted_mailroom_letter(other)
    with app.app_context():
        held = reply(volunteer, pages(), TODAY, prisoner_id=prisoner.id).incoming.id
    log_in(client, volunteer)
    page = client.get("/mailroom/held")
    response = submit(
        client, page, {"letter_id": str(elsewhere.id)}, action=f"/mailroom/held/{held}/match"
    )
    assert "This letter is not one the reply can answer." in flashed(follow(client, response))
    assert db.session.get(IncomingMail, held).state is IncomingState.HELD


def test_unmatched_and_expired_replies_are_deleted_with_their_scans(
    app, client, window, volunteer
):
    with app.app_context():
        given_up = reply(volunteer, pages(), TODAY - timedelta(days=91)).incoming.id
        expired_held = reply(volunteer, pages(), TODAY - timedelta(days=95)).incoming.id
        fresh = reply(volunteer, pages(), TODAY - timedelta(days=5)).incoming.id
    log_in(client, volunteer)
    page = client.get("/mailroom/held")
    response = submit(client, page, {}, action=f"/mailroom/held/{given_up}/unmatched")
    assert any("Marked unmatched" in message for message in flashed(follow(client, response)))
    assert db.session.get(IncomingMail, given_up).state is IncomingState.UNMATCHED

    purge_unmatched_replies.call_local()
    with app.app_context():
        left = db.session.scalars(select(IncomingMail.id)).all()
        assert left == [fresh]
        assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 1
    del expired_held


# --- returns ---------------------------------------------------------------------------------


def test_a_returned_envelope_is_recorded_by_code_with_its_reason(
    app, client, window, prisoner, volunteer
):
    letter, token, item = make_posted_mailroom_letter(prisoner)
    log_in(client, volunteer)
    response = submit(
        client,
        "/mailroom/returns/new",
        {
            "reference": format_reference(item.reference),
            "reason": "moved",
            "received_on": TODAY.isoformat(),
        },
    )
    assert response.status_code == 302
    with app.app_context():
        found = db.session.get(MailroomItem, item.id)
        assert found.state is MailroomState.RETURNED
        assert found.returned_on == TODAY and found.return_reason is ReturnReason.MOVED
        assert db.session.get(Letter, letter.id).status is LetterStatus.RETURNED
    tracking = page_text(client.get(f"/t/{token}"))
    assert "Возвращено в организацию: адресат выбыл." in tracking  # the letter's language

    again = submit(
        client,
        "/mailroom/returns/new",
        {"reference": item.reference, "reason": "other", "received_on": TODAY.isoformat()},
    )
    assert again.status_code == 422
    assert "already recorded as returned" in page_text(again)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("1234-5670", "not a valid reference code"),
        ("1234-5671", "No letter has this reference code."),
    ],
)
def test_returns_of_unknown_codes_are_refused_clearly(client, window, volunteer, typed, message):
    log_in(client, volunteer)
    response = submit(
        client,
        "/mailroom/returns/new",
        {"reference": typed, "reason": "refused", "received_on": TODAY.isoformat()},
    )
    assert response.status_code == 422
    assert message in page_text(response)


# --- the writer ------------------------------------------------------------------------------


def test_only_the_link_opens_the_reply(app, client, window, prisoner, volunteer):
    letter, token, item = make_posted_mailroom_letter(prisoner)
    other, other_token, _other_item = make_posted_mailroom_letter(prisoner)
    with app.app_context():
        reply_id = reply(volunteer, pages(), TODAY, item.reference).incoming.id
    response = client.get(f"/t/{token}/replies/{reply_id}")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF-")
    assert response.headers["Cache-Control"] == "no-store"
    assert client.get(f"/t/{other_token}/replies/{reply_id}").status_code == 404
    assert client.get(f"/t/{'C' * 43}/replies/{reply_id}").status_code == 404
    del letter, other


def test_deleting_the_letter_deletes_its_replies_and_returns(
    app, client, window, prisoner, volunteer
):
    letter, token, item = make_posted_mailroom_letter(prisoner)
    with app.app_context():
        reply(volunteer, pages(), TODAY, item.reference)
    with app.app_context():
        record_return(volunteer, item.reference, ReturnReason.REFUSED)
    assert db.session.scalar(select(func.count()).select_from(IncomingMail)) == 2
    response = submit(client, f"/t/{token}/delete", {})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(IncomingMail)) == 0
        assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0
    del letter


# --- retention -------------------------------------------------------------------------------


def test_the_organisation_loses_the_key_when_the_reply_window_closes(app, window, prisoner):
    closed, _t1, _i1 = make_posted_mailroom_letter(
        prisoner, posted_on=TODAY - timedelta(days=WINDOW + 1)
    )
    last_day, _t2, _i2 = make_posted_mailroom_letter(
        prisoner, posted_on=TODAY - timedelta(days=WINDOW)
    )
    rejected, _t3, _i3 = make_posted_mailroom_letter(prisoner, state=MailroomState.REJECTED)
    drive_letter = make_letter(prisoner)
    with app.app_context():
        found = db.session.get(Letter, drive_letter.id)
        found.unlock(drive_letter.token)
        found.share_with_organisers()
        db.session.commit()
    end_closed_reply_windows.call_local()
    with app.app_context():

        def shared(letter):
            return db.session.get(Letter, letter.id).organisers_key is not None

        assert not shared(closed) and not shared(rejected)
        assert shared(last_day) and shared(drive_letter)
        assert end_expired_access(TODAY) == 0
        assert purge_unmatched(TODAY) == 0


# --- access ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/mailroom/replies/new", "/mailroom/held", "/mailroom/returns/new"]
)
def test_the_pages_are_for_the_mailroom_only(client, url):
    assert client.get(url).status_code == 302  # to the login page
    translator = make_user(email="tr@example.org", role=Role.TRANSLATOR)
    log_in(client, translator)
    assert client.get(url).status_code == 403


# --- the API ---------------------------------------------------------------------------------


@pytest.fixture
def bearer(app, volunteer):
    with app.app_context():
        _token, raw = create_api_token(_actor(volunteer), "scanner")
        db.session.commit()
    return {"Authorization": f"Bearer {raw}"}


def api_reply(client, headers, fields):
    body, content_type = multipart(fields)
    return client.post(
        "/api/v1/mailroom/replies", data=body, content_type=content_type, headers=headers
    )


def test_the_api_matches_or_holds_a_reply(client, window, prisoner, bearer):
    _letter, _token, item = make_posted_mailroom_letter(prisoner)
    scan = scan_fields(("p1.jpg", jpeg_with_gps()))
    matched = api_reply(
        client, bearer, [("received_on", TODAY.isoformat()), ("reference", item.reference), *scan]
    )
    assert matched.status_code == 201, matched.get_json()
    assert matched.get_json() == {"matched": True, "letter_state": "answered"}
    held = api_reply(
        client,
        bearer,
        [
            ("received_on", TODAY.isoformat()),
            ("reference", ""),
            *scan_fields(("a.png", png_page()), ("b.png", big_png())),
        ],
    )
    assert held.status_code == 202
    body = held.get_json()
    assert body["matched"] is False and body["reason"] == "no_code"
    assert db.session.get(IncomingMail, body["held"]).pages == 2


def test_the_api_refuses_clearly(client, window, bearer):
    no_token = api_reply(client, {}, [("received_on", TODAY.isoformat())])
    assert no_token.status_code == 401
    assert no_token.headers["WWW-Authenticate"].startswith("Bearer")
    bad_file = api_reply(
        client, bearer, [("received_on", TODAY.isoformat()), *scan_fields(("x.gif", b"GIF89a"))]
    )
    assert bad_file.status_code == 422
    assert bad_file.get_json()["field"] == "scan"
    no_date = api_reply(client, bearer, scan_fields(("p.png", png_page())))
    assert no_date.status_code == 422 and no_date.get_json()["field"] == "received_on"
    boundary = "part"
    nameless = (
        f"--{boundary}\r\nContent-Disposition: form-data\r\n\r\nx\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; filename="a.png"\r\n\r\nx\r\n'
        f"--{boundary}--\r\n"
    )
    unreadable = client.post(
        "/api/v1/mailroom/replies",
        data=nameless.encode(),
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=bearer,
    )
    assert unreadable.status_code == 400 and unreadable.get_json()["field"] == "body"
    no_scan = api_reply(client, bearer, [("received_on", TODAY.isoformat())])
    assert no_scan.status_code == 422 and no_scan.get_json()["field"] == "scan"
    as_json = client.post(
        "/api/v1/mailroom/replies", json={"received_on": "2026-01-01"}, headers=bearer
    )
    assert as_json.status_code == 422 and as_json.get_json()["field"] == "body"


def test_the_api_records_a_return(client, window, prisoner, bearer):
    _letter, _token, item = make_posted_mailroom_letter(prisoner)
    payload = {
        "reference": item.reference,
        "received_on": TODAY.isoformat(),
        "reason": "censorship",
    }
    response = client.post("/api/v1/mailroom/returns", json=payload, headers=bearer)
    assert response.status_code == 201
    assert response.get_json() == {
        "reference": format_reference(item.reference),
        "letter_state": "returned",
    }
    unknown = client.post(
        "/api/v1/mailroom/returns", headers=bearer, json={**payload, "reference": "1234-5671"}
    )
    assert unknown.status_code == 422
    assert unknown.get_json()["field"] == "reference"
    assert client.post("/api/v1/mailroom/returns", json=payload).status_code == 401


def pdf_with_a_photo_inside() -> bytes:
    """A PDF whose page draws a JPEG kept as it came from the phone (EXIF, GPS and all)."""
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject, NumberObject

    writer = PdfWriter()
    page = writer.add_blank_page(300, 400)
    photo = DecodedStreamObject()
    photo.set_data(jpeg_with_gps((60, 80)))
    photo.update({
        NameObject("/Type"): NameObject("/XObject"),
        NameObject("/Subtype"): NameObject("/Image"),
        NameObject("/Width"): NumberObject(60),
        NameObject("/Height"): NumberObject(80),
        NameObject("/ColorSpace"): NameObject("/DeviceRGB"),
        NameObject("/BitsPerComponent"): NumberObject(8),
        NameObject("/Filter"): NameObject("/DCTDecode"),
    })  # fmt: skip
    content = DecodedStreamObject()
    content.set_data(b"q 300 0 0 400 0 0 cm /Im0 Do Q")
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/XObject"): DictionaryObject({NameObject("/Im0"): writer._add_object(photo)})}
    )
    page[NameObject("/Contents")] = writer._add_object(content)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_photo_inside_a_pdf_loses_its_exif_too():
    original = pdf_with_a_photo_inside()
    assert b"SecretPhoneMaker" in original
    scan = clean_scan([ScanPage("phone-scan.pdf", original)])
    assert scan.pages == 1
    assert b"SecretPhoneMaker" not in scan.pdf and b"Exif" not in scan.pdf
    images = PdfReader(io.BytesIO(scan.pdf)).pages[0].images
    assert len(images) == 1 and images[0].image.size == (60, 80)


def test_returns_before_posting_or_after_the_window_closed_are_refused(
    app, window, prisoner, volunteer
):
    _letter, _token, item = make_posted_mailroom_letter(
        prisoner, posted_on=TODAY - timedelta(days=WINDOW + 2)
    )
    with pytest.raises(DomainError) as early:
        returns.record_return(
            _actor(volunteer),
            returns.ReturnInput(
                item.reference, item.posted_on - timedelta(days=1), ReturnReason.MOVED
            ),
            TODAY,
        )
    assert early.value.field == "received_on"
    db.session.rollback()
    end_closed_reply_windows.call_local()  # the organisation can no longer read the letter
    with app.app_context(), pytest.raises(DomainError) as closed:
        returns.record_return(
            _actor(volunteer),
            returns.ReturnInput(item.reference, TODAY - timedelta(days=3), ReturnReason.MOVED),
            TODAY,
        )
    assert "reply window of this letter has closed" in closed.value.message
    assert db.session.get(MailroomItem, item.id).state is MailroomState.POSTED


def test_a_reply_to_a_deleted_letter_is_held(app, client, window, prisoner, volunteer):
    _letter, token, item = make_posted_mailroom_letter(prisoner)
    assert submit(client, f"/t/{token}/delete", {}).status_code == 302
    with app.app_context():
        result = reply(volunteer, pages(), TODAY, item.reference)
    assert result.held_because is incoming.HoldReason.UNKNOWN_CODE


def test_a_held_reply_needs_a_prisoner_chosen(app, client, window, prisoner, volunteer):
    make_posted_mailroom_letter(prisoner)
    with app.app_context():
        held = reply(volunteer, pages(), TODAY).incoming.id
    log_in(client, volunteer)
    page = client.get("/mailroom/held")
    assert "— choose —" in page_text(page)
    response = submit(
        client, page, {f"h{held}-prisoner_id": ""}, action=f"/mailroom/held/{held}/prisoner"
    )
    assert "Choose the prisoner the reply is from." in flashed(follow(client, response))
    assert db.session.get(IncomingMail, held).prisoner_id is None


def test_the_writer_hears_of_a_reply_and_of_a_return(app, window, prisoner, volunteer):
    from tests.mailbox import sent_mail
    from tests.test_mailroom_writer import subscribe

    _letter, token, item = make_posted_mailroom_letter(prisoner)
    _other, other_token, other_item = make_posted_mailroom_letter(prisoner)
    with app.app_context():
        subscribe(token)
        subscribe(other_token, email="other@example.org")
    with app.app_context():
        reply(volunteer, pages(), TODAY, item.reference)
    with app.app_context():
        record_return(volunteer, other_item.reference, ReturnReason.UNKNOWN_ADDRESSEE)
    news = sent_mail("letter_news", language="ru")
    assert sorted(mail.recipient for mail in news) == ["other@example.org", "writer@example.org"]
    for mail in news:
        assert "Горинов" not in mail.body_text and "выбыл" not in mail.body_text
