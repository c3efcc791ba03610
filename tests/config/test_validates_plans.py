"""A config that validates plans: whatever `aidc config validate` accepts, `aidc plan` builds
without an error. A config that passes validation and then fails at plan (with a message that
names neither file nor field) is a gap in the validators, and this test finds it.

Configs are generated from the domain (catalog regions and zones, GPU machine types, TPU
topologies, Filestore sizes, names up to and past GCP's length limits, maintenance windows and
exclusions), written as stack files and run through the same two functions as the CLI:
`load_stack_file` (`aidc config validate`) and `plan_stack` (`aidc plan`), in process.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.catalog.filestore import FILESTORE_TIERS
from infra.catalog.gpu import GPU_MACHINES
from infra.catalog.regions import BUCKET_LOCATIONS, REGIONS
from infra.catalog.tpu import TPU_GENERATIONS
from infra.config.load import load_stack_file
from infra.errors import AidcError
from infra.plan import plan_stack
from tests.helpers import write_stack

# Few examples, each a whole plan: enough to reach the composed names and cross-section rules
# in CI time; the strategies keep most examples valid so that most of them are planned.
PLANS = settings(max_examples=20, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                        HealthCheck.filter_too_much])

# Names from short to past the limits, so composed names (cluster, node pools, NIC VPCs) are
# reached at and beyond GCP's lengths.
def sized_name(longest: int) -> st.SearchStrategy[str]:
    """RFC 1035 names of every length up to `longest`, the long ones as likely as the short."""
    return st.integers(1, longest).flatmap(lambda n: st.builds(
        lambda head, body, tail: (head + body + tail)[:n],
        st.sampled_from("abcdefghijklmnopqrstuvwxyz"),
        st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=max(n - 2, 0), max_size=max(n - 2, 0)),
        st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789")))


short = st.from_regex(r"[a-z][a-z0-9]{0,5}", fullmatch=True)
name = sized_name(18)
long_name = sized_name(42)
# Regions Cloud Storage also offers, so buckets may default to the stack region.
STORAGE_REGIONS = sorted(r for r in REGIONS if r.upper() in BUCKET_LOCATIONS)
APIS = ["aiplatform.googleapis.com", "artifactregistry.googleapis.com", "pubsub.googleapis.com",
        "secretmanager.googleapis.com", "bigquery.googleapis.com", "container.googleapis.com"]
EPOCH = datetime(2027, 1, 1, tzinfo=timezone.utc)


def _rfc3339(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


@st.composite
def buckets(draw: st.DrawFn) -> dict[str, Any]:
    out = {}
    for purpose in draw(st.lists(st.sampled_from(["datasets", "checkpoints", "models",
                                                  "artifacts", "scratch-data"]), unique=True,
                                 max_size=3)):
        spec: dict[str, Any] = {
            "classification": draw(st.sampled_from(["public", "internal", "confidential",
                                                    "restricted"])),
            "storage_class": draw(st.sampled_from(["STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE"])),
            "soft_delete_days": draw(st.sampled_from([0, 7, 30, 90])),
        }
        if draw(st.booleans()):
            spec["retention_days"] = draw(st.integers(1, 36524))
        if draw(st.booleans()):
            spec["lifecycle"] = [{"action": "Delete", "age_days": draw(st.integers(0, 3650))},
                                 {"action": "SetStorageClass", "age_days": 30,
                                  "storage_class": "NEARLINE"}]
        out[purpose] = spec
    return out


@st.composite
def filestore(draw: st.DrawFn) -> dict[str, Any]:
    tier = draw(st.sampled_from(sorted(t for t, r in FILESTORE_TIERS.items() if not r.legacy)))
    record = FILESTORE_TIERS[tier]
    size = draw(st.sampled_from(record.ranges))
    steps = (size.max_gib - size.min_gib) // size.step_gib
    return {"tier": tier, "name": draw(name),
            "capacity_gib": size.min_gib + draw(st.integers(0, min(steps, 40))) * size.step_gib,
            "cmek": record.cmek, "classification": draw(st.sampled_from(["internal", "restricted"]))}


@st.composite
def maintenance(draw: st.DrawFn) -> dict[str, Any]:
    start = EPOCH + timedelta(hours=draw(st.integers(0, 24 * 30)))
    out: dict[str, Any] = {
        "start_time": _rfc3339(start),
        "end_time": _rfc3339(start + timedelta(hours=draw(st.integers(4, 12)))),
        "recurrence": draw(st.sampled_from(["FREQ=DAILY", "FREQ=WEEKLY;BYDAY=SA,SU",
                                            "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"])),
    }
    exclusions = {}
    for key in draw(st.lists(short, unique=True, max_size=2)):
        first = EPOCH + timedelta(days=draw(st.integers(0, 300)))
        exclusions[key] = [_rfc3339(first),
                           _rfc3339(first + timedelta(hours=draw(st.integers(1, 24 * 30))))]
    if exclusions:
        out["exclusions"] = exclusions
    return out


@st.composite
def gpu_pool(draw: st.DrawFn, zones: list[str]) -> dict[str, Any]:
    pool: dict[str, Any] = {"machine_type": draw(st.sampled_from(sorted(GPU_MACHINES)))}
    capacity = draw(st.sampled_from(["on_demand", "spot", "reservation", "queued", "flex_start"]))
    pool["capacity"] = capacity
    low = 0 if capacity == "queued" else draw(st.integers(0, 2))
    pool["autoscaling"] = {"min_nodes": low, "max_nodes": low + draw(st.integers(0, 3)) or 1}
    if capacity == "reservation":
        pool["reservation"] = "gpu-reservation"
    if capacity == "flex_start":
        pool["auto_repair"] = False
    if draw(st.booleans()):
        pool["zones"] = [draw(st.sampled_from(zones))]
        pool["placement"] = draw(st.sampled_from(["none", "compact"]))
    if draw(st.booleans()):
        pool.update(gpudirect=draw(st.sampled_from([None, False])),
                    max_pods_per_node=draw(st.sampled_from([None, 8, 32, 110])),
                    boot_disk_size_gb=draw(st.sampled_from([10, 200, 65536])),
                    gpu_driver_version=draw(st.sampled_from(["DEFAULT", "LATEST"])),
                    upgrade=draw(st.sampled_from(["surge", "blue_green"])),
                    labels={"team": draw(short)})
    return pool


@st.composite
def tpu_pool(draw: st.DrawFn, zones: list[str]) -> dict[str, Any]:
    generation = draw(st.sampled_from(sorted(TPU_GENERATIONS)))
    topology = draw(st.sampled_from(TPU_GENERATIONS[generation].accepted_topologies()[:6]))
    return {"generation": generation, "topology": topology, "zone": draw(st.sampled_from(zones)),
            "slices": draw(st.integers(1, 3))}


@st.composite
def stacks(draw: st.DrawFn) -> dict[str, Any]:
    region = draw(st.sampled_from(STORAGE_REGIONS))
    zones = draw(st.lists(st.sampled_from(list(REGIONS[region].zones)), min_size=1, max_size=3,
                          unique=True))
    flat: dict[str, Any] = {
        "gcp:project": draw(st.from_regex(r"[a-z][a-z0-9-]{4,20}[a-z0-9]", fullmatch=True)),
        "gcp:region": region,
        "aidc:environment": draw(st.sampled_from(["dev", "staging", "prod", "perf-test1"])),
        "aidc:zones": zones,
        "aidc:labels": draw(st.dictionaries(st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True),
                                            short, min_size=1, max_size=62)),
        "aidc:network": {"name": draw(name), "base_cidr": "10.0.0.0/8", "max_nodes": 256,
                         "max_pods_per_node": draw(st.sampled_from([32, 64, 110])),
                         "gpu_supernet": "192.168.0.0/16", "iap_ssh": draw(st.booleans())},
        "aidc:encryption": {"key_ring": draw(name),
                            "protection_level": draw(st.sampled_from(["SOFTWARE", "HSM"])),
                            "rotation_days": draw(st.integers(1, 36500))},
        "aidc:apis": draw(st.lists(st.sampled_from(APIS), unique=True, max_size=3)),
    }
    storage: dict[str, Any] = {"buckets": draw(buckets())}
    if draw(st.booleans()):
        storage["location"] = draw(st.sampled_from(sorted(BUCKET_LOCATIONS)))
    if draw(st.booleans()):
        storage["filestore"] = draw(filestore())
    flat["aidc:storage"] = storage
    if draw(st.booleans()):
        flat["aidc:cluster"] = {
            "name": draw(long_name),
            "release_channel": draw(st.sampled_from(["RAPID", "REGULAR", "STABLE", "EXTENDED"])),
            "master_authorized_networks": {"corp-vpn": "203.0.113.0/24"},
            "maintenance": draw(maintenance()),
            "system_pool": {"min_nodes": 1, "max_nodes": draw(st.integers(1, 6))},
            "intranode_visibility": draw(st.booleans()),
            "private_endpoint": draw(st.booleans()),
            "binary_authorization": draw(st.booleans()),
        }
        flat["aidc:gpu_pools"] = draw(st.dictionaries(long_name, gpu_pool(zones), max_size=2))
        flat["aidc:tpu_pools"] = draw(st.dictionaries(long_name, tpu_pool(zones), max_size=1))
    if draw(st.booleans()):
        mode = draw(st.sampled_from(["managed", "self-managed"]))
        dashboards = ["tpu", "storage", "network"] + (["gpu"] if mode == "managed" else [])
        flat["aidc:monitoring"] = {
            "mode": mode, "namespace": draw(name),
            "channels": {"team": {"type": "email", "address": "team@acme.example"}},
            "routes": {"critical": ["team"]},
            "dashboards": draw(st.lists(st.sampled_from(dashboards), unique=True, min_size=1))}
    if storage["buckets"] and draw(st.booleans()):
        flat["aidc:transfers"] = {draw(name): {
            "source": "s3://acme-datasets/imagenet/", "sink_bucket": sorted(storage["buckets"])[0],
            "role_arn": "arn:aws:iam::123456789012:role/gcp-sts-reader",
            "start_date": "2027-01-04", "notify": draw(st.booleans())}}
    return flat


@PLANS
@given(flat=stacks())
def test_a_config_that_validates_plans(flat: dict[str, Any]) -> None:
    """Every generated stack that `aidc config validate` accepts is planned without an error
    (the plan's own AidcError included: that too is a problem validation should have named)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_stack(Path(tmp), flat, name="fuzz")
        try:
            load_stack_file(path)
        except AidcError:
            return
        plan = plan_stack("fuzz", path)
        assert plan.resources
