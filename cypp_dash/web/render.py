"""HTML from templates that escape by default: the files in cypp_dash/web/templates/, drawn with Jinja2
with autoescape on, so every value from the plan, the store or an upload shows exactly as typed without
each caller remembering to escape it. `Markup` marks HTML that one template hands to another."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

TEMPLATES = Path(__file__).parent / "templates"

__all__ = ["Markup", "render"]


class _CompactLoader(jinja2.FileSystemLoader):
    """Reads a template with each line's indentation and line break removed, so a template can be written one
    element per line yet give the compact HTML the pages always sent (a table row is `<tr><td ...>`, with no
    text between its cells). A space that matters is written inside a line, never at its end."""

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str | None, Any]:
        source, filename, uptodate = super().get_source(environment, template)
        return "".join(line.strip() for line in source.splitlines()), filename, uptodate


_ENVIRONMENT = jinja2.Environment(loader=_CompactLoader(TEMPLATES), autoescape=True,
                                  undefined=jinja2.StrictUndefined, keep_trailing_newline=False)


def render(name: str, **context: Any) -> Markup:
    """The template `name` (a file in cypp_dash/web/templates/) drawn with `context`, every value escaped."""
    return Markup(_ENVIRONMENT.get_template(name).render(**context))
