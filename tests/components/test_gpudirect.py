"""GpuDirectNetworking built alone under the mocks: its children per NIC and per profile, the
manifests validated offline before anything registers, and the workload contract of each pool.
How the stack wires it (prod's TCPXO pool) is in test_apply_readiness.py."""

from __future__ import annotations

import json

import pulumi
import pytest

from components.gpudirect import (
    GpuDirectNetworking,
    GpuDirectPool,
    GpuDirectSpec,
    installer_daemonset,
    manifests,
    validate,
    workload_contract,
)
from infra.catalog.gpudirect import NRI_DEVICE_INJECTOR_IMAGE, gpudirect_software
from infra.config.compute import NicSubnet
from infra.errors import AidcError
from tests.helpers import by_name, contract, plan_of

PARAMS = "kubernetes:networking.gke.io/v1:GKENetworkParamSet"
NETWORK = "kubernetes:networking.gke.io/v1:Network"
DAEMON_SET = "kubernetes:apps/v1:DaemonSet"
ACCOUNT = "kubernetes:core/v1:ServiceAccount"

MEGA = GpuDirectPool(profile="tcpxo", accelerator_type="nvidia-h100-mega-80gb",
                     nics=tuple(NicSubnet("mega", "gpu", i, 28) for i in range(8)))
ULTRA = GpuDirectPool(profile="rdma", accelerator_type="nvidia-h200-141gb",
                      nics=(NicSubnet("ultra", "gvnic", 0, 28),
                            *(NicSubnet("ultra", "rdma", i, 28) for i in range(8))))
SPEC = GpuDirectSpec(pools={"mega": MEGA, "ultra": ULTRA})


def names(spec: GpuDirectSpec) -> dict[str, tuple[str, str]]:
    return {n.name: (f"net-{n.vpc}", f"net-{n.name}") for p in spec.pools.values() for n in p.nics}


def test_gpudirect_children() -> None:
    """Per NIC a parameter set and a Network; per profile one installer; one device injector
    for the profiles that need it; one service account; all direct children, through the
    provider given."""
    def program() -> None:
        GpuDirectNetworking("gpudirect", SPEC, networks=names(SPEC),
                            k8s_provider=pulumi.ProviderResource("kubernetes", "k8s"))  # type: ignore[arg-type]
    plan = plan_of(program)
    nics = [n.name for p in SPEC.pools.values() for n in p.nics]
    assert contract(plan, "gpudirect") == (
        {(PARAMS, f"gpudirect-params-{n}", "gpudirect") for n in nics}
        | {(NETWORK, f"gpudirect-network-{n}", "gpudirect") for n in nics}
        | {(DAEMON_SET, "gpudirect-nccl-tcpxo-installer", "gpudirect"),
           (DAEMON_SET, "gpudirect-nccl-rdma-installer", "gpudirect"),
           (DAEMON_SET, "gpudirect-device-injector", "gpudirect"),
           (ACCOUNT, "gpudirect-service-account", "gpudirect")})
    assert by_name(plan, "gpudirect").type == "aidc:gpudirect:GpuDirectNetworking"
    network = by_name(plan, "gpudirect-network-ultra-gpu3")
    assert by_name(plan, "gpudirect-params-ultra-gpu3").urn in network.dependencies
    assert by_name(plan, "gpudirect-params-ultra-gpu3").inputs["spec"] == {
        "vpc": "net-ultra-roce", "vpcSubnet": "net-ultra-gpu3", "deviceMode": "RDMA"}
    assert by_name(plan, "gpudirect-params-ultra-gvnic0").inputs["spec"]["deviceMode"] == "NetDevice"


def test_gpudirect_objects_validate_offline() -> None:
    """Core kinds against Kubernetes' schema (strict), the networking kinds against GKE's CRD
    schema: every object of every profile passes."""
    tcpx = GpuDirectPool(profile="tcpx", accelerator_type="nvidia-h100-80gb",
                         nics=tuple(NicSubnet("high", "gpu", i, 28) for i in range(4)))
    validate(GpuDirectSpec(pools={"mega": MEGA, "ultra": ULTRA, "high": tcpx}))


def test_rejects_a_device_network_name_gke_would_refuse() -> None:
    """A pool name that makes a Network name longer than GKE's 41 characters fails before any
    resource is registered, naming the object."""
    long = GpuDirectPool(profile="tcpxo", accelerator_type="nvidia-h100-mega-80gb",
                         nics=(NicSubnet("a-very-long-pool-name-for-tcpxo-h100-gpus", "gpu", 0, 28),))
    with pytest.raises(AidcError, match=r"Network/a-very-long-pool-name-for-tcpxo-h100-gpus-gpu0: "
                                        r"metadata.name: .* at most 41"):
        validate(GpuDirectSpec(pools={"long": long}))


def test_installers_and_injector_pin_their_images_and_target_their_accelerators() -> None:
    """Each installer runs its catalog image on its profile's accelerators only, as a privileged
    init container, then a bounded read-only pause; the injector is pinned by digest."""
    objects = manifests(SPEC, names(SPEC))
    mega = objects["nccl-tcpxo-installer"]["spec"]["template"]["spec"]
    assert [c["name"] for c in mega["initContainers"]] == ["host-setup", "nccl-tcpxo-installer"]
    assert mega["initContainers"][1]["image"] == gpudirect_software("tcpxo").installer_image
    values = mega["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"][0]["matchExpressions"][0]["values"]
    assert values == ["nvidia-h100-mega-80gb"]
    assert mega["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True
    assert mega["automountServiceAccountToken"] is False
    injector = objects["device-injector"]["spec"]["template"]["spec"]
    assert injector["containers"][0]["image"] == NRI_DEVICE_INJECTOR_IMAGE
    assert "nvidia-h200-141gb" not in json.dumps(injector)  # RDMA needs no injector
    rdma = installer_daemonset(gpudirect_software("rdma"), "kube-system", ["nvidia-b200"])
    assert rdma["spec"]["template"]["spec"]["initContainers"][0]["image"].endswith(
        "nccl-plugin-gib:v1.1.1")


def test_workload_contract_of_an_rdma_pool() -> None:
    """RDMA pods attach eth2..eth9 (the RoCE NICs; eth1 is the extra gVNIC) and source the gIB
    plugin's NCCL environment; no sidecar, no device annotation."""
    contract_ = workload_contract(ULTRA)
    interfaces = json.loads(contract_["pod_annotations"]["networking.gke.io/interfaces"])
    assert [i["interfaceName"] for i in interfaces] == ["eth0", *(f"eth{i}" for i in range(2, 10))]
    assert [i["network"] for i in interfaces[1:]] == [f"ultra-gpu{i}" for i in range(8)]
    assert contract_["sidecar"] is None
    assert contract_["nccl_env_script"] == "/usr/local/gib/scripts/set_nccl_env.sh"
    assert not any(k.startswith("devices.gke.io") for k in contract_["pod_annotations"])
