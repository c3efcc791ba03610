"""Budgets as policy: `aidc:policy` `budget.monthly_max_usd` is validated, a plan priced above it
is a `budget-monthly-max` violation at the stack's level naming the largest lines and what the
total leaves out, and every report format and exit code carries it."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from infra.check.budget import BUDGET_CHECK, budget_message, over_budget
from infra.check.plan_checks import registered, run_plan_checks
from infra.check.run import policy_settings
from infra.config.policy import PolicySettings, validate_policy_settings
from infra.cost import estimate
from infra.errors import AidcError
from tests.cost.test_pricing import G2_ON_DEMAND_NODE, cluster, plan_of, pool, resource
from tests.helpers import (
    BASE_STACK,
    STACKS,
    STACKS_DIR,
    plan_stack_file,
    run_aidc,
    stack_config,
    write_stack,
)

# 1-3 g2-standard-8 nodes on demand and the cluster fee: $2,002.44 at most (hand computed in
# tests/cost/test_pricing.py: 3 x (0.853624 $/h x 730 h + 200 GiB x $0.10) + $0.10/h x 730 h).
POOL_MAX = round(3 * G2_ON_DEMAND_NODE, 2)
TOTAL_MAX = round(POOL_MAX + 73.0, 2)


def priced_plan(*extra):  # type: ignore[no-untyped-def]
    return plan_of(cluster(), pool("gpu-pool"), *extra)


def test_hand_computed_total_of_the_test_plan() -> None:
    assert (POOL_MAX, TOTAL_MAX) == (1929.44, 2002.44)
    assert estimate(priced_plan()).monthly_max == TOTAL_MAX


def test_over_budget_names_the_total_the_budget_and_the_largest_lines() -> None:
    message = budget_message(estimate(priced_plan()), 2000)
    assert message is not None
    assert message.startswith("Monthly maximum $2,002.44 exceeds the budget $2,000.00 by $2.44 "
                              "(0.1% over). Largest at maximum: gpu-pool $1,929.44 (1-3 nodes "
                              "(autoscaling totals) x g2-standard-8 x on-demand us-central1")
    assert "; gke-cluster $73.00 (1 cluster x GKE management fee $0.10/h x 730 h)." in message
    assert "unpriced" not in message


def test_a_plan_at_or_under_its_budget_passes() -> None:
    report = estimate(priced_plan())
    assert budget_message(report, TOTAL_MAX) is None
    assert budget_message(report, 1_000_000) is None
    assert budget_message(report, TOTAL_MAX - 0.01) is not None


def test_the_finding_says_what_the_total_excludes() -> None:
    """An unpriced resource is never a silent zero: the finding counts and names it."""
    bucket = resource("gcp:storage/bucket:Bucket", "data-datasets", {"location": "us-central1"})
    message = budget_message(estimate(priced_plan(bucket)), 100)
    assert message is not None
    assert message.endswith("The total excludes 1 unpriced resource, `aidc cost` gives each "
                            "reason: data-datasets.")


def test_largest_lines_are_capped_and_unpriced_names_are_counted() -> None:
    buckets = [resource("gcp:storage/bucket:Bucket", f"b{i}", {"location": "us-central1"})
               for i in range(7)]
    pools = [pool(f"pool{i}") for i in range(6)]
    message = budget_message(estimate(plan_of(cluster(), *pools, *buckets)), 100)
    assert message is not None
    assert message.count("(1-3 nodes") == 5  # five largest lines, the sixth pool left out
    assert "The total excludes 7 unpriced resources" in message
    assert message.endswith("b0, b1, b2, b3, b4 and 2 more.")


def test_no_budget_no_finding() -> None:
    assert list(over_budget(priced_plan(), PolicySettings())) == []


def test_budget_check_honours_the_stacks_enforcement_overrides_and_waivers() -> None:
    """The finding is on the stack: mandatory by default, advisory with the stack's
    enforcement, waivable with `resource: stack`, off when disabled."""
    plan = priced_plan()
    budget = {"monthly_max_usd": 1000}
    [check] = [c for c in registered() if c.name == BUDGET_CHECK]

    def judged(**settings):  # type: ignore[no-untyped-def]
        return run_plan_checks(plan, PolicySettings(budget=budget, **settings), [check])

    [mandatory] = judged().violations
    assert (mandatory.enforcement, mandatory.blocking) == ("mandatory", True)
    assert (mandatory.resource_type, mandatory.resource_name) == ("pulumi:pulumi:Stack",
                                                                 "aidc-test")
    assert "exceeds the budget $1,000.00" in mandatory.message
    [advisory] = judged(enforcement="advisory").violations
    assert (advisory.enforcement, advisory.blocking) == ("advisory", False)
    [waived] = judged(waivers=[{"policy": BUDGET_CHECK, "resource": "stack",
                                "reason": "training burst approved, FIN-42"}]).violations
    assert waived.waiver == "training burst approved, FIN-42" and not waived.blocking
    assert judged(overrides={BUDGET_CHECK: "disabled"}).violations == []


@pytest.mark.parametrize(("budget", "needle"), [
    ({"monthly_max_usd": 0}, "greater than 0"),
    ({"monthly_max_usd": -5}, "greater than 0"),
    ({"monthly_max_usd": "lots"}, "unable to parse string as a number"),
    ({"monthly_max_usd": True}, "True is not a number of US dollars"),
    ({"monthly_max_usd": float("inf")}, "finite number"),
    ({}, "monthly_max_usd"),
    ({"monthly_max_usd": 10, "currency": "EUR"}, "currency"),
])
def test_rejects_a_budget_that_is_not_a_positive_number(budget: dict, needle: str) -> None:
    with pytest.raises(AidcError) as caught:
        validate_policy_settings({"budget": budget}, "Pulumi.dev.yaml")
    assert "policy.budget" in caught.value.message
    assert needle in caught.value.message


def test_budget_accepts_a_number_or_its_text() -> None:
    """A number, or the text `pulumi config set --path` writes for one."""
    for value in (250000, 250000.5, "250000"):
        settings = validate_policy_settings({"budget": {"monthly_max_usd": value}}, "f")
        assert settings.budget is not None and settings.budget.monthly_max_usd == float(value)


def test_rejects_a_bad_budget_in_a_stack_file_with_exit_2(tmp_path: Path) -> None:
    flat = copy.deepcopy(BASE_STACK)
    flat["aidc:policy"] = {"budget": {"monthly_max_usd": -100}}
    proc = run_aidc("check", "--stack-file", write_stack(tmp_path, flat, "dev"))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "policy.budget.monthly_max_usd" in proc.stderr
    assert "Traceback" not in proc.stderr


# --- the CLI: every format, both levels, the saved plan as the stack ---------------------------


@pytest.fixture(scope="module")
def over_budget_plans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The dev stack with a $500 budget, mandatory and advisory, planned once each."""
    out = {}
    for level in ("mandatory", "advisory"):
        directory = tmp_path_factory.mktemp(level)
        flat = stack_config("dev")
        flat["aidc:policy"] = {**flat["aidc:policy"], "overrides": {BUDGET_CHECK: level},
                               "budget": {"monthly_max_usd": 500}}
        stack_file = write_stack(directory, flat, "dev")
        plan = directory / "plan.json"
        proc = run_aidc("plan", "--stack-file", stack_file, "--json", plan, "-q")
        assert proc.returncode == 0, proc.stderr
        out[level] = plan
        out[f"{level}-stack"] = stack_file
    return out


def test_over_budget_fails_when_mandatory_in_every_format(over_budget_plans: dict[str, Path],
                                                          tmp_path: Path) -> None:
    plan = over_budget_plans["mandatory"]
    text = run_aidc("check", "--plan", plan)
    assert text.returncode == 1, text.stderr
    assert "budget-monthly-max" in text.stdout
    assert "exceeds the budget $500.00" in text.stdout
    assert "Largest at maximum: gpu-l4-pool $" in text.stdout
    assert "The total excludes" in text.stdout  # the buckets, the Filestore share, the TPU slice

    for fmt in ("json", "sarif", "markdown"):
        out = tmp_path / f"report.{fmt}"
        proc = run_aidc("check", "--plan", plan, "--format", fmt, "--output", out)
        assert proc.returncode == 1, proc.stderr
        body = out.read_text()
        if fmt == "json":
            [v] = [v for v in json.loads(body)["violations"] if v["policy"] == BUDGET_CHECK]
            assert v["enforcement"] == "mandatory" and v["resource_name"] == "aidc-dev"
            assert "Largest at maximum: gpu-l4-pool $" in v["message"]
        elif fmt == "sarif":
            results = json.loads(body)["runs"][0]["results"]
            [r] = [r for r in results if r["ruleId"] == BUDGET_CHECK]
            assert r["level"] == "error" and "Largest at maximum: gpu-l4-pool $" in \
                r["message"]["text"]
        else:
            assert "<b>budget-monthly-max</b>" in body
            assert "Largest at maximum: gpu-l4-pool $" in body


def test_over_budget_is_reported_and_passes_when_advisory(
        over_budget_plans: dict[str, Path]) -> None:
    proc = run_aidc("check", "--plan", over_budget_plans["advisory"], "--format", "json")
    assert proc.returncode == 0, proc.stderr
    [v] = [v for v in json.loads(proc.stdout)["violations"] if v["policy"] == BUDGET_CHECK]
    assert v["enforcement"] == "advisory" and "exceeds the budget $500.00" in v["message"]


def test_saved_plan_is_judged_as_the_stack(over_budget_plans: dict[str, Path]) -> None:
    """The plan records the budget with the policy settings: --plan alone reaches the verdict
    and the message of `aidc check --stack-file`."""
    stack = run_aidc("check", "--stack-file", over_budget_plans["mandatory-stack"],
                     "--format", "json")
    saved = run_aidc("check", "--plan", over_budget_plans["mandatory"], "--format", "json")
    assert stack.returncode == saved.returncode == 1

    def budget_findings(out: str) -> list[str]:
        return [v["message"] for v in json.loads(out)["violations"] if v["policy"] == BUDGET_CHECK]

    assert budget_findings(stack.stdout) == budget_findings(saved.stdout) != []


# --- the shipped stacks ------------------------------------------------------------------------


@pytest.mark.parametrize("env", STACKS)
def test_shipped_stacks_set_a_budget_they_pass_with_headroom(env: str) -> None:
    path = STACKS_DIR / f"Pulumi.{env}.yaml"
    settings = policy_settings(path)
    assert settings.budget is not None, f"{env} sets no budget"
    plan = plan_stack_file(path, env)
    assert run_plan_checks(plan, settings).by_check[BUDGET_CHECK] == []
    assert estimate(plan).monthly_max <= 0.8 * settings.budget.monthly_max_usd
