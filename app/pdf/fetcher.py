"""A URL fetcher for WeasyPrint that serves only the bundled PDF assets.

Letters are typed by untrusted people. Their text is escaped before it reaches WeasyPrint, but
if markup ever got through (a template bug, a future feature), WeasyPrint would happily embed
``file:///etc/passwd`` as an attachment or call an internal HTTP service. This fetcher is the
second wall: whatever the document says and whatever its base URL is, only regular files that
really live inside the asset folders can be read. Everything else raises, so nothing is fetched.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from weasyprint.urls import URLFetcher, URLFetcherResponse, path2url

APP_DIR = Path(__file__).resolve().parent.parent
FONTS_DIR = APP_DIR / "static" / "fonts"

# Only what a stylesheet may legitimately pull in: fonts. Stylesheets themselves are read by
# render.py and handed to WeasyPrint as strings, so they never go through the fetcher.
ALLOWED_SUFFIXES = frozenset({".ttf", ".otf", ".woff", ".woff2"})

_CONTENT_TYPES = {
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
}


class ForbiddenURLError(ValueError):
    """Raised for any URL outside the bundled assets.

    A plain (non-fatal) exception on purpose: WeasyPrint logs it and renders the document without
    the resource, so a stray URL in a letter costs a missing image, not the whole print.
    """


def dir_url(folder: Path) -> str:
    """The ``file://`` URL of a folder, with the trailing slash relative URLs need."""
    return path2url(str(folder) + os.sep)


class RestrictedURLFetcher(URLFetcher):
    """Serve ``file:`` URLs inside the allowed folders; refuse everything else.

    Paths are resolved with :func:`os.path.realpath` before the containment check, so ``..``
    segments, percent-encoded dots and symlinks pointing outside cannot escape.
    """

    def __init__(
        self,
        allowed_dirs: Iterable[Path] = (FONTS_DIR,),
        allowed_suffixes: Iterable[str] = ALLOWED_SUFFIXES,
    ) -> None:
        # The base class sets _fail_on_errors, which weasyprint.urls.fetch() reads; its urllib
        # handlers are never used because fetch() below never calls them.
        super().__init__(timeout=1, allowed_protocols=("file",))
        self.allowed_dirs = tuple(os.path.realpath(folder) for folder in allowed_dirs)
        self.allowed_suffixes = frozenset(suffix.lower() for suffix in allowed_suffixes)

    def resolve(self, url: str) -> Path:
        """Return the real path an allowed URL points to, or raise :class:`ForbiddenURLError`."""
        try:
            parts = urlsplit(url)
        except ValueError as error:
            raise ForbiddenURLError(f"Malformed URL refused: {url[:200]!r}") from error
        if parts.scheme.lower() != "file":
            raise ForbiddenURLError(f"Only bundled files may be loaded, refused: {url[:200]!r}")
        if parts.netloc not in ("", "localhost"):
            raise ForbiddenURLError(f"Remote file URL refused: {url[:200]!r}")
        raw_path = url2pathname(unquote(parts.path))
        if "\x00" in raw_path:
            raise ForbiddenURLError("NUL byte in file URL refused")
        real = os.path.realpath(raw_path)
        if not any(_is_inside(real, folder) for folder in self.allowed_dirs):
            raise ForbiddenURLError(f"File outside the bundled assets refused: {url[:200]!r}")
        path = Path(real)
        if path.suffix.lower() not in self.allowed_suffixes:
            raise ForbiddenURLError(f"File type not served to PDFs: {url[:200]!r}")
        if not path.is_file():
            raise ForbiddenURLError(f"No such bundled file: {url[:200]!r}")
        return path

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        """Return the bytes of a bundled asset; raise :class:`ForbiddenURLError` otherwise."""
        path = self.resolve(url)
        content_type = (
            _CONTENT_TYPES.get(path.suffix.lower())
            or mimetypes.guess_type(path.name)[0]
            or "application/octet-stream"
        )
        return URLFetcherResponse(
            path2url(str(path)), body=path.read_bytes(), headers={"Content-Type": content_type}
        )


def _is_inside(path: str, folder: str) -> bool:
    """True when the real ``path`` is ``folder`` itself or below it."""
    try:
        return os.path.commonpath([path, folder]) == folder
    except ValueError:  # different drives on Windows, or mixed absolute/relative paths
        return False


#: The one fetcher every HTML() and CSS() in this package uses.
FETCHER = RestrictedURLFetcher()
