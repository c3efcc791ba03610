"""JSON report: `CheckResult.as_dict()`, for tools and dashboards that read the verdict.

The shape is the results contract itself, so there is one definition of it, not two. Key order
is the contract's (insertion order, not sorted: `project`, `stack`, `passed` read first), and
the indent is fixed, so the same result is the same bytes and diffs between runs stay small.
"""

from __future__ import annotations

import json

from infra.check.results import CheckResult


def render_json(result: CheckResult) -> str:
    """The result as indented JSON, newline-terminated; non-ASCII kept readable."""
    return json.dumps(result.as_dict(), indent=2, ensure_ascii=False) + "\n"
