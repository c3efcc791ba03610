"""Triage over any CheckResult: a finding another check merged in (not the pack's) gets the
stack's waivers and their expiry, skips and the baseline exactly as the pack's findings do."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from infra.check.results import Violation
from infra.check.triage import apply_baseline, apply_stack_waivers, load_baseline, select_policies
from infra.config.policy import PolicySettings
from tests.report_fixtures import make_result

URN = "urn:pulumi:dev::aidc::gcp:compute/firewall:Firewall::bastion"


def merged(result):  # a finding from outside the pack, as issue 11's plan checks add them
    finding = Violation(policy="no-world-ssh-rdp", urn=URN, resource_type="gcp:compute/"
                        "firewall:Firewall", resource_name="bastion", severity="critical",
                        enforcement="mandatory", message="opens 22 to the world")
    return dataclasses.replace(result, violations=[*result.violations, finding])


def settings(expires: str) -> PolicySettings:
    return PolicySettings.model_validate({"waivers": [
        {"policy": "no-world-ssh-rdp", "resource": "bastion", "reason": "SEC-7",
         "expires": expires}]})


def test_stack_waivers_and_their_expiry_apply_to_any_finding() -> None:
    result = merged(make_result())
    active = apply_stack_waivers(result, settings("2999-01-01")).violations[-1]
    assert active.waiver == "SEC-7" and not active.blocking
    lapsed = apply_stack_waivers(result, settings("2000-01-01")).violations[-1]
    assert lapsed.waiver is None and lapsed.waiver_expired == "2000-01-01" and lapsed.blocking
    assert "expired on 2000-01-01" in lapsed.message


def test_skips_and_the_baseline_apply_to_any_finding(tmp_path: Path) -> None:
    import json

    result = merged(make_result())
    skipped = select_policies(result, skip=["no-world-ssh-rdp"])
    assert all(v.policy != "no-world-ssh-rdp" for v in skipped.violations)
    assert skipped.skipped == ["no-world-ssh-rdp"]
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps({"stack": "dev", "violations": [
        {"policy": "no-world-ssh-rdp", "urn": URN}]}))
    known = apply_baseline(result, load_baseline(path))
    assert known.violations[-1].baseline and not known.violations[-1].blocking
