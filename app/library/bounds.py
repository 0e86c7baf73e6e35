"""The limits a template body renders within, and the budget that enforces them.

An organizer's template runs in the sandbox with no access to the application, but it can still
try to exhaust the worker that renders it: nested loops, a string repeated a billion times, a
huge power, a macro that calls itself. Every hook of the sandbox (app/library/sandbox.py) spends
from one ``Budget`` per rendering: it counts steps and loop iterations, checks a deadline, and
measures every value an operation produces — after the operation, or before it where the result
could be far larger than the inputs (app/library/estimates.py). Going past a limit raises
``BoundExceeded`` with a message for people.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Set
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from jinja2.utils import Namespace

# A printed container quotes and escapes the strings in it: "\U0001f600" is 10 characters.
REPR_GROWTH = 10
# Markup escapes what is put into it: "&" becomes "&amp;" (5), '"' becomes "&#34;" (5).
ESCAPE_GROWTH = 6
MAX_NESTING = 50  # lists in lists, namespaces in namespaces


class BoundExceeded(Exception):
    """A rendering went past one of its limits; ``message`` says which, for people."""

    def __init__(self, message: object) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class RenderLimits:
    """How much one rendering may do. The defaults fit letters of 20,000 characters."""

    output_chars: int = 60_000  # the rendered text, and any one value on the way
    seconds: float = 1.0
    iterations: int = 10_000  # loop iterations, all loops together
    range_items: int = 1_000  # numbers one range() may give
    steps: int = 100_000  # operations: calls, filters, operators, lookups, iterations
    call_depth: int = 32  # macros calling macros
    integer_bits: int = 4_096

    @property
    def produced_chars(self) -> int:
        """Characters all operations together may produce, intermediate values included."""
        return 20 * self.output_chars

    @classmethod
    def for_letters(cls, max_letter_chars: int, seconds: float) -> RenderLimits:
        """Limits for templates of letters at most ``max_letter_chars`` long."""
        return cls(output_chars=3 * max_letter_chars, seconds=seconds)


def too_long(limit: int) -> BoundExceeded:
    """The error for a text or value over ``limit`` characters."""
    return BoundExceeded(_l("the text grows too long (over %(max)d characters)", max=limit))


def too_large() -> BoundExceeded:
    """The error for an integer over the limit of bits."""
    return BoundExceeded(_l("a number is too large"))


class Budget:
    """What one rendering has spent so far; every method raises BoundExceeded past a limit."""

    def __init__(self, limits: RenderLimits) -> None:
        self.limits = limits
        self.deadline = time.monotonic() + limits.seconds
        self.steps = 0
        self.iterations = 0
        self.produced = 0
        self.depth = 0

    def step(self) -> None:
        """Count one operation and check the clock."""
        self.steps += 1
        if self.steps > self.limits.steps:
            raise BoundExceeded(
                _l("the template does too much work (over %(max)d steps)", max=self.limits.steps)
            )
        if time.monotonic() > self.deadline:
            raise BoundExceeded(
                _l(
                    "the template takes too long to fill in (over %(seconds)s s)",
                    seconds=self.limits.seconds,
                )
            )

    def iterate(self) -> None:
        """Count one loop iteration."""
        self.iterations += 1
        if self.iterations > self.limits.iterations:
            raise BoundExceeded(
                _l(
                    "the template repeats too often (over %(max)d loop iterations)",
                    max=self.limits.iterations,
                )
            )
        self.step()

    def expect(self, chars: int) -> None:
        """Refuse an operation whose result could exceed the size of one value."""
        if chars > self.limits.output_chars:
            raise too_long(self.limits.output_chars)

    def produce(self, chars: int) -> None:
        """Count characters produced (output written, values built)."""
        self.step()
        self.produced += chars
        if self.produced > self.limits.produced_chars:
            raise too_long(self.limits.produced_chars)

    def checked(self, value: Any) -> Any:
        """Pass a value an operation produced, after checking its size."""
        if isinstance(value, int) and value.bit_length() > self.limits.integer_bits:
            raise too_large()
        chars = size(value)
        self.expect(chars)
        self.produce(chars)
        return value

    def check_arguments(self, args: Iterable[Any]) -> None:
        """Refuse numbers larger than a value may be long, as widths and counts."""
        for argument in args:
            if isinstance(argument, int) and abs(argument) > self.limits.output_chars:
                raise BoundExceeded(
                    _l(
                        "a number given to a filter or method is too large (over %(max)d)",
                        max=self.limits.output_chars,
                    )
                )

    def enter(self) -> None:
        """One call deeper (macros, blocks, methods)."""
        self.depth += 1
        if self.depth > self.limits.call_depth:
            raise BoundExceeded(
                _l(
                    "the template calls itself too deeply (over %(max)d levels)",
                    max=self.limits.call_depth,
                )
            )

    def leave(self) -> None:
        """Back from a call."""
        self.depth -= 1

    def collect(self, chunks: Iterable[str]) -> str:
        """Join the rendered output, stopping as soon as it is too long."""
        parts: list[str] = []
        length = 0
        for chunk in chunks:
            length += len(chunk)
            if length > self.limits.output_chars:
                raise too_long(self.limits.output_chars)
            parts.append(chunk)
        return "".join(parts)

    def items(self, iterable: Iterable[Any]) -> Iterator[Any]:
        """Iterate, counting every item as a loop iteration."""
        for item in iterable:
            self.iterate()
            yield item


_current: ContextVar[Budget | None] = ContextVar("konvert_template_budget", default=None)


def budget() -> Budget:
    """The budget of the rendering under way."""
    current = _current.get()
    if current is None:
        # Template code runs only inside spending(): never unbounded.
        raise RuntimeError("templates are rendered only through render_body()")
    return current


@contextmanager
def spending(limits: RenderLimits) -> Iterator[Budget]:
    """Open a budget for one rendering (per thread and per task, through a ContextVar)."""
    token = _current.set(Budget(limits))
    try:
        yield budget()
    finally:
        _current.reset(token)


def namespace_attributes(value: Namespace) -> dict[str, Any]:
    """The attributes a Jinja namespace holds."""
    attributes: dict[str, Any] = object.__getattribute__(value, "_Namespace__attrs")
    return attributes


def size(value: Any, depth: int = 0) -> int:
    """An upper bound of the characters ``value`` takes, printed or joined (containers deeply)."""
    if isinstance(value, str | bytes | bytearray):
        return len(value)
    if value is None or isinstance(value, bool | float):
        return 24
    if isinstance(value, int):
        return value.bit_length() // 3 + 2  # a decimal digit holds more than 3 bits
    if depth > MAX_NESTING:
        raise BoundExceeded(_l("values are nested too deeply"))
    if isinstance(value, Namespace):
        value = namespace_attributes(value)
    if isinstance(value, Mapping):
        return 2 + sum(size(k, depth + 1) + size(v, depth + 1) + 2 for k, v in value.items())
    if isinstance(value, list | tuple | Set) or type(value).__name__.startswith("dict_"):
        return 2 + sum(size(item, depth + 1) + 2 for item in value)
    return 24  # ranges, generators, macros, loops: printed as a short description


def printed(value: Any) -> int:
    """An upper bound of ``str(value)``: containers show their strings quoted and escaped."""
    if isinstance(value, str | int | float) or value is None:
        return size(value)
    return REPR_GROWTH * size(value)
