"""`aidc check`: plan a stack (or read a saved Plan), then judge it with a policy pack through
the Pulumi analyzer protocol, with the stack's own `aidc:policy` settings."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from infra.config.load import decode_config_value, read_stack_file

from infra.config.problems import format_problems, validation_problems
from infra.check.analyzer import DEFAULT_PACK_DIR, PolicyAnalyzer
from infra.engine.plan import Plan, PlanResource
from infra.check.results import CheckResult
from infra.errors import AidcError
from infra.config.policy import PolicySettings


def policy_settings(stack_file: Path | None) -> PolicySettings:
    """The stack's `aidc:policy` section; the pack's built-in defaults without one."""
    if stack_file is None:
        return PolicySettings()
    flat, _ = read_stack_file(stack_file)
    raw = decode_config_value(flat.get("aidc:policy", {}))
    try:
        return PolicySettings.model_validate(raw or {})
    except ValidationError as exc:
        problems = validation_problems(exc, PolicySettings, base=("policy",))
        raise AidcError(format_problems(str(stack_file), problems)) from None


def run_check(make_plan: Callable[[Callable[[PlanResource], None]], Plan], *, project: str,
              stack: str, stack_file: Path | None, pack_dir: Path | None) -> CheckResult:
    """Start the pack and plan at once: `make_plan` gets the function that sends each resource
    to the pack as it is registered, so the pack judges resources while the plan is still being
    built, as the engine's analyzers do during `pulumi preview`. Our pack gets the stack's
    settings; another pack gets none (its config is its own).

    Timings: plan_seconds is the plan; policy_seconds everything else `aidc check` spends
    here (waiting for the pack, the analysis the plan did not cover, AnalyzeStack, stopping)."""
    pack = pack_dir or DEFAULT_PACK_DIR
    if not (pack / "PulumiPolicy.yaml").is_file():
        raise AidcError(f"--policy-pack {pack}: no PulumiPolicy.yaml there; a Pulumi policy pack "
                        "directory is needed")
    ours = pack.resolve() == DEFAULT_PACK_DIR.resolve()
    pack_config: dict[str, Any] | None = policy_settings(stack_file).to_pack_config() if ours else None
    started = time.perf_counter()
    analyzer = PolicyAnalyzer(pack, project=project, stack=stack)
    try:
        analyzer.begin_in_background(project=project, stack=stack, pack_config=pack_config)
        plan_started = time.perf_counter()
        plan = make_plan(analyzer.submit)
        plan_seconds = time.perf_counter() - plan_started
        result = analyzer.check(plan)
    finally:
        analyzer.close()
    result.timings["plan_seconds"] = plan_seconds
    result.timings["policy_seconds"] = time.perf_counter() - started - plan_seconds
    return result
