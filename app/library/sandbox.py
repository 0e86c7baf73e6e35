"""Rendering template bodies in Jinja's immutable sandbox, from plain data only."""

from __future__ import annotations

import html
from functools import cache
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment


class TemplateRenderError(ValueError):
    """A template body could not be rendered; the message says why."""


@cache
def environment() -> ImmutableSandboxedEnvironment:
    """The one sandboxed environment every template body is parsed and rendered in."""
    # No loader: a template cannot include or import anything. Autoescape stays on so that a
    # name typed with markup never becomes markup; the letter is plain text, see render_body().
    return ImmutableSandboxedEnvironment(
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def check_syntax(body: str) -> None:
    """Raise TemplateRenderError when a body is not valid template syntax."""
    try:
        environment().parse(body)
    except TemplateSyntaxError as error:
        raise TemplateRenderError(f"line {error.lineno}: {error.message}") from error


def render_body(body: str, context: dict[str, Any]) -> str:
    """Render a template body with plain data and return the letter as plain text."""
    try:
        rendered = environment().from_string(body).render(context)
    except TemplateSyntaxError as error:
        raise TemplateRenderError(f"line {error.lineno}: {error.message}") from error
    except (UndefinedError, SecurityError, TypeError) as error:
        raise TemplateRenderError(str(error)) from error
    # The sandbox escaped every value; the writer edits plain text, so undo the escaping once.
    return html.unescape(rendered).strip() + "\n"
