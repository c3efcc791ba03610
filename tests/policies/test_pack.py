"""The policy pack as a whole: its roster, its metadata, enforcement, waivers and preview-unknowns,
all through the analyzer protocol (the real `policies/` pack in a subprocess).

Per-policy cases live in `test_policy_<concern>.py`; a test here checks that every policy has a
passing and a failing case among them.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
import textwrap
import tomllib
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

from infra.check.protocol import NOT_VERIFIABLE
from infra.check.run import PolicyAnalyzer
from infra.engine.plan import Plan
from infra.errors import AidcError
from infra.config.policy import PolicySettings, Waiver
from policies import pack
from policies.metadata import BY_NAME, CONCERNS, POLICIES, POLICY_NAMES, RULES
from policies.protocol import CLASSIFICATIONS, REFERENCE_PREFIXES, SPEEDUPS_ENV
from tests.policies import test_classification as test_policy_classification
from tests.policies import test_compute as test_policy_compute
from tests.policies import test_encryption as test_policy_encryption
from tests.policies import test_gke as test_policy_gke
from tests.policies import test_iam as test_policy_iam
from tests.policies import test_kubernetes as test_policy_kubernetes
from tests.policies import test_logging_monitoring as test_policy_logging_monitoring
from tests.policies import test_network as test_policy_network
from tests.policies import test_public_access as test_policy_public_access
from tests.policies import test_tenancy as test_policy_tenancy
from tests.policy_fixtures import (
    BUCKET,
    CRYPTO_KEY,
    DELETE,
    FIREWALL,
    GOLDEN,
    NODE_POOL,
    analyzer,  # noqa: F401 (module fixture)
    fired,
    golden_plan,
    plan_of,
    resource,
)

ROSTER = (
    ("P1", "no-public-members", "critical"),
    ("P2", "bucket-public-access-prevention", "critical"),
    ("P3", "bucket-uniform-access", "high"),
    ("P4", "bucket-acl-not-public", "critical"),
    ("P5", "filestore-export-restricted", "high"),
    ("P6", "instance-no-external-ip", "medium"),
    ("D1", "data-classification-label", "high"),
    ("D2", "cmek-required-by-classification", "critical"),
    ("D3", "restricted-versioning-or-retention", "high"),
    ("D4", "restricted-bucket-key-rotation", "high"),
    ("D5", "no-node-pool-on-default-sa", "high"),
    ("E2", "kms-rotation-max", "high"),
    ("E3", "kms-not-public", "critical"),
    ("E4", "gke-node-boot-disk-cmek", "medium"),
    ("E5", "kms-key-protected", "medium"),
    ("E6", "kms-hsm-for-restricted", "medium"),
    ("E7", "disk-cmek", "high"),
    ("I1", "no-user-managed-sa-keys", "high"),
    ("I2", "no-primitive-roles-for-sa", "high"),
    ("I11", "no-basic-roles", "high"),
    ("I3", "no-sa-user-token-creator-at-project", "high"),
    ("I4", "restricted-no-foreign-members", "high"),
    ("I5", "default-compute-sa-not-granted", "medium"),
    ("I6", "no-sa-impersonation-roles", "medium"),
    ("I7", "transfer-job-no-static-keys", "high"),
    ("N1", "no-world-ssh-rdp", "critical"),
    ("N2", "no-world-all-ports", "critical"),
    ("N3", "no-world-sensitive-ports", "high"),
    ("N5", "gke-control-plane-not-public", "high"),
    ("N6", "gke-private-nodes", "medium"),
    ("N7", "gke-network-policy", "medium"),
    ("N8", "no-default-network", "medium"),
    ("N9", "k8s-lb-internal", "medium"),
    ("N10", "subnet-private-google-access", "low"),
    ("N11", "gke-vpc-native", "medium"),
    ("N12", "instance-no-ip-forwarding", "medium"),
    ("G1", "node-sa-not-default", "high"),
    ("G2", "workload-identity-and-scopes", "high"),
    ("G3", "gke-no-legacy-auth", "high"),
    ("G4", "gke-shielded-nodes", "medium"),
    ("G5", "gke-secure-boot-integrity", "medium"),
    ("G6", "gke-release-channel-autoupgrade", "low"),
    ("G7", "gke-binary-authorization", "medium"),
    ("G8", "gke-no-alpha", "medium"),
    ("G9", "gke-cos-containerd", "low"),
    ("G10", "gke-security-posture", "low"),
    ("I10", "gke-rbac-google-groups", "medium"),
    ("C1", "instance-shielded-vm", "medium"),
    ("C2", "instance-os-login", "medium"),
    ("C3", "instance-block-project-ssh-keys", "medium"),
    ("C4", "instance-no-serial-port", "medium"),
    ("C5", "instance-no-default-sa", "high"),
    ("K1", "k8s-no-privileged-host-access", "high"),
    ("K2", "k8s-gpu-limits", "medium"),
    ("K3", "k8s-no-default-sa", "medium"),
    ("K4", "k8s-no-privilege-escalation", "medium"),
    ("K5", "k8s-capabilities", "medium"),
    ("K6", "k8s-seccomp-runtime-default", "medium"),
    ("K7", "k8s-no-default-namespace", "low"),
    ("K8", "k8s-image-pinned", "medium"),
    ("K9", "k8s-read-only-root-fs", "low"),
    ("K10", "k8s-secrets-not-in-env", "medium"),
    ("K11", "k8s-no-host-port", "medium"),
    ("D6", "k8s-recommended-labels", "low"),
    ("I8", "k8s-no-cluster-admin-binding", "high"),
    ("I9", "k8s-no-wildcard-rbac", "medium"),
    ("L1", "gke-logging-monitoring", "medium"),
    ("L2", "subnet-flow-logs", "low"),
    ("L3", "firewall-logging", "low"),
    ("L4", "bucket-access-logging", "low"),
    ("L5", "data-access-audit-logs", "medium"),
    ("L6", "alerts-have-channels", "medium"),
    ("L7", "gke-intranode-visibility", "low"),
    ("L8", "transfer-job-logging", "low"),
    ("L9", "alert-policy-documented", "low"),
    ("L10", "notification-channel-present", "medium"),
    ("T1", "tenant-namespace-has-localqueue", "medium"),
    ("T2", "queue-quota-within-pool-capacity", "high"),
    ("T3", "tenant-no-project-roles", "high"),
    ("T4", "tenant-no-cluster-admin", "high"),
)
STACK_POLICIES = {"restricted-bucket-key-rotation", "no-node-pool-on-default-sa",
                  "data-access-audit-logs",
                  "restricted-no-foreign-members", "notification-channel-present",
                  "tenant-namespace-has-localqueue", "queue-quota-within-pool-capacity",
                  "tenant-no-project-roles", "tenant-no-cluster-admin"}
CASE_MODULES = (test_policy_public_access, test_policy_classification, test_policy_encryption,
                test_policy_iam, test_policy_network, test_policy_gke, test_policy_compute,
                test_policy_kubernetes, test_policy_logging_monitoring, test_policy_tenancy)
_SSH_WORLD = {"sourceRanges": ["0.0.0.0/0"]}


# --- the roster and its metadata -----------------------------------------------------------

def test_roster_is_pinned(analyzer) -> None:  # noqa: F811
    """The pack serves exactly this roster (id, name, severity), in this order, at least 40."""
    assert len(ROSTER) >= 40
    assert [(m.id, m.name, m.severity) for m in POLICIES.values()] == list(ROSTER)
    served = analyzer.start()
    assert served.name == "aidc-policies"
    assert [(p.name, p.severity) for p in served.policies] == [(n, s) for _, n, s in ROSTER]
    assert {p.name for p in served.policies if p.stack} == STACK_POLICIES


def test_every_policy_has_a_failing_and_a_passing_protocol_case() -> None:
    """Each policy is tested through the analyzer both ways (STYLE 25)."""
    cases = [c for module in CASE_MODULES for c in module.CASES]
    failing = {c.policy for c in cases if c.fails}
    passing = {c.policy for c in cases if not c.fails}
    assert set(POLICY_NAMES) - failing == set()
    assert set(POLICY_NAMES) - passing == set()


def test_every_record_sits_beside_its_rule_in_its_concern_module() -> None:
    """Each policy's record and rule are defined in the module named by its concern, one rule
    per record; the concerns are the pack's modules."""
    assert set(RULES) == set(POLICIES)
    assert len(set(RULES.values())) == len(RULES)
    assert {m.concern for m in POLICIES.values()} == set(CONCERNS)
    for policy_id, rule in RULES.items():
        module = importlib.import_module(f"policies.{POLICIES[policy_id].concern}")
        assert getattr(module, policy_id) is POLICIES[policy_id], policy_id
        assert rule.__module__ == module.__name__, policy_id
        assert rule.__doc__ and re.match(rf"{policy_id}\b", rule.__doc__), policy_id


def test_roster_imports_no_pulumi() -> None:
    """infra reads the roster to validate stack files: it stays pure data and cheap, with no
    pulumi-policy (nor pulumi, nor protobuf) behind it."""
    probe = ("import sys, policies.metadata; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in "
             "('pulumi', 'pulumi_policy', 'google', 'grpc')))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("meta", list(POLICIES.values()), ids=lambda m: m.id)
def test_metadata_record_is_complete(meta) -> None:
    """Each record says what it checks, how to fix it, where it comes from and its defaults."""
    assert meta.description and meta.remediation and meta.url.startswith("https://")
    assert meta.resource_types
    assert meta.default_enforcement == (
        "mandatory" if meta.severity in ("critical", "high") else "advisory")
    for ref in meta.references:
        assert ref.startswith(REFERENCE_PREFIXES), ref
    for cis in meta.cis:
        assert re.fullmatch(r"CIS-(GCP|GKE)-\d\.\d:\d+(\.\d+)*", cis.tag), cis.tag
    for checkov in meta.checkov:
        assert re.fullmatch(r"CKV2?_(GCP|K8S)_\d+", checkov), checkov
    for schema in meta.config.values():
        assert "default" in schema and "description" in schema


def test_pack_info_carries_references_remediation_and_framework(analyzer) -> None:  # noqa: F811
    """GetAnalyzerInfo gives each policy's references (CIS with version, Checkov), remediation,
    URL and compliance framework, and the driver maps them into PolicyInfo."""
    info = analyzer.start().by_name()
    uniform = info["bucket-uniform-access"].info()
    assert "CIS-GCP-2.0:5.2" in uniform.references and "CKV_GCP_29" in uniform.references
    assert "PL:gcp_storage_bucket_policy_only_v1" in uniform.references
    assert uniform.remediation and uniform.url.startswith("https://")
    assert info["bucket-uniform-access"].framework == {
        "name": "CIS Google Cloud Platform Foundation Benchmark", "version": "2.0.0",
        "reference": "5.2"}
    assert info["gke-no-legacy-auth"].framework["version"] == "1.4.0"
    assert "kmsMaxRotationDays" in info["kms-rotation-max"].config_schema
    assert "waivers" in info["no-world-ssh-rdp"].config_schema


def test_golden_plan_passes_every_policy(analyzer) -> None:  # noqa: F811
    """One compliant resource of every type: no violation, no diagnostic, exit code 0."""
    result = analyzer.check(golden_plan())
    assert result.violations == [] and result.diagnostics == []
    assert result.exit_code == 0
    assert len(result.policies) == len(ROSTER)


def test_golden_plan_passes_prod_settings(analyzer) -> None:  # noqa: F811
    """The golden plan (with its notification channel) passes a strict prod configuration."""
    prod = PolicySettings(enforcement="mandatory", require_notification_channels=True,
                          kms_require_protect=False)
    result = analyzer.check(golden_plan(), pack_config=prod.to_pack_config())
    assert result.violations == []


# --- enforcement -------------------------------------------------------------------------------

def test_builtin_enforcement_is_mandatory_for_critical_and_high(analyzer) -> None:  # noqa: F811
    """With no config, critical/high policies run mandatory and the rest advisory."""
    result = analyzer.check(golden_plan())
    for p in result.policies:
        expected = "mandatory" if p.severity in ("critical", "high") else "advisory"
        assert p.enforcement == expected, p.name


def test_flags_mandatory_and_advisory_violations_at_their_builtin_levels(analyzer) -> None:  # noqa: F811
    """A critical violation blocks (exit 1); a low one is reported but does not."""
    open_ssh = resource(FIREWALL, "fw", _SSH_WORLD)
    unlogged = resource(BUCKET, "b", {"logging": DELETE})
    result = analyzer.check(plan_of(open_ssh, unlogged, resource(CRYPTO_KEY, "k")))
    by_policy = {v.policy: v for v in result.violations}
    assert by_policy["no-world-ssh-rdp"].enforcement == "mandatory"
    assert by_policy["bucket-access-logging"].enforcement == "advisory"
    assert [v.policy for v in result.blocking] == ["no-world-ssh-rdp"]
    assert result.exit_code == 1


def test_advisory_setting_makes_everything_advisory(analyzer) -> None:  # noqa: F811
    """`enforcement: advisory` (dev): violations are listed, none blocks."""
    settings = PolicySettings(enforcement="advisory")
    result = analyzer.check(plan_of(resource(FIREWALL, "fw", _SSH_WORLD)),
                            pack_config=settings.to_pack_config())
    assert "no-world-ssh-rdp" in fired(result)
    assert {v.enforcement for v in result.violations} == {"advisory"}
    assert {p.enforcement for p in result.policies} == {"advisory"}
    assert result.exit_code == 0


def test_override_changes_one_policy_level(analyzer) -> None:  # noqa: F811
    """A per-policy override wins over the pack-wide level, in either direction."""
    settings = PolicySettings(enforcement="advisory",
                              overrides={"bucket-access-logging": "mandatory",
                                         "bucket-uniform-access": "disabled"})
    bucket = resource(BUCKET, "b", {"logging": DELETE, "uniformBucketLevelAccess": False})
    result = analyzer.check(plan_of(bucket), pack_config=settings.to_pack_config())
    levels = {v.policy: v.enforcement for v in result.violations}
    assert levels["bucket-access-logging"] == "mandatory"
    assert "bucket-uniform-access" not in levels
    assert {p.name: p.enforcement for p in result.policies}["bucket-uniform-access"] == "disabled"
    assert result.exit_code == 1


def test_configure_is_reset_between_checks(analyzer) -> None:  # noqa: F811
    """One running pack judges many plans; each check's config replaces the last one's."""
    plan = plan_of(resource(FIREWALL, "fw", _SSH_WORLD))
    lenient = analyzer.check(plan, pack_config=PolicySettings(enforcement="advisory")
                             .to_pack_config())
    strict = analyzer.check(plan)
    assert lenient.exit_code == 0 and strict.exit_code == 1


# --- waivers -----------------------------------------------------------------------------------

def test_waiver_shows_the_violation_with_its_reason_and_does_not_block(analyzer) -> None:  # noqa: F811
    """A waived violation is still reported, with the waiver's reason, and is not blocking."""
    settings = PolicySettings(waivers=[Waiver(policy="no-world-ssh-rdp", resource="fw",
                                              reason="break-glass bastion, SEC-123")])
    result = analyzer.check(plan_of(resource(FIREWALL, "fw", _SSH_WORLD)),
                            pack_config=settings.to_pack_config())
    [waived] = [v for v in result.violations if v.policy == "no-world-ssh-rdp"]
    assert waived.waiver == "break-glass bastion, SEC-123"
    assert "SSH" in waived.message and waived.enforcement == "mandatory"
    assert not waived.blocking and result.exit_code == 0


def test_waiver_by_urn_and_through_the_driver_argument(analyzer) -> None:  # noqa: F811
    """`check(waivers=...)` waives by URN as well as by name; other resources stay blocking."""
    waived_fw, other_fw = resource(FIREWALL, "a", _SSH_WORLD), resource(FIREWALL, "b", _SSH_WORLD)
    result = analyzer.check(plan_of(waived_fw, other_fw), waivers=[
        {"policy": "no-world-ssh-rdp", "resource": waived_fw.urn, "reason": "IAP only soon"}])
    verdict = {v.urn: v.waiver for v in result.violations if v.policy == "no-world-ssh-rdp"}
    assert verdict == {waived_fw.urn: "IAP only soon", other_fw.urn: None}
    assert result.exit_code == 1


def test_waiver_on_a_stack_policy_finding(analyzer) -> None:  # noqa: F811
    """A stack policy's finding on one resource is waived by that resource's name."""
    bucket = resource(BUCKET, "b")  # its key is not in the stack
    settings = PolicySettings(waivers=[Waiver(policy="restricted-bucket-key-rotation",
                                              resource="b", reason="key held by security team")])
    result = analyzer.check(plan_of(bucket), pack_config=settings.to_pack_config())
    [finding] = [v for v in result.violations if v.policy == "restricted-bucket-key-rotation"]
    assert finding.waiver == "key held by security team" and finding.urn == bucket.urn
    assert result.exit_code == 0


def test_rejects_waiver_without_reason(analyzer) -> None:  # noqa: F811
    """A waiver must say why: empty or blank reasons are refused by settings and driver."""
    with pytest.raises(ValueError, match="reason"):
        Waiver(policy="no-world-ssh-rdp", resource="fw", reason="   ")
    with pytest.raises(ValueError):
        PolicySettings(waivers=[{"policy": "no-world-ssh-rdp", "resource": "fw"}])
    with pytest.raises(AidcError, match="reason"):
        analyzer.check(plan_of(resource(FIREWALL, "fw", _SSH_WORLD)), waivers=[
            {"policy": "no-world-ssh-rdp", "resource": "fw", "reason": ""}])


def test_rejects_waiver_for_unknown_policy(analyzer) -> None:  # noqa: F811
    """A waiver naming no policy of the pack is an error listing the pack's policies."""
    with pytest.raises(AidcError, match="no-world-ssh-rdp"):
        analyzer.check(plan_of(), waivers=[{"policy": "no-ssh", "resource": "fw",
                                             "reason": "typo"}])


# --- values unknown at preview -----------------------------------------------------------------

@pytest.mark.parametrize("policy, type_token, changes", [
    ("bucket-public-access-prevention", BUCKET, {"publicAccessPrevention": "[unknown]"}),
    ("no-world-ssh-rdp", FIREWALL, {"sourceRanges": "[unknown]"}),
    ("kms-rotation-max", CRYPTO_KEY, {"rotationPeriod": "[unknown]"}),
    ("node-sa-not-default", NODE_POOL, {("nodeConfig", "serviceAccount"): "[unknown]"}),
])
def test_flags_unknown_value_as_not_verifiable(analyzer, policy, type_token, changes) -> None:  # noqa: F811
    """A value unknown at preview is a Diagnostic ("not verifiable at preview"), never a pass
    and never a violation."""
    subject = resource(type_token, "case", changes)
    result = analyzer.check(plan_of(subject))
    found = [d for d in result.diagnostics if d.policy == policy]
    assert found and found[0].urn == subject.urn
    assert found[0].message.startswith(NOT_VERIFIABLE)
    assert policy not in fired(result, subject.urn)


def test_flags_unknown_value_in_a_stack_policy(analyzer) -> None:  # noqa: F811
    """A stack policy reading an unknown value reports the whole policy as not verifiable."""
    bucket = resource(BUCKET, "b", {("encryption", "defaultKmsKeyName"): "[unknown]"})
    result = analyzer.check(plan_of(bucket, resource(CRYPTO_KEY, "k")))
    found = [d for d in result.diagnostics if d.policy == "restricted-bucket-key-rotation"]
    assert found and NOT_VERIFIABLE in found[0].message
    assert "restricted-bucket-key-rotation" not in fired(result)


def test_secret_placeholder_is_judged_as_a_present_value(analyzer) -> None:  # noqa: F811
    """A secret input ("[secret]" in a plan) counts as set, like the engine's secret value."""
    key = resource("gcp:serviceaccount/key:Key", "k", inputs={
        "serviceAccountId": "ci@aidc-dev.iam.gserviceaccount.com", "publicKeyData": "[secret]"})
    result = analyzer.check(plan_of(key))
    assert any("uploaded" in v.message for v in result.violations)
    assert "[secret]" not in json.dumps(result.as_dict()["violations"])


def test_unlabelled_classification_setting_is_honoured(analyzer) -> None:  # noqa: F811
    """`unlabelled_classification` decides how strict unlabelled data is judged."""
    bucket = resource(BUCKET, "b", {("labels", "data-classification"): DELETE,
                                    "encryption": DELETE})
    strict = analyzer.check(plan_of(bucket))
    lenient = analyzer.check(plan_of(bucket), pack_config=PolicySettings(
        unlabelled_classification="internal").to_pack_config())
    assert "cmek-required-by-classification" in fired(strict)
    assert "cmek-required-by-classification" not in fired(lenient)
    assert "data-classification-label" in fired(lenient)


def test_golden_resources_are_labelled_with_known_classifications() -> None:
    """The fixtures use only the four classification values the pack knows."""
    for inputs in GOLDEN.values():
        label = (inputs.get("labels") or inputs.get("resourceLabels") or {}).get(
            "data-classification")
        assert label is None or label in CLASSIFICATIONS
    assert BY_NAME["no-public-members"].id == "P1"


# --- the SDK speed-ups ------------------------------------------------------------------------

_SPEEDUPS_PROBE = textwrap.dedent("""
    import runpy, sys
    import pulumi_policy
    from pulumi_policy import policy as sdk
    pulumi_policy.PolicyPack = lambda **kwargs: None  # build the pack, do not serve it
    runpy.run_path(sys.argv[1], run_name="__main__")
    servicer = sdk._PolicyAnalyzerServicer
    print(*(getattr(servicer, flag, False) for flag in ("_aidc_decode_cache", "_aidc_type_index")))
""")


@pytest.mark.parametrize("value, installed", [(None, False), ("0", False), ("1", True)])
def test_speedups_are_installed_only_when_the_driver_asks(value, installed) -> None:
    """`pulumi preview --policy-pack policies/` runs the stock pulumi-policy SDK; only aidc's
    offline driver, which sets the opt-in, gets the patched servicer."""
    env = {k: v for k, v in os.environ.items() if k != SPEEDUPS_ENV}
    if value is not None:
        env[SPEEDUPS_ENV] = value
    main = Path(pack.__file__).with_name("__main__.py")
    out = subprocess.run([sys.executable, "-c", _SPEEDUPS_PROBE, str(main)], env=env,
                         capture_output=True, text=True, check=True, timeout=120).stdout
    assert out.split() == [str(installed)] * 2


def _plans_of_every_case() -> list[tuple[Plan, dict | None]]:
    """Every case of CASE_MODULES in a plan judged under its config: the cases sharing a config
    in one plan, a case with extra resources in a plan of its own; plus an unknown value."""
    groups: dict[str, list[tuple[int, Any]]] = {}
    for i, case in enumerate(c for module in CASE_MODULES for c in module.CASES):
        key = f"extra-{i}" if case.extra else json.dumps(case.config, sort_keys=True)
        groups.setdefault(key, []).append((i, case))
    plans = []
    for members in groups.values():
        subjects = [resource(c.type, f"case-{i}", c.changes, inputs=c.inputs, protect=c.protect,
                             property_dependencies=c.deps) for i, c in members]
        plans.append((plan_of(*subjects, *(e for _, c in members for e in c.extra)),
                      members[0][1].config))
    plans.append((plan_of(resource(FIREWALL, "unknown", {"sourceRanges": "[unknown]"})), None))
    return plans


def test_speedups_do_not_change_any_verdict() -> None:
    """The pack's speed-ups (decode once per request, run only the policies of the resource's
    type) are invisible: with and without them, every policy case (each under its own config)
    gets the same violations, diagnostics and "not applicable" answers."""
    plans = _plans_of_every_case()

    def verdicts(speedups: bool) -> list[tuple[list, list, list]]:
        out = []
        with PolicyAnalyzer(speedups=speedups) as running:
            environ = Path(f"/proc/{running.pid}/environ").read_bytes().split(b"\0")
            assert (f"{SPEEDUPS_ENV}=1".encode() in environ) is speedups
            for plan, config in plans:
                result = running.check(plan, pack_config=config)
                out.append((sorted(map(repr, result.violations)),
                            sorted(map(repr, result.diagnostics)),
                            sorted(running.last_not_applicable)))
        return out

    fast = verdicts(True)
    assert verdicts(False) == fast
    # not vacuous: every policy has findings somewhere, and the unknown value a diagnostic
    found = " ".join(v for violations, _, _ in fast for v in violations)
    assert {name for name in POLICY_NAMES if f"policy='{name}'" not in found} == set()
    assert fast[-1][1]


def test_sdk_bounds_agree_and_hold_what_is_installed() -> None:
    """The speed-ups replace pulumi-policy internals, so pulumi and pulumi-policy are bounded
    to the minors they were verified against, alike for the distribution (pyproject.toml) and
    for the pack under the Pulumi CLI (policies/requirements.txt), and the suite runs them."""
    root = Path(pack.__file__).resolve().parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    lines = (root / "policies" / "requirements.txt").read_text().splitlines()
    distribution = {Requirement(r).name: Requirement(r).specifier for r in project["dependencies"]}
    pack_needs = {Requirement(r).name: Requirement(r).specifier for r in lines
                  if r.strip() and not r.startswith("#")}
    assert set(pack_needs) == {"pulumi", "pulumi-policy"}
    for name, specifier in pack_needs.items():
        assert specifier == distribution[name], name
        assert specifier.contains(version(name)), (name, version(name))
        assert any(s.operator == "<" for s in specifier), f"{name} needs an upper bound"
