"""Alert policies as data: what each one watches, when it fires, and what the person paged does.

Pure functions, no Pulumi: `build_alerts(config, context)` returns `AlertDef`s that the
`MonitoringStack` component turns into `gcp.monitoring.AlertPolicy` resources (and, in self-managed
mode, the DCGM ones into a `PrometheusRule`). Tests read the same data.

Where the metrics come from (each query below names its metric and source next to it):

- DCGM (NVIDIA GPUs): the dcgm-exporter fields, scraped by Managed Service for Prometheus either
  from GKE's managed DCGM package or from aidc's exporter DaemonSet. In Cloud Monitoring they are
  `prometheus.googleapis.com/DCGM_FI_DEV_GPU_UTIL/gauge` etc., queried in PromQL by their plain
  names. The exporter labels each series with `Hostname` (the node name), `gpu`, `UUID` and
  `modelName`; Managed Prometheus adds `cluster`, `location`, `namespace`.
  https://cloud.google.com/kubernetes-engine/docs/how-to/dcgm-metrics
  https://github.com/NVIDIA/dcgm-exporter/blob/main/etc/default-counters.csv
- GKE system metrics (TPUs, node conditions): `kubernetes.io/...`, in PromQL
  `kubernetes_io:<path with _>` with `monitored_resource`, `cluster_name`, `node_name` labels.
  https://cloud.google.com/monitoring/api/metrics_kubernetes
  https://cloud.google.com/monitoring/promql/promql-mapping
- Google Cloud metrics (Filestore, Cloud NAT) through `conditionThreshold` filters, and Cloud
  Logging (autoscaler visibility, Kubernetes events, audit logs) through `conditionMatchedLog`.

Node pools are told apart by node name: GKE names nodes `gke-<cluster>-<pool>-<8 hex>-<4 chars>`
(https://cloud.google.com/kubernetes-engine/docs/concepts/node-pools), so a pool's nodes match
`gke-.+-<pool>-[0-9a-f]{8}-[0-9a-z]{4}`. GKE shortens very long cluster and pool names inside
node names; keep them short (cluster plus pool well under 40 characters) so that the per-pool
matchers see every node.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Literal

from infra.errors import AidcError
from infra.config.monitoring import Mode, MonitoringConfig, Severity

SOURCE_DCGM = "https://cloud.google.com/kubernetes-engine/docs/how-to/dcgm-metrics"
SOURCE_DCGM_FIELDS = "https://github.com/NVIDIA/dcgm-exporter/blob/main/etc/default-counters.csv"
SOURCE_GKE_METRICS = "https://cloud.google.com/monitoring/api/metrics_kubernetes"
SOURCE_TPU_METRICS = "https://cloud.google.com/kubernetes-engine/docs/how-to/tpus"
SOURCE_NODE_HEALTH = "https://cloud.google.com/kubernetes-engine/docs/how-to/autopilot-gpus"
SOURCE_FILESTORE = "https://cloud.google.com/filestore/docs/monitoring-instances"
SOURCE_NAT = "https://cloud.google.com/nat/docs/monitoring"
SOURCE_AUTOSCALER_LOGS = ("https://cloud.google.com/kubernetes-engine/docs/how-to/"
                          "cluster-autoscaler-visibility")
SOURCE_DWS = "https://cloud.google.com/kubernetes-engine/docs/how-to/provisioningrequest"
SOURCE_PREEMPTION = "https://cloud.google.com/compute/docs/instances/create-use-preemptible"
SOURCE_KMS_AUDIT = "https://cloud.google.com/kms/docs/audit-logging"
SOURCE_XID = "https://docs.nvidia.com/deploy/xid-errors/index.html"

# XIDs that mean the hardware (or its firmware) failed, not the application: double-bit and
# uncontained ECC errors, row-remap/page-retirement events, NVLink errors, a GPU that fell off the
# bus, GSP errors. Application faults (13, 31, 43, 45) are deliberately not paged.
# Source: NVIDIA XID catalog, https://docs.nvidia.com/deploy/xid-errors/index.html
HARDWARE_XIDS = (48, 63, 64, 74, 79, 92, 94, 95, 119, 120)

# Smoothing window for gauges before a sustained-threshold check: scrape jitter must not reset it.
SMOOTHING = "5m"

ConditionKind = Literal["promql", "threshold", "log"]
Source = Literal["dcgm", "gke", "gcp", "log"]


@dataclass(frozen=True)
class MetricRef:
    """A metric (or log) a condition reads, and the page that documents it."""

    name: str
    source: str


@dataclass(frozen=True)
class PromQLCondition:
    """`conditionPrometheusQueryLanguage`: fires when `query` returns series for `duration_s`."""

    display_name: str
    query: str
    duration_s: int
    metrics: tuple[MetricRef, ...]
    evaluation_interval_s: int = 60
    kind: ConditionKind = "promql"


@dataclass(frozen=True)
class ThresholdCondition:
    """`conditionThreshold` on a Cloud Monitoring filter (no MQL)."""

    display_name: str
    filter: str
    comparison: Literal["COMPARISON_GT", "COMPARISON_LT"]
    threshold: float
    duration_s: int
    alignment_period_s: int
    per_series_aligner: str
    cross_series_reducer: str
    group_by_fields: tuple[str, ...]
    metrics: tuple[MetricRef, ...]
    kind: ConditionKind = "threshold"


@dataclass(frozen=True)
class LogMatchCondition:
    """`conditionMatchedLog`: fires on each log entry that matches `filter`."""

    display_name: str
    filter: str
    metrics: tuple[MetricRef, ...]
    label_extractors: Mapping[str, str] = field(default_factory=dict)
    kind: ConditionKind = "log"


Condition = PromQLCondition | ThresholdCondition | LogMatchCondition


@dataclass(frozen=True)
class LogMetricDef:
    """A counter log-based metric that a threshold condition reads."""

    name: str
    filter: str
    description: str


@dataclass(frozen=True)
class AlertDef:
    """One alert policy: identity, severity, the runbook text, its conditions."""

    key: str
    display_name: str
    severity: Severity
    summary: str
    documentation: str
    conditions: tuple[Condition, ...]
    source: Source
    log_metric: LogMetricDef | None = None

    @property
    def is_log_based(self) -> bool:
        return any(isinstance(c, LogMatchCondition) for c in self.conditions)

    @property
    def promql_queries(self) -> list[str]:
        return [c.query for c in self.conditions if isinstance(c, PromQLCondition)]


@dataclass(frozen=True, kw_only=True)
class MonitoredResources:
    """What alerts and dashboards watch, by cloud name: the cluster, its node pools, the
    Filestore instance, the Cloud NAT gateway and the KMS keys (purpose -> key resource name).
    Omitted ones are not watched.

    Plain strings, never Pulumi Outputs: the names are computed from config
    (`infra.gcp.naming`), so every alert is built once, and checked, before anything exists.
    """

    cluster: str | None = None
    gpu_pools: tuple[str, ...] = ()
    tpu_pools: tuple[str, ...] = ()
    filestore_instance: str | None = None
    nat_name: str | None = None
    kms_keys: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "gpu_pools", tuple(self.gpu_pools))
        object.__setattr__(self, "tpu_pools", tuple(self.tpu_pools))
        named = {"cluster": self.cluster, "filestore_instance": self.filestore_instance,
                 "nat_name": self.nat_name, **{f"gpu_pools[{i}]": p for i, p in enumerate(self.gpu_pools)},
                 **{f"tpu_pools[{i}]": p for i, p in enumerate(self.tpu_pools)},
                 **{f"kms_keys.{k}": v for k, v in self.kms_keys.items()}}
        for where, value in named.items():
            if value is not None and not isinstance(value, str):
                raise AidcError(f"{type(value).__name__} given; monitored resources are named by "
                                "plain strings (cloud names computed from config, see "
                                "infra.gcp.naming), not by Pulumi Outputs", field=where)


@dataclass(frozen=True, kw_only=True)
class AlertContext(MonitoredResources):
    """The watched resources plus what names and shapes the alerts: project, name prefix, mode."""

    project: str
    name_prefix: str = "aidc"
    mode: Mode = "managed"

    @classmethod
    def of(cls, watched: MonitoredResources, *, project: str, name_prefix: str,
           mode: Mode) -> AlertContext:
        return cls(project=project, name_prefix=name_prefix, mode=mode,
                   **{f.name: getattr(watched, f.name) for f in fields(MonitoredResources)})

    @property
    def dcgm_in_cloud_monitoring(self) -> bool:
        """DCGM series reach Cloud Monitoring only through Managed Prometheus (managed mode)."""
        return self.mode == "managed"


# ---------------------------------------------------------------------------------------------
# selectors


def node_regex(pools: Sequence[str]) -> str:
    """RE2 (full match, as PromQL anchors it) for the node names of `pools` (see module doc)."""
    if not pools:
        raise AidcError("node_regex needs at least one node pool")
    for p in pools:
        if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", p or ""):
            raise AidcError(f"node pool name {p!r}: expected lowercase letters, digits and '-' "
                            "(a GKE node pool name)")
    alternatives = "|".join(sorted(pools))
    group = alternatives if len(pools) == 1 else f"(?:{alternatives})"
    return f"gke-.+-{group}-[0-9a-f]{{8}}-[0-9a-z]{{4}}"


def _matchers(*pairs: str) -> str:
    return "{" + ", ".join(p for p in pairs if p) + "}"


def dcgm_selector(ctx: AlertContext, pools: Sequence[str]) -> str:
    """DCGM series of `pools`: `cluster` is a Managed Prometheus label, absent in-cluster."""
    cluster = f'cluster="{ctx.cluster}"' if ctx.cluster and ctx.dcgm_in_cloud_monitoring else ""
    return _matchers(cluster, f'Hostname=~"{node_regex(pools)}"')


def gke_node_selector(ctx: AlertContext, pools: Sequence[str], *extra: str) -> str:
    """A GKE system metric on `k8s_node`, limited to the cluster and the nodes of `pools`."""
    cluster = f'cluster_name="{ctx.cluster}"' if ctx.cluster else ""
    return _matchers('monitored_resource="k8s_node"', cluster,
                     f'node_name=~"{node_regex(pools)}"', *extra)


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _minutes(seconds: int) -> str:
    return f"{seconds // 60} minutes" if seconds % 60 == 0 else f"{seconds} seconds"


def _doc(what: str, why: str, first_steps: Sequence[str], escalate: str,
         refs: Sequence[MetricRef]) -> str:
    """Markdown a person paged at night can act on: what, why it matters, steps, escalation."""
    steps = "\n".join(f"{i}. {s}" for i, s in enumerate(first_steps, 1))
    sources = "\n".join(f"- `{m.name}`: {m.source}" for m in refs)
    return (f"## What this means\n{what}\n\n## Why it matters\n{why}\n\n"
            f"## First steps\n{steps}\n\n## Escalation\n{escalate}\n\n## Signals\n{sources}\n")


# ---------------------------------------------------------------------------------------------
# the alerts


def gpu_idle(ctx: AlertContext, cfg: MonitoringConfig, pool: str) -> AlertDef:
    t = cfg.thresholds
    # DCGM_FI_DEV_GPU_UTIL (gauge, %): GKE managed DCGM / dcgm-exporter default counters,
    # Cloud Monitoring prometheus.googleapis.com/DCGM_FI_DEV_GPU_UTIL/gauge.
    # Sources: SOURCE_DCGM, SOURCE_DCGM_FIELDS.
    util = MetricRef("DCGM_FI_DEV_GPU_UTIL", SOURCE_DCGM)
    query = (f"avg(avg_over_time(DCGM_FI_DEV_GPU_UTIL{dcgm_selector(ctx, [pool])}[{SMOOTHING}]))"
             f" < {t.gpu_idle_utilization_percent:g}")
    duration = t.gpu_idle_minutes * 60
    return AlertDef(
        key=f"gpu-idle-{pool}",
        display_name=f"[{ctx.name_prefix}] GPU idle: node pool {pool}",
        severity="warning",
        summary=f"GPUs of node pool {pool} averaged under {t.gpu_idle_utilization_percent:g}% "
                f"utilization for {_minutes(duration)}",
        documentation=_doc(
            what=f"The GPUs of node pool `{pool}` averaged less than "
                 f"{t.gpu_idle_utilization_percent:g}% utilization (DCGM) for "
                 f"{_minutes(duration)}.",
            why="Accelerators are billed by the hour whether they compute or not; an idle pool is "
                "the most expensive waste in the data centre.",
            first_steps=[
                f"List the pods on the pool: `kubectl get pods -A -o wide --field-selector "
                f"spec.nodeName!=''` and filter nodes labelled "
                f"`cloud.google.com/gke-nodepool={pool}`.",
                "If no job needs the pool, let the autoscaler shrink it (check its minimum node "
                "count) or lower `min_nodes` in the stack config.",
                "If a job holds GPUs without using them (stuck data loader, waiting on a peer), "
                "contact its owner; check the job's logs for hangs.",
            ],
            escalate="Not an outage: handle in working hours with the platform team and the "
                     "owners of the workloads on the pool.",
            refs=[util],
        ),
        conditions=(PromQLCondition(
            display_name=f"Mean GPU utilization < {t.gpu_idle_utilization_percent:g}% in {pool}",
            query=query, duration_s=duration, metrics=(util,)),),
        source="dcgm",
    )


def gpu_memory_full(ctx: AlertContext, cfg: MonitoringConfig, pools: Sequence[str]) -> AlertDef:
    t = cfg.thresholds
    sel = dcgm_selector(ctx, pools)
    # DCGM_FI_DEV_FB_USED / DCGM_FI_DEV_FB_FREE (gauges, MiB): framebuffer used and free, GKE
    # managed DCGM / dcgm-exporter default counters. used/(used+free) avoids FB_TOTAL, which is
    # not a default counter. Sources: SOURCE_DCGM, SOURCE_DCGM_FIELDS.
    used = MetricRef("DCGM_FI_DEV_FB_USED", SOURCE_DCGM)
    free = MetricRef("DCGM_FI_DEV_FB_FREE", SOURCE_DCGM)
    query = (f"max by (Hostname, gpu) (100 * DCGM_FI_DEV_FB_USED{sel} / "
             f"(DCGM_FI_DEV_FB_USED{sel} + DCGM_FI_DEV_FB_FREE{sel}))"
             f" > {t.gpu_memory_full_percent:g}")
    duration = t.gpu_memory_minutes * 60
    return AlertDef(
        key="gpu-memory-full",
        display_name=f"[{ctx.name_prefix}] GPU memory near full",
        severity="warning",
        summary=f"A GPU used more than {t.gpu_memory_full_percent:g}% of its memory for "
                f"{_minutes(duration)}",
        documentation=_doc(
            what=f"A GPU's framebuffer memory stayed above {t.gpu_memory_full_percent:g}% used "
                 f"for {_minutes(duration)}. The incident names the node (`Hostname`) and GPU.",
            why="The next allocation fails with CUDA out-of-memory and the job crashes or, for "
                "inference servers, starts rejecting requests.",
            first_steps=[
                "Find the pod on the node: `kubectl get pods -A -o wide | grep <Hostname>`.",
                "Check the job's memory settings (batch size, KV cache fraction, activation "
                "checkpointing); compare with the GPU dashboard's memory chart.",
                "If memory grows steadily across steps, suspect a leak and restart the job from "
                "its last checkpoint.",
            ],
            escalate="Warn the workload owner; escalate to the platform on-call only if several "
                     "nodes are affected at once.",
            refs=[used, free],
        ),
        conditions=(PromQLCondition(
            display_name=f"GPU framebuffer > {t.gpu_memory_full_percent:g}% used",
            query=query, duration_s=duration, metrics=(used, free)),),
        source="dcgm",
    )


def gpu_xid_errors(ctx: AlertContext, cfg: MonitoringConfig, pools: Sequence[str]) -> AlertDef:
    # DCGM_FI_DEV_XID_ERRORS (gauge): the value of the last XID error the driver reported, from
    # the dcgm-exporter default counters. Sources: SOURCE_DCGM_FIELDS, SOURCE_XID.
    xid = MetricRef("DCGM_FI_DEV_XID_ERRORS", SOURCE_DCGM_FIELDS)
    last = (f"max by (Hostname, gpu) "
            f"(max_over_time(DCGM_FI_DEV_XID_ERRORS{dcgm_selector(ctx, pools)}[10m]))")
    query = " or ".join(f"({last} == {code})" for code in HARDWARE_XIDS)
    codes = ", ".join(str(c) for c in HARDWARE_XIDS)
    return AlertDef(
        key="gpu-xid-errors",
        display_name=f"[{ctx.name_prefix}] GPU hardware error (XID)",
        severity="critical",
        summary="A GPU reported a hardware XID error",
        documentation=_doc(
            what=f"The NVIDIA driver on a node reported a hardware-class XID ({codes}): ECC "
                 "errors, a GPU that fell off the bus, NVLink or GSP failures. The incident names "
                 "the node (`Hostname`), the GPU and the XID code (the value).",
            why="A job on that GPU is corrupted or dead, and every job that spans the node (an "
                "entire multi-node training run) stalls until the node is replaced.",
            first_steps=[
                "Cordon the node so nothing new lands on it: `kubectl cordon <Hostname>`.",
                f"Look the XID code up in NVIDIA's catalog ({SOURCE_XID}).",
                "Restart affected jobs from their last checkpoint on other nodes.",
                "Drain and delete the node (`kubectl drain <Hostname> --ignore-daemonsets` then "
                "delete its VM) so the node pool recreates it on healthy hardware; for XID 79 or "
                "repeated ECC errors on the same host, open a Google Cloud support case with the "
                "VM name and zone.",
            ],
            escalate="Page the platform on-call; if several nodes of a reservation fail, open a "
                     "P1 support case with Google Cloud.",
            refs=[xid, MetricRef("NVIDIA XID catalog", SOURCE_XID)],
        ),
        conditions=(PromQLCondition(
            display_name="GPU reported a hardware XID in the last 10 minutes",
            query=query, duration_s=0, metrics=(xid,)),),
        source="dcgm",
    )


def accelerator_nodes_not_ready(ctx: AlertContext, cfg: MonitoringConfig,
                                pools: Sequence[str]) -> AlertDef:
    t = cfg.thresholds
    # kubernetes.io/node/status_condition (GKE system metric, GKE >= 1.32.1-gke.1357001), in
    # PromQL kubernetes_io:node_status_condition with labels condition and status.
    # Sources: SOURCE_GKE_METRICS, SOURCE_NODE_HEALTH.
    cond = MetricRef("kubernetes.io/node/status_condition", SOURCE_NODE_HEALTH)
    sel = gke_node_selector(ctx, pools, 'condition="Ready"', 'status!="True"')
    query = f"max by (node_name, status) (kubernetes_io:node_status_condition{sel}) > 0"
    duration = t.node_not_ready_minutes * 60
    return AlertDef(
        key="accelerator-nodes-not-ready",
        display_name=f"[{ctx.name_prefix}] GPU/TPU node not ready",
        severity="critical",
        summary=f"A GPU or TPU node has not been Ready for {_minutes(duration)}",
        documentation=_doc(
            what=f"A node of the accelerator pools ({', '.join(pools)}) reported Ready=False or "
                 f"Unknown for {_minutes(duration)}.",
            why="Pods on it are lost or stuck; a multi-host TPU slice or a multi-node GPU job "
                "cannot run with one node missing, so the whole job stops.",
            first_steps=[
                "`kubectl describe node <node_name>`: read Conditions and recent events.",
                "Check whether GKE is repairing, upgrading or the VM was preempted (Spot) or "
                "under host maintenance: `gcloud container operations list` and the node pool's "
                "events.",
                "If the kubelet is dead and no repair is running, drain the node and delete its "
                "VM so the pool recreates it.",
            ],
            escalate="Page the platform on-call; if the node pool cannot recreate capacity "
                     "(reservation or stockout), involve the capacity owner.",
            refs=[cond],
        ),
        conditions=(PromQLCondition(
            display_name="Accelerator node Ready condition is not True",
            query=query, duration_s=duration, metrics=(cond,)),),
        source="gke",
    )


def tpu_duty_cycle_low(ctx: AlertContext, cfg: MonitoringConfig, pool: str) -> AlertDef:
    t = cfg.thresholds
    # kubernetes.io/node/accelerator/duty_cycle (GKE system metric, % of time the TPU
    # TensorCores were busy), PromQL kubernetes_io:node_accelerator_duty_cycle.
    # Sources: SOURCE_TPU_METRICS, SOURCE_GKE_METRICS.
    duty = MetricRef("kubernetes.io/node/accelerator/duty_cycle", SOURCE_TPU_METRICS)
    query = (f"avg(avg_over_time(kubernetes_io:node_accelerator_duty_cycle"
             f"{gke_node_selector(ctx, [pool])}[{SMOOTHING}]))"
             f" < {t.tpu_duty_cycle_low_percent:g}")
    duration = t.tpu_idle_minutes * 60
    return AlertDef(
        key=f"tpu-duty-cycle-low-{pool}",
        display_name=f"[{ctx.name_prefix}] TPU duty cycle low: node pool {pool}",
        severity="warning",
        summary=f"TPUs of node pool {pool} averaged under {t.tpu_duty_cycle_low_percent:g}% "
                f"duty cycle for {_minutes(duration)}",
        documentation=_doc(
            what=f"The TPU chips of node pool `{pool}` were busy less than "
                 f"{t.tpu_duty_cycle_low_percent:g}% of the time for {_minutes(duration)}.",
            why="A TPU slice is paid for as a whole; a slice that waits (input pipeline, "
                "host-side bottleneck, hung collective) wastes every chip in it.",
            first_steps=[
                "Check that a job is scheduled on the slice: `kubectl get pods -A -o wide` on "
                f"nodes of pool `{pool}`.",
                "If a job runs, look for input-pipeline stalls (host CPU, GCS/Filestore "
                "throughput on the storage dashboard) and compilation loops in its logs.",
                "If no job needs the slice, scale the pool down or release it.",
            ],
            escalate="Working hours: platform team and the job's owner.",
            refs=[duty],
        ),
        conditions=(PromQLCondition(
            display_name=f"Mean TPU duty cycle < {t.tpu_duty_cycle_low_percent:g}% in {pool}",
            query=query, duration_s=duration, metrics=(duty,)),),
        source="gke",
    )


def autoscaler_scale_up_failed(ctx: AlertContext, cfg: MonitoringConfig) -> AlertDef:
    # Cluster autoscaler visibility log (container.googleapis.com/cluster-autoscaler-visibility):
    # a scale-up whose result carries an errorMsg, messageId "scale.up.error.*" (out of
    # resources, quota exceeded, IP space exhausted, waiting for instances timeout).
    # Source: SOURCE_AUTOSCALER_LOGS.
    log = MetricRef("logs/container.googleapis.com%2Fcluster-autoscaler-visibility",
                    SOURCE_AUTOSCALER_LOGS)
    flt = "\n".join([
        f'logName="projects/{ctx.project}/logs/container.googleapis.com%2Fcluster-autoscaler-visibility"',
        'resource.type="k8s_cluster"',
        f'resource.labels.cluster_name="{_quote(ctx.cluster or "")}"',
        'jsonPayload.resultInfo.results.errorMsg.messageId:"scale.up.error"',
    ])
    return AlertDef(
        key="autoscaler-scale-up-failed",
        display_name=f"[{ctx.name_prefix}] Node pool scale-up failed",
        severity="warning",
        summary="The cluster autoscaler failed to add nodes",
        documentation=_doc(
            what="The cluster autoscaler tried to add nodes and the scale-up failed: the zone "
                 "is out of the machine or accelerator type, a quota is exhausted, or the "
                 "node IP range is full. The log entry names the node pool (MIG) and the reason "
                 "(`messageId`).",
            why="Pods that need GPUs or TPUs stay Pending; training and serving capacity is "
                "lower than the workloads ask for.",
            first_steps=[
                "Open the matching log entry in Logs Explorer and read "
                "`jsonPayload.resultInfo.results.errorMsg` (messageId and parameters).",
                "`scale.up.error.out.of.resources`: the zone has no capacity; use a "
                "reservation, another zone in the pool, or DWS.",
                "`scale.up.error.quota.exceeded`: request more GPU/TPU quota for the region.",
                "`scale.up.error.ip.space.exhausted`: widen the pods or node range "
                "(`aidc:network`).",
            ],
            escalate="Warn the platform team; page only if production serving pools are "
                     "affected.",
            refs=[log],
        ),
        conditions=(LogMatchCondition(
            display_name="Cluster autoscaler scale-up error", filter=flt, metrics=(log,)),),
        source="log",
    )


def dws_capacity_not_found(ctx: AlertContext, cfg: MonitoringConfig) -> AlertDef:
    # Kubernetes events (logs/events) on ProvisioningRequest objects, the API Dynamic Workload
    # Scheduler uses: a Warning event means the request failed or its capacity is not coming
    # (booking expired, capacity revoked, provisioning failed). Source: SOURCE_DWS.
    log = MetricRef("logs/events (involvedObject.kind=ProvisioningRequest)", SOURCE_DWS)
    flt = "\n".join([
        f'logName="projects/{ctx.project}/logs/events"',
        f'resource.labels.cluster_name="{_quote(ctx.cluster or "")}"',
        'jsonPayload.involvedObject.kind="ProvisioningRequest"',
        'jsonPayload.type="Warning"',
    ])
    return AlertDef(
        key="dws-capacity-not-found",
        display_name=f"[{ctx.name_prefix}] DWS request without capacity",
        severity="warning",
        summary="A Dynamic Workload Scheduler request failed to get capacity",
        documentation=_doc(
            what="A ProvisioningRequest (Dynamic Workload Scheduler, flex-start or queued "
                 "provisioning) reported a Warning: it failed, its booking expired, or its "
                 "capacity was revoked. The entry names the request and namespace.",
            why="The jobs waiting on that request will not start until it is resubmitted or "
                "capacity is found elsewhere.",
            first_steps=[
                "`kubectl describe provisioningrequest -n <namespace> <name>`: read the "
                "conditions (Accepted, Provisioned, Failed, BookingExpired, CapacityRevoked).",
                "For Failed: resubmit, widen the zones or machine types of the pool, or try at "
                "a different time; DWS capacity is not guaranteed.",
                "For BookingExpired: the pods did not start within the booking; check why they "
                "were not scheduled (taints, node selectors).",
            ],
            escalate="Tell the job owner; involve the capacity owner if requests keep failing.",
            refs=[log],
        ),
        conditions=(LogMatchCondition(
            display_name="ProvisioningRequest warning event", filter=flt, metrics=(log,),
            label_extractors={"request": "EXTRACT(jsonPayload.involvedObject.name)",
                              "namespace": "EXTRACT(jsonPayload.involvedObject.namespace)",
                              "reason": "EXTRACT(jsonPayload.reason)"}),),
        source="log",
    )


def preemption_metric_name(ctx: AlertContext) -> str:
    """The log-based metric's id: `<prefix>-spot-preemptions` (letters, digits, '-', '_', '/')."""
    return f"{ctx.name_prefix}-spot-preemptions"


def spot_preemption_surge(ctx: AlertContext, cfg: MonitoringConfig) -> AlertDef:
    t = cfg.thresholds
    window = t.preemption_window_minutes * 60
    # System event audit log compute.instances.preempted on GKE node VMs (names "gke-..."),
    # counted by a log-based metric logging.googleapis.com/user/<prefix>-spot-preemptions.
    # Source: SOURCE_PREEMPTION.
    metric_name = preemption_metric_name(ctx)
    log = MetricRef("protoPayload.methodName=compute.instances.preempted", SOURCE_PREEMPTION)
    metric = MetricRef(f"logging.googleapis.com/user/{metric_name}", SOURCE_PREEMPTION)
    log_filter = "\n".join([
        'resource.type="gce_instance"',
        f'logName="projects/{ctx.project}/logs/cloudaudit.googleapis.com%2Fsystem_event"',
        'protoPayload.methodName="compute.instances.preempted"',
        'protoPayload.resourceName:"/instances/gke-"',
    ])
    return AlertDef(
        key="spot-preemption-surge",
        display_name=f"[{ctx.name_prefix}] Spot preemption surge",
        severity="warning",
        summary=f"More than {t.preemption_surge_count} Spot VMs of the cluster were preempted "
                f"in {_minutes(window)}",
        documentation=_doc(
            what=f"Compute Engine preempted more than {t.preemption_surge_count} GKE Spot VMs "
                 f"in {_minutes(window)}.",
            why="Spot capacity in the zone is being reclaimed: jobs restart from checkpoints over "
                "and over and make no progress, while the pool keeps recreating nodes.",
            first_steps=[
                "Check which pools lost nodes: Logs Explorer with the preemption filter, grouped "
                "by `protoPayload.resourceName`.",
                "Make sure jobs checkpoint often enough to make progress between preemptions.",
                "Move critical work to on-demand, a reservation or DWS until Spot capacity "
                "recovers; consider adding zones to the Spot pool.",
            ],
            escalate="Warn the platform team and job owners; not paged.",
            refs=[log, metric],
        ),
        conditions=(ThresholdCondition(
            display_name=f"More than {t.preemption_surge_count} preemptions in {_minutes(window)}",
            filter=(f'metric.type="logging.googleapis.com/user/{metric_name}" AND '
                    'resource.type="gce_instance"'),
            comparison="COMPARISON_GT", threshold=float(t.preemption_surge_count),
            duration_s=0, alignment_period_s=window, per_series_aligner="ALIGN_DELTA",
            cross_series_reducer="REDUCE_SUM", group_by_fields=(), metrics=(metric,)),),
        source="gcp",
        log_metric=LogMetricDef(
            name=metric_name, filter=log_filter,
            description="GKE node VMs preempted by Compute Engine (Spot/preemptible)."),
    )


def filestore_capacity(ctx: AlertContext, cfg: MonitoringConfig) -> AlertDef:
    t = cfg.thresholds
    # file.googleapis.com/nfs/server/used_bytes_percent (GAUGE, %), resource filestore_instance.
    # Source: SOURCE_FILESTORE.
    used = MetricRef("file.googleapis.com/nfs/server/used_bytes_percent", SOURCE_FILESTORE)
    instance = _quote(ctx.filestore_instance or "")
    return AlertDef(
        key="filestore-capacity",
        display_name=f"[{ctx.name_prefix}] Filestore capacity above {t.filestore_used_percent:g}%",
        severity="warning",
        summary=f"Filestore {ctx.filestore_instance} is more than {t.filestore_used_percent:g}% "
                "full",
        documentation=_doc(
            what=f"Filestore instance `{ctx.filestore_instance}` has used more than "
                 f"{t.filestore_used_percent:g}% of its capacity for 10 minutes.",
            why="When the share fills, writes fail: checkpoints are lost, jobs crash, home "
                "directories stop working.",
            first_steps=[
                "See what grew on the storage dashboard; find large directories with `du` from "
                "a pod that mounts the share.",
                "Delete or move old checkpoints and datasets to Cloud Storage.",
                "Otherwise raise `storage.filestore.capacity_gib` (within the tier's limits, "
                "`aidc catalog filestore`) and apply.",
            ],
            escalate="Warn the platform team; page if it passes 95% on a production share.",
            refs=[used],
        ),
        conditions=(ThresholdCondition(
            display_name=f"Filestore used > {t.filestore_used_percent:g}%",
            filter=('metric.type="file.googleapis.com/nfs/server/used_bytes_percent" AND '
                    f'resource.type="filestore_instance" AND '
                    f'resource.labels.instance_name="{instance}"'),
            comparison="COMPARISON_GT", threshold=t.filestore_used_percent, duration_s=600,
            alignment_period_s=300, per_series_aligner="ALIGN_MEAN",
            cross_series_reducer="REDUCE_MAX", group_by_fields=("resource.label.instance_name",),
            metrics=(used,)),),
        source="gcp",
    )


def nat_port_exhaustion(ctx: AlertContext, cfg: MonitoringConfig) -> AlertDef:
    # router.googleapis.com/nat/dropped_sent_packets_count (DELTA) with reason OUT_OF_RESOURCES,
    # and router.googleapis.com/nat/nat_allocation_failed (GAUGE BOOL), resource nat_gateway.
    # Source: SOURCE_NAT.
    dropped = MetricRef("router.googleapis.com/nat/dropped_sent_packets_count", SOURCE_NAT)
    failed = MetricRef("router.googleapis.com/nat/nat_allocation_failed", SOURCE_NAT)
    gateway = f'resource.type="nat_gateway" AND resource.labels.gateway_name="{_quote(ctx.nat_name or "")}"'
    return AlertDef(
        key="nat-port-exhaustion",
        display_name=f"[{ctx.name_prefix}] Cloud NAT port allocation failures",
        severity="critical",
        summary=f"Cloud NAT {ctx.nat_name} drops egress: out of ports or NAT IPs",
        documentation=_doc(
            what=f"Cloud NAT gateway `{ctx.nat_name}` dropped outbound packets because it ran out "
                 "of source ports or NAT IPs (reason OUT_OF_RESOURCES), or failed to allocate "
                 "NAT IPs.",
            why="Private nodes reach the internet only through NAT: image pulls, package and "
                "model downloads, and calls to external APIs fail, so new pods cannot start.",
            first_steps=[
                "Open the network dashboard: which VMs use the most ports (`port_usage`)?",
                "Raise the NAT's minimum ports per VM or enable dynamic port allocation; add NAT "
                "IPs if allocation failed.",
                "Prefer Private Google Access for Google APIs and an Artifact Registry remote "
                "repository for images so that traffic does not use NAT at all.",
            ],
            escalate="Page the platform on-call: cluster-wide egress is failing.",
            refs=[dropped, failed],
        ),
        conditions=(
            ThresholdCondition(
                display_name="NAT dropped packets: OUT_OF_RESOURCES",
                filter=('metric.type="router.googleapis.com/nat/dropped_sent_packets_count" AND '
                        f'{gateway} AND metric.labels.reason="OUT_OF_RESOURCES"'),
                comparison="COMPARISON_GT", threshold=0.0, duration_s=300,
                alignment_period_s=60, per_series_aligner="ALIGN_DELTA",
                cross_series_reducer="REDUCE_SUM",
                group_by_fields=("resource.label.gateway_name",), metrics=(dropped,)),
            ThresholdCondition(
                display_name="NAT IP allocation failed",
                filter=('metric.type="router.googleapis.com/nat/nat_allocation_failed" AND '
                        f'{gateway}'),
                comparison="COMPARISON_GT", threshold=0.0, duration_s=300,
                alignment_period_s=60, per_series_aligner="ALIGN_COUNT_TRUE",
                cross_series_reducer="REDUCE_SUM",
                group_by_fields=("resource.label.gateway_name",), metrics=(failed,)),
        ),
        source="gcp",
    )


def kms_key_disabled(ctx: AlertContext, cfg: MonitoringConfig) -> AlertDef:
    # Cloud KMS Admin Activity audit logs (always on): DestroyCryptoKeyVersion, and
    # UpdateCryptoKeyVersion setting state DISABLED, on a version of a key this stack uses.
    # Source: SOURCE_KMS_AUDIT.
    audit = MetricRef("cloudaudit.googleapis.com%2Factivity (cloudkms.googleapis.com)",
                      SOURCE_KMS_AUDIT)
    keys = " OR ".join(f'protoPayload.resourceName:"{_quote(k)}/cryptoKeyVersions/"'
                       for _, k in sorted(ctx.kms_keys.items()))
    flt = "\n".join([
        f'logName="projects/{ctx.project}/logs/cloudaudit.googleapis.com%2Factivity"',
        'protoPayload.serviceName="cloudkms.googleapis.com"',
        '(protoPayload.methodName="DestroyCryptoKeyVersion" OR '
        '(protoPayload.methodName="UpdateCryptoKeyVersion" AND '
        'protoPayload.request.cryptoKeyVersion.state="DISABLED"))',
        f"({keys})",
    ])
    purposes = ", ".join(sorted(ctx.kms_keys))
    return AlertDef(
        key="kms-key-disabled",
        display_name=f"[{ctx.name_prefix}] KMS key version disabled or scheduled for destruction",
        severity="critical",
        summary="A Cloud KMS key this stack encrypts with was disabled or scheduled for "
                "destruction",
        documentation=_doc(
            what=f"Someone disabled a version of, or scheduled for destruction, a Cloud KMS key "
                 f"this stack uses ({purposes}). The incident names the key version, the method "
                 "and the principal.",
            why="Everything encrypted with that version (buckets, the Filestore share, GKE "
                "secrets, node disks) becomes unreadable once it is disabled; after the "
                "scheduled destruction date the data is gone for good.",
            first_steps=[
                "Confirm with the principal named in the incident whether this was intended.",
                "If not: `gcloud kms keys versions restore <version> --key <key> --keyring "
                "<ring> --location <location>` (while DESTROY_SCHEDULED), then `gcloud kms keys "
                "versions enable ...`.",
                "Review IAM on the key ring: who holds cloudkms.admin or "
                "cryptoKeyVersions.destroy, and remove what is not needed.",
            ],
            escalate="Page the platform on-call and the security team immediately; restoring is "
                     "only possible before the scheduled destruction date.",
            refs=[audit],
        ),
        conditions=(LogMatchCondition(
            display_name="KMS key version disabled or destroy scheduled", filter=flt,
            metrics=(audit,),
            label_extractors={"key_version": "EXTRACT(protoPayload.resourceName)",
                              "method": "EXTRACT(protoPayload.methodName)",
                              "principal": "EXTRACT(protoPayload.authenticationInfo.principalEmail)"}),),
        source="log",
    )


def build_alerts(cfg: MonitoringConfig, ctx: AlertContext) -> list[AlertDef]:
    """Every alert the wiring allows, in a stable order. Cluster alerts need a cluster; pool
    alerts need pools; Filestore, NAT and KMS alerts need their resource."""
    out: list[AlertDef] = []
    if ctx.cluster is not None:
        for pool in sorted(ctx.gpu_pools):
            out.append(gpu_idle(ctx, cfg, pool))
        if ctx.gpu_pools:
            out.append(gpu_memory_full(ctx, cfg, ctx.gpu_pools))
            out.append(gpu_xid_errors(ctx, cfg, ctx.gpu_pools))
        if ctx.gpu_pools or ctx.tpu_pools:
            out.append(accelerator_nodes_not_ready(ctx, cfg, (*ctx.gpu_pools, *ctx.tpu_pools)))
        for pool in sorted(ctx.tpu_pools):
            out.append(tpu_duty_cycle_low(ctx, cfg, pool))
        out.append(autoscaler_scale_up_failed(ctx, cfg))
        out.append(dws_capacity_not_found(ctx, cfg))
        out.append(spot_preemption_surge(ctx, cfg))
    if ctx.filestore_instance is not None:
        out.append(filestore_capacity(ctx, cfg))
    if ctx.nat_name is not None:
        out.append(nat_port_exhaustion(ctx, cfg))
    if ctx.kms_keys:
        out.append(kms_key_disabled(ctx, cfg))
    return out


def cloud_monitoring_alerts(alerts: Sequence[AlertDef], mode: Mode) -> list[AlertDef]:
    """The alerts Cloud Monitoring evaluates: all in managed mode; in self-managed mode all but
    the DCGM ones, whose data lives in the in-cluster Prometheus."""
    return [a for a in alerts if mode == "managed" or a.source != "dcgm"]


def prometheus_rule_alerts(alerts: Sequence[AlertDef], mode: Mode) -> list[AlertDef]:
    """The alerts the in-cluster Prometheus evaluates (self-managed mode: the DCGM ones)."""
    return [a for a in alerts if mode == "self-managed" and a.source == "dcgm"]


def all_promql(alerts: Sequence[AlertDef]) -> list[str]:
    return [q for a in alerts for q in a.promql_queries]
