"""`aidc tenants` end to end, in fresh processes: the table, the JSON of the issue, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_cli import assert_clean_failure
from tests.helpers import run_aidc, stack_config, write_stack

QUOTA_KEYS = {"pool", "resource", "guaranteed", "nominal", "borrowing_limit"}


def test_prints_team_by_pool_table_for_prod() -> None:
    """`aidc tenants prod`: the pools, then a row per team and pool with guaranteed, nominal,
    borrowing limit and share; nlp's 96 of 128 H100s are the issue's figures."""
    result = run_aidc("tenants", "prod")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("Quotas of acme-ai-prod/prod:")
    header = next(line for line in out.splitlines() if line.startswith("team "))
    for column in ("namespace", "weight", "pool", "guaranteed", "nominal", "borrowing limit",
                   "share"):
        assert column in header
    nlp = next(line.split() for line in out.splitlines()
               if line.startswith("nlp ") and "gpu_pools.h100-mega" in line)
    assert nlp[:8] == ["nlp", "nlp", "2", "gpu_pools.h100-mega", "64", "96", "32", "32"]
    assert nlp[8] == "75.0%"


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_json_is_the_issue_document(env: str, tmp_path: Path) -> None:
    """`--json OUT` writes {"pools": [{pool, resource, capacity, unit}], "tenants": [{name,
    namespace, weight, quotas: [{pool, resource, guaranteed, nominal, borrowing_limit}]}]},
    every team quoted in every pool, and the table still prints; `--json -` prints the JSON
    alone."""
    out = tmp_path / "tenants.json"
    result = run_aidc("tenants", env, "--json", out)
    assert result.returncode == 0, result.stderr
    assert "Quotas of" in result.stdout
    doc = json.loads(out.read_text())
    assert json.loads(run_aidc("tenants", env, "--json", "-").stdout) == doc
    teams = stack_config(env)["aidc:tenants"]
    assert {t["name"] for t in doc["tenants"]} == set(teams) and len(teams) >= 2
    pools = {p["pool"] for p in doc["pools"]}
    assert all({"pool", "resource", "capacity", "unit"} <= set(p) for p in doc["pools"])
    for tenant in doc["tenants"]:
        assert {"name", "namespace", "weight", "quotas"} <= set(tenant)
        assert {q["pool"] for q in tenant["quotas"]} == pools
        assert all(QUOTA_KEYS <= set(q) for q in tenant["quotas"])
    for pool in doc["pools"]:
        nominal = sum(q["nominal"] for t in doc["tenants"] for q in t["quotas"]
                      if q["pool"] == pool["pool"])
        assert nominal == pool["capacity"]  # no team is capped below its share here


def test_prod_matches_the_issue_example(tmp_path: Path) -> None:
    """The issue's JSON: nlp, weight 2, 64 H100 guaranteed, 96 nominal, 32 borrowing limit."""
    doc = json.loads(run_aidc("tenants", "prod", "--json", "-").stdout)
    h100 = next(p for p in doc["pools"] if p["pool"] == "gpu_pools.h100-mega")
    assert h100 | {"allocated": None} == {"pool": "gpu_pools.h100-mega", "resource": "nvidia.com/gpu",
                                          "capacity": 128, "unit": 8, "allocated": None}
    nlp = next(t for t in doc["tenants"] if t["name"] == "nlp")
    assert (nlp["namespace"], nlp["weight"]) == ("nlp", 2)
    quota = next(q for q in nlp["quotas"] if q["pool"] == "gpu_pools.h100-mega")
    assert {k: quota[k] for k in QUOTA_KEYS} == {
        "pool": "gpu_pools.h100-mega", "resource": "nvidia.com/gpu", "guaranteed": 64,
        "nominal": 96, "borrowing_limit": 32}


def test_rejects_guarantee_above_the_pool(tmp_path: Path) -> None:
    """Guarantees the pools cannot honour are a config error: exit 2 naming the pool, the team
    and the numbers, and no output file."""
    flat = stack_config("prod")
    flat["aidc:tenants"] = {**flat["aidc:tenants"], "vision": {
        "group": "vision@acme.example", "guaranteed": {"gpu_pools.h100-mega": 80}}}
    out = tmp_path / "tenants.json"
    result = run_aidc("tenants", "--stack-file", write_stack(tmp_path, flat), "--json", out)
    assert_clean_failure(result, "aidc:tenants.", "gpu_pools.h100-mega", "add up to 144",
                         "nlp 64, vision 80", "128 nvidia.com/gpu (16 nodes x 8)")
    assert not out.exists()


def test_rejects_missing_stack() -> None:
    assert_clean_failure(run_aidc("tenants"), "give a STACK name")
    assert_clean_failure(run_aidc("tenants", "nosuchstack"), "nosuchstack")


def test_stack_without_tenants_says_so(tmp_path: Path) -> None:
    flat = stack_config("dev")
    del flat["aidc:tenants"]
    result = run_aidc("tenants", "--stack-file", write_stack(tmp_path, flat))
    assert result.returncode == 0, result.stderr
    assert "declares no teams" in result.stdout
