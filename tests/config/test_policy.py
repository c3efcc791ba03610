"""`PolicySettings`: the stack's `aidc:policy` block and the pack config it becomes."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError, create_model

from infra.check.protocol import pack_info, reconcile_config
from infra.config.policy import (
    PROPERTY_OF_FIELD,
    PolicySettings,
    Waiver,
    field_name,
    threshold_fields,
)
from policies import pack
from policies.metadata import POLICIES, POLICY_NAMES, all_config_properties


@pytest.fixture(scope="module")
def info():
    """The pack's GetAnalyzerInfo, built in-process from the same servicer the pack serves."""
    from pulumi_policy.policy import EnforcementLevel, _PolicyAnalyzerServicer

    servicer = _PolicyAnalyzerServicer(pack.PACK_NAME, "0.1.0", pack.build_policies(),
                                       EnforcementLevel.ADVISORY, pack.initial_config())
    return pack_info(servicer.GetAnalyzerInfo(None, None))


def test_every_pack_property_is_a_setting_with_its_schema() -> None:
    """Each config property the pack declares is one settings field, named in snake_case, with
    the pack's default, bounds, closed set and description: an empty `aidc:policy` block means
    exactly the pack's built-in thresholds."""
    declared = all_config_properties()
    assert set(PROPERTY_OF_FIELD.values()) == set(declared)
    fields = PolicySettings.model_json_schema()["properties"]
    for name, prop in PROPERTY_OF_FIELD.items():
        schema, field = declared[prop], fields[name]
        assert name == field_name(prop) and field["description"] == schema["description"], name
        for key in ("minimum", "maximum", "enum", "items"):
            assert field.get(key) == schema.get(key), (name, key)
    assert PolicySettings().property_values() == {
        prop: schema["default"] for prop, schema in declared.items()}


def test_a_new_pack_property_becomes_a_setting() -> None:
    """Adding a threshold is one edit in the pack: its schema alone gives the setting's name,
    type, default and bounds."""
    fields = threshold_fields({"gpuMaxIdleHours": {
        "type": "integer", "minimum": 1, "maximum": 72, "default": 6,
        "description": "Longest a GPU may idle, in hours."}})
    model = create_model("Probe", **fields)
    assert model().gpu_max_idle_hours == 6
    assert model(gpu_max_idle_hours="12").gpu_max_idle_hours == 12
    for bad in (0, 73, 1.5, "six"):
        with pytest.raises(ValidationError):
            model(gpu_max_idle_hours=bad)
    assert field_name("kmsRequireHsmForRestricted") == "kms_require_hsm_for_restricted"


def test_rejects_a_pack_schema_it_cannot_type() -> None:
    """A property whose schema has no settings type fails loudly when the module loads, rather
    than becoming an untyped setting."""
    with pytest.raises(TypeError, match="oddThing"):
        threshold_fields({"oddThing": {"type": "object", "default": {}, "description": "?"}})


def test_default_settings_keep_builtin_levels(info) -> None:
    """'default' enforcement sends no "all" and no level, so the built-in levels apply."""
    config = PolicySettings().to_pack_config()
    assert "all" not in config
    assert not any("enforcementLevel" in entry for entry in config.values())
    levels = {name: level for name, (level, _) in reconcile_config(info, config).items()}
    assert levels == {m.name: m.default_enforcement for m in POLICIES.values()}


def test_pack_wide_enforcement_becomes_all() -> None:
    """`enforcement: advisory|mandatory` is the config file's "all" key."""
    assert PolicySettings(enforcement="advisory").to_pack_config()["all"] == "advisory"
    assert PolicySettings(enforcement="mandatory").to_pack_config()["all"] == "mandatory"


def test_pack_config_is_the_cli_json_format() -> None:
    """Keys are "all" or policy names; values a level string or an object of properties."""
    settings = PolicySettings(
        enforcement="advisory", overrides={"kms-rotation-max": "mandatory"},
        kms_max_rotation_days=30, allowed_member_domains=["example.com"],
        waivers=[Waiver(policy="no-world-ssh-rdp", resource="fw", reason="bastion, SEC-1")])
    config = json.loads(settings.to_pack_config_json())
    assert config == settings.to_pack_config()
    assert set(config) <= {"all", *POLICY_NAMES}
    assert config["kms-rotation-max"] == {"enforcementLevel": "mandatory", "kmsMaxRotationDays": 30}
    assert config["restricted-no-foreign-members"]["allowedMemberDomains"] == ["example.com"]
    assert config["no-world-ssh-rdp"] == {"waivers": [{"resource": "fw",
                                                       "reason": "bastion, SEC-1"}]}


def test_rejects_unknown_policy_in_overrides() -> None:
    """A typo in an override is an error that suggests the name and lists the roster."""
    with pytest.raises(ValidationError) as err:
        PolicySettings(overrides={"no-public-member": "advisory"})
    text = str(err.value)
    assert "did you mean 'no-public-members'" in text and "kms-rotation-max" in text


def test_rejects_unknown_policy_in_waiver() -> None:
    """A waiver for a policy the pack does not have is an error."""
    with pytest.raises(ValidationError, match="unknown policy 'no-ssh'"):
        Waiver(policy="no-ssh", resource="fw", reason="typo")


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_rejects_waiver_without_reason(reason) -> None:
    """Every waiver carries a reason; empty and blank ones are refused."""
    fields = {"policy": "no-world-ssh-rdp", "resource": "fw"}
    if reason is not None:
        fields["reason"] = reason
    with pytest.raises(ValidationError):
        PolicySettings(waivers=[fields])


def test_waiver_reason_is_trimmed() -> None:
    """Reasons are stored without surrounding whitespace."""
    assert Waiver(policy="no-world-ssh-rdp", resource="fw", reason="  ok  ").reason == "ok"


@pytest.mark.parametrize("fields", [
    {"enforcement": "strict"},
    {"overrides": {"kms-rotation-max": "remediate"}},
    {"kms_max_rotation_days": 0},
    {"kms_max_rotation_days": 36501},
    {"kms_max_rotation_days": 1.5},
    {"kms_min_destroy_scheduled_days": 121},
    {"cmek_min_classification": "secret"},
    {"allowed_nfs_ranges": ["10.0.0.0/33"]},
    {"sensitive_ports": [70000]},
    {"unknown_field": True},
])
def test_rejects_invalid_settings(fields) -> None:
    """Closed sets, ranges, CIDRs and unknown fields are validated when the stack is read."""
    with pytest.raises(ValidationError):
        PolicySettings(**fields)


def test_rejects_assignment_to_frozen_settings() -> None:
    """Settings are frozen: what was validated is what runs."""
    with pytest.raises(ValidationError):
        PolicySettings().enforcement = "advisory"  # type: ignore[misc]


@settings(max_examples=60, deadline=None)
@given(enforcement=st.sampled_from(["default", "advisory", "mandatory"]),
       overrides=st.dictionaries(st.sampled_from(POLICY_NAMES),
                                 st.sampled_from(["advisory", "mandatory", "disabled"]),
                                 max_size=6))
def test_effective_level_is_override_then_pack_wide_then_builtin(info, enforcement,
                                                                 overrides) -> None:
    """Under the engine's reconciliation, each policy runs at its override if any, else at the
    pack-wide level if set, else at its built-in level."""
    config = PolicySettings(enforcement=enforcement, overrides=overrides).to_pack_config()
    levels = {name: level for name, (level, _) in reconcile_config(info, config).items()}
    for meta in POLICIES.values():
        expected = overrides.get(meta.name) or (
            enforcement if enforcement != "default" else meta.default_enforcement)
        assert levels[meta.name] == expected
