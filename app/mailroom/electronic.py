"""Letters for an electronic letter service (FSIN-Pismo, Zonatelecom): plain text cut to the
service's page size, for volunteers to paste into the service's form one page at a time.

Pure functions (data in, bytes out; no Flask, no database).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

#: Characters per page of FSIN-Pismo (ФСИН-письмо), which charges per page: we assume
#: 2,500 characters, spaces included, the size its form counted a page at when this was
#: written. Check it against the service's current price list; change it here.
FSIN_PISMO_PAGE_CHARS = 2500
#: Characters per page of Zonatelecom (Зонателеком): assumed the same as FSIN-Pismo's until
#: someone measures it.
ZONATELECOM_PAGE_CHARS = 2500
#: Any other service named on a facility.
DEFAULT_PAGE_CHARS = 2500

# Service names as facilities spell them (in either script), folded by `_folded`.
_PAGE_CHARS = {
    "fsinpismo": FSIN_PISMO_PAGE_CHARS,
    "фсинписьмо": FSIN_PISMO_PAGE_CHARS,
    "zonatelecom": ZONATELECOM_PAGE_CHARS,
    "зонателеком": ZONATELECOM_PAGE_CHARS,
}

_NOT_LETTERS = re.compile(r"[\W_]+")


def _folded(name: str) -> str:
    return _NOT_LETTERS.sub("", name.casefold())


def page_chars(service: str) -> int:
    """Characters per page of an electronic letter service, by its name as typed."""
    return _PAGE_CHARS.get(_folded(service), DEFAULT_PAGE_CHARS)


def split_pages(text: str, size: int) -> list[str]:
    """Cut ``text`` into pages of at most ``size`` characters: at a paragraph break where one
    falls in the second half of the page, else at a line break, else between words, else
    (a word longer than the page) anywhere. Pages keep their text as written; the spaces at
    a cut are dropped."""
    if size < 1:
        raise ValueError("a page holds at least one character")
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    pages: list[str] = []
    while len(text) > size:
        window = text[: size + 1]
        cut = -1
        for separator in ("\n\n", "\n", " "):
            found = window.rfind(separator)
            if found >= size // 2:
                cut = found
                break
        if cut <= 0:
            cut = size
        pages.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        pages.append(text)
    return pages


@dataclass(frozen=True)
class ElectronicLetter:
    """One letter to paste into a service. Every string but ``reference`` is untrusted."""

    reference: str
    recipient: str
    facility: str
    service: str
    text: str


def letter_text(letter: ElectronicLetter, page_size: int) -> tuple[str, int]:
    """The text file of one letter: who and where it goes, then its pages, each marked; and
    how many pages it has."""
    pages = split_pages(letter.text, page_size)
    head = [
        f"Код: {letter.reference}",
        f"Кому: {letter.recipient}",
        f"Куда: {letter.facility}",
        f"Сервис: {letter.service} ({page_size} знаков на странице, страниц: {len(pages)})",
        "",
    ]
    body: list[str] = []
    for number, page in enumerate(pages, start=1):
        body += [f"----- Страница {number} из {len(pages)} -----", page, ""]
    return "\n".join(head + body), len(pages)


def export_zip(letters: Sequence[ElectronicLetter], made_at: datetime) -> bytes:
    """A ZIP of one text file per letter (UTF-8, named by position and reference) and an
    index listing them; entries are dated ``made_at`` (the run, not the writers)."""
    output = io.BytesIO()
    stamp = made_at.timetuple()[:6]
    index = ["№\tКод\tКому\tСервис\tСтраниц"]
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for number, letter in enumerate(letters, start=1):
            content, pages = letter_text(letter, page_chars(letter.service))
            name = f"{number:03d}-{letter.reference}.txt"
            archive.writestr(zipfile.ZipInfo(name, stamp), content.encode("utf-8"))
            index.append(
                f"{number}\t{letter.reference}\t{letter.recipient}\t{letter.service}\t{pages}"
            )
        archive.writestr(zipfile.ZipInfo("index.txt", stamp), ("\n".join(index) + "\n").encode())
    return output.getvalue()
