"""Upper bounds of what an operation would build, checked before it runs.

Most operations of a template produce a value not much larger than their inputs, and the
sandbox measures that value afterwards. These do not: ``"x" * n``, ``2 ** n``, ``"%0*d"``,
``str.format`` widths, ``replace`` and ``join`` can build a value millions of times larger than
anything the template holds. Their result's size is estimated from the inputs and refused
before a byte of it is allocated (see app/library/bounds.py for the limits).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from itertools import chain
from string import Formatter
from typing import Any

from flask_babel import lazy_gettext as _l
from markupsafe import escape

from app.library.bounds import (
    ESCAPE_GROWTH,
    REPR_GROWTH,
    BoundExceeded,
    Budget,
    RenderLimits,
    printed,
    size,
    too_large,
)

# String methods a template may call; the others (translate, expandtabs, encode …) are refused.
# format and format_map are sandboxed separately (BoundedSandbox.wrap_str_format).
STRING_METHODS = frozenset(
    {
        "capitalize", "casefold", "center", "count", "endswith", "find", "index", "isalnum",
        "isalpha", "isascii", "isdecimal", "isdigit", "isidentifier", "islower", "isnumeric",
        "isprintable", "isspace", "istitle", "isupper", "join", "ljust", "lower", "lstrip",
        "partition", "removeprefix", "removesuffix", "replace", "rfind", "rindex", "rjust",
        "rpartition", "rsplit", "rstrip", "split", "splitlines", "startswith", "strip",
        "swapcase", "title", "unescape", "upper", "zfill",
    }
)  # fmt: skip
BUILTIN_VALUES = (str, bytes, int, float, list, tuple, dict, set, frozenset, range)


def _number(text: str | None) -> int:
    """A width or precision written in a format, capped where it could only be refused."""
    if not text:
        return 0
    return int(text) if len(text) < 10 else 10**10


PERCENT_FIELD = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?([a-zA-Z%])")


def percent_format_size(template: str, operand: Any) -> int:
    """An upper bound of ``template % operand`` (the ``%`` operator and the format filter)."""
    if isinstance(operand, Mapping):
        values = list(operand.values())
    elif isinstance(operand, tuple):
        values = list(operand)
    else:
        values = [operand]
    largest = max((printed(value) for value in values), default=0)
    numbers = sum(abs(v) for v in values if isinstance(v, int))  # widths given with "*"
    total = len(template)
    for match in PERCENT_FIELD.finditer(template):
        width, precision, kind = match.groups()
        total += largest * (REPR_GROWTH if kind in "ra" else 1)
        for given in (width, precision):
            total += numbers if given == "*" else _number(given)
    return total


def brace_format_size(template: str, args: Iterable[Any], kwargs: Mapping[str, Any]) -> int:
    """An upper bound of ``template.format(*args, **kwargs)`` and of ``format_map``."""
    values = list(chain(args, kwargs.values()))
    largest = max((printed(value) for value in values), default=0)
    numbers = sum(abs(v) for v in values if isinstance(v, int))  # widths given as {}
    total = len(template)
    pending = [template]
    while pending:
        for _literal, field, spec, conversion in Formatter().parse(pending.pop()):
            if field is None:
                continue
            total += largest * (REPR_GROWTH if conversion in ("r", "a") else 1)
            if spec:
                total += sum(_number(digits) for digits in re.findall(r"\d+", spec))
                if "{" in spec:
                    total += numbers
                    pending.append(spec)
    return total


def replace_size(text: str, old: str, new: str, count: int | None = None) -> int:
    """An upper bound of ``text.replace(old, new, count)``."""
    found = text.count(old) if old else len(text) + 1
    if count is not None and count >= 0:
        found = min(found, count)
    return len(text) + found * len(new)


def join_size(separator: Any, items: list[Any]) -> int:
    """An upper bound of joining ``items`` with ``separator``."""
    return sum(printed(item) for item in items) + max(len(items) - 1, 0) * printed(separator)


def binop_size(operator: str, left: Any, right: Any, limits: RenderLimits) -> int:
    """An upper bound of the result of an operator, in characters; raises for huge numbers."""
    if operator == "%" and isinstance(left, str):
        return percent_format_size(left, right) * (ESCAPE_GROWTH if is_markup(left) else 1)
    if operator == "*":
        for sequence, times in ((left, right), (right, left)):
            if isinstance(sequence, str | list | tuple) and isinstance(times, int):
                return size(sequence) * max(times, 0)
        if (
            isinstance(left, int)
            and isinstance(right, int)
            and left.bit_length() + right.bit_length() > limits.integer_bits
        ):
            raise too_large()
    if (
        operator == "**"
        and isinstance(left, int)
        and isinstance(right, int)
        and right > 0
        and abs(left) > 1
        and left.bit_length() * right > limits.integer_bits
    ):
        raise too_large()
    if operator == "+" and not isinstance(left, int | float):
        return size(left) + size(right)
    return 0


def is_markup(value: Any) -> bool:
    """True for Markup (escaped text), which escapes whatever is added to it."""
    return hasattr(value, "__html__")


def _argument(args: tuple[Any, ...], kwargs: dict[str, Any], index: int, name: str) -> Any:
    return args[index] if len(args) > index else kwargs.get(name)


def _expect_replace(text: Any, old: Any, new: Any, count: Any, spent: Budget) -> None:
    """Both ways Jinja may replace: on plain strings, or escaped (Markup) ones."""
    if not isinstance(count, int | None):
        return  # str.replace refuses it itself
    plain = replace_size(str(text), str(old), str(new), count)
    escaped = replace_size(escape(text), escape(old), escape(new), count)
    spent.expect(max(plain, escaped))


def prepare_filter(
    name: str, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any], spent: Budget
) -> Any:
    """Refuse a filter whose result could be far larger than its input; return the value."""
    if name == "replace":
        old, new = _argument(args, kwargs, 0, "old"), _argument(args, kwargs, 1, "new")
        _expect_replace(value, old, new, _argument(args, kwargs, 2, "count"), spent)
    elif name == "join":
        items = list(value)
        separator = _argument(args, kwargs, 0, "d") or ""
        growth = ESCAPE_GROWTH if any(map(is_markup, [separator, *items])) else 1
        spent.expect(join_size(separator, items) * growth)
        return items
    elif name == "format":
        spent.expect(percent_format_size(str(value), kwargs or args))
    elif name == "indent":
        width = _argument(args, kwargs, 0, "width")
        indent = len(width) if isinstance(width, str) else int(width or 4)
        spent.expect(size(value) + (len(str(value).splitlines()) + 2) * (indent + 1))
    elif name == "sum":
        start = _argument(args, kwargs, 1, "start")
        if not isinstance(start, int | float | None):
            raise BoundExceeded(_l("the sum filter adds numbers only"))
    return value


def prepare_method(
    method: Any, args: tuple[Any, ...], kwargs: dict[str, Any], spent: Budget
) -> tuple[Any, ...]:
    """Check a call of a method of a string, number or container; return its arguments.

    Numbers given are widths and lengths here (``center``, ``zfill``, ``to_bytes``): bounded.
    String methods not offered, or whose result could be too large, are refused.
    """
    receiver = getattr(method, "__self__", None)
    if not isinstance(receiver, BUILTIN_VALUES):
        return args  # macros, cycler, joiner, dict(): their results are measured
    spent.check_arguments(chain(args, kwargs.values()))
    if not isinstance(receiver, str):
        return args
    name = getattr(method, "__name__", "")
    if name not in STRING_METHODS:
        raise BoundExceeded(_l("the method %(name)s is not available in templates", name=name))
    markup = is_markup(receiver)
    if name == "replace" and len(args) >= 2:
        old, new = args[0], args[1]
        count = _argument(args, kwargs, 2, "count")
        if markup:
            old, new = escape(old), escape(new)
        if isinstance(old, str) and isinstance(new, str) and isinstance(count, int | None):
            spent.expect(replace_size(receiver, old, new, count))
    elif name == "join" and args:
        items = list(args[0])
        spent.expect(join_size(receiver, items) * (ESCAPE_GROWTH if markup else 1))
        return (items, *args[1:])
    return args
