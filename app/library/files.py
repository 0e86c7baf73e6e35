"""The letters/ file format: YAML front matter between --- lines, then the template body.

---
slug: first-letter          # the same slug joins translations of one template
kind: letter                # letter (to a prisoner) or appeal (to an official)
occasion: first             # first, support, birthday, ...
language: ru
title: Первое письмо
guidance: |
  Advice for the writer, shown beside the editor.
---
{{ greeting }}

Body text with {{ prisoner.first_name }} and other variables (see docs in README).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import frontmatter
import yaml

from app.library.sandbox import TemplateRenderError, check_syntax
from app.models.template import TemplateKind

REQUIRED_FIELDS = ("slug", "kind", "occasion", "language", "title")
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
LANGUAGE_PATTERN = re.compile(r"^[a-z]{2}$")


class TemplateFileError(ValueError):
    """A template file is malformed; the message names the file and the problem."""


@dataclass(frozen=True)
class TemplateSpec:
    """A template as read from its file."""

    slug: str
    kind: TemplateKind
    occasion: str
    language: str
    title: str
    guidance: str
    body: str
    path: Path
    variables: tuple[str, ...] | None = None  # as listed in the front matter, if listed


def read_template_file(path: Path) -> TemplateSpec:
    """Parse and validate one template file."""
    try:
        post = frontmatter.loads(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise TemplateFileError(f"{path}: unreadable front matter: {error}") from error
    missing = [name for name in REQUIRED_FIELDS if not str(post.get(name, "")).strip()]
    if missing:
        raise TemplateFileError(f"{path}: missing front matter: {', '.join(missing)}")
    slug = str(post["slug"]).strip()
    if not SLUG_PATTERN.match(slug):
        raise TemplateFileError(f"{path}: slug {slug!r} must be lowercase words joined by '-'")
    language = str(post["language"]).strip()
    if not LANGUAGE_PATTERN.match(language):
        raise TemplateFileError(f"{path}: language {language!r} must be a two-letter code")
    try:
        kind = TemplateKind(str(post["kind"]).strip())
    except ValueError as error:
        raise TemplateFileError(f"{path}: kind must be 'letter' or 'appeal'") from error
    body = post.content.strip()
    if not body:
        raise TemplateFileError(f"{path}: the body is empty")
    try:
        check_syntax(body)
    except TemplateRenderError as error:
        raise TemplateFileError(f"{path}: {error}") from error
    variables = post.get("variables")
    if variables is not None and (
        not isinstance(variables, list) or not all(isinstance(v, str) for v in variables)
    ):
        raise TemplateFileError(f"{path}: 'variables' must be a list of names")
    return TemplateSpec(
        variables=tuple(variables) if variables is not None else None,
        slug=slug,
        kind=kind,
        occasion=str(post["occasion"]).strip(),
        language=language,
        title=str(post["title"]).strip(),
        guidance=str(post.get("guidance") or "").strip(),
        body=body,
        path=path,
    )


def read_library(directory: Path) -> list[TemplateSpec]:
    """Read every *.md template below ``directory``; refuse duplicates of slug and language."""
    specs: list[TemplateSpec] = []
    seen: dict[tuple[str, str], Path] = {}
    for path in sorted(directory.rglob("*.md")):
        if path.name.upper() == "README.MD":
            continue
        spec = read_template_file(path)
        key = (spec.slug, spec.language)
        if key in seen:
            raise TemplateFileError(f"{path}: {spec.slug}/{spec.language} is also in {seen[key]}")
        seen[key] = path
        specs.append(spec)
    return specs
