"""Scans of incoming post: the pages a volunteer uploads become one PDF with no metadata.

A phone photo carries the place it was taken (EXIF GPS), the phone's make and serial, the
time; a scanner's PDF carries its software, the author's account name, sometimes attachments
or scripts. None of it belongs with a prisoner's reply: images are decoded and encoded again
with Pillow (only the pixels survive), PDF pages are copied into a new document by pypdf
without the document information, XMP, attachments, annotations or actions, and the JPEG
images inside them are encoded again too (a JPEG stream in a PDF is a whole JPEG file, EXIF
and all).

Pure functions: bytes in, bytes out, no Flask and no database. Refusals are `DomainError`s
on the field ``scan``.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.errors import PdfReadError
from pypdf.generic import DictionaryObject, NameObject

from app.domain import DomainError

MAX_FILES = 20
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_TOTAL_BYTES = 40 * 1024 * 1024
#: Pages of one uploaded PDF: a reply is a few pages; a thousand-page file is a mistake.
MAX_PDF_PAGES = 100
#: Pixels of one image: a 60-megapixel photo is already generous; more is a decompression bomb.
MAX_IMAGE_PIXELS = 60_000_000
#: The width of an A4 page in inches: images are placed so that they are about that wide.
_A4_WIDTH_INCHES = 8.27
FIELD = "scan"

JPEG, PNG, PDF = "jpeg", "png", "pdf"
_MAGIC = ((b"\xff\xd8\xff", JPEG), (b"\x89PNG\r\n\x1a\n", PNG), (b"%PDF-", PDF))
# Filters whose streams are whole image files, with room for metadata of their own.
_IMAGE_FILE_FILTERS = ("/DCTDecode", "/JPXDecode")
# Keys of a page (or a form XObject) that hold metadata, actions or attached material.
_PAGE_KEYS_DROPPED = (
    "/AA", "/Metadata", "/PieceInfo", "/Thumb", "/Annots", "/B", "/StructParents",
)  # fmt: skip


@dataclass(frozen=True)
class ScanPage:
    """One uploaded file: its name (for messages only) and its bytes."""

    name: str
    content: bytes


@dataclass(frozen=True)
class CleanScan:
    """The pages as one PDF with no metadata, and how many pages it has."""

    pdf: bytes
    pages: int


def file_kind(content: bytes) -> str | None:
    """ "jpeg", "png" or "pdf" by the file's first bytes (never by its name), or None."""
    # A PDF may start with a little junk before %PDF- (readers allow 1024 bytes): not ours.
    return next((kind for magic, kind in _MAGIC if content.startswith(magic)), None)


def check_limits(files: Sequence[ScanPage]) -> None:
    """Refuse an upload with no file, too many files, or files too large (each, or in all)."""
    if not files:
        raise DomainError(FIELD, _l("Choose the scanned pages to upload."))
    if len(files) > MAX_FILES:
        raise DomainError(
            FIELD, _l("At most %(max)d files at once; make one PDF of the pages.", max=MAX_FILES)
        )
    for page in files:
        if len(page.content) > MAX_FILE_BYTES:
            raise DomainError(
                FIELD, _l("%(name)s is larger than 10 MB; scan it at a lower resolution.",
                          name=page.name),
            )  # fmt: skip
        if not page.content:
            raise DomainError(FIELD, _l("%(name)s is empty.", name=page.name))
    if sum(len(page.content) for page in files) > MAX_TOTAL_BYTES:
        raise DomainError(FIELD, _l("The files are larger than 40 MB in all."))


def clean_scan(files: Sequence[ScanPage]) -> CleanScan:
    """Join the uploaded pages, in order, into one PDF without metadata.

    JPEG and PNG images are decoded, turned upright as their EXIF says, and encoded again
    without EXIF, XMP or ICC text; PDF pages are copied without the document's information,
    XMP, attachments, annotations, scripts or page actions. Anything else is refused, naming
    the file.
    """
    check_limits(files)
    writer = PdfWriter()
    for page in files:
        kind = file_kind(page.content)
        if kind is None:
            raise DomainError(
                FIELD,
                _l("%(name)s is not a JPEG, PNG or PDF file.", name=page.name),
            )
        source = _pdf_of_image(page) if kind != PDF else page.content
        _copy_pages(writer, source, page.name)
    _strip_document(writer)
    out = io.BytesIO()
    writer.write(out)
    return CleanScan(pdf=out.getvalue(), pages=len(writer.pages))


def _pdf_of_image(page: ScanPage) -> bytes:
    """The image as a one-page PDF: pixels only, about as wide as an A4 page."""
    try:
        with Image.open(io.BytesIO(page.content)) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise DomainError(
                    FIELD, _l("%(name)s has too many pixels; scan it at a lower resolution.",
                              name=page.name),
                )  # fmt: skip
            image.load()
            upright = ImageOps.exif_transpose(image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise DomainError(FIELD, _l("%(name)s is damaged or unreadable.", name=page.name)) from (
            error
        )
    # A new image from the pixels alone: nothing of the file's info (EXIF, XMP, comments,
    # ICC text) travels with it.
    if upright.mode in ("1", "L"):
        pixels = upright.convert("L")
    else:
        background = Image.new("RGB", upright.size, "white")
        rgba = upright.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        pixels = background
    clean = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
    out = io.BytesIO()
    resolution = max(clean.width / _A4_WIDTH_INCHES, 1.0)
    clean.save(out, format="PDF", resolution=resolution, quality=85)
    return out.getvalue()


def _copy_pages(writer: PdfWriter, content: bytes, name: str) -> None:
    """Copy every page of a PDF into ``writer``: the pages only, never the document around them."""
    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise DomainError(
                FIELD, _l("%(name)s is protected by a password; save it without one.", name=name)
            )
        pages = list(reader.pages)
        if len(pages) > MAX_PDF_PAGES:
            raise DomainError(
                FIELD, _l("%(name)s has more than %(max)d pages.", name=name, max=MAX_PDF_PAGES)
            )
        for page in pages:
            added = writer.add_page(page)
            _strip_page(added)
            _reencode_jpegs(added)
    except DomainError:
        raise
    except (PdfReadError, OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise DomainError(FIELD, _l("%(name)s is damaged or unreadable.", name=name)) from error
    if not pages:
        raise DomainError(FIELD, _l("%(name)s has no pages.", name=name))


def _strip_page(page: PageObject) -> None:
    """Drop a page's annotations (links, attached files), actions, metadata and thumbnails,
    and the metadata of the images and forms it draws."""
    for key in _PAGE_KEYS_DROPPED:
        page.pop(NameObject(key), None)
    _strip_resources(page.get("/Resources"), seen=set())


def _reencode_jpegs(page: PageObject) -> None:
    """Encode the page's JPEG and JPEG 2000 images again from their pixels: their streams are
    whole image files, which may carry EXIF (a camera, a place) or XMP inside the PDF."""
    for image in page.images:
        stream = image.indirect_reference.get_object() if image.indirect_reference else None
        filters = stream.get("/Filter") if isinstance(stream, DictionaryObject) else None
        names = filters if isinstance(filters, list) else [filters]
        if not any(name in _IMAGE_FILE_FILTERS for name in names):
            continue
        pixels = image.image
        if pixels is None:
            raise ValueError("an image that cannot be decoded")
        if pixels.mode not in ("1", "L", "RGB", "CMYK"):
            pixels = pixels.convert("RGB")
        image.replace(Image.frombytes(pixels.mode, pixels.size, pixels.tobytes()), quality=85)


def _strip_resources(resources: object, seen: set[int]) -> None:
    resources = _resolved(resources)
    if not isinstance(resources, DictionaryObject):
        return
    objects = _resolved(resources.get("/XObject"))
    if not isinstance(objects, DictionaryObject):
        return
    for reference in objects.values():
        xobject = _resolved(reference)
        if not isinstance(xobject, DictionaryObject) or id(xobject) in seen:
            continue
        seen.add(id(xobject))
        for key in ("/Metadata", "/PieceInfo", "/OC"):
            xobject.pop(NameObject(key), None)
        if xobject.get("/Subtype") == "/Form":
            _strip_resources(xobject.get("/Resources"), seen)


def _resolved(value: object) -> object:
    get_object = getattr(value, "get_object", None)
    return get_object() if callable(get_object) else value


def _strip_document(writer: PdfWriter) -> None:
    """No document information, XMP, names (attachments, scripts) or opening action."""
    writer.metadata = None
    writer.xmp_metadata = None
    root = writer.root_object
    for key in ("/Names", "/OpenAction", "/AA", "/AcroForm", "/Metadata", "/Outlines"):
        root.pop(NameObject(key), None)
