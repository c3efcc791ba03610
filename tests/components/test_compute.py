"""The compute components as infra/platform.py composes them: the cluster in the stack (its
Kubernetes provider, protection in production, multi-networking, the key grants it waits for),
every pool wired to the cluster's node account and the disks key, and the GPUDirect networks
carved for a pool and attached to it. Each component on its own is tested in its module
(test_cluster.py, test_gpu_pool.py, test_tpu_pool.py, test_node_config.py).

Each plan composes `infra.platform.Platform` from a stack's config and runs it through the
offline engine (`run_program`), so the components are wired exactly as `pulumi up` wires them.
Besides the three shipped stacks, a "compute" stack derived from dev adds a GPUDirect RDMA pool.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Any

import pytest

from infra.catalog.gpu import GPUDIRECT_PROFILES
from infra.config.compute import ClusterConfig
from infra.config.load import config_from_flat
from infra.config.platform import PlatformConfig
from infra.engine.plan import STACK_TYPE, Plan, PlanResource
from infra.platform import Platform
from tests.helpers import Captured, contract, last_segment, of_type, plan_of, stack_config

CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"
NETWORK = "gcp:compute/network:Network"
SUBNET = "gcp:compute/subnetwork:Subnetwork"
FIREWALL = "gcp:compute/firewall:Firewall"


def compute_config() -> dict[str, Any]:
    """dev plus a GPUDirect RDMA pool (one gVNIC network and a RoCE VPC), which the shipped
    stacks lack."""
    flat = copy.deepcopy(stack_config("dev"))
    flat["aidc:network"]["gpu_supernet"] = "192.168.0.0/16"
    flat["aidc:gpu_pools"]["ultra"] = {"machine_type": "a3-ultragpu-8g", "zones": ["us-central1-b"],
                                       "autoscaling": {"max_nodes": 2}}
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
        captured.keep("cluster_id", platform.cluster.cluster_id)
        captured.keep("disks_key", platform.kms.key_ids["disks"])
        captured.keep("node_sa", platform.cluster.node_sa_email)

    plan = plan_of(program, config=flat, project="aidc", stack=stack)
    return Built(cfg, plan, holder["platform"], captured)


@pytest.fixture(scope="module")
def prod() -> Built:
    return build(stack_config("prod", offline=True), "prod")


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
# the cluster in the stack


def test_cluster_in_the_stack(prod: Built) -> None:
    """The cluster component sits at the stack's root, and the stack's Kubernetes provider,
    built from its kubeconfig, is parented to it."""
    component = prod.one("gke")
    assert prod.plan.by_urn()[component.parent].type == STACK_TYPE
    assert ("pulumi:providers:kubernetes", "gke-k8s", "gke") in contract(prod.plan, "gke")


def test_prod_sets_rbac_groups_and_intranode_visibility(prod: Built) -> None:
    assert prod.cfg.cluster.intranode_visibility is True
    assert prod.cfg.cluster.security_group == "gke-security-groups@acme.example"




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

# ---------------------------------------------------------------------------------------------
# pools in the stack


@pytest.mark.parametrize("env", ["dev", "staging", "prod", "compute"])
def test_pools_run_on_the_cluster_as_its_node_account(env: str,
                                                      request: pytest.FixtureRequest) -> None:
    """Every GPU and TPU pool of a stack joins its cluster, runs as the cluster's node account,
    boots from disks under the stack's disks key, and waits for the Compute agent's grant on it."""
    built: Built = request.getfixturevalue(env)
    pools = [f"gpu-{p}-pool" for p in built.cfg.gpu_pools]
    pools += [f"tpu-{t}-slice{i}" for t, tpu in built.cfg.tpu_pools.items() for i in range(tpu.slices)]
    assert pools
    grant = built.one("kms-disks-agent").urn
    for name in pools:
        pool = built.one(name, NODE_POOL)
        assert pool.inputs["cluster"] == built.captured["cluster_id"], name
        assert pool.inputs["nodeConfig"]["serviceAccount"] == built.captured["node_sa"], name
        assert pool.inputs["nodeConfig"]["bootDiskKmsKey"] == built.captured["disks_key"], name
        assert built.captured["disks_key"].endswith("/cryptoKeys/disks")
        assert grant in pool.dependencies, name


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


