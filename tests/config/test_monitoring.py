"""MonitoringConfig: defaults, channel union, routes, threshold ranges, and the errors users see."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError

from infra.config.monitoring import (
    CHANNEL_TYPES,
    DASHBOARDS,
    DCGM_EXPORTER_IMAGE,
    KUBE_PROMETHEUS_STACK_VERSION,
    MonitoringConfig,
    PagerDutyChannel,
    Thresholds,
    WebhookChannel,
)

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "pd-routing-key-DO-NOT-LEAK-7f3a"

CHANNELS = {
    "ops": {"type": "email", "address": "ml-platform@acme.example"},
    "pager": {"type": "pagerduty", "service_key": TOKEN},
    "chat": {"type": "slack", "channel_name": "#ml-alerts", "auth_token": TOKEN},
    "hook": {"type": "webhook", "url": "https://hooks.acme.example/gcp", "token": TOKEN},
}


def _errors(data: dict) -> list[dict]:
    with pytest.raises(ValidationError) as exc:
        MonitoringConfig.model_validate(data)
    return exc.value.errors(include_url=False)


def _text(data: dict) -> str:
    """The messages as the CLI prints them (location and message, no pydantic input dump)."""
    with pytest.raises(ValidationError) as exc:
        MonitoringConfig.model_validate(data)
    return "\n".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                     for e in exc.value.errors(include_url=False))


# -- defaults ---------------------------------------------------------------------------------


def test_defaults_are_managed_with_every_dashboard() -> None:
    """Omitted: managed mode, all four dashboards, no Helm release, pinned exporter image."""
    cfg = MonitoringConfig()
    assert cfg.mode == "managed"
    assert cfg.resolved_dashboards == DASHBOARDS
    assert cfg.prometheus_stack is None
    assert cfg.dcgm_exporter_image == DCGM_EXPORTER_IMAGE
    assert ":" in DCGM_EXPORTER_IMAGE.rsplit("/", 1)[-1]
    assert cfg.channels == {}
    assert cfg.channels_for("critical") == []


def test_self_managed_defaults_to_the_pinned_chart_and_no_gpu_dashboard() -> None:
    """Self-managed: the pinned kube-prometheus-stack and no Cloud Monitoring GPU dashboard."""
    cfg = MonitoringConfig(mode="self-managed")
    assert cfg.prometheus_stack is not None
    assert cfg.prometheus_stack.chart_version == KUBE_PROMETHEUS_STACK_VERSION
    assert "gpu" not in cfg.resolved_dashboards
    custom = MonitoringConfig.model_validate(
        {"mode": "self-managed", "kube_prometheus_stack": {"chart_version": "70.0.0",
                                                            "values": {"grafana": {"enabled": False}}}})
    assert custom.prometheus_stack.chart_version == "70.0.0"


def test_every_field_is_typed_documented_and_defaulted() -> None:
    """Each field of the section has a description and a default (a stack may omit any)."""
    for model in (MonitoringConfig, Thresholds):
        for name, info in model.model_fields.items():
            assert not info.is_required(), f"{model.__name__}.{name} has no default"
            if name not in ("thresholds",):
                assert info.description, f"{model.__name__}.{name} has no description"


# -- channels and routes ----------------------------------------------------------------------


def test_every_channel_type_parses_and_tokens_are_secret() -> None:
    """The union is discriminated on `type`; tokens become SecretStr and never print."""
    cfg = MonitoringConfig.model_validate({"channels": CHANNELS})
    assert [c.type for c in cfg.channels.values()] == ["email", "pagerduty", "slack", "webhook"]
    pager = cfg.channels["pager"]
    assert isinstance(pager, PagerDutyChannel) and isinstance(pager.service_key, SecretStr)
    assert pager.service_key.get_secret_value() == TOKEN
    assert TOKEN not in repr(cfg) and TOKEN not in str(cfg)
    assert TOKEN not in cfg.model_dump_json()
    assert sorted(CHANNEL_TYPES) == sorted({c["type"] for c in CHANNELS.values()})


def test_routes_default_to_every_channel_and_follow_declaration_order() -> None:
    cfg = MonitoringConfig.model_validate({"channels": CHANNELS})
    assert cfg.channels_for("critical") == ["ops", "pager", "chat", "hook"]
    routed = MonitoringConfig.model_validate(
        {"channels": CHANNELS, "routes": {"critical": ["hook", "pager"], "warning": ["ops"]}})
    assert routed.channels_for("critical") == ["pager", "hook"]
    assert routed.channels_for("warning") == ["ops"]
    silent = MonitoringConfig.model_validate({"channels": CHANNELS, "routes": {"warning": []}})
    assert silent.channels_for("warning") == []


def test_rejects_unknown_channel_type_listing_accepted_types() -> None:
    """An unknown type names the channel and lists every accepted type, without its values."""
    text = _text({"channels": {"ops": {"type": "sms", "number": "+15550100", "token": TOKEN}}})
    assert "channels.ops.type" in text and "'sms'" in text
    for kind in CHANNEL_TYPES:
        assert kind in text
    assert TOKEN not in text


def test_rejects_channel_without_type() -> None:
    text = _text({"channels": {"ops": {"address": "a@b.example"}}})
    assert "channels.ops.type: required" in text


def test_rejects_webhook_without_token_naming_the_field() -> None:
    """A webhook without its token is an error whose location ends in `token`."""
    errors = _errors({"channels": {"hook": {"type": "webhook", "url": "https://h.example/x"}}})
    assert [(e["loc"], e["type"]) for e in errors] == [
        (("channels", "hook", "webhook", "token"), "missing")]


@pytest.mark.parametrize("kind,field", [("pagerduty", "service_key"), ("slack", "auth_token"),
                                        ("webhook", "token")])
def test_rejects_every_token_channel_without_its_token(kind: str, field: str) -> None:
    base = {"pagerduty": {}, "slack": {"channel_name": "#a"},
            "webhook": {"url": "https://h.example/x"}}[kind]
    errors = _errors({"channels": {"c": {"type": kind, **base}}})
    assert any(e["loc"][-1] == field and e["type"] == "missing" for e in errors)
    empty = _errors({"channels": {"c": {"type": kind, **base, field: ""}}})
    assert any(e["loc"][-1] == field for e in empty)


def test_rejects_non_string_token_without_echoing_it() -> None:
    text = _text({"channels": {"hook": {"type": "webhook", "url": "https://h.example/x",
                                        "token": 918273645}}})
    assert "channels.hook.token: expected a string" in text
    assert "918273645" not in text
    with pytest.raises(ValidationError) as exc:  # nor in pydantic's own rendering
        MonitoringConfig.model_validate({"channels": {"hook": {
            "type": "webhook", "url": "https://h.example/x", "token": 918273645}}})
    assert "918273645" not in str(exc.value)


@pytest.mark.parametrize("channel,needle", [
    ({"type": "email", "address": "not-an-address"}, "address"),
    ({"type": "slack", "channel_name": "ml-alerts", "auth_token": "x"}, "channel_name"),
    ({"type": "webhook", "url": "http://insecure.example/x", "token": "x"}, "url"),
    ({"type": "webhook", "url": "https://h.example/x?auth_token=inline", "token": "x"}, "url"),
])
def test_rejects_malformed_channel_fields(channel: dict, needle: str) -> None:
    errors = _errors({"channels": {"c": channel}})
    assert any(e["loc"][-1] == needle for e in errors)


def test_rejects_channel_key_that_cannot_be_a_resource_name() -> None:
    assert "channel key 'Ops_Team'" in _text(
        {"channels": {"Ops_Team": {"type": "email", "address": "a@b.example"}}})


def test_rejects_route_to_unknown_channel() -> None:
    text = _text({"channels": {"ops": CHANNELS["ops"]}, "routes": {"critical": ["pager"]}})
    assert "routes.critical: no channel 'pager'; channels defined: ops" in text


def test_rejects_unknown_field() -> None:
    errors = _errors({"thresholds": {"gpu_idle_percent": 5}})
    assert errors[0]["type"] == "extra_forbidden"
    assert errors[0]["loc"] == ("thresholds", "gpu_idle_percent")


# -- thresholds -------------------------------------------------------------------------------

RANGES = {
    "gpu_idle_utilization_percent": (0, 100),
    "gpu_memory_full_percent": (0.001, 100),
    "tpu_duty_cycle_low_percent": (0, 100),
    "filestore_used_percent": (0.001, 100),
    "gpu_idle_minutes": (5, 1440),
    "tpu_idle_minutes": (5, 1440),
    "node_not_ready_minutes": (1, 1440),
    "preemption_surge_count": (1, 10000),
    "preemption_window_minutes": (5, 1440),
    "gpu_memory_minutes": (1, 1440),
}


def test_every_threshold_has_a_tested_range() -> None:
    assert set(RANGES) == set(Thresholds.model_fields)


@pytest.mark.parametrize("field", sorted(RANGES))
def test_rejects_threshold_out_of_range(field: str) -> None:
    """Below the minimum and above the maximum are errors located at the threshold."""
    low, high = RANGES[field]
    for bad in (low - 1, high + 1):
        errors = _errors({"thresholds": {field: bad}})
        assert errors[0]["loc"] == ("thresholds", field)
    MonitoringConfig.model_validate({"thresholds": {field: high}})


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))
def test_idle_percent_accepted_exactly_inside_0_to_100(value: float) -> None:
    """Property: a percentage is accepted iff 0 <= value <= 100."""
    try:
        cfg = MonitoringConfig.model_validate({"thresholds": {"gpu_idle_utilization_percent": value}})
    except ValidationError:
        assert not 0 <= value <= 100
    else:
        assert 0 <= value <= 100
        assert cfg.thresholds.gpu_idle_utilization_percent == value


# -- dashboards, mode, images -----------------------------------------------------------------


def test_rejects_gpu_dashboard_in_self_managed_mode() -> None:
    assert "dashboards: 'gpu'" in _text({"mode": "self-managed", "dashboards": ["gpu", "tpu"]})


def test_rejects_duplicate_and_unknown_dashboards() -> None:
    assert "dashboards[1]: 'tpu' is listed twice" in _text({"dashboards": ["tpu", "tpu"]})
    errors = _errors({"dashboards": ["gpus"]})
    assert errors[0]["loc"] == ("dashboards", 0)


def test_rejects_prometheus_stack_settings_in_managed_mode() -> None:
    """No silent drops: chart settings with mode managed are an error, not ignored."""
    assert "kube_prometheus_stack: only used with mode: self-managed" in _text(
        {"kube_prometheus_stack": {"chart_version": "72.9.1"}})


@pytest.mark.parametrize("version", ["^72.0.0", "72", "latest", "72.x", ">=70.0.0"])
def test_rejects_unpinned_chart_version(version: str) -> None:
    errors = _errors({"mode": "self-managed", "kube_prometheus_stack": {"chart_version": version}})
    assert errors[0]["loc"] == ("kube_prometheus_stack", "chart_version")


@pytest.mark.parametrize("image", ["nvcr.io/nvidia/k8s/dcgm-exporter",
                                   "nvcr.io/nvidia/k8s/dcgm-exporter:latest",
                                   "registry.local:5000/dcgm-exporter"])
def test_rejects_unpinned_exporter_image(image: str) -> None:
    errors = _errors({"dcgm_exporter_image": image})
    assert errors[0]["loc"] == ("dcgm_exporter_image",)


def test_accepts_exporter_pinned_by_digest_or_tag() -> None:
    digest = "nvcr.io/nvidia/k8s/dcgm-exporter@sha256:" + "a" * 64
    assert MonitoringConfig(dcgm_exporter_image=digest).dcgm_exporter_image == digest
    tagged = "registry.local:5000/dcgm-exporter:4.2.3-4.1.1-ubuntu22.04"
    assert MonitoringConfig(dcgm_exporter_image=tagged).dcgm_exporter_image == tagged


def test_rejects_bad_namespace() -> None:
    assert _errors({"namespace": "Monitoring"})[0]["loc"] == ("namespace",)


def test_webhook_channel_is_frozen() -> None:
    ch = WebhookChannel(type="webhook", url="https://h.example/x", token=TOKEN)
    with pytest.raises(ValidationError):
        ch.url = "https://other.example"  # type: ignore[misc]


# -- the stack file through the CLI (needs aidc:monitoring wired into PlatformConfig) ----------



def _stack_file(tmp_path: Path, monitoring: dict) -> Path:
    doc = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())
    doc["config"]["aidc:monitoring"] = monitoring
    path = tmp_path / "Pulumi.mon.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _validate(path: Path) -> subprocess.CompletedProcess[str]:
    aidc = ROOT / ".venv" / "bin" / "aidc"
    cmd = [str(aidc)] if aidc.exists() else [sys.executable, "-m", "infra.cli"]
    return subprocess.run([*cmd, "config", "validate", "--stack-file", str(path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_cli_accepts_a_valid_monitoring_section(tmp_path: Path) -> None:
    path = _stack_file(tmp_path, {"channels": {"ops": CHANNELS["ops"],
                                               "pager": {"type": "pagerduty",
                                                         "service_key": {"secure": "AAABAJ0xZw=="}}},
                                  "routes": {"critical": ["pager"], "warning": ["ops"]}})
    result = _validate(path)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("monitoring,expected", [
    ({"channels": {"ops": {"type": "sms", "token": TOKEN}}}, "channels.ops.type"),
    ({"thresholds": {"gpu_idle_utilization_percent": 250}},
     "aidc:monitoring.thresholds.gpu_idle_utilization_percent"),
    ({"channels": {"hook": {"type": "webhook", "url": "https://h.example/x", "token": 7}}},
     "aidc:monitoring.channels.hook.token"),
])
def test_cli_rejects_bad_monitoring_input_with_exit_2(tmp_path: Path, monitoring: dict,
                                                      expected: str) -> None:
    """Bad input: one clear message naming the field, exit code 2, no traceback, no token."""
    result = _validate(_stack_file(tmp_path, monitoring))
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert TOKEN not in result.stderr + result.stdout


def test_cli_validates_a_token_not_set_yet_and_names_it(tmp_path: Path) -> None:
    """Offline, a channel whose token the stack file does not set yet is valid (it is set per
    stack with `pulumi config set --secret`; `pulumi up` refuses until then), and `aidc config
    validate` names it."""
    result = _validate(_stack_file(tmp_path, {"channels": {"hook": {
        "type": "webhook", "url": "https://h.example/x"}}}))
    assert result.returncode == 0, result.stderr
    assert "secret not set: aidc:monitoring.channels.hook.token" in result.stdout
