"""The compute components under Pulumi mocks: GkeCluster, GpuNodePool and TpuNodePool.

Each plan composes `infra.platform.Platform` from a stack's config and runs it through the
offline engine (`run_program`), so the components are wired exactly as `pulumi up` wires them.
The Plan's camelCase inputs are what the GCP provider, and so GKE, would receive. Every stack is
planned once per module.

Besides the three shipped stacks, a "compute" stack derived from dev carries one pool per
capacity mode, placement, GPUDirect flavour and TPU shape that the shipped stacks lack.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Any

import pytest
import yaml

from infra.catalog.gpu import GPU_MACHINES, GPUDIRECT_PROFILES
from infra.catalog.tpu import TPU_GENERATIONS, tpu_slice
from infra.config.compute import ClusterConfig
from infra.config.load import config_from_flat
from infra.config.platform import PlatformConfig
from infra.engine.plan import STACK_TYPE, Plan, PlanResource
from infra.platform import Platform
from tests.helpers import STACKS_DIR, Captured, contract, last_segment, of_type, plan_of

CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"
NETWORK = "gcp:compute/network:Network"
SUBNET = "gcp:compute/subnetwork:Subnetwork"
FIREWALL = "gcp:compute/firewall:Firewall"
ACCOUNT = "gcp:serviceaccount/account:Account"
PROJECT_IAM = "gcp:projects/iAMMember:IAMMember"
SA_IAM = "gcp:serviceaccount/iAMMember:IAMMember"
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}
QUEUED = "cloud.google.com/gke-queued"
RESERVATION_KEY = "compute.googleapis.com/reservation-name"


def stack_config(env: str) -> dict[str, Any]:
    return yaml.safe_load((STACKS_DIR / f"Pulumi.{env}.yaml").read_text())["config"]


def compute_config() -> dict[str, Any]:
    """dev plus the pools the shipped stacks lack: one per capacity mode, compact placement,
    raw NVMe, blue-green, GPUDirect RDMA, several TPU slices and an Ironwood slice."""
    flat = copy.deepcopy(stack_config("dev"))
    flat["aidc:network"]["gpu_supernet"] = "192.168.0.0/16"
    flat["aidc:gpu_pools"].update({
        "resv": {"machine_type": "g2-standard-12", "capacity": "reservation",
                 "reservation": ["l4-resv"], "autoscaling": {"max_nodes": 1}},
        "queued": {"machine_type": "g2-standard-8", "capacity": "queued",
                   "autoscaling": {"min_nodes": 0, "max_nodes": 2}},
        "flex": {"machine_type": "g2-standard-8", "capacity": "flex_start", "auto_repair": False},
        "compact": {"machine_type": "a3-highgpu-8g", "gpudirect": False, "placement": "compact",
                    "zones": ["us-central1-a"]},
        "nvme": {"machine_type": "a3-highgpu-8g", "gpudirect": False,
                 "local_ssd": {"raw_block_count": 16}},
        "bluegreen": {"machine_type": "g2-standard-8", "upgrade": "blue_green"},
        "ultra": {"machine_type": "a3-ultragpu-8g", "zones": ["us-central1-b"],
                  "autoscaling": {"max_nodes": 2}},
    })
    flat["aidc:tpu_pools"].update({
        "pair": {"generation": "v5e", "topology": "2x4", "machine_type": "ct5lp-hightpu-4t",
                 "slices": 2, "zone": "us-central1-a"},
        "iron": {"generation": "tpu7x", "topology": "2x2x2", "zone": "us-central1-a"},
    })
    return flat


@dataclass
class Built:
    cfg: PlatformConfig
    plan: Plan
    platform: Platform
    captured: Captured

    def one(self, name: str, type_token: str | None = None) -> PlanResource:
        found = [r for r in self.plan.resources
                 if r.name == name and (type_token is None or r.type == type_token)]
        assert len(found) == 1, f"expected one {type_token or 'resource'} named {name!r}, got {len(found)}"
        return found[0]

    def inputs(self, name: str, type_token: str | None = None) -> dict[str, Any]:
        return self.one(name, type_token).inputs


def build(flat: dict[str, Any], stack: str) -> Built:
    cfg = config_from_flat(flat, source=stack)
    captured = Captured()
    holder: dict[str, Platform] = {}

    def program() -> None:
        platform = Platform(cfg)
        holder["platform"] = platform
        captured.keep("gke_key", platform.kms.key_ids["gke"])
        captured.keep("disks_key", platform.kms.key_ids["disks"])
        captured.keep("node_sa", platform.cluster.node_sa_email)

    plan = plan_of(program, config=flat, project="aidc", stack=stack)
    return Built(cfg, plan, holder["platform"], captured)


@pytest.fixture(scope="module")
def prod() -> Built:
    return build(stack_config("prod"), "prod")


@pytest.fixture(scope="module")
def staging() -> Built:
    return build(stack_config("staging"), "staging")


@pytest.fixture(scope="module")
def dev() -> Built:
    return build(stack_config("dev"), "dev")


@pytest.fixture(scope="module")
def compute() -> Built:
    return build(compute_config(), "compute")


@pytest.fixture(params=["dev", "staging", "prod"])
def shipped(request: pytest.FixtureRequest) -> Built:
    return request.getfixturevalue(request.param)


# ---------------------------------------------------------------------------------------------
# GkeCluster


def test_cluster_children(prod: Built) -> None:
    """GkeCluster owns exactly the cluster, the system pool, the node and workload service
    accounts, the node's two IAM grants and the Workload Identity binding; the stack's
    Kubernetes provider, built from its kubeconfig, is parented to it."""
    component = prod.one("gke")
    assert component.type == "aidc:cluster:GkeCluster"
    assert prod.plan.by_urn()[component.parent].type == STACK_TYPE
    assert contract(prod.plan, "gke") == {
        (CLUSTER, "gke-cluster", "gke"),
        (NODE_POOL, "gke-system", "gke"),
        (ACCOUNT, "gke-nodes", "gke"),
        (ACCOUNT, "gke-workloads", "gke"),
        (PROJECT_IAM, "gke-nodes-defaultNodeServiceAccount", "gke"),
        (PROJECT_IAM, "gke-nodes-reader", "gke"),
        (SA_IAM, "gke-workloads-wi", "gke"),
        ("pulumi:providers:kubernetes", "gke-k8s", "gke"),
    }


def test_cluster_identities(prod: Built) -> None:
    """Nodes run as their own least-privilege SA; workloads get theirs through one KSA."""
    node_sa = prod.captured["node_sa"]
    assert prod.inputs("gke-nodes")["accountId"] == node_sa.split("@")[0]
    grants = {prod.inputs(n)["role"]: prod.inputs(n)["member"]
              for n in ("gke-nodes-defaultNodeServiceAccount", "gke-nodes-reader")}
    assert grants == {"roles/container.defaultNodeServiceAccount": f"serviceAccount:{node_sa}",
                      "roles/artifactregistry.reader": f"serviceAccount:{node_sa}"}
    wi = prod.inputs("gke-workloads-wi")
    assert wi["role"] == "roles/iam.workloadIdentityUser"
    assert wi["member"] == "serviceAccount:acme-ai-prod.svc.id.goog[training/trainer]"
    assert wi["serviceAccountId"].endswith(
        f"/serviceAccounts/{prod.inputs('gke-workloads')['accountId']}@acme-ai-prod.iam.gserviceaccount.com")


def test_cluster_inputs_gke_needs(shipped: Built) -> None:
    """Private nodes, authorized networks, Workload Identity, Dataplane V2, the configured
    channel and maintenance window, shielded nodes, secrets under the gke key, no default pool,
    managed Prometheus with DCGM, the GCS FUSE and Filestore CSI drivers and image streaming."""
    cfg = shipped.cfg
    cluster = shipped.inputs("gke-cluster")
    assert cluster["privateClusterConfig"]["enablePrivateNodes"] is True
    assert cluster["privateClusterConfig"]["enablePrivateEndpoint"] is cfg.cluster.private_endpoint
    assert cluster["masterAuthorizedNetworksConfig"]["cidrBlocks"] == [
        {"displayName": k, "cidrBlock": str(v)}
        for k, v in sorted(cfg.cluster.master_authorized_networks.items())]
    assert cluster["workloadIdentityConfig"]["workloadPool"] == f"{cfg.project}.svc.id.goog"
    assert cluster["datapathProvider"] == "ADVANCED_DATAPATH"
    assert cluster["releaseChannel"]["channel"] == cfg.cluster.release_channel
    window = cluster["maintenancePolicy"]["recurringWindow"]
    assert window == {"startTime": cfg.cluster.maintenance.start_time,
                      "endTime": cfg.cluster.maintenance.end_time,
                      "recurrence": cfg.cluster.maintenance.recurrence}
    assert cluster["enableShieldedNodes"] is True
    assert cluster["databaseEncryption"] == {"state": "ENCRYPTED",
                                             "keyName": shipped.captured["gke_key"]}
    assert shipped.captured["gke_key"].endswith("/cryptoKeys/gke")
    assert cluster["removeDefaultNodePool"] is True
    assert cluster["monitoringConfig"]["managedPrometheus"]["enabled"] is True
    assert "DCGM" in cluster["monitoringConfig"]["enableComponents"]
    assert cluster["addonsConfig"]["gcsFuseCsiDriverConfig"]["enabled"] is True
    assert cluster["addonsConfig"]["gcpFilestoreCsiDriverConfig"]["enabled"] is True
    assert cluster["nodePoolDefaults"]["nodeConfigDefaults"]["gcfsConfig"]["enabled"] is True
    assert cluster["nodeConfig"]["serviceAccount"] == shipped.captured["node_sa"]


def test_cluster_rbac_groups_and_intranode_visibility(shipped: Built) -> None:
    """Google Groups for RBAC and intranode visibility follow the config (both set in prod)."""
    cfg, cluster = shipped.cfg.cluster, shipped.inputs("gke-cluster")
    assert cluster["enableIntranodeVisibility"] is cfg.intranode_visibility
    groups = cluster.get("authenticatorGroupsConfig")
    assert groups == ({"securityGroup": cfg.security_group} if cfg.security_group else None)


def test_prod_sets_rbac_groups_and_intranode_visibility(prod: Built) -> None:
    assert prod.cfg.cluster.intranode_visibility is True
    assert prod.cfg.cluster.security_group == "gke-security-groups@acme.example"


@pytest.mark.parametrize("group", ["admins@acme.example", "gke-security-groups@",
                                   "gke-security-groups@localhost", "GKE-security-groups@a.b"])
def test_rejects_a_security_group_gke_would_ignore(group: str) -> None:
    with pytest.raises(ValueError, match="gke-security-groups@<your domain>"):
        ClusterConfig(security_group=group)


def test_prod_maintenance_exclusion(prod: Built) -> None:
    """A named exclusion becomes a NO_UPGRADES window."""
    assert prod.inputs("gke-cluster")["maintenancePolicy"]["maintenanceExclusions"] == [{
        "exclusionName": "model-launch", "startTime": "2027-01-10T00:00:00Z",
        "endTime": "2027-01-24T00:00:00Z", "exclusionOptions": {"scope": "NO_UPGRADES"}}]


@pytest.mark.parametrize("env, protected", [("dev", False), ("staging", False), ("prod", True)])
def test_cluster_deletion_protection_only_in_prod(env: str, protected: bool,
                                                  request: pytest.FixtureRequest) -> None:
    """A production cluster is retained: GKE's deletion protection and Pulumi's protect."""
    built: Built = request.getfixturevalue(env)
    cluster = built.one("gke-cluster")
    assert cluster.inputs["deletionProtection"] is protected
    assert cluster.protect is protected


@pytest.mark.parametrize("env, multi", [("dev", False), ("staging", False), ("prod", True),
                                        ("compute", True)])
def test_multi_networking_only_with_a_gpudirect_pool(env: str, multi: bool,
                                                      request: pytest.FixtureRequest) -> None:
    """Extra node NICs need multi-networking on the cluster; without a GPUDirect pool it stays
    at the provider's default (unset)."""
    built: Built = request.getfixturevalue(env)
    assert any(p.uses_gpudirect for p in built.cfg.gpu_pools.values()) is multi
    assert built.inputs("gke-cluster").get("enableMultiNetworking") is (True if multi else None)


def test_cluster_waits_for_the_gke_key_grant(shipped: Built) -> None:
    """Secrets encryption needs the GKE agent's grant on the key before the cluster exists."""
    deps = {last_segment(u) for u in shipped.one("gke-cluster").dependencies}
    assert {"kms-gke-agent", "gke-nodes-defaultNodeServiceAccount", "gke-nodes-reader"} <= deps
    agent = shipped.one("kms-gke-agent")
    assert agent.urn in shipped.one("gke-cluster").dependencies


def test_cluster_floor_is_left_to_the_release_channel(prod: Built) -> None:
    """With a GPUDirect pool and no explicit floor, no control plane minimum is pinned (the
    release channel picks the version), and the field's description says so rather than
    promising a default."""
    assert prod.cfg.cluster is not None and prod.cfg.cluster.min_master_version is None
    assert any(pool.uses_gpudirect for pool in prod.cfg.gpu_pools.values())
    assert prod.inputs("gke-cluster").get("minMasterVersion") is None
    description = ClusterConfig.model_fields["min_master_version"].description or ""
    assert "no floor is set" in description and "default:" not in description


# ---------------------------------------------------------------------------------------------
# GpuNodePool


def test_gpu_pool_children(prod: Built, compute: Built) -> None:
    """A GpuNodePool is one NodePool named `<name>-pool`, parented to the component, which is a
    root-level aidc:gpu_pool:GpuNodePool."""
    for built in (prod, compute):
        for name in built.cfg.gpu_pools:
            component = built.one(f"gpu-{name}")
            assert component.type == "aidc:gpu_pool:GpuNodePool"
            assert built.plan.by_urn()[component.parent].type == STACK_TYPE
            assert contract(built.plan, f"gpu-{name}") == {(NODE_POOL, f"gpu-{name}-pool", f"gpu-{name}")}


def gpu_node_config(built: Built, name: str) -> dict[str, Any]:
    return built.inputs(f"gpu-{name}-pool")["nodeConfig"]


def test_gpu_pool_node_config(prod: Built, compute: Built) -> None:
    """Every GPU pool: the catalog's accelerator with driver auto-install, gVNIC, a CMEK boot
    disk, secure boot, the GKE metadata server, the dedicated node SA, the GPU taint, and surge
    upgrades that need no spare GPUs."""
    for built in (prod, compute):
        for name, pool in built.cfg.gpu_pools.items():
            gpu = pool.resolved()
            inputs = built.inputs(f"gpu-{name}-pool")
            node = inputs["nodeConfig"]
            assert inputs["name"] == name
            assert node["machineType"] == gpu.machine_type
            assert node["guestAccelerators"] == [{
                "type": gpu.accelerator_type, "count": gpu.accelerator_count,
                "gpuDriverInstallationConfig": {"gpuDriverVersion": pool.gpu_driver_version}}]
            assert node["gvnic"] == {"enabled": True}
            assert node["bootDiskKmsKey"] == built.captured["disks_key"]
            assert built.captured["disks_key"].endswith("/cryptoKeys/disks")
            assert node["shieldedInstanceConfig"]["enableSecureBoot"] is True
            assert node["workloadMetadataConfig"]["mode"] == "GKE_METADATA"
            assert node["serviceAccount"] == built.captured["node_sa"]
            assert not node["serviceAccount"].endswith("-compute@developer.gserviceaccount.com")
            assert GPU_TAINT in node["taints"]
            assert inputs["nodeLocations"] == (pool.zones or built.cfg.zones)
            if pool.upgrade == "surge":
                assert inputs["upgradeSettings"] == {"strategy": "SURGE", "maxSurge": 0,
                                                     "maxUnavailable": 1}


def test_gpu_pool_uses_bundled_local_ssd_as_ephemeral_storage(prod: Built, compute: Built) -> None:
    """A3 machine types bundle 16 Local SSDs; by default all of them back ephemeral storage."""
    a3 = GPU_MACHINES["a3-megagpu-8g"].local_ssd_count
    assert a3 == 16
    assert gpu_node_config(prod, "h100-mega")["ephemeralStorageLocalSsdConfig"] == {"localSsdCount": a3}
    assert gpu_node_config(compute, "compact")["ephemeralStorageLocalSsdConfig"] == {
        "localSsdCount": GPU_MACHINES["a3-highgpu-8g"].local_ssd_count}
    assert "ephemeralStorageLocalSsdConfig" not in gpu_node_config(compute, "l4")


def test_gpu_pool_raw_nvme_local_ssd(compute: Built) -> None:
    """raw_block_count exposes the Local SSDs as raw NVMe devices instead of ephemeral storage."""
    node = gpu_node_config(compute, "nvme")
    assert node["localNvmeSsdBlockConfig"] == {"localSsdCount": 16}
    assert "ephemeralStorageLocalSsdConfig" not in node


def test_gpu_pool_spot(dev: Built) -> None:
    """Spot: spot VMs, no reservation, and the autoscaler may look in any zone."""
    inputs = dev.inputs("gpu-l4-pool")
    assert inputs["nodeConfig"]["spot"] is True
    assert inputs["nodeConfig"]["reservationAffinity"] == {"consumeReservationType": "NO_RESERVATION"}
    assert inputs["autoscaling"]["locationPolicy"] == "ANY"
    assert (inputs["autoscaling"]["totalMinNodeCount"], inputs["autoscaling"]["totalMaxNodeCount"]) == (0, 2)


@pytest.mark.parametrize("env, pool, name", [("prod", "h100-mega", "a3mega-prod-reservation"),
                                             ("compute", "resv", "l4-resv")])
def test_gpu_pool_specific_reservation(env: str, pool: str, name: str,
                                       request: pytest.FixtureRequest) -> None:
    """A specific reservation is consumed by name, and only that one."""
    built: Built = request.getfixturevalue(env)
    node = gpu_node_config(built, pool)
    assert node["reservationAffinity"] == {"consumeReservationType": "SPECIFIC_RESERVATION",
                                           "key": RESERVATION_KEY, "values": [name]}
    assert "spot" not in node


def test_gpu_pool_queued_provisioning(compute: Built) -> None:
    """Queued provisioning (DWS): enabled on the pool, no reservation, the queued label and taint
    on the nodes, and both in the scheduling contract."""
    inputs = compute.inputs("gpu-queued-pool")
    node = inputs["nodeConfig"]
    assert inputs["queuedProvisioning"] == {"enabled": True}
    assert node["reservationAffinity"] == {"consumeReservationType": "NO_RESERVATION"}
    assert node["labels"][QUEUED] == "true"
    assert {"key": QUEUED, "value": "true", "effect": "NO_SCHEDULE"} in node["taints"]
    assert inputs["autoscaling"]["totalMinNodeCount"] == 0
    component = compute.platform.gpu_pools["queued"]
    assert component.node_selector[QUEUED] == "true"
    assert {"key": QUEUED, "operator": "Equal", "value": "true", "effect": "NoSchedule"} in component.tolerations
    assert "queuedProvisioning" not in compute.inputs("gpu-l4-pool")


def test_gpu_pool_flex_start(compute: Built) -> None:
    """Flex-start (DWS): flexStart on the nodes, no reservation, auto-repair off."""
    inputs = compute.inputs("gpu-flex-pool")
    assert inputs["nodeConfig"]["flexStart"] is True
    assert inputs["nodeConfig"]["reservationAffinity"] == {"consumeReservationType": "NO_RESERVATION"}
    assert inputs["management"]["autoRepair"] is False


def test_gpu_pool_compact_placement(prod: Built, compute: Built) -> None:
    """compact: a COMPACT placement policy in the pool's one zone; other pools have none."""
    for built, name in ((prod, "h100-mega"), (compute, "compact")):
        inputs = built.inputs(f"gpu-{name}-pool")
        assert inputs["placementPolicy"] == {"type": "COMPACT"}
        assert len(inputs["nodeLocations"]) == 1
    assert "placementPolicy" not in compute.inputs("gpu-l4-pool")


def test_gpu_pool_blue_green_upgrade(compute: Built) -> None:
    """blue_green swaps the surge settings for a blue-green rollout."""
    settings = compute.inputs("gpu-bluegreen-pool")["upgradeSettings"]
    assert settings["strategy"] == "BLUE_GREEN"
    assert "maxSurge" not in settings


def test_gpu_pool_on_demand_leaves_capacity_at_provider_defaults(compute: Built) -> None:
    """An on-demand pool sets no spot, flex-start, queued or reservation affinity, and balances
    nodes across zones."""
    inputs = compute.inputs("gpu-bluegreen-pool")
    for key in ("spot", "flexStart", "reservationAffinity"):
        assert key not in inputs["nodeConfig"]
    assert "queuedProvisioning" not in inputs
    assert inputs["autoscaling"]["locationPolicy"] == "BALANCED"


def test_gpu_pool_scheduling_contract(prod: Built, compute: Built) -> None:
    """Workloads are written against node_selector, tolerations, resource_name, gpus_per_node
    and max_gpus on the component, and the stack exports the same."""
    mega = prod.platform.gpu_pools["h100-mega"]
    assert mega.node_selector == {"cloud.google.com/gke-accelerator": "nvidia-h100-mega-80gb",
                                  "cloud.google.com/gke-nodepool": "h100-mega"}
    assert mega.tolerations == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert mega.resource_name == "nvidia.com/gpu"
    assert (mega.gpus_per_node, mega.max_gpus) == (8, 8 * 16)
    l4 = compute.platform.gpu_pools["l4"]
    assert (l4.gpus_per_node, l4.max_gpus) == (1, 2)
    assert QUEUED not in l4.node_selector


# ---------------------------------------------------------------------------------------------
# GPUDirect networking


def test_tcpxo_pool_gets_eight_extra_vpcs(prod: Built) -> None:
    """a3-megagpu-8g (GPUDirect-TCPXO): eight extra VPCs with MTU 8244, one subnet each carved
    from gpu_supernet, an internal firewall each, attached in order as additional node networks."""
    profile = GPUDIRECT_PROFILES["tcpxo"]
    assert (profile.extra_nics, profile.mtu, profile.nics) == (8, 8244, 9)
    supernet = prod.cfg.network.gpu_supernet
    attached = prod.inputs("gpu-h100-mega-pool")["networkConfig"]["additionalNodeNetworkConfigs"]
    assert attached == [{"network": f"aidc-prod-h100-mega-gpu{i}",
                         "subnetwork": f"aidc-prod-h100-mega-gpu{i}"} for i in range(8)]
    cidrs = []
    for i in range(8):
        vpc = prod.inputs(f"net-h100-mega-gpu{i}", NETWORK)
        assert (vpc["name"], vpc["mtu"], vpc["autoCreateSubnetworks"]) == \
            (f"aidc-prod-h100-mega-gpu{i}", 8244, False)
        assert "networkProfile" not in vpc
        subnet = prod.inputs(f"net-h100-mega-gpu{i}", SUBNET)
        assert subnet["network"].endswith(f"/networks/aidc-prod-h100-mega-gpu{i}")
        cidrs.append(IPv4Network(subnet["ipCidrRange"]))
        assert prod.inputs(f"net-h100-mega-gpu{i}-internal", FIREWALL)["sourceRanges"] == [subnet["ipCidrRange"]]
    assert all(c.subnet_of(supernet) for c in cidrs)
    assert len(set(cidrs)) == 8 and not any(a.overlaps(b) for a in cidrs for b in cidrs if a != b)
    assert all(c.num_addresses - 4 >= 16 for c in cidrs)  # the pool's max_nodes


def test_rdma_pool_gets_a_gvnic_vpc_and_one_roce_vpc(compute: Built) -> None:
    """a3-ultragpu-8g (RDMA): one extra gVNIC VPC, plus one RoCE VPC holding eight subnets with
    the zone's `<zone>-vpc-roce` network profile and no firewall rules; nine extra networks."""
    attached = compute.inputs("gpu-ultra-pool")["networkConfig"]["additionalNodeNetworkConfigs"]
    assert attached == [{"network": "aidc-dev-ultra-gvnic0", "subnetwork": "aidc-dev-ultra-gvnic0"}] + [
        {"network": "aidc-dev-ultra-roce", "subnetwork": f"aidc-dev-ultra-gpu{i}"} for i in range(8)]
    gvnic = compute.inputs("net-ultra-gvnic0", NETWORK)
    assert "networkProfile" not in gvnic
    roce = compute.inputs("net-ultra-roce", NETWORK)
    assert roce["networkProfile"] == \
        "projects/acme-ai-dev/global/networkProfiles/us-central1-b-vpc-roce"
    assert roce["mtu"] == gvnic["mtu"] == GPUDIRECT_PROFILES["rdma"].mtu
    roce_subnets = [r for r in of_type(compute.plan, SUBNET) if r.inputs["network"].endswith("/aidc-dev-ultra-roce")]
    assert sorted(r.name for r in roce_subnets) == [f"net-ultra-gpu{i}" for i in range(8)]
    supernet = compute.cfg.network.gpu_supernet
    assert all(IPv4Network(r.inputs["ipCidrRange"]).subnet_of(supernet) for r in roce_subnets)
    firewalls = {r.name for r in of_type(compute.plan, FIREWALL)}
    assert "net-ultra-gvnic0-internal" in firewalls
    assert not any(n.startswith("net-ultra-roce") for n in firewalls)
    assert compute.inputs("gpu-ultra-pool")["nodeConfig"]["diskType"] == "hyperdisk-balanced"


def test_pools_without_gpudirect_get_no_extra_networks(compute: Built, dev: Built) -> None:
    """Only GPUDirect pools attach additional node networks."""
    for built, name in ((dev, "l4"), (compute, "compact"), (compute, "nvme")):
        network_config = built.inputs(f"gpu-{name}-pool")["networkConfig"]
        assert network_config == {"enablePrivateNodes": True}


# ---------------------------------------------------------------------------------------------
# TpuNodePool


def test_tpu_pool_children(compute: Built, prod: Built) -> None:
    """One NodePool per slice, `<name>-slice<i>`, parented to the aidc:tpu_pool:TpuNodePool and
    nothing else (Ironwood's multi-host pools are pinned by NodePool only: they are due a
    workload policy child, see test_tpu7x_multi_host_uses_a_workload_policy)."""
    for built in (prod, compute):
        for name, tpu in built.cfg.tpu_pools.items():
            component = built.one(f"tpu-{name}")
            assert component.type == "aidc:tpu_pool:TpuNodePool"
            assert built.plan.by_urn()[component.parent].type == STACK_TYPE
            children = contract(built.plan, f"tpu-{name}")
            if TPU_GENERATIONS[tpu.generation].multi_host_workload_policy and tpu.slice().multi_host:
                children = {c for c in children if c[0] == NODE_POOL}
            assert children == {
                (NODE_POOL, f"tpu-{name}-slice{i}", f"tpu-{name}") for i in range(tpu.slices)}


def test_tpu_multi_host_slice(staging: Built) -> None:
    """v5e 4x4 is four ct5lp-hightpu-4t nodes in one zone under a COMPACT placement naming the
    topology; per-zone limits equal the slice; spot opts out of reservations."""
    inputs = staging.inputs("tpu-v5e-slice-slice0")
    assert inputs["name"] == "v5e-slice"
    assert inputs["nodeConfig"]["machineType"] == "ct5lp-hightpu-4t"
    assert inputs["nodeLocations"] == ["us-central1-a"]
    assert inputs["placementPolicy"] == {"type": "COMPACT", "tpuTopology": "4x4"}
    assert inputs["autoscaling"] == {"minNodeCount": 0, "maxNodeCount": 4, "locationPolicy": "ANY"}
    assert inputs["nodeConfig"]["spot"] is True
    pool = staging.platform.tpu_pools["v5e-slice"]
    assert (pool.chips_per_slice, pool.total_chips) == (16, 16)
    assert pool.node_selector == {"cloud.google.com/gke-tpu-accelerator": "tpu-v5-lite-podslice",
                                  "cloud.google.com/gke-tpu-topology": "4x4"}


def test_tpu_multi_host_slice_held_whole(prod: Built) -> None:
    """prod's v5p 4x4x4 (64 chips, 16 ct5p-hightpu-4t nodes) stays up whole: min = max = 16."""
    inputs = prod.inputs("tpu-v5p-slice-slice0")
    assert inputs["nodeConfig"]["machineType"] == "ct5p-hightpu-4t"
    assert inputs["placementPolicy"] == {"type": "COMPACT", "tpuTopology": "4x4x4"}
    assert (inputs["autoscaling"]["minNodeCount"], inputs["autoscaling"]["maxNodeCount"]) == (16, 16)
    assert inputs["initialNodeCount"] == 16
    assert prod.platform.tpu_pools["v5p-slice"].total_chips == 64


def test_tpu_single_host_slice(dev: Built) -> None:
    """A single-host slice (v5e 2x2: one ct5lp-hightpu-4t) sets no placement policy or topology,
    and autoscales up to its max_nodes."""
    inputs = dev.inputs("tpu-v5e-dev-slice0")
    assert inputs["nodeConfig"]["machineType"] == "ct5lp-hightpu-4t"
    assert "placementPolicy" not in inputs
    assert inputs["autoscaling"] == {"minNodeCount": 0, "maxNodeCount": 1}
    assert (dev.platform.tpu_pools["v5e-dev"].chips_per_slice,
            dev.platform.tpu_pools["v5e-dev"].total_chips) == (4, 4)


def test_tpu_one_pool_per_slice(compute: Built) -> None:
    """slices: 2 is two node pools `<name>-0`, `<name>-1`, each a whole 2x4 slice of two VMs."""
    hosts = tpu_slice("v5e", "2x4", "ct5lp-hightpu-4t").hosts
    assert hosts == 2
    for i in range(2):
        inputs = compute.inputs(f"tpu-pair-slice{i}")
        assert inputs["name"] == f"pair-{i}"
        assert inputs["placementPolicy"] == {"type": "COMPACT", "tpuTopology": "2x4"}
        assert inputs["autoscaling"]["maxNodeCount"] == hosts
    pool = compute.platform.tpu_pools["pair"]
    assert (pool.chips_per_slice, pool.total_chips) == (8, 16)


def test_tpu_pool_hardening(shipped: Built) -> None:
    """TPU VMs get what every node gets: the node SA, a CMEK boot disk, secure boot, the GKE
    metadata server, private nodes, and surge upgrades of one node at a time."""
    for name in shipped.cfg.tpu_pools:
        inputs = shipped.inputs(f"tpu-{name}-slice0")
        node = inputs["nodeConfig"]
        assert node["serviceAccount"] == shipped.captured["node_sa"]
        assert node["bootDiskKmsKey"] == shipped.captured["disks_key"]
        assert node["shieldedInstanceConfig"]["enableSecureBoot"] is True
        assert node["workloadMetadataConfig"]["mode"] == "GKE_METADATA"
        assert inputs["networkConfig"]["enablePrivateNodes"] is True
        assert inputs["upgradeSettings"] == {"strategy": "SURGE", "maxSurge": 0, "maxUnavailable": 1}


def test_tpu7x_multi_host_uses_a_workload_policy(compute: Built) -> None:
    """Ironwood multi-host pools reference a HIGH_THROUGHPUT workload policy carrying the
    topology (`--placement-policy`), never `--tpu-topology`."""
    placement = compute.inputs("tpu-iron-slice0")["placementPolicy"]
    assert "tpuTopology" not in placement
    assert placement.get("policyName")
