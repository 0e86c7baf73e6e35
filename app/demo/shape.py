"""Checking YAML data against the dataclasses it becomes, with errors that say where.

``build(SomeDataclass, raw, "prisoners.yaml: prisoner 'gorelov'")`` accepts a mapping whose
keys are the dataclass's fields: an unknown key, a missing required key (a field without a
default) or a value of the wrong type raises ``DemoDataError`` naming the place and the key.
Types follow the field annotations: str, int, float, bool, date, enums (by value), nested
dataclasses, ``X | None``, ``tuple[X, ...]``, fixed-length tuples and ``dict[K, V]``.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable, Iterable
from datetime import date

T = typing.TypeVar("T")
Converter = Callable[[object, str], object]

_EXPECTED = {str: "text", int: "a whole number", float: "a number", bool: "true or false"}


class DemoDataError(ValueError):
    """A demo data file is malformed; the message names the file, the entry and the key."""


def build(cls: type[T], raw: object, where: str, **converters: Converter) -> T:
    """``cls`` (a dataclass) from the YAML mapping ``raw``, checked against its fields.

    Every key must be a field, every field without a default must be there, and each value
    must have the field's type; ``converters`` check and shape the fields they name instead.
    """
    given = as_mapping(raw, where)
    fields = {spec.name: spec for spec in dataclasses.fields(typing.cast(typing.Any, cls))}
    if unknown := set(given) - set(fields):
        raise DemoDataError(f"{where}: unknown key {listing(unknown)}")
    hints = typing.get_type_hints(cls)
    values: dict[str, object] = {}
    for name, spec in fields.items():
        if name not in given:
            if spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
                raise DemoDataError(f"{where}: missing key {name!r}")
            continue
        at = f"{where}: {name}"
        convert = converters.get(name)
        values[name] = convert(given[name], at) if convert else typed(given[name], hints[name], at)
    return cls(**values)


def typed(raw: object, hint: typing.Any, where: str) -> object:
    """``raw`` checked against, and shaped as, the type ``hint`` (lists become tuples)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is types.UnionType:  # X | None: the only unions the dataclasses use
        if raw is None:
            return None
        (inner,) = (arg for arg in args if arg is not type(None))
        return typed(raw, inner, where)
    if origin is tuple:
        items = as_list(raw, where)
        if args[-1] is Ellipsis:
            args = (args[0],) * len(items)
        elif len(items) != len(args):
            raise DemoDataError(f"{where}: expected {len(args)} items, got {len(items)}")
        return tuple(
            typed(item, arg, f"{where}[{index}]")
            for index, (item, arg) in enumerate(zip(items, args, strict=True))
        )
    if origin is dict:
        return {
            typed(key, args[0], where): typed(item, args[1], f"{where}: {key}")
            for key, item in as_mapping(raw, where).items()
        }
    if dataclasses.is_dataclass(hint):
        return build(typing.cast(type[object], hint), raw, where)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        try:
            return hint(raw)
        except ValueError:
            known = listing(member.value for member in hint)
            raise DemoDataError(f"{where}: {raw!r} is not one of {known}") from None
    # bool is an int in Python, but «weight: yes» or «quiet: 1» is a slip in the file.
    if hint is float and isinstance(raw, int | float) and not isinstance(raw, bool):
        return float(raw)
    # YAML reads 1978-03-14 as a date (and a date with a time as a datetime, refused here).
    if hint in (str, int, bool, date) and type(raw) is hint:
        return raw
    wanted = _EXPECTED.get(hint, "a date (YYYY-MM-DD)" if hint is date else str(hint))
    # YAML reads an unquoted postcode such as 101000 as a number.
    advice = " (quote it)" if hint is str and isinstance(raw, int | float) else ""
    raise DemoDataError(f"{where}: expected {wanted}, got {raw!r}{advice}")


def as_mapping(raw: object, where: str) -> dict[object, object]:
    """``raw`` if it is a YAML mapping."""
    if not isinstance(raw, dict):
        raise DemoDataError(f"{where}: expected a mapping (key: value), got {raw!r}")
    return raw


def as_list(raw: object, where: str) -> list[object]:
    """``raw`` if it is a YAML list."""
    if not isinstance(raw, list):
        raise DemoDataError(f"{where}: expected a list, got {raw!r}")
    return raw


def top_level(
    raw: object, name: str, required: tuple[str, ...], *, exact: bool = False
) -> dict[str, object]:
    """The top-level mapping of file ``name``, with its ``required`` keys (only those if exact)."""
    found = {str(key): item for key, item in as_mapping(raw, name).items()}
    if missing := [key for key in required if key not in found]:
        raise DemoDataError(f"{name}: missing key {listing(missing)}")
    if exact and (unknown := set(found) - set(required)):
        raise DemoDataError(f"{name}: unknown key {listing(unknown)}")
    return found


def entries(top: dict[str, object], name: str, field: str, what: str) -> list[tuple[str, object]]:
    """The items of the list ``top[field]`` in file ``name``, each with where it is.

    Items are named by their key, or by their position when they have none:
    «prisoners.yaml: prisoner 'gorelov'», «prisoners.yaml: prisoner #3».
    """
    located = []
    for index, item in enumerate(as_list(top[field], f"{name}: {field}")):
        key = item.get("key") if isinstance(item, dict) else None
        label = repr(key) if isinstance(key, str) else f"#{index + 1}"
        located.append((f"{name}: {what} {label}", item))
    return located


def unique(keys: Iterable[str], what: str) -> None:
    """Raise if a key appears twice (``what`` says where: «prisoners.yaml: prisoner»)."""
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            raise DemoDataError(f"{what} {key!r} appears twice")
        seen.add(key)


def listing(items: Iterable[object]) -> str:
    """Items for an error message, sorted and quoted: «'a', 'b'»."""
    return ", ".join(sorted(repr(item) for item in items))
