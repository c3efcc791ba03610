"""Renderings of a policy check: text for logs, JSON for tools, SARIF for code scanning, JUnit
XML for CI test views, Markdown (with a Mermaid component diagram) for pull-request comments.

Every renderer is a pure function of the `CheckResult`: the same result gives the same bytes,
and the cost grows linearly with resources and violations.
"""

from __future__ import annotations

from typing import Literal, get_args

from infra.check.results import CheckResult
from infra.errors import AidcError
from infra.report.json_report import render_json
from infra.report.junit import render_junit
from infra.report.markdown import render_markdown
from infra.report.sarif import render_sarif
from infra.report.text import render_text

Format = Literal["text", "json", "sarif", "junit", "markdown"]
FORMATS: tuple[str, ...] = get_args(Format)

__all__ = ["FORMATS", "Format", "render", "render_json", "render_junit", "render_markdown",
           "render_sarif", "render_text"]


def render(result: CheckResult, fmt: Format, *, source_file: str | None = None) -> str:
    """The report in `fmt`; `source_file` is where SARIF places findings that have no location
    of their own (default: the stack file the plan recorded)."""
    if fmt == "text":
        return render_text(result)
    if fmt == "json":
        return render_json(result)
    if fmt == "sarif":
        return render_sarif(result, source_file=source_file)
    if fmt == "junit":
        return render_junit(result)
    if fmt == "markdown":
        return render_markdown(result)
    raise AidcError(f"report format {fmt!r} is not one of {', '.join(FORMATS)}")
