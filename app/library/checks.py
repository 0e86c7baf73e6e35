"""`flask letters check`: what a template must pass before it is offered to writers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from jinja2 import meta

from app.composer.services import (
    recipient_names,
    render_limits,
    review_text,
    template_context,
)
from app.library.files import TemplateFileError, TemplateSpec, read_template_file
from app.library.samples import sample_prisoners
from app.library.sandbox import TemplateRenderError, environment, render_body
from app.models import TemplateKind

LETTER_VARIABLES = frozenset({"greeting", "greeting_formal", "prisoner", "sender", "today"})
APPEAL_VARIABLES = LETTER_VARIABLES | {"official", "facility"}
SAMPLE_SIGNATURE = {"ru": "Анна Смирнова", "en": "Anna Smith"}
CHECK_DAY = date(2026, 1, 15)


@dataclass
class CheckResult:
    """Problems found in one template file; none means it may be offered."""

    path: Path
    spec: TemplateSpec | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the template passed every check."""
        return not self.problems


def allowed_variables(kind: TemplateKind) -> frozenset[str]:
    """The top-level names a template of this kind may use."""
    return APPEAL_VARIABLES if kind is TemplateKind.APPEAL else LETTER_VARIABLES


def check_spec(spec: TemplateSpec) -> list[str]:
    """Unknown variables, render errors for sample people, and censor risks in a letter.

    A template that goes past the render bounds (time, loop iterations, size) for any sample
    person fails, as one that raises does.
    """
    problems: list[str] = []
    used = meta.find_undeclared_variables(environment().parse(spec.body))
    allowed = allowed_variables(spec.kind)
    unknown = sorted(used - allowed)
    if unknown:
        problems.append(f"unknown variables: {', '.join(unknown)}")
    if spec.variables is not None:
        undeclared = sorted(used - set(spec.variables))
        if undeclared:
            problems.append(f"used but not listed in 'variables': {', '.join(undeclared)}")
        not_allowed = sorted(set(spec.variables) - allowed)
        if not_allowed:
            problems.append(f"'variables' lists unknown names: {', '.join(not_allowed)}")
    if unknown:
        return problems
    for sample in sample_prisoners():
        official = sample.official if spec.kind is TemplateKind.APPEAL else None
        context = template_context(
            sample.prisoner, SAMPLE_SIGNATURE.get(spec.language, "Anna"), spec.language,
            CHECK_DAY, official,
        )  # fmt: skip
        try:
            text = render_body(spec.body, context, render_limits())
        except TemplateRenderError as error:
            problems.append(f"does not render for a sample ({sample.label}): {error}")
            continue
        if spec.kind is TemplateKind.LETTER and sample.label == "man":
            # Appeals must name the case and conditions; letters must get past the censor.
            names = recipient_names(sample.prisoner)
            for finding in review_text(text, spec.language, None, names).findings:
                if finding.category != "length":
                    problems.append(
                        f"censor risk ({finding.category}): «{text[finding.start : finding.end]}»"
                        f" — {finding.reason('en')}"
                    )
    return problems


def check_file(path: Path) -> CheckResult:
    """Read and check one template file."""
    result = CheckResult(path)
    try:
        result.spec = read_template_file(path)
    except TemplateFileError as error:
        result.problems.append(str(error))
        return result
    result.problems.extend(check_spec(result.spec))
    return result


def check_library(directory: Path) -> list[CheckResult]:
    """Check every template file below ``directory``."""
    return [
        check_file(path)
        for path in sorted(directory.rglob("*.md"))
        if path.name.upper() != "README.MD"
    ]
