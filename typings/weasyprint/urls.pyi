import ssl
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from pathlib import Path
from typing import Any, BinaryIO
from urllib.request import OpenerDirector

def path2url(path: str | bytes | Path) -> str: ...

class URLFetchingError(OSError): ...

class URLFetcherResponse:
    url: str
    status: int
    headers: EmailMessage
    def __init__(
        self,
        url: str,
        body: str | bytes | BinaryIO | None = None,
        headers: Mapping[str, str] | EmailMessage | None = None,
        status: int = 200,
        **kwargs: Any,
    ) -> None: ...

class URLFetcher(OpenerDirector):
    def __init__(
        self,
        timeout: float = 10,
        ssl_context: ssl.SSLContext | None = None,
        http_headers: Mapping[str, str] | None = None,
        allowed_protocols: Sequence[str] | None = None,
        allow_redirects: bool = True,
        fail_on_errors: bool = False,
        **kwargs: Any,
    ) -> None: ...
    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse: ...
