"""The print pack on its own: order of pages, per-letter numbering, cover list, joining of
groups, failures, and that untrusted text cannot fetch anything. No Flask app is involved.

One pool of two worker processes serves the whole module (starting one costs a few seconds).
"""

from __future__ import annotations

import io
import itertools
import os
import re
import socket
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.pdf import pack_layout  # noqa: E402
from app.pdf.pack import render_naive, render_pack  # noqa: E402
from app.pdf.pack_layout import CoverInfo, PackItem, PackRenderError  # noqa: E402
from app.pdf.pool import TEST_HANG_VARIABLE, PackPool  # noqa: E402
from app.pdf.render import AppealDocument, EnvelopeDocument, LetterDocument  # noqa: E402

# Writes that must hold on both databases: each test runs on SQLite, then on PostgreSQL.
pytestmark = pytest.mark.both_databases

MM = 72 / 25.4
A4 = (595.28, 841.89)
DL = (220 * MM, 110 * MM)
C5 = (229 * MM, 162 * MM)
PASSWD_MARK = "root:x:0:0"
GROUP_SIZE = 5

FACILITIES = {
    "ik6": ("ФКУ ИК-6 УФСИН России по Владимирской области", "г. Покров", "601120"),
    "sizo1": ("ФКУ СИЗО-1 УФСИН России по г. Москве", "г. Москва", "107076"),
    "ik2": ("ФКУ ИК-2 УФСИН России по Республике Мордовия", "пос. Явас", "431160"),
}

# (dative name, facility key, envelope size or None, paragraphs of body)
PEOPLE = [
    ("Горинову Алексею Александровичу, 1961 г.р.", "ik6", "dl", 2),
    ("Петровой Анне Сергеевне, 1985 г.р.", "sizo1", "c5", 1),
    ("Кузнецову Дмитрию Игоревичу, 1990 г.р.", "ik6", "dl", 3),
    ("Смирновой Елене Викторовне, 1978 г.р.", "ik2", None, 1),
    ("Васильеву Игорю Петровичу, 1969 г.р.", "sizo1", "dl", 2),
    ("Морозовой Ольге Андреевне, 1993 г.р.", "ik6", "dl", 24),  # three pages
    ("Соколову Михаилу Юрьевичу, 1982 г.р.", "ik2", "c5", 1),
    ("Новиковой Марии Дмитриевне, 1999 г.р.", "ik6", "dl", 2),
    ("Фёдорову Сергею Николаевичу, 1975 г.р.", "sizo1", None, 1),
    ("Волковой Татьяне Олеговне, 1988 г.р.", "ik6", "dl", 1),
    ("Лебедеву Андрею Владимировичу, 1971 г.р.", "ik2", "dl", 2),
    ("Кара-Мурзе Владимиру Владимировичу, 1981 г.р.", "ik6", "c5", 1),
]
LONG = 5  # index of the three-page letter

PARAGRAPH = (
    "Пишу вам из Тбилиси. Здесь уже совсем тепло, на рынке появилась первая черешня, а у "
    "цветочных рядов продают сирень целыми охапками. Вчера мы гуляли по старому городу, пили чай "
    "с чабрецом и вспоминали вас."
)
SIGNATURE = "Анна из Тбилиси"
SENDER = "Иванова Анна Петровна"
TITLE = "Вечер писем в Тбилиси"


def facility_label(key: str) -> str:
    name, _, postcode = FACILITIES[key]
    return f"{name}, {postcode}"


def make_item(index: int) -> PackItem:
    name, key, size, paragraphs = PEOPLE[index]
    facility, locality, postcode = FACILITIES[key]
    envelope = None
    if size is not None:
        envelope = EnvelopeDocument(
            size=size,
            sender_name=SENDER,
            sender_address_lines=["ул. Руставели, д. 12, кв. 5", "Тбилиси 0108", "ГРУЗИЯ"],
            recipient_lines=[name, facility, "ул. Ленина, д. 1", locality, postcode, "РОССИЯ"],
        )
    return PackItem(
        letter=LetterDocument(
            language="en" if index == 1 else "ru",
            body="\n\n".join([f"Письмо {index + 1}.", *[PARAGRAPH] * paragraphs]),
            signature=SIGNATURE,
            written_on=date(2025, 5, 12),
            recipient_header=name,
        ),
        envelope=envelope,
        facility_label=facility_label(key),
        recipient_label=name,
    )


ITEMS = [make_item(index) for index in range(len(PEOPLE))]
COVER = CoverInfo(TITLE, held_on=date(2025, 5, 12), generated_on=date(2025, 5, 13))


def read(pdf: bytes) -> PdfReader:
    assert pdf.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(pdf))


def size_of(page) -> tuple[float, float]:
    return float(page.mediabox.width), float(page.mediabox.height)


def same_size(actual: tuple[float, float], expected: tuple[float, float]) -> bool:
    return abs(actual[0] - expected[0]) < 1 and abs(actual[1] - expected[1]) < 1


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def pool() -> Iterator[PackPool]:
    with PackPool(2) as workers:
        yield workers


@pytest.fixture(scope="module")
def rendered(pool: PackPool) -> tuple[bytes, list[tuple[int, int]]]:
    """The pack of ITEMS in groups of 5 (5 + 5 + 2: three parts joined after the cover)."""
    calls: list[tuple[int, int]] = []
    pdf = render_pack(
        ITEMS,
        COVER,
        lambda done, total: calls.append((done, total)),
        group_size=GROUP_SIZE,
        pool=pool,
    )
    return pdf, calls


@pytest.fixture(scope="module")
def naive_pages() -> list[list[tuple[tuple[float, float], str]]]:
    """Per item: (size, text) of each page of the same letter printed on its own."""
    return [
        [(size_of(page), page.extract_text()) for page in read(pdf).pages]
        for pdf in render_naive(ITEMS)
    ]


def cover_page_count(reader: PdfReader, items: list[PackItem] = ITEMS) -> int:
    """The cover pages are the first pages, up to the first letter's first words."""
    first_words = items[0].letter.body.split("\n")[0]
    for index, page in enumerate(reader.pages):
        if first_words in page.extract_text():
            return index
    raise AssertionError("no letter found")


# --- order, sizes, text -----------------------------------------------------------------------


def test_cover_then_each_letter_followed_by_its_envelope(rendered, naive_pages):
    reader = read(rendered[0])
    covers = cover_page_count(reader)
    assert covers >= 1
    assert all(same_size(size_of(page), A4) for page in reader.pages[:covers])
    assert TITLE in reader.pages[0].extract_text()

    position = covers
    for item, pages in zip(ITEMS, naive_pages, strict=True):
        name = item.recipient_label
        letter_pages = len(pages) - (1 if item.envelope else 0)
        for page in reader.pages[position : position + letter_pages]:
            assert same_size(size_of(page), A4)
            # The recipient header is on every letter page, as on a single letter.
            assert name in page.extract_text()
        position += letter_pages
        if item.envelope is not None:
            envelope = reader.pages[position]
            expected = DL if item.envelope.size == "dl" else C5
            assert same_size(size_of(envelope), expected)
            text = envelope.extract_text()
            # The envelope right after the letter carries the same person's dative name.
            assert name in text
            assert "Кому:" in text
            assert item.envelope.recipient_lines[1] in text
            position += 1
    assert position == len(reader.pages)


def test_pages_are_the_same_as_letters_printed_one_by_one(rendered, naive_pages):
    reader = read(rendered[0])
    covers = cover_page_count(reader)
    packed = [(size_of(page), page.extract_text()) for page in reader.pages[covers:]]
    expected = [page for pages in naive_pages for page in pages]
    assert len(packed) == len(expected)
    for (size, text), (expected_size, expected_text) in zip(packed, expected, strict=True):
        assert same_size(size, expected_size)
        # Same words, same lines, same page breaks, same "N / M" in the footer.
        assert text == expected_text


def test_page_numbers_count_each_letter_on_its_own(rendered):
    reader = read(rendered[0])
    texts = [page.extract_text() for page in reader.pages[cover_page_count(reader) :]]
    long_name = ITEMS[LONG].recipient_label
    long_pages = [text for text in texts if long_name in text and "Кому:" not in text]
    assert len(long_pages) == 3
    for number, text in enumerate(long_pages, start=1):
        # Not "N / <pages in the group>": each letter counts its own pages.
        assert text.rstrip().endswith(f"{number} / 3")
    # The letter after it (first of the next group) starts again at 1.
    after = [text for text in texts if ITEMS[LONG + 1].recipient_label in text]
    assert after[0].rstrip().endswith("1 / 1")


def test_one_pdf_with_neutral_metadata_and_no_attachments(rendered):
    reader = read(rendered[0])
    assert not reader.attachments
    metadata = reader.metadata or {}
    assert metadata.get("/Title") == "Письма"
    for value in metadata.values():
        for person in PEOPLE:
            assert person[0].split()[0] not in str(value)


def test_progress_counts_letters_up_to_the_total(rendered):
    calls = rendered[1]
    total = len(ITEMS)
    assert calls[0] == (0, total)
    assert calls[-1] == (total, total)
    assert all(seen == total for _, seen in calls)
    done = [count for count, _ in calls]
    assert done == sorted(done)
    # One call per group (5, 5, 2 letters, in whichever order they finish).
    steps = sorted(later - earlier for earlier, later in itertools.pairwise(done))
    assert steps == [2, 5, 5]


# --- the cover list ---------------------------------------------------------------------------


def test_cover_lists_letters_by_facility_with_counts(rendered):
    reader = read(rendered[0])
    cover = "\n".join(page.extract_text() for page in reader.pages[: cover_page_count(reader)])
    lines = cover.splitlines()
    assert TITLE in lines
    assert "Писем: 12 · Учреждений: 3" in cover

    numbers: dict[str, list[int]] = {}
    for number, item in enumerate(ITEMS, start=1):
        numbers.setdefault(item.facility_label, []).append(number)
    for key in ("ik6", "sizo1", "ik2"):
        label = facility_label(key)
        expected = numbers[label]
        # The summary line, then the facility's own section with its numbered recipients.
        assert f"{label} {len(expected)}" in lines
        section = cover[cover.index(f"{label}\nПисем: {len(expected)}") :]
        for number in expected:
            item = ITEMS[number - 1]
            envelope = item.envelope.size.upper() if item.envelope else "без конверта"
            assert f"{number} {item.recipient_label} {envelope}" in section
    assert "Всего 12" in lines
    # Facilities in order of first appearance: ИК-6 (letter 1), СИЗО-1 (2), ИК-2 (4).
    headings = [cover.index(f"{facility_label(key)}\nПисем:") for key in ("ik6", "sizo1", "ik2")]
    assert headings == sorted(headings)


def test_cover_names_no_supporter(rendered):
    reader = read(rendered[0])
    cover = "".join(page.extract_text() for page in reader.pages[: cover_page_count(reader)])
    assert SIGNATURE not in cover
    assert SENDER not in cover
    assert "Тбилиси 0108" not in cover


def test_english_cover_labels():
    rows = pack_layout.cover_rows(ITEMS[:3])
    pdf = pack_layout.render_cover_pdf(
        rows, CoverInfo("Drive", date(2025, 5, 12), date(2025, 5, 13), "en")
    )
    text = read(pdf).pages[0].extract_text()
    assert "Letters to post" in text
    assert "Drive held on: 12 May 2025" in text
    assert "Letters: 3 · Facilities: 2" in text
    with pytest.raises(ValueError, match="cover language"):
        CoverInfo("Drive", date(2025, 5, 12), date(2025, 5, 13), "de")


# --- bad input and failures -------------------------------------------------------------------


def test_a_failing_letter_fails_the_whole_pack_with_a_clear_message(pool):
    broken_envelope = EnvelopeDocument("dl", SENDER, [], ["Кому-то", "Куда-то", "101000"])
    # Bypass the dataclass check, as a bug elsewhere might: the worker must refuse it.
    object.__setattr__(broken_envelope, "size", "c6")
    items = [*ITEMS[:6], replace(ITEMS[6], envelope=broken_envelope), *ITEMS[7:]]
    calls: list[tuple[int, int]] = []
    with pytest.raises(PackRenderError) as raised:
        render_pack(
            items,
            COVER,
            lambda done, total: calls.append((done, total)),
            group_size=GROUP_SIZE,
            pool=pool,
        )
    message = str(raised.value)
    assert "letter 7" in message
    assert "Unsupported envelope size: 'c6'" in message
    assert (len(items), len(items)) not in calls
    # The pool is still good for the next pack.
    pdf = render_pack(ITEMS[:2], COVER, group_size=GROUP_SIZE, pool=pool)
    assert len(read(pdf).pages) >= 4


def test_bad_arguments_are_refused_before_rendering():
    appeal = AppealDocument(["Начальнику"], "Заявитель", [], "Текст", date(2025, 5, 12))
    with pytest.raises(TypeError, match="letters to prisoners only"):
        PackItem(appeal, None, "ИК-6", "Кому-то")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="group_size"):
        render_pack(ITEMS, COVER, group_size=0)


def test_an_empty_pack_is_the_cover_alone(pool):
    calls: list[tuple[int, int]] = []
    pdf = render_pack([], COVER, lambda done, total: calls.append((done, total)), pool=pool)
    reader = read(pdf)
    assert len(reader.pages) == 1
    assert "Писем: 0" in reader.pages[0].extract_text()
    assert calls == [(0, 0)]


def test_without_a_pool_a_temporary_one_is_used():
    pdf = render_pack(ITEMS[:3], COVER, group_size=2)
    texts = [page.extract_text() for page in read(pdf).pages]
    assert TITLE in texts[0]
    # On the cover list, the letter and the envelope.
    assert sum(ITEMS[2].recipient_label in text for text in texts) == 3


def test_two_packs_at_once_share_the_pool(pool):
    """Job threads of one consumer share its pool; each gets its own letters back, in order."""
    firsts, seconds = ITEMS[:4], ITEMS[4:9]
    with ThreadPoolExecutor(2) as threads:
        first = threads.submit(render_pack, firsts, COVER, group_size=2, pool=pool)
        second = threads.submit(render_pack, seconds, COVER, group_size=2, pool=pool)
        packs = [first.result(timeout=120), second.result(timeout=120)]
    for pdf, items in zip(packs, (firsts, seconds), strict=True):
        reader = read(pdf)
        letters = [page.extract_text() for page in reader.pages[cover_page_count(reader, items) :]]
        starts = [text for text in letters if re.search(r"Письмо \d+\.", text)]
        assert [re.search(r"Письмо (\d+)\.", text).group(1) for text in starts] == [
            str(ITEMS.index(item) + 1) for item in items
        ]


def test_a_dead_worker_fails_the_pack_and_the_pool_recovers(pool):
    """A worker killed mid-pack (out of memory, say) is an error, never a half-built file."""
    pool.submit(os._exit, 1)  # the next free worker picks this up first and dies
    with pytest.raises(PackRenderError, match="stopped unexpectedly"):
        render_pack(ITEMS, COVER, group_size=1, pool=pool)
    pdf = render_pack(ITEMS[:2], COVER, group_size=GROUP_SIZE, pool=pool)
    assert ITEMS[1].recipient_label in read(pdf).pages[-1].extract_text()


def test_a_pack_waiting_for_a_busy_pool_beats_and_can_be_stopped(pool):
    """While other work holds every worker, the caller hears a heartbeat (a print job renews
    its lease with it); what the heartbeat raises stops the pack, and the pool serves on."""
    beats: list[int] = []
    busy = [pool.submit(time.sleep, 2) for _ in range(pool.processes)]
    pdf = render_pack(
        ITEMS[:2], COVER, pool=pool, heartbeat=lambda: beats.append(1), heartbeat_seconds=0.2
    )
    assert [future.result() for future in busy] == [None] * pool.processes
    assert beats  # the pack could not start before the sleeps ended
    assert ITEMS[1].recipient_label in read(pdf).pages[-1].extract_text()

    class Stop(Exception):
        pass

    def stop() -> None:
        raise Stop

    busy = [pool.submit(time.sleep, 2) for _ in range(pool.processes)]
    with pytest.raises(Stop):
        render_pack(ITEMS, COVER, pool=pool, heartbeat=stop, heartbeat_seconds=0.2)
    for future in busy:
        future.result()
    pdf = render_pack(ITEMS[:1], COVER, pool=pool)
    assert ITEMS[0].recipient_label in read(pdf).pages[-1].extract_text()


def _running(pid: int) -> bool:
    """Whether the process exists and is not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_a_hung_render_is_killed_and_a_pack_sharing_the_pool_is_rendered_again(monkeypatch):
    """A render that never finishes holds its worker for ever and cannot be cancelled: its
    caller stops waiting (a print job at its time limit) and kills the pool's workers. Another
    pack whose documents were lost with them renders them again, on new workers."""
    marker = "ВЁРСТКА-ЗАВИСАЕТ"
    monkeypatch.setenv(TEST_HANG_VARIABLE, marker)  # read by the workers started below
    hanging = [
        replace(item, letter=replace(item.letter, body=f"{item.letter.body}\n{marker}"))
        for item in ITEMS[:2]
    ]
    others = ITEMS[2:8]
    other_submitted = threading.Event()

    class TimeUp(Exception):
        pass

    def time_up() -> None:
        """The hung pack's heartbeat: once the other pack waits too, its time is up."""
        if other_submitted.is_set():
            shared.kill()
            raise TimeUp

    def other_progress(done: int, total: int) -> None:
        other_submitted.set()  # called first with 0, once every document is submitted
        assert done == 0 or shared.kills == 1

    with PackPool(2) as shared:
        first_workers = shared.warm_up()
        with ThreadPoolExecutor(2) as threads:
            # Both groups hang: the two workers are taken, the other pack can only wait.
            hung = threads.submit(
                render_pack, hanging, COVER, group_size=1, pool=shared,
                heartbeat=time_up, heartbeat_seconds=0.3,
            )  # fmt: skip
            while not any(report.letters == 0 for report in shared.reports):
                time.sleep(0.05)  # the hung pack's cover is done: its groups come next
            other = threads.submit(
                render_pack, others, COVER, other_progress, group_size=2, pool=shared
            )
            with pytest.raises(TimeUp):
                hung.result(timeout=120)
            pdf = other.result(timeout=120)
        assert shared.kills == 1
        assert not any(_running(pid) for pid in first_workers)
        # Every document of the other pack was rendered after the kill, by new workers.
        newer = [report for report in shared.reports if report.pid not in first_workers]
        assert sorted(report.first_number for report in newer) == [0, 1, 3, 5]
    reader = read(pdf)
    letters = [page.extract_text() for page in reader.pages[cover_page_count(reader, others) :]]
    starts = [text for text in letters if re.search(r"Письмо \d+\.", text)]
    assert [re.search(r"Письмо (\d+)\.", text).group(1) for text in starts] == [
        str(ITEMS.index(item) + 1) for item in others
    ]
    assert not any(marker in text for text in letters)


# --- untrusted text cannot load anything --------------------------------------------------------


def payloads(port: int) -> list[str]:
    """The payloads of tests/test_pdf.py (kept in step with it)."""
    return [
        '<link rel="attachment" href="file:///etc/passwd">',
        '<base href="file:///">',
        f'<img src="http://127.0.0.1:{port}/">',
        "<style>@import url(file:///etc/passwd)</style>",
    ]


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A real TCP listener: a fetch from any process would land here."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    yield server
    server.close()


def hostile_items(port: int) -> tuple[list[PackItem], str]:
    combined = "".join(payloads(port))
    items = []
    for index, payload in enumerate([*payloads(port), combined]):
        items.append(
            PackItem(
                letter=LetterDocument(
                    language="ru",
                    body=f"Здравствуйте!\n\n{payload}\n\nВсего доброго.",
                    signature=payload,
                    written_on=date(2025, 5, 12),
                    recipient_header=payload,
                ),
                envelope=EnvelopeDocument(
                    "dl" if index % 2 else "c5", payload, [payload, "Тбилиси"], [payload, payload]
                ),
                facility_label=payload,
                recipient_label=payload,
            )
        )
    return items, combined


def assert_nothing_embedded(pdf: bytes) -> None:
    reader = read(pdf)
    names = reader.trailer["/Root"].get("/Names")
    assert names is None or "/EmbeddedFiles" not in names.get_object()
    assert not reader.attachments
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            assert annot.get_object().get("/Subtype") != "/FileAttachment"
    assert PASSWD_MARK not in "".join(page.extract_text() for page in reader.pages)


def assert_no_connection(server: socket.socket) -> None:
    with pytest.raises(BlockingIOError):
        connection, _ = server.accept()
        connection.close()  # pragma: no cover - only reached when the test fails


def test_payloads_are_printed_not_executed_in_the_workers(pool, listener):
    port = listener.getsockname()[1]
    items, combined = hostile_items(port)
    pdf = render_pack(items, CoverInfo(combined, date(2025, 5, 12), date(2025, 5, 13)), pool=pool)
    assert_nothing_embedded(pdf)
    assert_no_connection(listener)
    text = squash("".join(page.extract_text() for page in read(pdf).pages))
    for payload in payloads(port):
        # Escaped, the markup is text: in the letter, signature, envelope and cover list.
        assert text.count(squash(payload)) >= 6


def test_payloads_fetch_nothing_in_process(listener, monkeypatch):
    """The same documents rendered here, where every socket connection can be watched."""
    attempts: list[object] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def connect(self, address):
        attempts.append(address)
        return real_connect(self, address)

    def connect_ex(self, address):
        attempts.append(address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    items, combined = hostile_items(listener.getsockname()[1])
    cover = CoverInfo(combined, date(2025, 5, 12), date(2025, 5, 13))
    for pdf in (
        pack_layout.render_group_pdf(items),
        pack_layout.render_cover_pdf(pack_layout.cover_rows(items), cover),
    ):
        assert_nothing_embedded(pdf)
    assert_no_connection(listener)
    assert attempts == []
