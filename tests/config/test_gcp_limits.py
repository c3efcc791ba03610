"""Configs GCP would refuse are refused when the config is read (issue 12, finding 6): names and
lengths per resource, regions and zones from the catalog, bucket locations, time formats,
min <= max, documented bounds, API names, and the configs that validated but failed at plan.

Each case starts from the small valid stack (tests.helpers.BASE_STACK, plus a cluster where the
rule is about one) and changes one thing; the problem must be located at the field, as
`aidc:<path>: <message>`, and say what is accepted.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from infra.config.load import config_from_flat
from infra.config.platform import PlatformConfig
from infra.errors import AidcError
from tests.helpers import BASE_STACK, base_stack

CLUSTER = {"master_authorized_networks": {"corp-vpn": "203.0.113.0/24"}}
L4 = {"machine_type": "g2-standard-8"}


def stack(**changes: Any) -> dict[str, Any]:
    """BASE_STACK with a cluster, top-level keys replaced (`aidc:` added to bare keys)."""
    flat = base_stack(**{"aidc:cluster": copy.deepcopy(CLUSTER)})
    for key, value in changes.items():
        flat[key if ":" in key else f"aidc:{key}"] = value
    return flat


def cluster(**fields: Any) -> dict[str, Any]:
    return stack(cluster={**CLUSTER, **fields})


def storage(**fields: Any) -> dict[str, Any]:
    return stack(storage={**copy.deepcopy(BASE_STACK["aidc:storage"]), **fields})


def load(flat: dict[str, Any]) -> PlatformConfig:
    return config_from_flat(flat, source="test.yaml")


def problems(flat: dict[str, Any]) -> list[str]:
    """The problem lines of a refused config, `aidc:<path>: <message>` each."""
    with pytest.raises(AidcError) as info:
        load(flat)
    lines = str(info.value).splitlines()
    assert lines[0] == "test.yaml: invalid config"
    return [line.removeprefix("  - ") for line in lines[1:]]


def assert_problem(flat: dict[str, Any], path: str, *needles: str) -> None:
    lines = problems(flat)
    hits = [line for line in lines if line.startswith(f"{path}: ")]
    assert hits, f"no problem at {path}: {lines}"
    assert any(all(n in line for n in needles) for line in hits), (needles, hits)


def test_the_small_stack_with_a_cluster_is_valid() -> None:
    """The starting point of every case here passes."""
    load(stack())


# ---------------------------------------------------------------------------------------------
# regions, zones, locations


def test_rejects_unknown_region_listing_close_matches() -> None:
    assert_problem(base_stack(**{"gcp:region": "us-moon1"}), "gcp:region",
                   "'us-moon1' is not a Google Cloud region", "did you mean us-south1")


def test_rejects_zone_the_region_does_not_have() -> None:
    assert_problem(base_stack(**{"aidc:zones": ["us-central1-a", "us-central1-z"]}), "aidc:zones[1]",
                   "'us-central1-z' is not a zone of us-central1",
                   "us-central1-a, us-central1-ai1a, us-central1-b, us-central1-c, us-central1-f")


@pytest.mark.parametrize(("flat", "path"), [
    (base_stack(**{"aidc:zones": ["us-central1-a", "us-central1-b", "us-central1-a"]}),
     "aidc:zones[2]"),
    (stack(gpu_pools={"l4": {**L4, "zones": ["us-central1-b", "us-central1-b"]}}),
     "aidc:gpu_pools.l4.zones[1]"),
], ids=["stack-zones", "gpu-pool-zones"])
def test_rejects_duplicate_zones(flat: dict[str, Any], path: str) -> None:
    assert_problem(flat, path, "is listed twice (first as [")


def test_rejects_gpu_pool_zone_the_region_does_not_have() -> None:
    assert_problem(stack(gpu_pools={"l4": {**L4, "zones": ["us-central1-d"]}}),
                   "aidc:gpu_pools.l4.zones[0]", "'us-central1-d' is not a zone of us-central1")


@pytest.mark.parametrize("location", ["mars-central9", "us-central1-a", "us-central2"])
def test_rejects_bucket_location_cloud_storage_does_not_offer(location: str) -> None:
    assert_problem(storage(location=location), "aidc:storage.location",
                   f"{location!r} is not a Cloud Storage location", "NAM4", "multi-region")


@pytest.mark.parametrize("location", ["us-central1", "US", "eu", "NAM4", "europe-north2"])
def test_accepts_bucket_locations(location: str) -> None:
    assert load(storage(location=location)).storage.location == location


def test_rejects_buckets_in_a_region_cloud_storage_does_not_offer() -> None:
    """Without a location the buckets go to the stack's region, which must be a GCS location."""
    flat = base_stack(**{"gcp:region": "us-central2", "aidc:zones": ["us-central2-b"]})
    assert_problem(flat, "aidc:storage.location", "not set", "us-central2",
                   "https://cloud.google.com/storage/docs/locations")


# ---------------------------------------------------------------------------------------------
# GKE names, composed cloud names


def test_rejects_cluster_name_over_gkes_40_characters() -> None:
    """aidc-dev-<name> is the cluster's name; 41 characters is one too many."""
    load(cluster(name="c" * 31))
    assert_problem(cluster(name="c" * 32), "aidc:cluster.name",
                   "cluster name 'aidc-dev-" + "c" * 32 + "' (41 characters)",
                   "1-40 characters", "composed")


def test_rejects_cluster_name_with_characters_gke_refuses() -> None:
    assert_problem(cluster(name="AI_cluster"), "aidc:cluster.name", "not accepted by GKE")


@pytest.mark.parametrize("key", ["my_pool!", "p" * 41, "Pool", "1pool", "pool-"])
def test_rejects_node_pool_names_gke_refuses(key: str) -> None:
    """A pool's key is its GKE node pool name: 1-40 lowercase letters, digits, hyphens."""
    assert_problem(stack(gpu_pools={key: L4}), f"aidc:gpu_pools.{key}",
                   f"node pool name {key!r}", "1-40 characters")


def test_rejects_tpu_pool_whose_slice_names_are_too_long() -> None:
    """Several slices are node pools '<name>-<index>': a 40-character name leaves no room."""
    tpu = {"generation": "v5e", "topology": "2x2", "zone": "us-central1-a"}
    load(stack(tpu_pools={"t" * 40: tpu}))
    assert_problem(stack(tpu_pools={"t" * 39: {**tpu, "slices": 2}}), f"aidc:tpu_pools.{'t' * 39}",
                   f"'{'t' * 39}-1' (41 characters)", "one node pool per slice")


@pytest.mark.parametrize("pools", [
    {"gpu_pools": {"system": L4}},
    {"gpu_pools": {"v5e-1": L4},
     "tpu_pools": {"v5e": {"generation": "v5e", "topology": "2x2", "zone": "us-central1-a",
                           "slices": 2}}},
], ids=["system-pool", "tpu-slice"])
def test_rejects_node_pool_names_taken_twice(pools: dict[str, Any]) -> None:
    lines = problems(stack(**pools))
    assert any("GKE node pool names are unique in a cluster" in line for line in lines), lines


def test_rejects_gpudirect_network_names_over_63_characters() -> None:
    """A GPUDirect pool's NIC VPCs, subnets and firewalls are '<network>-<env>-<pool>-...'."""
    mega = {"machine_type": "a3-megagpu-8g", "zones": ["us-central1-a"]}
    network = {**BASE_STACK["aidc:network"], "gpu_supernet": "192.168.0.0/16"}
    load(stack(network=network, gpu_pools={"p" * 30: mega}))
    assert_problem(stack(network={**network, "name": "n" * 20}, gpu_pools={"p" * 36: mega}),
                   f"aidc:gpu_pools.{'p' * 36}", "firewall name", "-internal' (",
                   "1-63 characters")


# ---------------------------------------------------------------------------------------------
# min <= max


@pytest.mark.parametrize(("flat", "path"), [
    (cluster(system_pool={"min_nodes": 5, "max_nodes": 2}), "aidc:cluster.system_pool.min_nodes"),
    (stack(gpu_pools={"l4": {**L4, "autoscaling": {"min_nodes": 3, "max_nodes": 2}}}),
     "aidc:gpu_pools.l4.autoscaling.min_nodes"),
    (stack(tpu_pools={"v5e": {"generation": "v5e", "topology": "2x2", "zone": "us-central1-a",
                              "min_nodes": 3, "max_nodes": 2}}), "aidc:tpu_pools.v5e.min_nodes"),
], ids=["system-pool", "gpu-pool", "tpu-pool"])
def test_rejects_min_above_max(flat: dict[str, Any], path: str) -> None:
    assert_problem(flat, path, "exceeds max_nodes", "raise max_nodes or lower min_nodes")


# ---------------------------------------------------------------------------------------------
# maintenance: RFC 3339, end after start, GKE's availability and exclusion limits


def maintenance(**fields: Any) -> dict[str, Any]:
    return cluster(maintenance=fields)


@pytest.mark.parametrize(("fields", "path"), [
    ({"start_time": "soon"}, "aidc:cluster.maintenance.start_time"),
    ({"end_time": "2026-01-03 11:00"}, "aidc:cluster.maintenance.end_time"),
    ({"exclusions": {"launch": ["soon", "2027-01-10T00:00:00Z"]}},
     "aidc:cluster.maintenance.exclusions.launch[0]"),
    ({"exclusions": {"launch": ["2027-01-10T00:00:00Z", "2027-01-10"]}},
     "aidc:cluster.maintenance.exclusions.launch[1]"),
], ids=["start", "end-without-T-and-offset", "exclusion-start", "exclusion-end-date-only"])
def test_rejects_times_that_are_not_rfc3339(fields: dict[str, Any], path: str) -> None:
    assert_problem(maintenance(**fields), path, "is not an RFC 3339 date-time",
                   "'2026-01-03T03:00:00Z'")


def test_rejects_exclusion_ending_before_it_starts() -> None:
    assert_problem(maintenance(exclusions={"launch": ["2027-01-24T00:00:00Z", "2027-01-10T00:00:00Z"]}),
                   "aidc:cluster.maintenance.exclusions.launch[1]",
                   "is not after the exclusion's start 2027-01-24T00:00:00Z")


def test_rejects_window_ending_before_it_starts() -> None:
    assert_problem(maintenance(start_time="2026-01-03T11:00:00Z", end_time="2026-01-03T03:00:00Z"),
                   "aidc:cluster.maintenance.end_time", "is not after start_time")


def test_rejects_no_upgrades_exclusion_over_30_days() -> None:
    load(maintenance(exclusions={"q1": ["2027-01-01T00:00:00Z", "2027-01-31T00:00:00Z"]}))
    assert_problem(maintenance(exclusions={"q1": ["2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z"]}),
                   "aidc:cluster.maintenance.exclusions.q1", "31 days",
                   "'No upgrades' exclusion lasts at most 30 days")


def test_rejects_more_than_20_exclusions() -> None:
    many = {f"e{i}": [f"2027-{m:02d}-01T00:00:00Z", f"2027-{m:02d}-02T00:00:00Z"]
            for i, m in enumerate(range(1, 13))}
    many.update({f"f{i}": [f"2028-{m:02d}-01T00:00:00Z", f"2028-{m:02d}-02T00:00:00Z"]
                 for i, m in enumerate(range(1, 10))})
    assert_problem(maintenance(exclusions=many), "aidc:cluster.maintenance.exclusions",
                   "21 exclusions", "at most 20")


@pytest.mark.parametrize(("fields", "needle"), [
    ({"recurrence": "FREQ=MONTHLY"}, "leaves 8 hours"),
    ({"recurrence": "FREQ=WEEKLY;BYDAY=SA"}, "leaves 32 hours"),
    ({"end_time": "2026-01-03T06:00:00Z", "recurrence": "FREQ=DAILY"}, "leaves 0 hours"),
    ({"recurrence": "FREQ=WEEKLY;BYDAY=SA;COUNT=2"}, "leaves 0 hours"),
], ids=["monthly", "weekly-8-hours", "daily-3-hours", "ends"])
def test_rejects_window_with_too_little_maintenance_time(fields: dict[str, Any], needle: str) -> None:
    """GKE needs 48 hours in every 32 days, counting only windows of 4 hours or more."""
    assert_problem(maintenance(**fields), "aidc:cluster.maintenance.recurrence", needle,
                   "at least 48 hours in every 32-day stretch")


@pytest.mark.parametrize("recurrence", ["every saturday", "FREQ=FORTNIGHTLY", "FREQ=WEEKLY;BYDAY=XX"])
def test_rejects_recurrence_that_is_not_an_rrule(recurrence: str) -> None:
    assert_problem(maintenance(recurrence=recurrence), "aidc:cluster.maintenance.recurrence",
                   "RRULE")


@pytest.mark.parametrize("fields", [
    {},
    {"start_time": "2026-01-05T01:00:00+02:00", "end_time": "2026-01-05T05:00:00+02:00",
     "recurrence": "FREQ=DAILY"},
    {"start_time": "2026-01-03T00:00:00Z", "end_time": "2026-01-03T12:00:00Z",
     "recurrence": "FREQ=WEEKLY;BYDAY=SA"},
    {"exclusions": {"launch": ["2027-01-10T00:00:00.5Z", "2027-01-24T00:00:00Z"]}},
], ids=["default", "daily-4h-with-offset", "weekly-12h", "fractional-seconds"])
def test_accepts_windows_gke_accepts(fields: dict[str, Any]) -> None:
    load(maintenance(**fields))


# ---------------------------------------------------------------------------------------------
# documented bounds


def test_rejects_retention_over_cloud_storages_100_years() -> None:
    """The issue's 8.6e16 s (about 1e12 days) and the first day past the limit are refused;
    the last day under it is accepted."""
    for days in (86_000_000_000_000_000 // 86_400, 36_525):
        assert_problem(storage(buckets={"datasets": {"retention_days": days}}),
                       "aidc:storage.buckets.datasets.retention_days",
                       f"{days} days", "less than 100 years", "at most 36524 days",
                       "https://cloud.google.com/storage/docs/json_api/v1/buckets")
    load(storage(buckets={"datasets": {"retention_days": 36_524}}))


def test_rejects_boot_disk_over_64_tib() -> None:
    assert_problem(stack(gpu_pools={"l4": {**L4, "boot_disk_size_gb": 65_537}}),
                   "aidc:gpu_pools.l4.boot_disk_size_gb", "65536")


def test_rejects_more_labels_than_a_resource_takes() -> None:
    """A resource carries the stack's labels and aidc's own; GCP allows 64 (this one used to
    pass validation and fail at plan with a message naming no field)."""
    labels = {f"k{i}": "v" for i in range(61)}
    assert_problem(base_stack(**{"aidc:labels": labels}), "aidc:labels", "65 labels",
                   "at most 64")
    load(base_stack(**{"aidc:labels": {f"k{i}": "v" for i in range(60)}}))
    bucket = {"labels": {f"b{i}": "v" for i in range(60)}}
    assert_problem(storage(buckets={"datasets": bucket}), "aidc:storage.buckets.datasets.labels",
                   "at most 64")


# ---------------------------------------------------------------------------------------------
# API names


@pytest.mark.parametrize("api", ["not a service!", "compute", "compute.googleapis.com.evil.org",
                                 "Compute.googleapis.com", "-x.googleapis.com"])
def test_rejects_api_names_service_usage_does_not_take(api: str) -> None:
    assert_problem(base_stack(**{"aidc:apis": [api]}), "aidc:apis[0]",
                   "is not a Google service name", "googleapis.com")


@pytest.mark.parametrize("api", ["aiplatform.googleapis.com", "my-api.endpoints.acme-ai-dev.cloud.goog"])
def test_accepts_service_names(api: str) -> None:
    assert load(base_stack(**{"aidc:apis": [api]})).apis == [api]


def test_rejects_api_listed_twice() -> None:
    assert_problem(base_stack(**{"aidc:apis": ["pubsub.googleapis.com"] * 2}), "aidc:apis[1]",
                   "listed twice")


def test_rejects_apis_sharing_a_short_name() -> None:
    """Each enabled API is a plan resource named by its short name: two sharing one used to
    pass validation and fail at plan with a duplicate resource."""
    assert_problem(base_stack(**{"aidc:apis": ["ml-x.googleapis.com", "ml.x.googleapis.com"]}),
                   "aidc:apis[0]", "short name 'ml-x'", "ml.x.googleapis.com")


def test_apis_sharing_a_first_label_have_their_own_names() -> None:
    """compute.sandbox.googleapis.com goes by 'compute-sandbox', beside 'compute'."""
    assert load(base_stack(**{"aidc:apis": ["compute.sandbox.googleapis.com"]})).apis


# ---------------------------------------------------------------------------------------------
# monitoring that could never plan


def test_rejects_self_managed_monitoring_without_a_cluster() -> None:
    flat = base_stack(**{"aidc:monitoring": {"mode": "self-managed", "dashboards": ["storage"]}})
    assert_problem(flat, "aidc:monitoring.mode", "runs Prometheus in the cluster")


def test_self_managed_monitoring_turns_gkes_dcgm_off() -> None:
    """Self-managed monitoring runs its own DCGM exporter, so GKE's is not enabled (two DCGM
    clients contend); this config used to validate and then fail at plan."""
    cfg = load(stack(monitoring={"mode": "self-managed", "dashboards": ["storage"]}))
    assert cfg.gke_managed_dcgm is False
    assert load(stack(monitoring={"mode": "managed"})).gke_managed_dcgm is True
