"""Alert definitions as data: conditions, thresholds, runbooks, sources, and PromQL that parses."""

from __future__ import annotations

import re

import promql_parser
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.monitoring.alerts import (
    HARDWARE_XIDS,
    AlertContext,
    LogMatchCondition,
    PromQLCondition,
    ThresholdCondition,
    all_promql,
    build_alerts,
    cloud_monitoring_alerts,
    dcgm_selector,
    node_regex,
    prometheus_rule_alerts,
)
from infra.config.monitoring import MonitoringConfig

KEY = "projects/acme-ai-dev/locations/us-central1/keyRings/aidc-dev/cryptoKeys/storage"
FULL = AlertContext(
    project="acme-ai-dev", name_prefix="aidc-dev", cluster="aidc-dev-ai",
    gpu_pools=("l4", "h100"), tpu_pools=("v5e",), filestore_instance="aidc-dev-shared",
    nat_name="aidc-dev-nat", kms_keys={"storage": KEY, "gke": KEY.replace("storage", "gke")})
ALL_KEYS = [
    "gpu-idle-h100", "gpu-idle-l4", "gpu-memory-full", "gpu-xid-errors",
    "accelerator-nodes-not-ready", "tpu-duty-cycle-low-v5e", "autoscaler-scale-up-failed",
    "dws-capacity-not-found", "spot-preemption-surge", "filestore-capacity",
    "nat-port-exhaustion", "kms-key-disabled",
]


def _alerts(cfg: MonitoringConfig | None = None, ctx: AlertContext = FULL) -> dict:
    return {a.key: a for a in build_alerts(cfg or MonitoringConfig(), ctx)}


def test_full_wiring_builds_every_alert_in_a_stable_order() -> None:
    assert [a.key for a in build_alerts(MonitoringConfig(), FULL)] == ALL_KEYS


def test_every_alert_has_a_runbook_severity_and_sourced_signals() -> None:
    """Documentation says what it means, why, first steps and escalation; every metric cites a
    https source; severities are critical or warning."""
    for alert in build_alerts(MonitoringConfig(), FULL):
        assert alert.severity in ("critical", "warning")
        for heading in ("## What this means", "## Why it matters", "## First steps",
                        "## Escalation", "## Signals"):
            assert heading in alert.documentation, (alert.key, heading)
        assert re.search(r"^1\. ", alert.documentation, re.M), alert.key
        assert alert.display_name.startswith("[aidc-dev] ")
        assert 0 < len(alert.summary) <= 255
        assert alert.conditions
        for cond in alert.conditions:
            assert cond.metrics
            for m in cond.metrics:
                assert m.source.startswith("https://"), (alert.key, m)
                assert m.source in alert.documentation


def test_severities_page_only_for_outages_and_data_loss() -> None:
    alerts = _alerts()
    critical = {k for k, a in alerts.items() if a.severity == "critical"}
    assert critical == {"gpu-xid-errors", "accelerator-nodes-not-ready", "nat-port-exhaustion",
                        "kms-key-disabled"}


def test_gpu_idle_condition_uses_dcgm_utilization_per_pool() -> None:
    cfg = MonitoringConfig.model_validate(
        {"thresholds": {"gpu_idle_utilization_percent": 12.5, "gpu_idle_minutes": 90}})
    alert = _alerts(cfg)["gpu-idle-l4"]
    (cond,) = alert.conditions
    assert isinstance(cond, PromQLCondition)
    assert cond.query == (
        'avg(avg_over_time(DCGM_FI_DEV_GPU_UTIL{cluster="aidc-dev-ai", '
        'Hostname=~"gke-.+-l4-[0-9a-f]{8}-[0-9a-z]{4}"}[5m])) < 12.5')
    assert cond.duration_s == 90 * 60
    assert alert.severity == "warning" and alert.source == "dcgm"


def test_gpu_memory_condition_is_used_over_used_plus_free() -> None:
    cfg = MonitoringConfig.model_validate({"thresholds": {"gpu_memory_full_percent": 90}})
    (cond,) = _alerts(cfg)["gpu-memory-full"].conditions
    assert "DCGM_FI_DEV_FB_USED" in cond.query and "DCGM_FI_DEV_FB_FREE" in cond.query
    assert cond.query.endswith(") > 90")
    assert cond.duration_s == 15 * 60
    assert "(?:h100|l4)" in cond.query


def test_xid_condition_pages_only_hardware_xids() -> None:
    (cond,) = _alerts()["gpu-xid-errors"].conditions
    codes = {int(c) for c in re.findall(r"== (\d+)\)", cond.query)}
    assert codes == set(HARDWARE_XIDS)
    assert 13 not in codes and 43 not in codes  # application faults are not paged
    assert "DCGM_FI_DEV_XID_ERRORS" in cond.query


def test_node_readiness_uses_gke_status_condition_for_gpu_and_tpu_pools() -> None:
    cfg = MonitoringConfig.model_validate({"thresholds": {"node_not_ready_minutes": 7}})
    (cond,) = _alerts(cfg)["accelerator-nodes-not-ready"].conditions
    assert "kubernetes_io:node_status_condition" in cond.query
    assert 'monitored_resource="k8s_node"' in cond.query
    assert 'cluster_name="aidc-dev-ai"' in cond.query
    assert 'condition="Ready"' in cond.query and 'status!="True"' in cond.query
    assert "(?:h100|l4|v5e)" in cond.query
    assert cond.duration_s == 7 * 60


def test_tpu_duty_cycle_uses_gke_tpu_metric_per_pool() -> None:
    cfg = MonitoringConfig.model_validate(
        {"thresholds": {"tpu_duty_cycle_low_percent": 20, "tpu_idle_minutes": 30}})
    (cond,) = _alerts(cfg)["tpu-duty-cycle-low-v5e"].conditions
    assert "kubernetes_io:node_accelerator_duty_cycle" in cond.query
    assert cond.query.endswith(" < 20")
    assert cond.duration_s == 30 * 60


def test_log_based_alerts_match_the_documented_logs() -> None:
    alerts = _alerts()
    (scale,) = alerts["autoscaler-scale-up-failed"].conditions
    assert isinstance(scale, LogMatchCondition)
    assert ('logName="projects/acme-ai-dev/logs/container.googleapis.com%2F'
            'cluster-autoscaler-visibility"') in scale.filter
    assert 'resource.labels.cluster_name="aidc-dev-ai"' in scale.filter
    assert "scale.up.error" in scale.filter
    (dws,) = alerts["dws-capacity-not-found"].conditions
    assert 'jsonPayload.involvedObject.kind="ProvisioningRequest"' in dws.filter
    assert 'jsonPayload.type="Warning"' in dws.filter
    (kms,) = alerts["kms-key-disabled"].conditions
    assert 'protoPayload.methodName="DestroyCryptoKeyVersion"' in kms.filter
    assert 'protoPayload.request.cryptoKeyVersion.state="DISABLED"' in kms.filter
    assert f'protoPayload.resourceName:"{KEY}/cryptoKeyVersions/"' in kms.filter
    assert f'"{KEY.replace("storage", "gke")}/cryptoKeyVersions/"' in kms.filter
    assert "cloudaudit.googleapis.com%2Factivity" in kms.filter
    assert kms.label_extractors["principal"].startswith("EXTRACT(")


def test_preemption_surge_counts_a_log_metric_over_the_window() -> None:
    cfg = MonitoringConfig.model_validate(
        {"thresholds": {"preemption_surge_count": 8, "preemption_window_minutes": 30}})
    alert = _alerts(cfg)["spot-preemption-surge"]
    (cond,) = alert.conditions
    assert isinstance(cond, ThresholdCondition)
    assert alert.log_metric is not None
    assert alert.log_metric.name == "aidc-dev-spot-preemptions"
    assert 'protoPayload.methodName="compute.instances.preempted"' in alert.log_metric.filter
    assert f'metric.type="logging.googleapis.com/user/{alert.log_metric.name}"' in cond.filter
    assert (cond.comparison, cond.threshold) == ("COMPARISON_GT", 8.0)
    assert cond.alignment_period_s == 30 * 60
    assert (cond.per_series_aligner, cond.cross_series_reducer) == ("ALIGN_DELTA", "REDUCE_SUM")


def test_filestore_and_nat_thresholds_use_gcp_metric_filters() -> None:
    cfg = MonitoringConfig.model_validate({"thresholds": {"filestore_used_percent": 80}})
    alerts = _alerts(cfg)
    (fs,) = alerts["filestore-capacity"].conditions
    assert fs.filter == ('metric.type="file.googleapis.com/nfs/server/used_bytes_percent" AND '
                         'resource.type="filestore_instance" AND '
                         'resource.labels.instance_name="aidc-dev-shared"')
    assert (fs.comparison, fs.threshold, fs.duration_s) == ("COMPARISON_GT", 80.0, 600)
    dropped, failed = alerts["nat-port-exhaustion"].conditions
    assert 'router.googleapis.com/nat/dropped_sent_packets_count' in dropped.filter
    assert 'metric.labels.reason="OUT_OF_RESOURCES"' in dropped.filter
    assert 'resource.labels.gateway_name="aidc-dev-nat"' in dropped.filter
    assert 'router.googleapis.com/nat/nat_allocation_failed' in failed.filter
    assert failed.per_series_aligner == "ALIGN_COUNT_TRUE"


def test_no_mql_anywhere() -> None:
    """Filters and PromQL only: MQL (`fetch ... | ...`) is deprecated."""
    for alert in build_alerts(MonitoringConfig(), FULL):
        for cond in alert.conditions:
            text = getattr(cond, "query", None) or cond.filter
            assert not text.lstrip().startswith("fetch ")


# -- gating and modes -------------------------------------------------------------------------


def test_wiring_decides_which_alerts_exist() -> None:
    """No cluster: no cluster alerts. No pools: no pool alerts. Each resource its alert."""
    bare = AlertContext(project="p")
    assert build_alerts(MonitoringConfig(), bare) == []
    no_pools = AlertContext(project="p", cluster="c")
    assert [a.key for a in build_alerts(MonitoringConfig(), no_pools)] == [
        "autoscaler-scale-up-failed", "dws-capacity-not-found", "spot-preemption-surge"]
    tpu_only = AlertContext(project="p", cluster="c", tpu_pools=("v5p",))
    keys = [a.key for a in build_alerts(MonitoringConfig(), tpu_only)]
    assert "accelerator-nodes-not-ready" in keys and not any(k.startswith("gpu") for k in keys)
    storage_only = AlertContext(project="p", filestore_instance="fs", nat_name="nat",
                                kms_keys={"storage": KEY})
    assert [a.key for a in build_alerts(MonitoringConfig(), storage_only)] == [
        "filestore-capacity", "nat-port-exhaustion", "kms-key-disabled"]


def test_self_managed_moves_dcgm_alerts_to_prometheus_without_cluster_label() -> None:
    cfg = MonitoringConfig(mode="self-managed")
    ctx = AlertContext(**{**FULL.__dict__, "mode": "self-managed"})
    alerts = build_alerts(cfg, ctx)
    rules = prometheus_rule_alerts(alerts, "self-managed")
    cloud = cloud_monitoring_alerts(alerts, "self-managed")
    assert {a.key for a in rules} == {"gpu-idle-h100", "gpu-idle-l4", "gpu-memory-full",
                                      "gpu-xid-errors"}
    assert {a.key for a in cloud} == set(ALL_KEYS) - {a.key for a in rules}
    for q in all_promql(rules):
        assert "cluster=" not in q
    assert prometheus_rule_alerts(build_alerts(MonitoringConfig(), FULL), "managed") == []
    assert cloud_monitoring_alerts(build_alerts(MonitoringConfig(), FULL), "managed") == \
        build_alerts(MonitoringConfig(), FULL)


def test_dcgm_selector_scopes_to_cluster_only_in_managed_prometheus() -> None:
    assert dcgm_selector(FULL, ["l4"]).startswith('{cluster="aidc-dev-ai", Hostname=~')
    self_managed = AlertContext(project="p", mode="self-managed", cluster="c")
    assert dcgm_selector(self_managed, ["l4"]).startswith("{Hostname=~")


# -- node names -------------------------------------------------------------------------------


@pytest.mark.parametrize("node,pool,matches", [
    ("gke-aidc-dev-ai-l4-1a2b3c4d-x9kq", "l4", True),
    ("gke-aidc-prod-ai-h100-mega-0f9e8d7c-abcd", "h100-mega", True),
    ("gke-aidc-dev-ai-l4x-1a2b3c4d-x9kq", "l4", False),
    ("gke-aidc-dev-ai-default-pool-1a2b3c4d-x9kq", "l4", False),
    ("aidc-dev-ai-l4-1a2b3c4d-x9kq", "l4", False),
])
def test_node_regex_matches_gke_node_names_of_the_pool_only(node: str, pool: str,
                                                           matches: bool) -> None:
    """PromQL anchors =~ matchers, so the regex is tested with fullmatch."""
    assert bool(re.fullmatch(node_regex([pool]), node)) is matches


def test_rejects_pool_names_that_would_break_a_query() -> None:
    for bad in ("", 'l4"}', "a|b", "pool.*"):
        with pytest.raises(ValueError):
            node_regex([bad])
    with pytest.raises(ValueError):
        node_regex([])


# -- PromQL through the parser ----------------------------------------------------------------


def test_every_promql_query_parses() -> None:
    for mode in ("managed", "self-managed"):
        ctx = AlertContext(**{**FULL.__dict__, "mode": mode})
        queries = all_promql(build_alerts(MonitoringConfig(mode=mode), ctx))
        assert len(queries) == 6
        for q in queries:
            assert promql_parser.parse(q) is not None


@pytest.mark.parametrize("broken", [
    "avg(DCGM_FI_DEV_GPU_UTIL{cluster=\"c\"}",      # unclosed parenthesis
    "DCGM_FI_DEV_GPU_UTIL{cluster=c} < 5",          # unquoted label value
    "avg_over_time(DCGM_FI_DEV_GPU_UTIL[5x])",      # bad duration
    "max by Hostname (DCGM_FI_DEV_FB_USED)",        # grouping without parentheses
])
def test_parser_rejects_broken_promql(broken: str) -> None:
    """The check is real: the parser refuses malformed queries."""
    with pytest.raises(ValueError):
        promql_parser.parse(broken)


pool_names = st.from_regex(r"[a-z][a-z0-9-]{0,14}[a-z0-9]", fullmatch=True)


@settings(max_examples=60, deadline=None)
@given(gpu=st.lists(pool_names, max_size=3, unique=True),
       tpu=st.lists(pool_names, max_size=2, unique=True),
       idle=st.floats(min_value=0, max_value=100, allow_nan=False),
       mem=st.floats(min_value=0.5, max_value=100, allow_nan=False),
       duty=st.floats(min_value=0, max_value=100, allow_nan=False),
       mode=st.sampled_from(["managed", "self-managed"]))
def test_every_query_parses_for_any_pools_and_thresholds(gpu, tpu, idle, mem, duty, mode) -> None:
    """Property: whatever pools and in-range thresholds a stack declares, each query parses."""
    cfg = MonitoringConfig.model_validate({"mode": mode, "thresholds": {
        "gpu_idle_utilization_percent": idle, "gpu_memory_full_percent": mem,
        "tpu_duty_cycle_low_percent": duty}})
    ctx = AlertContext(project="p", mode=mode, cluster="c", gpu_pools=tuple(gpu),
                       tpu_pools=tuple(tpu))
    for q in all_promql(build_alerts(cfg, ctx)):
        promql_parser.parse(q)
