"""Dashboards from Python: every one validates against the Dashboard schema, lays out on the
grid, and every PromQL query in it parses; broken dashboards are rejected."""

from __future__ import annotations

import copy
import json

import jsonschema
import promql_parser
import pytest

from infra.errors import AidcError
from components.monitoring.alerts import AlertContext
from components.monitoring.dashboard_schema import DASHBOARD_SCHEMA
from components.monitoring.dashboards import (
    COLUMNS,
    Dashboard,
    Query,
    Series,
    Text,
    XyChart,
    build_dashboards,
    promql_in,
    validate_dashboard,
)

FULL = AlertContext(project="acme-ai-dev", name_prefix="aidc-dev", cluster="aidc-dev-ai",
                    gpu_pools=("l4", "h100"), tpu_pools=("v5e",),
                    filestore_instance="aidc-dev-shared", nat_name="aidc-dev-nat")
BARE = AlertContext(project="acme-ai-dev")
NAMES = ["gpu", "tpu", "storage", "network"]


@pytest.fixture(params=[FULL, BARE], ids=["full", "bare"])
def boards(request) -> list[Dashboard]:
    return build_dashboards(NAMES, request.param, {"environment": "dev"})


def test_schema_is_itself_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(DASHBOARD_SCHEMA)


def test_every_dashboard_validates_against_the_schema(boards: list[Dashboard]) -> None:
    assert [b.key for b in boards] == NAMES
    for board in boards:
        body = json.loads(board.to_json_text())
        jsonschema.validate(body, DASHBOARD_SCHEMA)
        assert body["displayName"].startswith("[aidc")
        assert body["labels"] == {"environment": "dev"}


def test_tiles_stay_on_the_grid_without_overlap(boards: list[Dashboard]) -> None:
    for board in boards:
        seen: set[tuple[int, int]] = set()
        for tile in board.to_json()["mosaicLayout"]["tiles"]:
            assert tile["xPos"] + tile["width"] <= COLUMNS
            cells = {(x, y) for x in range(tile["xPos"], tile["xPos"] + tile["width"])
                     for y in range(tile["yPos"], tile["yPos"] + tile["height"])}
            assert not cells & seen
            seen |= cells


def test_every_dashboard_query_parses(boards: list[Dashboard]) -> None:
    queries = [q for b in boards for q in b.promql()]
    assert queries
    for q in queries:
        promql_parser.parse(q)


def test_gpu_dashboard_draws_the_four_dcgm_signals_per_node_pool() -> None:
    (gpu,) = build_dashboards(["gpu"], FULL)
    body = gpu.to_json()
    titles = [t["widget"]["title"] for t in body["mosaicLayout"]["tiles"]]
    assert any("utilization" in t for t in titles) and any("memory" in t for t in titles)
    assert any("power" in t for t in titles) and any("°C" in t for t in titles)
    text = json.dumps(body)
    for metric in ("DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE",
                   "DCGM_FI_DEV_POWER_USAGE", "DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_XID_ERRORS"):
        assert metric in text
    util = next(t for t in body["mosaicLayout"]["tiles"]
                if t["widget"]["title"].startswith("GPU utilization"))
    legends = [d["legendTemplate"] for d in util["widget"]["xyChart"]["dataSets"]]
    assert legends == ["h100", "l4"]
    assert all('cluster=\\"aidc-dev-ai\\"' in json.dumps(d)
               for d in util["widget"]["xyChart"]["dataSets"])


def test_tpu_storage_network_dashboards_use_the_documented_metrics() -> None:
    tpu, storage, network = build_dashboards(["tpu", "storage", "network"], FULL)
    t = json.dumps(tpu.to_json())
    for metric in ("kubernetes_io:node_accelerator_duty_cycle",
                   "kubernetes_io:node_accelerator_tensorcore_utilization",
                   "kubernetes_io:node_accelerator_memory_used",
                   "kubernetes_io:node_pool_interruption_count"):
        assert metric in t
    s = json.dumps(storage.to_json())
    for metric in ("file.googleapis.com/nfs/server/used_bytes_percent",
                   "file.googleapis.com/nfs/server/read_bytes_count",
                   "storage.googleapis.com/network/sent_bytes_count"):
        assert metric in s
    assert 'instance_name=\\"aidc-dev-shared\\"' in s
    n = json.dumps(network.to_json())
    for metric in ("router.googleapis.com/nat/allocated_ports", "router.googleapis.com/nat/port_usage",
                   "router.googleapis.com/nat/dropped_sent_packets_count",
                   "compute_googleapis_com:instance_network_sent_bytes_count"):
        assert metric in n


def test_dashboards_without_wiring_leave_out_what_they_cannot_draw() -> None:
    storage, network = build_dashboards(["storage", "network"], BARE)
    assert 'metric.type=\\"file.googleapis.com' not in json.dumps(storage.to_json())
    assert 'metric.type=\\"storage.googleapis.com' in json.dumps(storage.to_json())
    assert "router.googleapis.com/nat/allocated_ports" not in json.dumps(network.to_json())


def test_query_is_promql_or_filter_exactly() -> None:
    with pytest.raises(ValueError):
        Query()
    with pytest.raises(ValueError):
        Query(promql="up", filter='metric.type="x"')


# -- rejection --------------------------------------------------------------------------------


def _valid() -> dict:
    return copy.deepcopy(build_dashboards(["gpu"], FULL)[0].to_json())


def _chart(body: dict) -> dict:
    return next(t for t in body["mosaicLayout"]["tiles"] if "xyChart" in t["widget"])


@pytest.mark.parametrize("name,mutate,needle", [
    ("unknown field", lambda b: _chart(b)["widget"]["xyChart"].update(dataSet=[]), "dataSet"),
    ("bad enum", lambda b: _chart(b)["widget"]["xyChart"]["dataSets"][0].update(plotType="PIE"),
     "PIE"),
    ("two widget kinds", lambda b: _chart(b)["widget"].update(text={"content": "x"}), "valid under"),
    ("no display name", lambda b: b.pop("displayName"), "displayName"),
    ("too many columns", lambda b: b["mosaicLayout"].update(columns=60), "60"),
    ("bad alignment period",
     lambda b: b["mosaicLayout"]["tiles"].append({"width": 24, "height": 4, "xPos": 0,
                                                  "yPos": 200, "widget": {"title": "x", "xyChart": {
         "dataSets": [{"timeSeriesQuery": {"timeSeriesFilter": {
             "filter": 'metric.type="a"', "aggregation": {"alignmentPeriod": "1m"}}}}]}}}),
     "1m"),
    ("MQL is not accepted",
     lambda b: _chart(b)["widget"]["xyChart"]["dataSets"][0]["timeSeriesQuery"].update(
         timeSeriesQueryLanguage="fetch k8s_node"), "timeSeriesQueryLanguage"),
])
def test_rejects_invalid_dashboard(name: str, mutate, needle: str) -> None:
    body = _valid()
    mutate(body)
    with pytest.raises(AidcError) as exc:
        validate_dashboard(body)
    assert needle in str(exc.value), name


def test_rejects_overlapping_and_overflowing_tiles() -> None:
    body = _valid()
    tiles = body["mosaicLayout"]["tiles"]
    tiles[2]["xPos"], tiles[2]["yPos"] = tiles[1]["xPos"], tiles[1]["yPos"]
    with pytest.raises(AidcError, match="overlaps tile 1"):
        validate_dashboard(body)
    body = _valid()
    body["mosaicLayout"]["tiles"][1]["xPos"] = 40
    with pytest.raises(AidcError, match="wider than the 48 columns"):
        validate_dashboard(body)


def test_rejects_dashboard_with_broken_promql() -> None:
    board = Dashboard(key="gpu", display_name="x", widgets=(
        XyChart("broken", (Series(Query(promql="avg(DCGM_FI_DEV_GPU_UTIL")),)),))
    with pytest.raises(AidcError, match="does not parse"):
        board.to_json_text()


def test_promql_in_finds_nested_queries() -> None:
    board = Dashboard(key="tpu", display_name="x", widgets=(
        Text("t", "no query"), XyChart("c", (Series(Query(promql="up")),
                                             Series(Query(filter='metric.type="a"'))))))
    assert promql_in(board.to_json()) == ["up"]
