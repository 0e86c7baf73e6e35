"""Rendering template bodies in Jinja's immutable sandbox, from plain data only, within bounds.

The sandbox keeps a template away from the application; ``BoundedSandbox`` also keeps it from
exhausting the worker (see app/library/bounds.py): every loop goes through a counter, every
call, filter, operator and lookup spends from the rendering's budget, every value produced and
all output are measured. Any failure becomes a ``TemplateRenderError`` that says what went
wrong, in the reader's language where the words are ours.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from itertools import chain
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, nodes, pass_context
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context, LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEnvironment
from jinja2.utils import Namespace, _PassArg

from app.library.bounds import (
    ESCAPE_GROWTH,
    BoundExceeded,
    RenderLimits,
    budget,
    printed,
    spending,
    too_long,
)
from app.library.estimates import (
    binop_size,
    brace_format_size,
    is_markup,
    prepare_filter,
    prepare_method,
)

# Filters for HTML and JSON, or slow on crafted input (regular expressions, textwrap):
# a letter is plain text and needs none of them.
REMOVED_FILTERS = frozenset({"pprint", "striptags", "tojson", "urlize", "wordwrap", "xmlattr"})
MESSAGE_CHARS = 300  # an error quoting a huge value is cut


class TemplateRenderError(ValueError):
    """A template body could not be rendered; the message says why."""


def _leading(pass_arg: _PassArg | None, context: Context) -> tuple[Any, ...]:
    """What a filter or test expects before the value, as Jinja would pass it."""
    if pass_arg is _PassArg.context:
        return (context,)
    if pass_arg is _PassArg.eval_context:
        return (context.eval_ctx,)
    if pass_arg is _PassArg.environment:
        return (context.environment,)
    return ()


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """A filter that spends from the budget; context-passing, so never run at compile time."""
    pass_arg = _PassArg.from_obj(function)

    @pass_context
    def bounded(context: Context, value: Any, *args: Any, **kwargs: Any) -> Any:
        spent = budget()
        spent.step()
        spent.check_arguments(chain(args, kwargs.values()))
        value = prepare_filter(name, value, args, kwargs, spent)
        result = function(*_leading(pass_arg, context), value, *args, **kwargs)
        if isinstance(result, Iterator):
            return spent.items(result)  # map, select, batch …: lazy, counted as they go
        return spent.checked(result)

    return bounded


def _bounded_test(function: Callable[..., Any]) -> Callable[..., Any]:
    """A test that spends from the budget."""
    pass_arg = _PassArg.from_obj(function)

    @pass_context
    def bounded(context: Context, value: Any, *args: Any, **kwargs: Any) -> Any:
        budget().step()
        return function(*_leading(pass_arg, context), value, *args, **kwargs)

    return bounded


def _trusted(function: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a callable of ours that needs no checks of its arguments."""
    function.konvert_trusted = True  # type: ignore[attr-defined]
    return function


@_trusted
def bounded_range(*args: int) -> range:
    """``range`` with at most RenderLimits.range_items numbers."""
    spent = budget()
    numbers = range(*args)
    try:
        count = len(numbers)
    except OverflowError:
        count = spent.limits.range_items + 1
    if count > spent.limits.range_items:
        raise BoundExceeded(
            _l("range() may give at most %(max)d numbers", max=spent.limits.range_items)
        )
    return numbers


class BoundedNamespace(Namespace):
    """``namespace()``: every value assigned to it is measured."""

    konvert_trusted = True

    def __setitem__(self, name: str, value: Any) -> None:
        super().__setitem__(name, budget().checked(value))


@pass_context
def _finalize(context: Context, value: Any) -> Any:
    """Every ``{{ … }}`` written: measured before it is printed."""
    return budget().checked(value)


class BoundedCodeGenerator(CodeGenerator):
    """Compiles loops, ``~`` and literal text so that they spend from the budget too."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:  # noqa: N802
        """``for x in items`` iterates ``environment.loop_items(items)``."""
        counted = nodes.EnvironmentAttribute("loop_items", lineno=node.lineno)
        node.iter = nodes.Call(counted, [node.iter], [], None, None, lineno=node.lineno)
        super().visit_For(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:  # noqa: N802
        """``a ~ b ~ …`` (no operator the sandbox intercepts): measured before it is joined."""
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        else:
            join = "markup_join" if frame.eval_ctx.autoescape else "str_join"
        self.write(f"environment.checked_join({join}, (")
        for part in node.nodes:
            self.visit(part, frame)
            self.write(", ")
        self.write("))")

    def _measured(self, write: Callable[[], None]) -> None:
        self.write("environment.checked_value(")
        write()
        self.write(")")

    def visit_List(self, node: nodes.List, frame: Frame) -> None:  # noqa: N802
        """``[a, b]``: measured, so that every value a template holds is within bounds."""
        self._measured(lambda: super(BoundedCodeGenerator, self).visit_List(node, frame))

    def visit_Tuple(self, node: nodes.Tuple, frame: Frame) -> None:  # noqa: N802
        """``(a, b)`` as a value (not as the target of an assignment): measured."""
        if node.ctx != "load":
            super().visit_Tuple(node, frame)
        else:
            self._measured(lambda: super(BoundedCodeGenerator, self).visit_Tuple(node, frame))

    def visit_Dict(self, node: nodes.Dict, frame: Frame) -> None:  # noqa: N802
        """``{a: b}``: measured."""
        self._measured(lambda: super(BoundedCodeGenerator, self).visit_Dict(node, frame))

    def visit_Output(self, node: nodes.Output, frame: Frame) -> None:  # noqa: N802
        """Literal text counts as produced each time it is written (in loops too)."""
        literal = sum(len(n.data) for n in node.nodes if isinstance(n, nodes.TemplateData))
        if literal:
            self.writeline(f"environment.literal_output({literal})")
        super().visit_Output(node, frame)


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with every operation spending from the rendering's budget."""

    code_generator_class = BoundedCodeGenerator
    intercepted_binops = frozenset(SandboxedEnvironment.default_binop_table)
    intercepted_unops = frozenset(SandboxedEnvironment.default_unop_table)

    def __init__(self, **options: Any) -> None:
        super().__init__(finalize=_finalize, **options)
        del self.globals["lipsum"]  # up to millions of words of lorem ipsum; no use in letters
        self.globals["range"] = bounded_range
        self.globals["namespace"] = BoundedNamespace
        self.filters = {
            name: _bounded_filter(name, function)
            for name, function in self.filters.items()
            if name not in REMOVED_FILTERS
        }
        # Jinja's tests are typed as bare functions (dict[str, function]).
        self.tests = {
            name: _bounded_test(cast(Callable[..., Any], function))
            for name, function in self.tests.items()
        }

    @_trusted
    def loop_items(self, iterable: Iterable[Any]) -> Iterator[Any]:
        """What a ``for`` loop iterates: every item counted."""
        return budget().items(iterable)

    def checked_value(self, value: Any) -> Any:
        """A value built outside the hooks (list, tuple and dict literals), measured."""
        return budget().checked(value)

    def checked_join(self, join: Callable[[Iterable[Any]], str], parts: tuple[Any, ...]) -> str:
        """``a ~ b ~ …``, refused before joining when it could be too long."""
        spent = budget()
        spent.step()
        growth = ESCAPE_GROWTH if any(map(is_markup, parts)) else 1
        spent.expect(sum(map(printed, parts)) * growth)
        result: str = spent.checked(join(parts))
        return result

    def literal_output(self, chars: int) -> None:
        """Literal template text written once more."""
        budget().produce(chars)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """``+ - * / // % **``: refused before they could build a huge value."""
        spent = budget()
        spent.step()
        spent.expect(binop_size(operator, left, right, spent.limits))
        return spent.checked(super().call_binop(context, operator, left, right))

    def call_unop(self, context: Context, operator: str, arg: Any) -> Any:
        """Unary ``+`` and ``-``."""
        budget().step()
        return super().call_unop(context, operator, arg)

    def getattr(self, obj: Any, attribute: str) -> Any:
        """``a.b``, counted."""
        budget().step()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        """``a[b]`` and slices, counted; a slice is a new value and measured."""
        spent = budget()
        spent.step()
        value = super().getitem(obj, argument)
        return spent.checked(value) if isinstance(argument, slice) else value

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """``str.format`` and ``format_map``, refused when the result could be too long."""
        sandboxed = super().wrap_str_format(value)
        if sandboxed is None:
            return None
        template: str = value.__self__
        is_map = value.__name__ == "format_map"

        @_trusted
        def bounded(*args: Any, **kwargs: Any) -> str:
            mapping = args[0] if is_map and args else kwargs
            values = mapping if isinstance(mapping, dict) else {"": mapping}
            expected = brace_format_size(template, () if is_map else args, values)
            budget().expect(expected * (ESCAPE_GROWTH if is_markup(template) else 1))
            return sandboxed(*args, **kwargs)

        return bounded

    def call(
        __self,  # noqa: N805 - the sandbox's own convention, for proxying any keyword
        __context: Context,
        __obj: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        """A call from a template: counted, nested calls bounded, arguments and result checked."""
        spent = budget()
        spent.step()
        if not __self.is_safe_callable(__obj):
            raise SecurityError(f"{__obj!r} is not safely callable")
        if isinstance(__obj, LoopContext) and args:
            args = (spent.items(args[0]), *args[1:])  # loop(children) in a recursive loop
        elif not getattr(__obj, "konvert_trusted", False):
            args = prepare_method(__obj, args, kwargs, spent)
        spent.enter()
        try:
            result = __context.call(__obj, *args, **kwargs)
        finally:
            spent.leave()
        return spent.checked(result)


@cache
def environment() -> BoundedSandbox:
    """The one sandboxed environment every template body is parsed and rendered in."""
    # No loader: a template cannot include or import anything. Autoescape stays on so that a
    # name typed with markup never becomes markup; the letter is plain text, see render_body().
    return BoundedSandbox(
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def describe(error: Exception) -> object:
    """What went wrong, for the organizer or writer who reads it."""
    if isinstance(error, BoundExceeded):
        return error.message
    if isinstance(error, ZeroDivisionError):
        return _l("division by zero")
    if isinstance(error, OverflowError):
        return _l("a number is too large")
    if isinstance(error, RecursionError):
        return _l("the template calls itself or nests too deeply")
    if isinstance(error, MemoryError):
        return _l("the template needs too much memory")
    if isinstance(error, TemplateError | TypeError):
        detail = str(error)  # Jinja's and Python's own words, as before
    else:
        detail = f"{type(error).__name__}: {error}"
    return detail if len(detail) <= MESSAGE_CHARS else detail[:MESSAGE_CHARS] + "…"


def check_syntax(body: str) -> None:
    """Raise TemplateRenderError when a body is not valid template syntax."""
    try:
        environment().parse(body)
    except TemplateSyntaxError as error:
        raise TemplateRenderError(f"line {error.lineno}: {error.message}") from error
    except Exception as error:  # a parser's RecursionError on deeply nested brackets
        raise TemplateRenderError(describe(error)) from error


def render_body(body: str, context: dict[str, Any], limits: RenderLimits | None = None) -> str:
    """Render a template body with plain data and return the letter as plain text.

    Raises TemplateRenderError for every failure: syntax, undefined names, unsafe access, and
    going past ``limits`` (time, loop iterations, steps, size of any value and of the text).
    """
    limits = limits or RenderLimits()
    try:
        if len(body) > limits.output_chars:
            raise too_long(limits.output_chars)
        with spending(limits) as spent:
            template = environment().from_string(body)
            rendered = spent.collect(template.generate(context))
    except TemplateSyntaxError as error:
        raise TemplateRenderError(f"line {error.lineno}: {error.message}") from error
    except Exception as error:  # an organizer's template fails as theirs, never as a 500
        raise TemplateRenderError(describe(error)) from error
    # The sandbox escaped every value; the writer edits plain text, so undo the escaping once.
    return html.unescape(rendered).strip() + "\n"
