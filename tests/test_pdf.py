"""The PDF renderer on its own: page sizes, text, fonts, and that untrusted text cannot fetch.

No Flask app is involved: app.pdf is a set of pure functions.
"""

from __future__ import annotations

import io
import logging
import os
import re
import socket
import sys
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

# app/__init__.py imports the top-level `config` module from the repository root, which is
# only importable when the root is on sys.path (it is under `python -m pytest`).
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import weasyprint  # noqa: E402
from weasyprint.urls import path2url  # noqa: E402

from app.pdf import render  # noqa: E402
from app.pdf.fetcher import (  # noqa: E402
    FETCHER,
    FONTS_DIR,
    ForbiddenURLError,
    RestrictedURLFetcher,
)
from app.pdf.render import (  # noqa: E402
    SUPPORTED_ENVELOPES,
    EnvelopeDocument,
    LetterDocument,
    render_letter_pdf,
    warn_if_subsetting_unavailable,
)

MM = 72 / 25.4
A4 = (595.28, 841.89)
DL = (220 * MM, 110 * MM)
C5 = (229 * MM, 162 * MM)

NAME_LINE = "Горинову Алексею Александровичу, 1961 г.р."
FACILITY = "ФКУ ИК-3 УФСИН России по Владимирской области"
POSTCODE = "601120"
COUNTRY = "РОССИЯ / RUSSIA"
PASSWD_MARK = "root:x:0:0"

BODY = (
    "Дорогой Алексей!\n\n"
    "Пишу вам из Тбилиси. Здесь уже совсем тепло, на рынке появилась первая черешня.\n"
    "Вчера мы гуляли по старому городу и вспоминали вас.\n\n"
    "Обнимаю и желаю сил и здоровья!"
)


def recipient(country: bool = True) -> list[str]:
    lines = [NAME_LINE, FACILITY, "ул. Ленина, д. 1", "г. Покров", "Владимирская обл.", POSTCODE]
    return [*lines, COUNTRY] if country else lines


def make_letter(body: str = BODY, signature: str = "Анна", language: str = "ru") -> LetterDocument:
    return LetterDocument(
        language=language,
        body=body,
        signature=signature,
        written_on=date(2025, 5, 12),
        recipient_header=NAME_LINE,
    )


def make_envelope(
    size: str = "dl",
    sender_name: str = "Иванова Анна Петровна",
    sender_address_lines: list[str] | None = None,
    recipient_lines: list[str] | None = None,
) -> EnvelopeDocument:
    return EnvelopeDocument(
        size=size,
        sender_name=sender_name,
        sender_address_lines=(
            ["ул. Руставели, д. 12, кв. 5", "Тбилиси 0108", "ГРУЗИЯ / GEORGIA"]
            if sender_address_lines is None
            else sender_address_lines
        ),
        recipient_lines=recipient() if recipient_lines is None else recipient_lines,
    )


def read(pdf: bytes) -> PdfReader:
    assert pdf.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(pdf))


def page_size(page) -> tuple[float, float]:
    box = page.mediabox
    return float(box.width), float(box.height)


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in read(pdf).pages]


def squash(text: str) -> str:
    """Text without whitespace: line wrapping must not decide whether a payload is found."""
    return re.sub(r"\s+", "", text)


def assert_size(page, expected: tuple[float, float]) -> None:
    width, height = page_size(page)
    assert width == pytest.approx(expected[0], abs=1)
    assert height == pytest.approx(expected[1], abs=1)


# --- layout and text --------------------------------------------------------------------------


def test_letter_pages_are_a4_and_dl_envelope_is_last_and_landscape():
    pdf = render_letter_pdf(make_letter(), make_envelope("dl"))
    pages = read(pdf).pages
    assert len(pages) == 2
    assert_size(pages[0], A4)
    assert_size(pages[1], DL)
    assert DL[0] == pytest.approx(623.6, abs=0.1)
    assert DL[1] == pytest.approx(311.8, abs=0.1)


def test_c5_envelope_size():
    pages = read(render_letter_pdf(make_letter(), make_envelope("c5"))).pages
    assert_size(pages[0], A4)
    assert_size(pages[-1], C5)


def test_supported_envelopes_and_unknown_size_refused():
    assert SUPPORTED_ENVELOPES == ("dl", "c5")
    with pytest.raises(ValueError, match="envelope size"):
        make_envelope("c6")
    with pytest.raises(ValueError, match="language"):
        make_letter(language="de")


def test_text_comes_back_from_the_pdf():
    texts = page_texts(render_letter_pdf(make_letter(), make_envelope()))
    letter, envelope = texts[0], texts[-1]
    assert "Дорогой Алексей!" in letter
    assert "Пишу вам из Тбилиси" in letter
    assert "12 мая 2025 г." in letter
    assert "Анна" in letter
    assert NAME_LINE in letter  # the running header
    assert "1 / 1" in letter
    for expected in (NAME_LINE, FACILITY, POSTCODE, "Владимирская обл.", "г. Покров"):
        assert expected in envelope
    for label in ("От кого:", "Откуда:", "Кому:", "Куда:"):
        assert label in envelope
    assert "Иванова Анна Петровна" in envelope
    assert "ГРУЗИЯ / GEORGIA" in envelope


def test_stylesheets_parse_cleanly_and_once(caplog):
    render._stylesheet.cache_clear()
    with caplog.at_level(logging.DEBUG, logger="weasyprint"):
        first = render.letter_stylesheets() + render.envelope_stylesheets()
    problems = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert problems == []
    # Every font file was fetched through the restricted fetcher without a refusal.
    assert not [r for r in caplog.records if "Failed to load font" in r.getMessage()]
    second = render.letter_stylesheets() + render.envelope_stylesheets()
    assert all(a is b for a, b in zip(first, second, strict=True))


def test_normal_render_logs_nothing(caplog):
    render.letter_stylesheets()  # parsed once per process; may already be cached
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        render_letter_pdf(make_letter(), make_envelope())
    assert [record.getMessage() for record in caplog.records] == []


def test_english_letter_uses_english_date():
    texts = page_texts(
        render_letter_pdf(make_letter("Dear Alexei,\n\nHello!", "Anna", "en"), None)
    )
    assert "12 May 2025" in texts[0]
    assert "Dear Alexei," in texts[0]


def test_single_newlines_are_kept_and_blank_lines_make_paragraphs():
    assert render.paragraphs("a\r\nb\n\n\n  \nc\n") == [["a", "b"], ["c"]]
    assert render.paragraphs(" \n\n ") == []
    text = page_texts(render_letter_pdf(make_letter("первая строка\nвторая строка"), None))[0]
    assert "первая строка\nвторая строка" in text


def test_country_line_only_when_given():
    with_country = page_texts(render_letter_pdf(make_letter(), make_envelope()))[-1]
    without = page_texts(
        render_letter_pdf(make_letter(), make_envelope(recipient_lines=recipient(country=False)))
    )[-1]
    assert COUNTRY in with_country
    assert "RUSSIA" not in without
    assert "РОССИЯ" not in without
    assert POSTCODE in without


def test_long_letter_spans_pages_with_numbers_and_envelope_last():
    body = "\n\n".join([BODY] * 25)
    pdf = render_letter_pdf(make_letter(body), make_envelope())
    reader = read(pdf)
    texts = [page.extract_text() for page in reader.pages]
    letter_pages = len(texts) - 1
    assert letter_pages >= 3
    for number, text in enumerate(texts[:-1], start=1):
        assert_size(reader.pages[number - 1], A4)
        assert f"{number} / {letter_pages}" in text
        # The header is repeated so a page separated by the censor is still identifiable.
        assert NAME_LINE in text
    assert_size(reader.pages[-1], DL)
    assert FACILITY in texts[-1]
    assert f"/ {letter_pages}" not in texts[-1]  # no page number on the envelope
    assert "Анна" in texts[-2]  # the signature ends the letter, before the envelope


def test_without_envelope_only_letter_pages():
    reader = read(render_letter_pdf(make_letter(), None))
    assert len(reader.pages) == 1
    assert_size(reader.pages[0], A4)
    assert "Куда:" not in reader.pages[0].extract_text()


def test_empty_sender_leaves_labelled_blank_lines():
    envelope = make_envelope(sender_name="   ", sender_address_lines=[])
    text = page_texts(render_letter_pdf(make_letter(), envelope))[-1]
    assert "От кого:" in text
    assert "Откуда:" in text
    assert "Иванова" not in text
    html = render.envelope_html(envelope)
    assert html.count('class="line blank"') == 4


def test_fonts_are_subset_pt_serif():
    reader = read(render_letter_pdf(make_letter(), make_envelope()))
    names: set[str] = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    assert names
    for name in names:
        # "ABCDEF+" is the subset tag: only the glyphs used are embedded.
        assert re.fullmatch(r"/[A-Z]{6}\+PT-(Serif|Sans)(-[A-Za-z]+)?", name), name
    assert any(re.fullmatch(r"/[A-Z]{6}\+PT-Serif", name) for name in names)


def test_long_unbroken_words_wrap_inside_the_page():
    blob = "Щ" * 400
    text = page_texts(render_letter_pdf(make_letter(blob), None))[0]
    assert squash(text).count("Щ") == 400


def test_harfbuzz_subsetting_is_available_here(caplog):
    logger = logging.getLogger("test.pdf")
    with caplog.at_level(logging.WARNING, logger="test.pdf"):
        warn_if_subsetting_unavailable(logger)
    assert render.subsetting_problem() is None
    assert not caplog.records


def test_missing_harfbuzz_subset_is_logged_loudly(caplog, monkeypatch):
    from weasyprint.text import ffi as weasy_ffi

    monkeypatch.setattr(weasy_ffi, "harfbuzz_subset", None)
    logger = logging.getLogger("test.pdf")
    with caplog.at_level(logging.WARNING, logger="test.pdf"):
        warn_if_subsetting_unavailable(logger)
    assert len(caplog.records) == 1
    record = caplog.records[0]
    assert record.levelno == logging.WARNING
    assert "libharfbuzz-subset0" in record.getMessage()


# --- untrusted text cannot load anything ------------------------------------------------------


@pytest.fixture
def listener():
    """A real TCP listener: any fetch of http://127.0.0.1:<port>/ would land here."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    yield server
    server.close()


@pytest.fixture
def connect_attempts(monkeypatch):
    """Record every outgoing socket connection attempted while rendering."""
    attempts: list[object] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def connect(self, address):
        attempts.append(address)
        return real_connect(self, address)

    def connect_ex(self, address):
        attempts.append(address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    return attempts


def payloads(port: int) -> list[str]:
    return [
        '<link rel="attachment" href="file:///etc/passwd">',
        '<base href="file:///">',
        f'<img src="http://127.0.0.1:{port}/">',
        "<style>@import url(file:///etc/passwd)</style>",
    ]


def assert_nothing_embedded(pdf: bytes) -> None:
    reader = read(pdf)
    root = reader.trailer["/Root"]
    names = root.get("/Names")
    assert names is None or "/EmbeddedFiles" not in names.get_object()
    assert not reader.attachments
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            assert annot.get_object().get("/Subtype") != "/FileAttachment"
    text = "".join(page.extract_text() for page in reader.pages)
    assert PASSWD_MARK not in text


def assert_no_connection(server: socket.socket, attempts: list[object]) -> None:
    with pytest.raises(BlockingIOError):
        connection, _ = server.accept()
        connection.close()  # pragma: no cover - only reached when the test fails
    assert attempts == []


@pytest.mark.parametrize("index", range(4))
def test_payloads_in_untrusted_text_are_printed_not_executed(index, listener, connect_attempts):
    payload = payloads(listener.getsockname()[1])[index]
    letter = make_letter(f"Здравствуйте!\n\n{payload}\n\nВсего доброго.", signature=payload)
    envelope = make_envelope(sender_name=payload, sender_address_lines=[payload, "Тбилиси"])
    pdf = render_letter_pdf(letter, envelope)

    assert_nothing_embedded(pdf)
    assert_no_connection(listener, connect_attempts)
    texts = page_texts(pdf)
    # Escaped, the markup is simply text on the page (in the body, signature and envelope).
    assert squash("".join(texts[:-1])).count(squash(payload)) == 2
    assert squash(texts[-1]).count(squash(payload)) == 2


def test_all_payloads_together_everywhere(listener, connect_attempts):
    combined = "".join(payloads(listener.getsockname()[1]))
    letter = LetterDocument("ru", combined, combined, date(2025, 5, 12), combined)
    envelope = make_envelope(
        sender_name=combined, sender_address_lines=[combined], recipient_lines=[combined, combined]
    )
    pdf = render_letter_pdf(letter, envelope)
    assert_nothing_embedded(pdf)
    assert_no_connection(listener, connect_attempts)


def raw_html(port: int) -> str:
    """Markup as it would look if escaping ever failed: every payload live, plus variants."""
    return (
        "<!DOCTYPE html><html><head>"
        '<base href="file:///">'
        '<link rel="attachment" href="file:///etc/passwd">'
        '<link rel="attachment" href="etc/passwd">'
        f'<link rel="stylesheet" href="http://127.0.0.1:{port}/style.css">'
        "<style>@import url(file:///etc/passwd); @import url(etc/passwd);"
        f' body {{ background: url("http://127.0.0.1:{port}/bg.png") }}'
        f' @font-face {{ font-family: X; src: url("http://127.0.0.1:{port}/x.ttf") }}</style>'
        "</head><body><p>Письмо</p>"
        f'<img src="http://127.0.0.1:{port}/">'
        f'<img src="https://127.0.0.1:{port}/">'
        '<img src="file:///etc/passwd"><img src="etc/passwd">'
        '<a rel="attachment" href="file:///etc/passwd">вложение</a>'
        '<a rel="attachment" href="etc/passwd">вложение</a>'
        '<object data="file:///etc/passwd"></object>'
        '<iframe src="file:///etc/passwd"></iframe>'
        '<embed src="file:///etc/passwd">'
        '<img src="data:text/plain;base64,cm9vdDp4OjA6MA==">'
        "</body></html>"
    )


def test_raw_markup_through_the_restricted_fetcher_fetches_nothing(listener, connect_attempts):
    document = render.render_html(raw_html(listener.getsockname()[1]), render.letter_stylesheets())
    assert document.url_fetcher is FETCHER
    pdf = document.write_pdf()
    assert_nothing_embedded(pdf)
    assert_no_connection(listener, connect_attempts)
    assert "Письмо" in page_texts(pdf)[0]


def test_raw_markup_with_hostile_base_url_fetches_nothing(listener, connect_attempts):
    html = weasyprint.HTML(
        string=raw_html(listener.getsockname()[1]), base_url="file:///etc/", url_fetcher=FETCHER
    )
    pdf = html.write_pdf(stylesheets=render.letter_stylesheets(), font_config=render.FONT_CONFIG)
    assert_nothing_embedded(pdf)
    assert_no_connection(listener, connect_attempts)


def test_control_default_fetcher_would_embed_passwd():
    """Proves the checks above can fail: WeasyPrint's own fetcher does attach the file."""
    html = '<html><head><link rel="attachment" href="file:///etc/passwd"></head><body>x</body>'
    pdf = weasyprint.HTML(string=html).write_pdf()
    reader = read(pdf)
    assert "passwd" in reader.attachments
    assert PASSWD_MARK in reader.attachments["passwd"][0].decode()


# --- the fetcher itself -----------------------------------------------------------------------


def test_fetcher_serves_bundled_fonts():
    font = FONTS_DIR / "PTF55F.ttf"
    response = FETCHER.fetch(path2url(str(font)))
    body = response.read()
    response.close()
    assert body == font.read_bytes()
    assert body[:4] in (b"\x00\x01\x00\x00", b"OTTO", b"true")
    assert response.content_type == "font/ttf"


def test_fetcher_works_through_weasyprint_fetch_helper():
    from weasyprint.urls import fetch

    with fetch(FETCHER, path2url(str(FONTS_DIR / "PTS55F.ttf"))) as response:
        assert len(response.read()) > 10_000


fonts_url = path2url(str(FONTS_DIR) + os.sep)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "file://localhost/etc/passwd",
        fonts_url + "../../../../../../etc/passwd",
        fonts_url + "%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        fonts_url + "..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
        fonts_url + "../fonts.ttf",  # a sibling folder name that merely starts the same
        fonts_url + "PTF55F.ttf%00.png",
        fonts_url + "LICENSE-ParaType.txt",  # inside the folder, but not a font
        fonts_url + "missing.ttf",
        "file://evil.example/" + str(FONTS_DIR / "PTF55F.ttf").lstrip("/"),
        "http://127.0.0.1:9/",
        "https://example.org/font.ttf",
        "ftp://example.org/font.ttf",
        "data:font/ttf;base64,AAEAAA==",
        "data:text/plain,root:x:0:0",
        "/etc/passwd",
        "PTF55F.ttf",
    ],
)
def test_fetcher_refuses_everything_else(url):
    with pytest.raises(ForbiddenURLError):
        FETCHER.fetch(url)


def test_fetcher_refuses_symlinks_leading_out(tmp_path):
    folder = tmp_path / "fonts"
    folder.mkdir()
    secret = tmp_path / "secret.ttf"
    secret.write_bytes(b"secret")
    (folder / "escape.ttf").symlink_to(secret)
    (folder / "real.ttf").write_bytes(b"font")
    fetcher = RestrictedURLFetcher(allowed_dirs=[folder])
    assert fetcher.fetch(path2url(str(folder / "real.ttf"))).read() == b"font"
    with pytest.raises(ForbiddenURLError):
        fetcher.fetch(path2url(str(folder / "escape.ttf")))


def test_refused_urls_do_not_stop_rendering():
    """A refused resource is a logged, non-fatal error: the letter still prints."""
    assert FETCHER._fail_on_errors is False
