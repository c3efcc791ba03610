"""Pricing a plan: hand-computed figures for each kind of resource, node counts read the way GKE
reads them, every shipped plan fully accounted for, and nothing counted as zero silently."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.catalog.prices import CATALOG, GibMonthPrice, TpuChipPrice
from infra.catalog.source import Source
from infra.cost import Assumptions, CostLine, CostReport, Unpriced, estimate
from infra.cost.pricing import FREE_TYPES, RULES, USAGE_TYPES
from infra.engine.plan import Plan, PlanResource
from infra.errors import AidcError
from tests.helpers import STACKS, STACKS_DIR, plan_stack_file

REGION = "us-central1"
CLUSTER_ID = "projects/p/locations/us-central1/clusters/c1"
TEST_SOURCE = Source("https://example.test/prices", date(2026, 12, 3), "test figure")
# Test-only figures for what the shipped catalog deliberately lacks (TPU, Filestore).
TEST_CATALOG = replace(
    CATALOG,
    tpu_chips={(REGION, "v5p"): TpuChipPrice("v5p", REGION, 2.00, 0.80, 1.40, 0.90, TEST_SOURCE),
               (REGION, "v5e"): TpuChipPrice("v5e", REGION, 1.00, 0.50, None, None, TEST_SOURCE)},
    filestore={(REGION, tier): GibMonthPrice(tier, REGION, usd, TEST_SOURCE)
               for tier, usd in (("ZONAL", 0.30), ("BASIC_HDD", 0.20), ("REGIONAL", 0.45))},
)

G2_ON_DEMAND_NODE = 0.853624 * 730 + 200 * 0.10  # g2-standard-8 VM + 200 GiB pd-balanced
G2_SPOT_NODE = 0.479872 * 730 + 200 * 0.10


def resource(type_: str, name: str, inputs: dict[str, Any], component: str | None = None,
             stack: str = "test") -> PlanResource:
    return PlanResource(urn=f"urn:pulumi:{stack}::aidc::{type_}::{name}", type=type_, name=name,
                        component=component, inputs=inputs)


def cluster(**inputs: Any) -> PlanResource:
    return resource("gcp:container/cluster:Cluster", "gke-cluster",
                    {"name": "c1", "location": REGION, **inputs})


def pool(name: str = "pool", machine: str = "g2-standard-8", *, disk_gib: int | None = 200,
         autoscaling: dict | None = None, node_config: dict | None = None,
         **inputs: Any) -> PlanResource:
    config: dict[str, Any] = {"machineType": machine, "diskType": "pd-balanced"}
    if disk_gib is None:
        config = {"machineType": machine}
    else:
        config["diskSizeGb"] = disk_gib
    config.update(node_config or {})
    base = {"cluster": CLUSTER_ID, "location": REGION, "nodeConfig": config,
            "autoscaling": {"totalMinNodeCount": 1, "totalMaxNodeCount": 3}
            if autoscaling is None else autoscaling}
    return resource("gcp:container/nodePool:NodePool", name, {**base, **inputs})


def plan_of(*resources: PlanResource, stack: str = "test") -> Plan:
    return Plan(project="aidc", stack=stack, resources=list(resources))


def line(report: CostReport, name: str) -> CostLine:
    found = [item for item in report.lines if item.name == name]
    assert len(found) == 1, f"{name} is not a priced line: {report.unpriced}"
    return found[0]


def unpriced(report: CostReport, name: str) -> Unpriced:
    found = [item for item in report.unpriced if item.name == name]
    assert len(found) == 1, f"{name} is not unpriced"
    return found[0]


# --- node pools: arithmetic ---------------------------------------------------------------------


def test_gpu_pool_at_min_and_max() -> None:
    """1-3 g2-standard-8 nodes on demand: each the VM's hourly price x 730 plus its boot disk."""
    report = estimate(plan_of(cluster(), pool()))
    pool_line = line(report, "pool")
    assert pool_line.monthly_min == round(1 * G2_ON_DEMAND_NODE, 2) == 643.15
    assert pool_line.monthly_max == round(3 * G2_ON_DEMAND_NODE, 2) == 1929.44
    assert pool_line.capacity == "on-demand"
    assert pool_line.basis.startswith("1-3 nodes (autoscaling totals) x g2-standard-8 x "
                                      "on-demand us-central1 x 730 h")


def test_spot_is_priced_at_the_spot_rate() -> None:
    """The same pool on Spot: the Spot hourly rate, the same disk."""
    report = estimate(plan_of(cluster(), pool(node_config={"spot": True})))
    spot = line(report, "pool")
    assert (spot.monthly_min, spot.monthly_max) == (round(G2_SPOT_NODE, 2),
                                                    round(3 * G2_SPOT_NODE, 2))
    assert spot.capacity == "spot"
    preemptible = line(estimate(plan_of(cluster(), pool(node_config={"preemptible": True}))),
                       "pool")
    assert preemptible.monthly_max == spot.monthly_max
    assert "Spot Preemptible" in preemptible.basis


def test_per_zone_counts_multiply_by_the_pools_zones() -> None:
    """minNodeCount/maxNodeCount count per zone: 1-2 per zone over 3 zones is 3-6 nodes."""
    zoned = pool(autoscaling={"minNodeCount": 1, "maxNodeCount": 2},
                 nodeLocations=["us-central1-a", "us-central1-b", "us-central1-c"])
    pool_line = line(estimate(plan_of(cluster(), zoned)), "pool")
    assert pool_line.monthly_min == round(3 * G2_ON_DEMAND_NODE, 2)
    assert pool_line.monthly_max == round(6 * G2_ON_DEMAND_NODE, 2)
    assert "autoscaling 1-2 per zone x 3 zones" in pool_line.basis


def test_per_zone_counts_fall_back_to_the_clusters_zones() -> None:
    fixed = pool(autoscaling={}, nodeCount=2)
    report = estimate(plan_of(cluster(nodeLocations=["us-central1-a", "us-central1-f"]), fixed))
    assert line(report, "pool").monthly_max == round(4 * G2_ON_DEMAND_NODE, 2)


def test_rejects_per_zone_counts_when_no_zones_are_named() -> None:
    """A regional cluster's default zones are GKE's choice: unpriced, and it says why."""
    report = estimate(plan_of(cluster(), pool(autoscaling={"minNodeCount": 0, "maxNodeCount": 4})))
    assert "per zone" in unpriced(report, "pool").reason
    assert "nodeLocations" in unpriced(report, "pool").reason


@given(st.integers(min_value=0, max_value=50), st.integers(min_value=1, max_value=500))
def test_doubling_a_pools_maximum_doubles_its_maximum_cost(low: int, high: int) -> None:
    """Cost is linear in nodes: twice the maximum node count is twice the maximum cost."""
    high = max(low, high)

    def max_cost(maximum: int) -> float:
        sized = pool(autoscaling={"totalMinNodeCount": low, "totalMaxNodeCount": maximum})
        return line(estimate(plan_of(cluster(), sized)), "pool").monthly_max

    assert max_cost(2 * high) == pytest.approx(2 * max_cost(high), abs=0.011)


def test_reservation_is_priced_on_demand_unless_a_commitment_is_declared() -> None:
    """A specific reservation bills at on-demand rates; --commitment prices it at the CUD rate."""
    reserved = pool(machine="a3-highgpu-8g", node_config={"reservationAffinity": {
        "consumeReservationType": "SPECIFIC_RESERVATION", "values": ["r1"]}},
        autoscaling={"totalMinNodeCount": 0, "totalMaxNodeCount": 16})
    disk = 200 * 0.10
    on_demand = line(estimate(plan_of(cluster(), reserved)), "pool")
    assert on_demand.monthly_max == round(16 * (88.49 * 730 + disk), 2)
    assert on_demand.capacity == "reservation r1"
    assert "billed at on-demand rates" in on_demand.basis
    committed = line(estimate(plan_of(cluster(), reserved),
                              assumptions=Assumptions(commitments={"pool": "3y"})), "pool")
    assert committed.monthly_max == round(16 * (28371.0 + disk), 2)
    assert committed.capacity == "3y commitment (reservation)"


def test_local_ssd_beyond_what_the_machine_bundles_is_added() -> None:
    """a2-ultragpu-8g bundles 8 Local SSDs (in its price); 8 requested add nothing, 10 add 2."""
    def cost(count: int) -> float:
        ssd = pool(machine="a2-ultragpu-8g", node_config={
            "ephemeralStorageLocalSsdConfig": {"localSsdCount": count}})
        return line(estimate(plan_of(cluster(), ssd)), "pool").monthly_min

    assert cost(8) == round(40.550383 * 730 + 20, 2)
    assert cost(10) == round(40.550383 * 730 + 20 + 2 * 375 * 0.08, 2)


def test_default_boot_disk_is_the_providers_default() -> None:
    """No diskType/diskSizeGb: 100 GiB pd-balanced, said in the basis and sourced."""
    pool_line = line(estimate(plan_of(cluster(), pool(disk_gib=None))), "pool")
    assert pool_line.monthly_min == round(0.853624 * 730 + 100 * 0.10, 2)
    assert "100 GiB pd-balanced boot disk (default)" in pool_line.basis
    assert any("pulumi.com" in s.url for s in pool_line.sources)


@pytest.mark.parametrize("node_config, inputs, needle", [
    ({"flexStart": True}, {}, "flex-start capacity is billed at Dynamic Workload Scheduler"),
    ({}, {"queuedProvisioning": {"enabled": True}}, "queued capacity is billed at Dynamic"),
    ({"diskType": "hyperdisk-balanced"}, {}, "no hyperdisk-balanced price"),
])
def test_rejects_capacity_the_catalog_cannot_price(node_config, inputs, needle) -> None:
    """DWS and Hyperdisk Balanced are unpriced with the reason, never counted as zero."""
    report = estimate(plan_of(cluster(), pool(node_config=node_config, **inputs)))
    assert needle in unpriced(report, "pool").reason


def test_rejects_n1_with_attached_gpus() -> None:
    n1 = pool(machine="n1-standard-8", node_config={
        "guestAccelerators": [{"type": "nvidia-tesla-t4", "count": 1}]})
    assert "attached-GPU prices" in unpriced(estimate(plan_of(cluster(), n1)), "pool").reason


# --- TPU slices ---------------------------------------------------------------------------------


def tpu_pool(topology: str | None, machine: str, autoscaling: dict, **node: Any) -> PlanResource:
    inputs: dict[str, Any] = {"nodeLocations": ["us-central1-a"]}
    if topology:
        inputs["placementPolicy"] = {"type": "COMPACT", "tpuTopology": topology}
    return pool("tpu", machine, disk_gib=None, autoscaling=autoscaling, node_config=node,
                **inputs)


def test_tpu_multi_host_slice() -> None:
    """v5p 4x4x4 is 16 hosts of 4 chips: 16 x (4 chips x $2.00 x 730 h + 100 GiB x $0.10)."""
    slice_pool = tpu_pool("4x4x4", "ct5p-hightpu-4t", {"minNodeCount": 0, "maxNodeCount": 16})
    tpu = line(estimate(plan_of(cluster(), slice_pool), catalog=TEST_CATALOG), "tpu")
    per_node = 4 * 2.00 * 730 + 100 * 0.10
    assert (tpu.monthly_min, tpu.monthly_max) == (0.0, round(16 * per_node, 2)) == (0.0, 93600.0)
    assert "4 v5p chips at $2/chip-h" in tpu.basis


def test_tpu_multi_host_counts_round_up_to_whole_slices() -> None:
    """A multi-host slice is created whole: 1-20 nodes of 16-host slices is 1-2 slices."""
    slice_pool = tpu_pool("4x4x4", "ct5p-hightpu-4t", {"minNodeCount": 1, "maxNodeCount": 20})
    tpu = line(estimate(plan_of(cluster(), slice_pool), catalog=TEST_CATALOG), "tpu")
    per_node = 4 * 2.00 * 730 + 100 * 0.10
    assert (tpu.monthly_min, tpu.monthly_max) == (round(16 * per_node, 2), round(32 * per_node, 2))
    assert "1-2 slices" in tpu.basis


def test_tpu_single_host_and_spot() -> None:
    """A v5e 2x2 single host on Spot: 4 chips x $0.50 x 730 h a node, no rounding."""
    host = tpu_pool(None, "ct5lp-hightpu-4t", {"minNodeCount": 0, "maxNodeCount": 1}, spot=True)
    tpu = line(estimate(plan_of(cluster(), host), catalog=TEST_CATALOG), "tpu")
    assert tpu.monthly_max == round(4 * 0.50 * 730 + 100 * 0.10, 2)


def test_tpu_slice_on_demand_spot_and_committed() -> None:
    """The same v5p 4x4x4 slice (16 hosts x 4 chips, 100 GiB boot disk each), hand computed
    per host as chips x $/chip-h x 730 h + 100 GiB x $0.10: on demand $2.00 -> $5,850, Spot
    $0.80 -> $2,346, a 1-year commitment $1.40 -> $4,098; x 16 hosts at the maximum, 0 at the
    minimum."""
    slice_pool = tpu_pool("4x4x4", "ct5p-hightpu-4t", {"minNodeCount": 0, "maxNodeCount": 16})
    spot_pool = tpu_pool("4x4x4", "ct5p-hightpu-4t", {"minNodeCount": 0, "maxNodeCount": 16},
                         spot=True)
    on_demand = line(estimate(plan_of(cluster(), slice_pool), catalog=TEST_CATALOG), "tpu")
    spot = line(estimate(plan_of(cluster(), spot_pool), catalog=TEST_CATALOG), "tpu")
    committed = line(estimate(plan_of(cluster(), slice_pool), catalog=TEST_CATALOG,
                              assumptions=Assumptions(commitments={"tpu": "1y"})), "tpu")
    assert [(x.monthly_min, x.monthly_max) for x in (on_demand, spot, committed)] == [
        (0.0, 93_600.0), (0.0, 37_536.0), (0.0, 65_568.0)]
    assert (on_demand.capacity, spot.capacity, committed.capacity) == (
        "on-demand", "spot", "1y commitment")
    assert "4 v5p chips at $0.8/chip-h" in spot.basis


def test_tpu_is_unpriced_in_the_shipped_catalog() -> None:
    host = tpu_pool(None, "ct5lp-hightpu-4t", {"minNodeCount": 0, "maxNodeCount": 1})
    assert "https://cloud.google.com/tpu/pricing" in unpriced(
        estimate(plan_of(cluster(), host)), "tpu").reason


# --- the other resources ------------------------------------------------------------------------


def test_cluster_fee() -> None:
    """One cluster: $0.10 an hour x 730 h; a zonal one notes the free tier it is not given."""
    fee = line(estimate(plan_of(cluster())), "gke-cluster")
    assert (fee.monthly_min, fee.monthly_max) == (73.0, 73.0)
    zonal = line(estimate(plan_of(cluster(location="us-central1-a"))), "gke-cluster")
    assert zonal.monthly_max == 73.0 and "free tier" in zonal.basis


@pytest.mark.parametrize(("tier", "gib", "expected"), [
    ("ZONAL", 2560, 768.0),        # 2,560 GiB x $0.30
    ("ZONAL", 1024, 307.2),        # 1,024 GiB x $0.30
    ("BASIC_HDD", 1024, 204.8),    # 1,024 GiB x $0.20
    ("REGIONAL", 10240, 4608.0),   # 10,240 GiB x $0.45
])
def test_filestore_is_provisioned_capacity_times_the_tier_price(tier: str, gib: int,
                                                                expected: float) -> None:
    """Tier x provisioned GiB at the test catalog's figures, the same whatever is stored; the
    shipped catalog, which has no Filestore prices, says where Google publishes them."""
    share = resource("gcp:filestore/instance:Instance", "share", {
        "tier": tier, "location": "us-central1-a", "fileShares": {"capacityGb": gib}})
    priced = line(estimate(plan_of(share), catalog=TEST_CATALOG), "share")
    assert priced.monthly_min == priced.monthly_max == expected
    assert priced.basis.startswith(f"{gib:,} GiB provisioned x {tier} us-central1")
    assert "filestore/pricing" in unpriced(estimate(plan_of(share)), "share").reason


def test_bucket_needs_a_stated_size() -> None:
    """No size in a plan: unpriced with the rate and the option; with --bucket-gib, priced."""
    bucket = resource("gcp:storage/bucket:Bucket", "data-datasets",
                      {"location": "us-central1", "storageClass": "NEARLINE"})
    reason = unpriced(estimate(plan_of(bucket)), "data-datasets").reason
    assert "NEARLINE us-central1 $0.01/GiB-month" in reason
    assert "--bucket-gib data-datasets=GIB" in reason
    sized = estimate(plan_of(bucket), assumptions=Assumptions(bucket_gib={"data-datasets": 5000}))
    assert line(sized, "data-datasets").monthly_max == 50.0


def test_nat_counts_the_regions_nodes_and_caps_at_32() -> None:
    """1-3 VMs: $0.0014 x VMs + one IP $0.005, per hour; above 32 VMs the gateway is $0.044."""
    nat = resource("gcp:compute/routerNat:RouterNat", "nat", {"region": REGION})
    small = line(estimate(plan_of(cluster(), pool(), nat)), "nat")
    assert small.monthly_min == round((0.0014 * 1 + 0.005) * 730, 2)
    assert small.monthly_max == round((0.0014 * 3 + 0.005) * 730, 2)
    big = pool(autoscaling={"totalMinNodeCount": 0, "totalMaxNodeCount": 40})
    large = line(estimate(plan_of(cluster(), big, nat)), "nat")
    assert (large.monthly_min, large.monthly_max) == (0.0, round((0.044 + 0.005) * 730, 2))
    assert any("Cloud NAT data processed $0.045/GiB" in u for u in large.usage)


def test_kms_key_versions_by_protection_level() -> None:
    def key(level: str | None) -> CostLine:
        template = {"protectionLevel": level} if level else {}
        return line(estimate(plan_of(resource("gcp:kms/cryptoKey:CryptoKey", "k", {
            "versionTemplate": template, "rotationPeriod": "7776000s"}))), "k")

    assert key(None).monthly_max == 0.06
    assert key("HSM").monthly_max == 1.00
    assert "every 90 days" in key("HSM").basis


def test_alert_policy_conditions() -> None:
    policy = resource("gcp:monitoring/alertPolicy:AlertPolicy", "a",
                      {"conditions": [{"displayName": "x"}, {"displayName": "y"}]})
    assert line(estimate(plan_of(policy)), "a").monthly_max == 3.0


def test_free_and_usage_types_are_explicit() -> None:
    """Zero-cost types come from a table with a reason, marked free or usage, never plain 0."""
    report = estimate(plan_of(
        resource("gcp:projects/service:Service", "api", {}),
        resource("gcp:pubsub/topic:Topic", "topic", {}),
        resource("kubernetes:core/v1:Namespace", "ns", {}),
        resource("gcp:compute/globalAddress:GlobalAddress", "psa", {"addressType": "INTERNAL"})))
    assert line(report, "api").charge == "free"
    assert line(report, "api").basis == FREE_TYPES["gcp:projects/service:Service"]
    assert line(report, "topic").charge == "usage" and line(report, "topic").usage
    assert line(report, "ns").charge == "free"
    assert line(report, "psa").charge == "free"
    assert not set(FREE_TYPES) & set(USAGE_TYPES) and not set(FREE_TYPES) & set(RULES)


def test_unknown_types_are_unpriced_with_the_reason() -> None:
    report = estimate(plan_of(resource("gcp:sql/databaseInstance:DatabaseInstance", "db", {})))
    assert unpriced(report, "db").reason == \
        "aidc has no price rule for gcp:sql/databaseInstance:DatabaseInstance"


def test_components_are_not_priced_and_lines_keep_their_component() -> None:
    component = "urn:pulumi:test::aidc::aidc:gpu_pool:GpuNodePool::gpu"
    comp = PlanResource(urn=component, type="aidc:gpu_pool:GpuNodePool", name="gpu",
                        custom=False)
    report = estimate(plan_of(cluster(), comp, replace(pool(), component=component)))
    assert [x.name for x in report.lines] == ["gke-cluster", "pool"]
    assert line(report, "pool").component == component
    assert report.by_component()[1] == {"component": component, "monthly_min": 643.15,
                                        "monthly_max": 1929.44}


@pytest.mark.parametrize("assumptions, needle", [
    (Assumptions(commitments={"nope": "1y"}), "--commitment nope: no node pool of that name; "
                                              "pools are pool"),
    (Assumptions(commitments={"pool": "5y"}), "the term is one of 1y, 3y"),
    (Assumptions(bucket_gib={"b": 1}), "--bucket-gib b: no bucket of that name"),
])
def test_rejects_assumptions_that_name_nothing(assumptions: Assumptions, needle: str) -> None:
    with pytest.raises(AidcError, match=needle):
        estimate(plan_of(cluster(), pool()), assumptions=assumptions)


def test_rejects_a_commitment_on_spot_capacity() -> None:
    with pytest.raises(AidcError, match="a commitment prices on-demand or reservation capacity"):
        estimate(plan_of(cluster(), pool(node_config={"spot": True})),
                 assumptions=Assumptions(commitments={"pool": "1y"}))


def test_report_json_has_the_contract_and_round_trips() -> None:
    """The issue's keys, totals equal to the sum of the lines, and from_dict(as_dict) == self."""
    report = estimate(plan_of(cluster(), pool(), resource("gcp:sql/x:X", "x", {})))
    raw = report.as_dict()
    assert {"currency", "as_of", "hours_per_month", "resources", "unpriced", "total"} <= set(raw)
    assert raw["currency"] == "USD" and raw["hours_per_month"] == 730
    assert set(raw["total"]) == {"monthly_min", "monthly_max"}
    assert {"urn", "type", "name", "monthly_min", "monthly_max", "basis"} <= set(raw["resources"][0])
    assert {"urn", "type", "reason"} <= set(raw["unpriced"][0])
    assert raw["total"]["monthly_max"] == round(sum(r["monthly_max"] for r in raw["resources"]), 2)
    assert CostReport.from_dict(raw) == report


# --- the shipped stacks -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped_plans() -> dict[str, Plan]:
    return {env: plan_stack_file(STACKS_DIR / f"Pulumi.{env}.yaml") for env in STACKS}


@pytest.mark.parametrize("env", STACKS)
def test_every_resource_of_the_shipped_plans_is_accounted_for(
        env: str, shipped_plans: dict[str, Plan]) -> None:
    """Each custom resource is priced (fixed, usage or free, with a basis) or unpriced with a
    reason; none twice, none missing."""
    plan = shipped_plans[env]
    report = estimate(plan)
    accounted = [x.urn for x in report.lines] + [x.urn for x in report.unpriced]
    assert sorted(accounted) == sorted(r.urn for r in plan.custom_resources())
    assert all(x.basis for x in report.lines)
    assert all(x.reason for x in report.unpriced)
    assert not any("no price rule" in x.reason for x in report.unpriced)
    assert report.monthly_max >= report.monthly_min > 0


def test_readme_cost_example_is_the_current_output(shipped_plans: dict[str, Plan]) -> None:
    """The README's staging report shows what `aidc cost staging` prints today."""
    from infra.report.cost import render_cost
    from tests.helpers import REPO

    readme = (REPO / "README.md").read_text()
    printed = render_cost(estimate(shipped_plans["staging"])).splitlines()
    total = next(row for row in printed if row.startswith("Total (priced resources)"))
    assert total in readme
    for row in printed:
        if row.startswith(("  gke-", "  gpu-", "  net-", "gke ", "gpu-", "net ")):
            assert row in readme, row
