"""The analyzer protocol, pure: the engine's config reconciliation and request encoding."""

from __future__ import annotations

import pytest

from infra.check import protocol
from infra.check.protocol import ENGINE_UNKNOWN, reconcile_config
from infra.check.run import PolicyAnalyzer
from infra.config.policy import PolicySettings
from infra.errors import AidcError
from policies.metadata import POLICY_NAMES


# --- config reconciliation (what `pulumi preview` does with --policy-pack-config) ---------------

@pytest.fixture(scope="module")
def info():
    with PolicyAnalyzer() as running:
        yield running.info


def test_reconcile_starts_from_builtin_levels_and_schema_defaults(info) -> None:
    """No config: built-in levels, and every property at its declared default."""
    config = reconcile_config(info, None)
    assert set(config) == set(POLICY_NAMES)
    assert config["no-world-ssh-rdp"][0] == "mandatory"
    assert config["bucket-access-logging"][0] == "advisory"
    assert config["kms-rotation-max"][1]["kmsMaxRotationDays"] == 90
    assert config["no-world-ssh-rdp"][1]["waivers"] == []


def test_reconcile_applies_all_then_per_policy(info) -> None:
    """"all" sets every level first; a policy's own entry then wins; properties merge."""
    config = reconcile_config(info, {
        "all": "advisory",
        "kms-rotation-max": {"enforcementLevel": "mandatory", "kmsMaxRotationDays": 30},
        "bucket-uniform-access": {"enforcementLevel": "disabled"},
    })
    assert config["no-world-ssh-rdp"][0] == "advisory"
    assert config["kms-rotation-max"] == ("mandatory", {"kmsMaxRotationDays": 30, "waivers": []})
    assert config["bucket-uniform-access"][0] == "disabled"


def test_reconcile_settings_round_trip(info) -> None:
    """PolicySettings.to_pack_config() is accepted as is and sets what it says."""
    settings = PolicySettings(enforcement="mandatory", kms_max_rotation_days=30,
                              overrides={"subnet-flow-logs": "disabled"})
    config = reconcile_config(info, settings.to_pack_config())
    assert {level for name, (level, _) in config.items() if name != "subnet-flow-logs"} == {
        "mandatory"}
    assert config["subnet-flow-logs"][0] == "disabled"
    assert config["restricted-bucket-key-rotation"][1]["kmsMaxRotationDays"] == 30


@pytest.mark.parametrize("bad, message", [
    ({"no-such-policy": "advisory"}, "unknown policies no-such-policy"),
    ({"all": "strict"}, "not one of advisory, mandatory"),
    ({"kms-rotation-max": {"kmsMaxRotationDays": "ninety"}}, "kms-rotation-max.kmsMaxRotationDays"),
    ({"kms-rotation-max": 3}, "not valid"),
])
def test_rejects_invalid_pack_config(info, bad, message) -> None:
    """Typos, bad levels and values the policy's schema refuses are errors, as in the CLI."""
    with pytest.raises(AidcError, match=message):
        reconcile_config(info, bad)


# --- encoding -----------------------------------------------------------------------------------

def test_unknown_placeholder_becomes_the_engine_sentinel() -> None:
    """'[unknown]' anywhere in the inputs is sent as pulumi's unknown value; other values are
    passed through untouched (same objects, no copy)."""
    inputs = {"a": "[unknown]", "b": [{"c": "[unknown]"}, "x"], "d": {"e": 1}}
    out = protocol.engine_value(inputs)
    assert out == {"a": ENGINE_UNKNOWN, "b": [{"c": ENGINE_UNKNOWN}, "x"], "d": {"e": 1}}
    assert out["d"] is inputs["d"]
    same = {"a": [1, {"b": "y"}]}
    assert protocol.engine_value(same) is same


def test_provider_reference_splits_urn_and_id() -> None:
    """A provider reference is '<urn>::<id>'; a bare URN is kept whole."""
    urn = "urn:pulumi:dev::aidc::pulumi:providers:gcp::default"
    assert protocol.split_provider_ref(f"{urn}::abc-123") == urn
    assert protocol.split_provider_ref(urn) == urn
    assert protocol.urn_type_name(urn) == ("pulumi:providers:gcp", "default")
