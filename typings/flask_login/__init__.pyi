"""Flask-Login 0.6: the part Konvert uses (see typings/README.md)."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from flask import Flask

_Loader = TypeVar("_Loader", bound=Callable[[str], object])

class UserMixin:
    def __hash__(self) -> int: ...
    @property
    def is_active(self) -> bool: ...
    @property
    def is_authenticated(self) -> bool: ...
    @property
    def is_anonymous(self) -> bool: ...
    def get_id(self) -> str: ...
    def __eq__(self, other: object) -> bool: ...
    def __ne__(self, other: object) -> bool: ...

class AnonymousUserMixin:
    @property
    def is_authenticated(self) -> bool: ...
    @property
    def is_active(self) -> bool: ...
    @property
    def is_anonymous(self) -> bool: ...
    def get_id(self) -> None: ...

class LoginManager:
    anonymous_user: type[Any]
    login_view: str | None
    login_message: str
    session_protection: str | None
    # Private in Flask-Login, but the documented way to turn the session identifier off.
    _session_identifier_generator: Callable[[], str]
    def __init__(self, app: Flask | None = None, add_context_processor: bool = True) -> None: ...
    def init_app(self, app: Flask, add_context_processor: bool = True) -> None: ...
    def user_loader(self, callback: _Loader) -> _Loader: ...

# A LocalProxy to whatever the user loader returned (the app's own class, which Flask-Login
# cannot know) or to an AnonymousUserMixin: Any, narrowed by the code that uses it.
current_user: Any

def login_user(
    user: UserMixin,
    remember: bool = False,
    duration: timedelta | None = None,
    force: bool = False,
    fresh: bool = True,
) -> bool: ...
def logout_user() -> bool: ...
