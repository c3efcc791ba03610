"""`aidc cost` and `aidc cost diff` end to end, in fresh processes: reports, JSON, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_cli import assert_clean_failure
from tests.helpers import STACKS_DIR, run_aidc

REPORT_KEYS = {"currency", "as_of", "hours_per_month", "resources", "unpriced", "total"}


@pytest.fixture(scope="module")
def prod_report(tmp_path_factory: pytest.TempPathFactory,
                prod_plan_run: tuple[Path, str]) -> Path:
    """`aidc cost --plan <prod plan> --json FILE`, once."""
    path = tmp_path_factory.mktemp("cost") / "cost-prod.json"
    result = run_aidc("cost", "--plan", prod_plan_run[0], "--json", path)
    assert result.returncode == 0, result.stderr
    assert "Total (priced resources)" in result.stdout
    return path


def test_cost_of_a_stack_prints_the_report() -> None:
    """`aidc cost dev` plans dev and prints every component, the total, unpriced and free."""
    result = run_aidc("cost", "dev")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("Cost of aidc/dev: USD a month (730 h)")
    assert "gpu-l4-pool [spot]" in out and "x g2-standard-8 x spot us-central1 x 730 h" in out
    assert "gke-cluster" in out and "73.00" in out
    assert "Unpriced (" in out and "https://cloud.google.com/tpu/pricing" in out
    assert "No fixed charge (" in out


def test_cost_of_a_saved_plan_writes_the_json_contract(prod_report: Path) -> None:
    raw = json.loads(prod_report.read_text())
    assert REPORT_KEYS <= set(raw)
    assert raw["currency"] == "USD" and raw["hours_per_month"] == 730
    by_name = {r["name"]: r for r in raw["resources"]}
    assert by_name["gke-system"]["basis"].startswith(
        "2-6 nodes (autoscaling totals) x e2-standard-8 x on-demand us-central1 x 730 h")
    unpriced = {u["name"]: u["reason"] for u in raw["unpriced"]}
    assert "no price for a3-megagpu-8g in us-central1" in unpriced["gpu-h100-mega-pool"]
    assert raw["total"]["monthly_max"] == round(sum(r["monthly_max"] for r in raw["resources"]), 2)


def test_json_dash_prints_json_only() -> None:
    result = run_aidc("cost", "--stack-file", STACKS_DIR / "Pulumi.dev.yaml", "--json", "-")
    assert result.returncode == 0, result.stderr
    assert REPORT_KEYS <= set(json.loads(result.stdout))


def test_assumptions_price_buckets_and_commitments(prod_plan_run: tuple[Path, str]) -> None:
    """--bucket-gib moves a bucket into the priced lines at the stated size."""
    result = run_aidc("cost", "--plan", prod_plan_run[0], "--bucket-gib", "data-datasets=10000",
                      "--json", "-")
    assert result.returncode == 0, result.stderr
    line = next(r for r in json.loads(result.stdout)["resources"] if r["name"] == "data-datasets")
    assert line["monthly_max"] == 200.0 and "10,000 GiB stored (assumed)" in line["basis"]


def test_cost_diff_between_a_report_and_a_changed_stack(prod_report: Path, tmp_path: Path) -> None:
    """Doubling the system pool's maximum doubles its maximum cost; the diff shows it."""
    changed = tmp_path / "Pulumi.prod.yaml"
    changed.write_text((STACKS_DIR / "Pulumi.prod.yaml").read_text().replace(
        "system_pool: {machine_type: e2-standard-8, min_nodes: 2, max_nodes: 6}",
        "system_pool: {machine_type: e2-standard-8, min_nodes: 2, max_nodes: 12}"))
    out = tmp_path / "diff.json"
    result = run_aidc("cost", "diff", prod_report, changed, "--json", out)
    assert result.returncode == 0, result.stderr
    raw = json.loads(out.read_text())
    (change,) = raw["resources"]
    assert change["name"] == "gke-system" and change["change"] == "changed"
    assert change["monthly_max_after"] == pytest.approx(2 * change["monthly_max_before"], abs=0.01)
    assert raw["total"]["monthly_max_delta"] == change["monthly_max_delta"]
    assert raw["total"]["monthly_min_delta"] == 0.0
    assert "Resources that changed" in result.stdout and "gke-system" in result.stdout


def test_cost_diff_accepts_plans(prod_plan_run: tuple[Path, str], prod_report: Path) -> None:
    """A plan on either side is priced first: a plan and its own report do not differ."""
    result = run_aidc("cost", "diff", prod_plan_run[0], prod_report, "--json", "-")
    assert result.returncode == 0, result.stderr
    raw = json.loads(result.stdout)
    assert raw["resources"] == [] and raw["total"]["monthly_max_delta"] == 0.0


@pytest.mark.parametrize("args, needles", [
    (("cost", "diff", "missing.json", "other.json"), ("missing.json: cannot read",)),
    (("cost", "--plan", "missing.json"), ("missing.json: cannot read plan file",)),
    (("cost", "dev", "--plan", "x.json"), ("give a STACK or --plan PLAN.json, not both",)),
    (("cost", "nosuchstack"), ("no stack 'nosuchstack'",)),
    (("cost", "dev", "--commitment", "gke-system"), ("--commitment 'gke-system': expected "
                                                     "NAME=VALUE",)),
    (("cost", "dev", "--commitment", "nope=1y"), ("--commitment nope: no node pool of that name",)),
    (("cost", "dev", "--commitment", "gpu-l4-pool=1y"), ("gpu-l4-pool is spot",)),
    (("cost", "dev", "--bucket-gib", "data-datasets=lots"), ("'lots' is not a number of GiB",)),
])
def test_rejects_bad_input(args: tuple[str, ...], needles: tuple[str, ...]) -> None:
    assert_clean_failure(run_aidc(*args), *needles)


def test_rejects_json_that_is_neither_report_nor_plan(tmp_path: Path, prod_report: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    assert_clean_failure(run_aidc("cost", "diff", bad, prod_report),
                         "bad.json (base): neither an aidc cost report", "nor a plan")
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    assert_clean_failure(run_aidc("cost", "diff", prod_report, broken),
                         "broken.json: not valid JSON at line 1")


def test_catalog_prices_lists_the_catalog() -> None:
    result = run_aidc("catalog", "prices", "--region", "us-central1")
    assert result.returncode == 0, result.stderr
    assert "a3-highgpu-8g" in result.stdout and "pd-balanced" in result.stdout
    assert_clean_failure(run_aidc("catalog", "prices", "--region", "mars-east1"),
                         "--region 'mars-east1': the catalog prices europe-west4, us-central1, "
                         "us-east4")
