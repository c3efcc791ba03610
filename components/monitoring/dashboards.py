"""Cloud Monitoring dashboards built from Python, validated before any API sees them.

A dashboard is a list of widgets (`XyChart`, `Scorecard`, `Text`) laid out two to a row on a
48-column mosaic. `Dashboard.to_json()` renders the Dashboard REST resource; `validate_dashboard`
checks it against `dashboard_schema.DASHBOARD_SCHEMA`, checks the layout (tiles inside the
grid, no overlap) and parses every PromQL query.

Metric names and sources are those of `components.monitoring.alerts` (DCGM through Managed Prometheus,
GKE system metrics, Filestore, Cloud Storage, Cloud NAT, Compute Engine); each query below names
its metric next to it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import jsonschema
import promql_parser

from infra.errors import AidcError
from components.monitoring.alerts import (
    AlertContext,
    dcgm_selector,
    gke_node_selector,
    node_regex,
)
from infra.config.monitoring import DashboardName
from components.monitoring.dashboard_schema import DASHBOARD_SCHEMA, MAX_COLUMNS

COLUMNS = MAX_COLUMNS
CHART_WIDTH, CHART_HEIGHT = 24, 16
TEXT_HEIGHT = 6


@dataclass(frozen=True)
class Query:
    """A PromQL query, or a Cloud Monitoring filter with its aggregation (never MQL)."""

    promql: str | None = None
    filter: str | None = None
    aligner: str = "ALIGN_MEAN"
    reducer: str | None = None
    group_by: tuple[str, ...] = ()
    alignment_period_s: int = 60
    unit: str | None = None

    def __post_init__(self) -> None:
        if (self.promql is None) == (self.filter is None):
            raise ValueError("a Query is either PromQL or a filter, exactly one")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any]
        if self.promql is not None:
            out = {"prometheusQuery": self.promql}
        else:
            agg: dict[str, Any] = {"alignmentPeriod": f"{self.alignment_period_s}s",
                                   "perSeriesAligner": self.aligner}
            if self.reducer:
                agg["crossSeriesReducer"] = self.reducer
                agg["groupByFields"] = list(self.group_by)
            out = {"timeSeriesFilter": {"filter": self.filter, "aggregation": agg}}
        if self.unit:
            out["unitOverride"] = self.unit
        return out


@dataclass(frozen=True)
class Series:
    query: Query
    legend: str | None = None
    plot: Literal["LINE", "STACKED_AREA", "STACKED_BAR", "HEATMAP"] = "LINE"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"timeSeriesQuery": self.query.to_json(), "plotType": self.plot,
                               "targetAxis": "Y1"}
        if self.legend:
            out["legendTemplate"] = self.legend
        return out


@dataclass(frozen=True)
class Threshold:
    value: float
    label: str
    color: Literal["YELLOW", "ORANGE", "RED"] = "YELLOW"
    direction: Literal["ABOVE", "BELOW"] = "ABOVE"

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "label": self.label, "color": self.color,
                "direction": self.direction}


@dataclass(frozen=True)
class XyChart:
    title: str
    series: tuple[Series, ...]
    y_label: str = ""
    thresholds: tuple[Threshold, ...] = ()

    def widget(self) -> dict[str, Any]:
        chart: dict[str, Any] = {"dataSets": [s.to_json() for s in self.series],
                                 "yAxis": {"label": self.y_label, "scale": "LINEAR"},
                                 "chartOptions": {"mode": "COLOR"}}
        if self.thresholds:
            chart["thresholds"] = [t.to_json() for t in self.thresholds]
        return {"title": self.title, "xyChart": chart}


@dataclass(frozen=True)
class Scorecard:
    title: str
    query: Query
    thresholds: tuple[Threshold, ...] = ()

    def widget(self) -> dict[str, Any]:
        card: dict[str, Any] = {"timeSeriesQuery": self.query.to_json(),
                                "sparkChartView": {"sparkChartType": "SPARK_LINE"}}
        if self.thresholds:
            card["thresholds"] = [t.to_json() for t in self.thresholds]
        return {"title": self.title, "scorecard": card}


@dataclass(frozen=True)
class Text:
    title: str
    markdown: str

    def widget(self) -> dict[str, Any]:
        return {"title": self.title, "text": {"content": self.markdown, "format": "MARKDOWN"}}


Widget = XyChart | Scorecard | Text


@dataclass(frozen=True)
class Dashboard:
    key: DashboardName
    display_name: str
    widgets: tuple[Widget, ...]
    labels: Mapping[str, str] = field(default_factory=dict)

    def tiles(self) -> list[dict[str, Any]]:
        """Text tiles span the grid; charts and scorecards go two to a row."""
        tiles, x, y, row_height = [], 0, 0, 0
        for w in self.widgets:
            full = isinstance(w, Text)
            width, height = (COLUMNS, TEXT_HEIGHT) if full else (CHART_WIDTH, CHART_HEIGHT)
            if x + width > COLUMNS:
                x, y, row_height = 0, y + row_height, 0
            tiles.append({"xPos": x, "yPos": y, "width": width, "height": height,
                          "widget": w.widget()})
            x += width
            row_height = max(row_height, height)
        return tiles

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"displayName": self.display_name,
                               "mosaicLayout": {"columns": COLUMNS, "tiles": self.tiles()}}
        if self.labels:
            out["labels"] = dict(self.labels)
        return out

    def to_json_text(self) -> str:
        body = self.to_json()
        validate_dashboard(body)
        return json.dumps(body, sort_keys=True)

    def promql(self) -> list[str]:
        return promql_in(self.to_json())


# ---------------------------------------------------------------------------------------------
# validation


_VALIDATOR = jsonschema.Draft202012Validator(DASHBOARD_SCHEMA)


def promql_in(body: Mapping[str, Any]) -> list[str]:
    """Every `prometheusQuery` in a dashboard body."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "prometheusQuery" and isinstance(v, str):
                    found.append(v)
                else:
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(body)
    return found


def validate_dashboard(body: Mapping[str, Any]) -> None:
    """Raise AidcError listing every problem: schema, layout, PromQL syntax."""
    name = body.get("displayName", "<dashboard>") if isinstance(body, Mapping) else "<dashboard>"
    problems = []
    for err in sorted(_VALIDATOR.iter_errors(body), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in err.absolute_path) or "(root)"
        problems.append(f"{where}: {err.message}")
    if not problems:
        layout = body["mosaicLayout"]
        cells: dict[tuple[int, int], int] = {}
        for i, tile in enumerate(layout["tiles"]):
            x, y = tile.get("xPos", 0), tile.get("yPos", 0)
            if x + tile["width"] > layout["columns"]:
                problems.append(f"mosaicLayout/tiles/{i}: xPos {x} + width {tile['width']} is "
                                f"wider than the {layout['columns']} columns")
            for cx in range(x, x + tile["width"]):
                for cy in range(y, y + tile["height"]):
                    if (cx, cy) in cells:
                        problems.append(f"mosaicLayout/tiles/{i}: overlaps tile {cells[(cx, cy)]}")
                        break
                    cells[(cx, cy)] = i
                else:
                    continue
                break
        for query in promql_in(body):
            try:
                promql_parser.parse(query)
            except ValueError as exc:
                problems.append(f"PromQL {query!r} does not parse: {exc}")
    if problems:
        raise AidcError(f"dashboard {name!r} is not valid:\n  - " + "\n  - ".join(problems))


# ---------------------------------------------------------------------------------------------
# the four dashboards


def _per_pool(ctx: AlertContext, pools: Sequence[str], build: Any, legend: str = "{pool}"
              ) -> tuple[Series, ...]:
    return tuple(Series(Query(promql=build(p)), legend=legend.format(pool=p)) for p in pools)


def gpu_dashboard(ctx: AlertContext, labels: Mapping[str, str] | None = None) -> Dashboard:
    """GPU fleet: utilization, memory, power, temperature and XIDs, one line per node pool."""
    pools = sorted(ctx.gpu_pools)

    def sel(pool: str) -> str:
        return dcgm_selector(ctx, [pool])

    if pools:
        # DCGM_FI_DEV_GPU_UTIL (gauge, %), GKE managed DCGM / dcgm-exporter, via Managed Prometheus.
        util = _per_pool(ctx, pools, lambda p: f"avg(DCGM_FI_DEV_GPU_UTIL{sel(p)})")
        # DCGM_FI_DEV_FB_USED / DCGM_FI_DEV_FB_FREE (gauges, MiB).
        mem = _per_pool(ctx, pools, lambda p: (
            f"100 * sum(DCGM_FI_DEV_FB_USED{sel(p)}) / "
            f"(sum(DCGM_FI_DEV_FB_USED{sel(p)}) + sum(DCGM_FI_DEV_FB_FREE{sel(p)}))"))
        # DCGM_FI_DEV_POWER_USAGE (gauge, W).
        power = _per_pool(ctx, pools, lambda p: f"sum(DCGM_FI_DEV_POWER_USAGE{sel(p)})")
        # DCGM_FI_DEV_GPU_TEMP (gauge, degrees C).
        temp = _per_pool(ctx, pools, lambda p: f"max(DCGM_FI_DEV_GPU_TEMP{sel(p)})")
        # DCGM_FI_DEV_XID_ERRORS (gauge: last XID code); count of GPUs that reported any.
        xid = Query(promql=f"count(max_over_time(DCGM_FI_DEV_XID_ERRORS"
                           f"{dcgm_selector(ctx, pools)}[1h]) > 0) or vector(0)")
    else:
        cluster = f'{{cluster="{ctx.cluster}"}}' if ctx.cluster else ""
        util = (Series(Query(promql=f"avg by (Hostname) (DCGM_FI_DEV_GPU_UTIL{cluster})")),)
        mem = (Series(Query(promql=(f"100 * sum by (Hostname) (DCGM_FI_DEV_FB_USED{cluster}) / "
                                    f"(sum by (Hostname) (DCGM_FI_DEV_FB_USED{cluster}) + "
                                    f"sum by (Hostname) (DCGM_FI_DEV_FB_FREE{cluster}))"))),)
        power = (Series(Query(promql=f"sum by (Hostname) (DCGM_FI_DEV_POWER_USAGE{cluster})")),)
        temp = (Series(Query(promql=f"max by (Hostname) (DCGM_FI_DEV_GPU_TEMP{cluster})")),)
        xid = Query(promql=f"count(max_over_time(DCGM_FI_DEV_XID_ERRORS{cluster}[1h]) > 0)"
                           " or vector(0)")
    return Dashboard(
        key="gpu",
        display_name=f"[{ctx.name_prefix}] GPU fleet",
        labels=dict(labels or {}),
        widgets=(
            Text("About", "DCGM metrics (`DCGM_FI_DEV_*`) from GKE's managed DCGM or aidc's "
                          "dcgm-exporter, collected by Managed Service for Prometheus. One line "
                          "per node pool. Source: " "https://cloud.google.com/kubernetes-engine/"
                          "docs/how-to/dcgm-metrics"),
            XyChart("GPU utilization by node pool (%)", util, "%"),
            XyChart("GPU memory used by node pool (%)", mem, "%",
                    (Threshold(95.0, "near full", "RED"),)),
            XyChart("GPU power by node pool (W)", power, "W"),
            XyChart("Hottest GPU by node pool (°C)", temp, "°C",
                    (Threshold(85.0, "throttling risk", "ORANGE"),)),
            Scorecard("GPUs with an XID error (last hour)", xid,
                      (Threshold(1.0, "XID", "RED"),)),
        ),
    )


def tpu_dashboard(ctx: AlertContext, labels: Mapping[str, str] | None = None) -> Dashboard:
    """TPU slices: duty cycle, TensorCore utilization, HBM use, interruptions."""
    pools = sorted(ctx.tpu_pools)
    cluster = f'cluster_name="{ctx.cluster}"' if ctx.cluster else ""

    def node(metric: str, agg: str, pool: str | None) -> str:
        sel = (gke_node_selector(ctx, [pool]) if pool else
               "{" + ", ".join(x for x in ('monitored_resource="k8s_node"', cluster) if x) + "}")
        return f"{agg}(kubernetes_io:{metric}{sel})"

    groups: Sequence[str | None] = pools or [None]
    legend = "{pool}" if pools else "all TPU nodes"
    # kubernetes.io/node/accelerator/duty_cycle (%), GKE system metric (TPU nodes).
    duty = tuple(Series(Query(promql=node("node_accelerator_duty_cycle", "avg", p)),
                        legend=legend.format(pool=p)) for p in groups)
    # kubernetes.io/node/accelerator/tensorcore_utilization (%), GKE system metric (TPU nodes).
    tensor = tuple(Series(Query(promql=node("node_accelerator_tensorcore_utilization", "avg", p)),
                          legend=legend.format(pool=p)) for p in groups)
    # kubernetes.io/node/accelerator/memory_used and memory_total (bytes of HBM).
    hbm = tuple(Series(Query(promql=(f"100 * {node('node_accelerator_memory_used', 'sum', p)} / "
                                     f"{node('node_accelerator_memory_total', 'sum', p)}")),
                       legend=legend.format(pool=p)) for p in groups)
    # kubernetes.io/node_pool/interruption_count, resource k8s_node_pool, by interruption_type
    # (PreemptionEvent, MaintenanceEvent, TerminationEvent).
    pool_sel = ", ".join(x for x in ('monitored_resource="k8s_node_pool"', cluster) if x)
    interruptions = (Series(Query(promql=(
        "sum by (node_pool_name, interruption_type) (sum_over_time("
        f"kubernetes_io:node_pool_interruption_count{{{pool_sel}}}[1h]))")),
        plot="STACKED_BAR"),)
    return Dashboard(
        key="tpu",
        display_name=f"[{ctx.name_prefix}] TPU slices",
        labels=dict(labels or {}),
        widgets=(
            Text("About", "GKE system metrics for TPU nodes (`kubernetes.io/node/accelerator/*`) "
                          "and node pool interruptions. Source: https://cloud.google.com/"
                          "kubernetes-engine/docs/how-to/tpus"),
            XyChart("TPU duty cycle by node pool (%)", duty, "%"),
            XyChart("TensorCore utilization by node pool (%)", tensor, "%"),
            XyChart("HBM used by node pool (%)", hbm, "%"),
            XyChart("Node pool interruptions per hour", interruptions, "count"),
        ),
    )


def storage_dashboard(ctx: AlertContext, labels: Mapping[str, str] | None = None) -> Dashboard:
    """Filestore capacity and throughput; Cloud Storage throughput per bucket."""
    widgets: list[Widget] = [Text(
        "About", "Filestore (`file.googleapis.com/nfs/server/*`, "
                 "https://cloud.google.com/filestore/docs/monitoring-instances) and Cloud Storage "
                 "(`storage.googleapis.com/network/*`, "
                 "https://cloud.google.com/monitoring/api/metrics_gcp_p_z).")]
    if ctx.filestore_instance is not None:
        fs = (f'resource.type="filestore_instance" AND '
              f'resource.labels.instance_name="{ctx.filestore_instance}"')
        widgets += [
            # file.googleapis.com/nfs/server/used_bytes_percent (GAUGE, %).
            XyChart("Filestore used (%)", (Series(Query(
                filter=f'metric.type="file.googleapis.com/nfs/server/used_bytes_percent" AND {fs}',
                aligner="ALIGN_MEAN", alignment_period_s=300)),), "%",
                (Threshold(85.0, "alert", "ORANGE"),)),
            # file.googleapis.com/nfs/server/read_bytes_count and write_bytes_count (DELTA).
            XyChart("Filestore throughput (bytes/s)", (
                Series(Query(filter=f'metric.type="file.googleapis.com/nfs/server/read_bytes_count"'
                                    f' AND {fs}', aligner="ALIGN_RATE", unit="By/s"), "read"),
                Series(Query(filter=f'metric.type="file.googleapis.com/nfs/server/write_bytes_count"'
                                    f' AND {fs}', aligner="ALIGN_RATE", unit="By/s"), "write"),
            ), "bytes/s"),
        ]
    bucket_group = ("resource.label.bucket_name",)
    widgets += [
        # storage.googleapis.com/network/sent_bytes_count (DELTA), per bucket.
        XyChart("Cloud Storage read throughput by bucket (bytes/s)", (Series(Query(
            filter='metric.type="storage.googleapis.com/network/sent_bytes_count" AND '
                   'resource.type="gcs_bucket"', aligner="ALIGN_RATE", reducer="REDUCE_SUM",
            group_by=bucket_group, unit="By/s")),), "bytes/s"),
        # storage.googleapis.com/network/received_bytes_count (DELTA), per bucket.
        XyChart("Cloud Storage write throughput by bucket (bytes/s)", (Series(Query(
            filter='metric.type="storage.googleapis.com/network/received_bytes_count" AND '
                   'resource.type="gcs_bucket"', aligner="ALIGN_RATE", reducer="REDUCE_SUM",
            group_by=bucket_group, unit="By/s")),), "bytes/s"),
    ]
    return Dashboard(key="storage", display_name=f"[{ctx.name_prefix}] Storage",
                     labels=dict(labels or {}), widgets=tuple(widgets))


def network_dashboard(ctx: AlertContext, labels: Mapping[str, str] | None = None) -> Dashboard:
    """Cloud NAT ports and drops; NIC throughput of GPU VMs (GPUDirect NICs included)."""
    widgets: list[Widget] = [Text(
        "About", "Cloud NAT (`router.googleapis.com/nat/*`, https://cloud.google.com/nat/docs/"
                 "monitoring) and Compute Engine NIC throughput of GPU VMs "
                 "(`compute.googleapis.com/instance/network/*`). Compute Engine reports a VM's "
                 "NICs together, so the GPU VM chart includes the GPUDirect (TCPX/TCPXO/RDMA) "
                 "NICs where the machine type has them; no per-NIC counter is published.")]
    if ctx.nat_name is not None:
        nat = f'resource.type="nat_gateway" AND resource.labels.gateway_name="{ctx.nat_name}"'
        widgets += [
            # router.googleapis.com/nat/allocated_ports (GAUGE), per gateway.
            XyChart("NAT allocated ports", (Series(Query(
                filter=f'metric.type="router.googleapis.com/nat/allocated_ports" AND {nat}',
                aligner="ALIGN_MAX", reducer="REDUCE_SUM",
                group_by=("resource.label.gateway_name",))),), "ports"),
            # router.googleapis.com/nat/port_usage (GAUGE): the busiest VM's ports in use.
            XyChart("NAT port usage, busiest VM", (Series(Query(
                filter=f'metric.type="router.googleapis.com/nat/port_usage" AND {nat}',
                aligner="ALIGN_MAX", reducer="REDUCE_MAX",
                group_by=("resource.label.gateway_name",))),), "ports"),
            # router.googleapis.com/nat/dropped_sent_packets_count (DELTA), by reason.
            XyChart("NAT dropped packets by reason", (Series(Query(
                filter=f'metric.type="router.googleapis.com/nat/dropped_sent_packets_count" '
                       f'AND {nat}', aligner="ALIGN_RATE", reducer="REDUCE_SUM",
                group_by=("metric.label.reason",)), plot="STACKED_BAR"),), "packets/s"),
        ]
    if ctx.gpu_pools:
        pools = sorted(ctx.gpu_pools)

        def nic(metric: str, pool: str) -> str:
            # compute.googleapis.com/instance/network/{sent,received}_bytes_count (DELTA), label
            # instance_name; in PromQL compute_googleapis_com:instance_network_*.
            return (f"sum(rate(compute_googleapis_com:instance_network_{metric}"
                    f'{{monitored_resource="gce_instance", instance_name=~"{node_regex([pool])}"}}'
                    f"[5m]))")
        widgets += [
            XyChart("GPU VM NIC egress by node pool (bytes/s)",
                    _per_pool(ctx, pools, lambda p: nic("sent_bytes_count", p)), "bytes/s"),
            XyChart("GPU VM NIC ingress by node pool (bytes/s)",
                    _per_pool(ctx, pools, lambda p: nic("received_bytes_count", p)), "bytes/s"),
        ]
    return Dashboard(key="network", display_name=f"[{ctx.name_prefix}] Network",
                     labels=dict(labels or {}), widgets=tuple(widgets))


BUILDERS = {"gpu": gpu_dashboard, "tpu": tpu_dashboard, "storage": storage_dashboard,
            "network": network_dashboard}


def build_dashboards(names: Sequence[DashboardName], ctx: AlertContext,
                     labels: Mapping[str, str] | None = None) -> list[Dashboard]:
    """The dashboards `names` asks for, in that order, each validated."""
    out = []
    for name in names:
        board = BUILDERS[name](ctx, labels)
        validate_dashboard(board.to_json())
        out.append(board)
    return out
