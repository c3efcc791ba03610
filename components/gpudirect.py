"""GpuDirectNetworking: what lets pods use a GPUDirect pool's extra NICs, inside the cluster.

A TCPX, TCPXO or RDMA node pool gets its extra NICs from the node pool's additional networks
(`components.gpu_pool`), but a pod sees them only through GKE multi-networking objects, and NCCL
uses them only with Google's plugin on the node. Per cluster this component creates, through the
cluster's Kubernetes provider:

- per extra node network, a GKENetworkParamSet (its VPC and subnet, device mode NetDevice or
  RDMA) and a Device Network naming it, called after the NIC (`<pool>-gpu3`, `<pool>-gvnic0`);
- per GPUDirect profile in use, the NCCL plugin installer DaemonSet on the nodes of the
  profile's accelerators, and for TCPX/TCPXO Google's NRI device injector;
- one service account for those node agents, with no API token.

The versions are pinned in `infra.catalog.gpudirect` with their sources. Every object is built
as a plain manifest and validated before anything registers: core kinds against the Kubernetes
schema (kubernetes-validate), the GKE networking kinds against their published CRD schema
(`infra.catalog.crds.gke_networking`). `contracts[pool]` is the workload contract: the pod
annotations that attach the extra interfaces (and hand the sidecar its devices), the NCCL
environment, the sidecar and the host paths a workload mounts.

The node agents run privileged with host networking, in kube-system as Google's manifests have
them: a stack that deploys them lists kube-system in its policy's host_access_namespaces.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from components.monitoring.k8s import DEFAULT_KUBERNETES_VERSION, validate_objects
from infra.catalog.crds.gke_networking import API_VERSION as GKE_NETWORKING
from infra.catalog.crds.validate import SCHEMAS as CRD_SCHEMAS, validate_crd_object
from infra.catalog.gpudirect import (
    DEVICE_MODES,
    HOST_SETUP_IMAGE,
    NRI_DEVICE_INJECTOR_IMAGE,
    PAUSE_IMAGE,
    GpuDirectSoftware,
    gpudirect_software,
)
from infra.config.base import Spec
from infra.config.compute import NicSubnet

NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "gpudirect-node-agent"
ACCELERATOR_LABEL = "cloud.google.com/gke-accelerator"
DEVICE_INJECTOR = "device-injector"
LABELS = {"app.kubernetes.io/part-of": "aidc-gpudirect", "app.kubernetes.io/managed-by": "aidc"}
# The PCI vendor:device of A3 Mega's aperture devices, which TCPXO's LLCM maps.
APERTURE_PCI_ID = "1ae0:0084"


class GpuDirectPool(Spec):
    """One GPUDirect node pool as the cluster objects need it."""

    profile: str = Field(description="tcpx, tcpxo or rdma (infra.catalog.gpu).")
    accelerator_type: str = Field(description="The pool's GPU, for the node agents' selector.")
    nics: tuple[NicSubnet, ...] = Field(description="Its extra NICs, in attachment order.")


class GpuDirectSpec(Spec):
    """The cluster objects every GPUDirect pool of a cluster needs, one set per profile."""

    pools: dict[str, GpuDirectPool] = Field(description="The GPUDirect pools, by stack key.")
    namespace: str = Field(NAMESPACE, description="Where the node agents run (Google ships "
                                                  "them in kube-system).")
    kubernetes_version: str = Field(
        DEFAULT_KUBERNETES_VERSION,
        description="The Kubernetes minor the objects are validated against offline.")


# --- manifests ---------------------------------------------------------------------------------


def network_objects(nic: NicSubnet, vpc: Any, subnet: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The GKENetworkParamSet of one extra node network and the Device Network naming it."""
    labels = {**LABELS, "app.kubernetes.io/name": nic.name}
    params = {"apiVersion": GKE_NETWORKING, "kind": "GKENetworkParamSet",
              "metadata": {"name": nic.name, "labels": labels},
              "spec": {"vpc": vpc, "vpcSubnet": subnet, "deviceMode": DEVICE_MODES[nic.kind]}}
    network = {"apiVersion": GKE_NETWORKING, "kind": "Network",
               "metadata": {"name": nic.name, "labels": labels},
               "spec": {"type": "Device", "parametersRef": {
                   "group": "networking.gke.io", "kind": "GKENetworkParamSet", "name": nic.name}}}
    return params, network


def _labels(app: str) -> dict[str, str]:
    return {"k8s-app": app, "app.kubernetes.io/name": app, **LABELS}


def _host_path(name: str, path: str, **extra: str) -> dict[str, Any]:
    return {"name": name, "hostPath": {"path": path, **extra}}


def node_agent(app: str, namespace: str, accelerators: Iterable[str], *,
               init_containers: list[dict[str, Any]], containers: list[dict[str, Any]],
               volumes: list[dict[str, Any]]) -> dict[str, Any]:
    """A DaemonSet on the nodes of `accelerators` only, in the host's network and PID namespaces
    (the plugin and the device injector work on the node), run under the agents' service
    account without an API token, ahead of every workload (system-node-critical)."""
    return {
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": app, "namespace": namespace, "labels": _labels(app)},
        "spec": {
            "selector": {"matchLabels": {"k8s-app": app}},
            "updateStrategy": {"type": "RollingUpdate"},
            "template": {
                "metadata": {"labels": _labels(app)},
                "spec": {
                    "serviceAccountName": SERVICE_ACCOUNT,
                    "automountServiceAccountToken": False,
                    "priorityClassName": "system-node-critical",
                    "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [{"matchExpressions": [{
                            "key": ACCELERATOR_LABEL, "operator": "In",
                            "values": sorted(set(accelerators))}]}]}}},
                    "tolerations": [{"operator": "Exists"}],
                    "hostNetwork": True,
                    "hostPID": True,
                    "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                    **({"initContainers": init_containers} if init_containers else {}),
                    "containers": containers,
                    "volumes": volumes,
                },
            },
        },
    }


_BOUNDED = {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "50m", "memory": "32Mi"}}
_READ_ONLY = {"readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False}


def _pause() -> dict[str, Any]:
    """What keeps an installer's pod running once its init containers are done."""
    return {"name": "pause", "image": PAUSE_IMAGE, "resources": _BOUNDED,
            "securityContext": _READ_ONLY}


# Prepares TCPXO's receive path on the host: accept the plugin's TCP traffic, load the kernel's
# import-helper, and expose every aperture device (PCI ID above) under /dev/aperture_devices.
_TCPXO_HOST_SETUP = f"""set -e
/sbin/iptables -I INPUT -p tcp -m tcp -j ACCEPT
modprobe import-helper
mkdir -p /dev/aperture_devices
for bdf in $(lspci -nn -D | grep '{APERTURE_PCI_ID}' | cut -d' ' -f1); do
  target=/dev/aperture_devices/$bdf
  mkdir -p "$target"
  umount -R "$target" 2>/dev/null || true
  mount --bind "$(readlink -f /sys/bus/pci/devices/$bdf)" "$target"
done
chmod -R a+r /dev/aperture_devices
chmod a+rw /dev/aperture_devices/*/resource* 2>/dev/null || true
"""


def _install(software: GpuDirectSoftware, script: str,
             mounts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": software.installer, "image": software.installer_image,
            "resources": {"requests": {"cpu": "150m", "memory": "128Mi"}},
            "securityContext": {"privileged": True}, "volumeMounts": mounts,
            "command": ["/bin/sh", "-c"], "args": [script]}


def installer_daemonset(software: GpuDirectSoftware, namespace: str,
                        accelerators: Iterable[str]) -> dict[str, Any]:
    """The profile's NCCL plugin installer: init containers put the plugin on the node (the
    image's `/scripts/container_entry.sh install`), then a pause container keeps the pod."""
    if software.profile == "rdma":
        lib = "/usr/local/home/kubernetes/bin/nvidia/lib64"
        gib = "/usr/local/home/kubernetes/bin/gib"
        init = [_install(software, (
            "set -ex\n/scripts/container_entry.sh install\n"
            f"cp -r /var/lib/gib/lib64/. {lib}\ncp -r /var/lib/gib/. {gib}\n"),
            [{"name": "library-dir-host", "mountPath": lib}, {"name": "gib", "mountPath": gib}])]
        volumes = [_host_path("library-dir-host", "/home/kubernetes/bin/nvidia/lib64",
                              type="DirectoryOrCreate"),
                   _host_path("gib", "/home/kubernetes/bin/gib")]
    else:
        plugin = software.profile  # the image's own directory under /var/lib: tcpx, tcpxo
        init = [_install(software, (
            "set -ex\n/scripts/container_entry.sh install --install-nccl\n"
            "mkdir -p /usr/local/nvidia/lib64\n"
            f"cp -r /var/lib/{plugin}/lib64/. /usr/local/nvidia/lib64\n"),
            [{"name": "var-lib", "mountPath": "/var/lib"},
             {"name": "library-dir-host", "mountPath": "/usr/local"}])]
        volumes = [_host_path("var-lib", "/var/lib"),
                   _host_path("library-dir-host", "/home/kubernetes/bin")]
        if software.profile == "tcpxo":
            init.insert(0, {"name": "host-setup", "image": HOST_SETUP_IMAGE,
                            "securityContext": {"privileged": True},
                            "command": ["nsenter", "-a", "-t", "1", "--", "sh", "-c"],
                            "args": [_TCPXO_HOST_SETUP]})
    return node_agent(software.installer, namespace, accelerators, init_containers=init,
                      containers=[_pause()], volumes=volumes)


def device_injector_daemonset(namespace: str, accelerators: Iterable[str]) -> dict[str, Any]:
    """Google's NRI device injector: hands a pod's sidecar the devices its
    `devices.gke.io/container.<name>` annotation lists, so the sidecar runs unprivileged."""
    return node_agent(DEVICE_INJECTOR, namespace, accelerators, init_containers=[], containers=[{
        "name": DEVICE_INJECTOR, "image": NRI_DEVICE_INJECTOR_IMAGE,
        "resources": {"requests": {"cpu": "150m", "memory": "64Mi"},
                      "limits": {"cpu": "500m", "memory": "128Mi"}},
        "securityContext": {"privileged": True, "readOnlyRootFilesystem": True},
        "volumeMounts": [{"name": "dev", "mountPath": "/dev"},
                         {"name": "nri", "mountPath": "/var/run/nri"}]}],
        volumes=[_host_path("dev", "/dev"), _host_path("nri", "/var/run/nri")])


def service_account(namespace: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": SERVICE_ACCOUNT, "namespace": namespace,
                         "labels": {**LABELS, "app.kubernetes.io/name": SERVICE_ACCOUNT}},
            "automountServiceAccountToken": False}


def workload_contract(pool: GpuDirectPool) -> dict[str, Any]:
    """What a workload on the pool sets to use the extra NICs: the pod annotations (interfaces,
    and the sidecar's devices), the NCCL environment, the script to source, the sidecar, and
    the node paths it mounts (container path -> host path)."""
    software = gpudirect_software(pool.profile)
    interfaces = [{"interfaceName": "eth0", "network": "default"}]
    for position, nic in enumerate(pool.nics, start=1):
        if position >= software.first_gpu_interface:
            interfaces.append({"interfaceName": f"eth{position}", "network": nic.name})
    annotations = {"networking.gke.io/default-interface": "eth0",
                   "networking.gke.io/interfaces": json.dumps(interfaces)}
    if software.sidecar:
        annotations[f"devices.gke.io/container.{software.sidecar}"] = "".join(
            f"- path: {device}\n" for device in software.sidecar_devices)
    env = dict(software.nccl_env)
    if software.ifname_env:
        env[software.ifname_env] = ",".join(i["interfaceName"] for i in interfaces[1:])
    return {"profile": pool.profile, "pod_annotations": annotations, "nccl_env": env,
            "nccl_env_script": software.nccl_env_script,
            "sidecar": ({"name": software.sidecar, "image": software.sidecar_image}
                        if software.sidecar else None),
            "host_mounts": dict(software.host_mounts)}


def manifests(spec: GpuDirectSpec, networks: Mapping[str, tuple[Any, Any]],
              ) -> dict[str, dict[str, Any]]:
    """Every object by role: `params-<nic>`, `network-<nic>`, the installers by name, the
    device injector, the service account."""
    out: dict[str, dict[str, Any]] = {"service-account": service_account(spec.namespace)}
    by_profile: dict[str, set[str]] = {}
    for pool in spec.pools.values():
        by_profile.setdefault(pool.profile, set()).add(pool.accelerator_type)
        for nic in pool.nics:
            vpc, subnet = networks[nic.name]
            out[f"params-{nic.name}"], out[f"network-{nic.name}"] = network_objects(nic, vpc, subnet)
    injected: set[str] = set()
    for profile, accelerators in sorted(by_profile.items()):
        software = gpudirect_software(profile)
        out[software.installer] = installer_daemonset(software, spec.namespace, accelerators)
        if software.nri_injector:
            injected |= accelerators
    if injected:
        out[DEVICE_INJECTOR] = device_injector_daemonset(spec.namespace, injected)
    return out


def validate(spec: GpuDirectSpec) -> None:
    """Validate every object offline, the networks' names standing in for their Outputs: core
    kinds against Kubernetes `spec.kubernetes_version`, the GKE networking kinds against their
    CRD schema."""
    names = {nic.name: (f"{nic.vpc}-vpc", f"{nic.name}-subnet")
             for pool in spec.pools.values() for nic in pool.nics}
    objects = manifests(spec, names).values()
    for obj in objects:
        if (obj["apiVersion"], obj["kind"]) in CRD_SCHEMAS:
            validate_crd_object(obj)
    validate_objects([o for o in objects if (o["apiVersion"], o["kind"]) not in CRD_SCHEMAS],
                     spec.kubernetes_version)


class GpuDirectNetworking(pulumi.ComponentResource):
    """The cluster half of GPUDirect for every GPUDirect pool of one cluster (see the module).

    `networks[nic]` is the (VPC name, subnet name) of each extra NIC (`VpcFabric.extra_subnets`):
    the parameter sets wait for them. `contracts[pool]` is each pool's workload contract.
    """

    objects: dict[str, pulumi.CustomResource]
    contracts: dict[str, dict[str, Any]]

    def __init__(self, name: str, spec: GpuDirectSpec, *,
                 networks: Mapping[str, tuple[pulumi.Input[str], pulumi.Input[str]]],
                 k8s_provider: k8s.Provider,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        validate(spec)
        super().__init__("aidc:gpudirect:GpuDirectNetworking", name, None, opts)
        objects = manifests(spec, networks)
        child = pulumi.ResourceOptions(parent=self, provider=k8s_provider)
        self.objects = {}
        account = objects.pop("service-account")
        self.objects["service-account"] = k8s.core.v1.ServiceAccount(
            f"{name}-service-account", metadata=account["metadata"],
            automount_service_account_token=False, opts=child)
        for role, obj in objects.items():
            if obj["kind"] == "DaemonSet":
                self.objects[role] = k8s.apps.v1.DaemonSet(
                    f"{name}-{role}", metadata=obj["metadata"], spec=obj["spec"],
                    opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                        depends_on=[self.objects["service-account"]])))
            elif obj["kind"] == "GKENetworkParamSet":
                self.objects[role] = k8s.apiextensions.CustomResource(
                    f"{name}-{role}", api_version=obj["apiVersion"], kind=obj["kind"],
                    metadata=obj["metadata"], spec=obj["spec"], opts=child)
        for role, obj in objects.items():
            if obj["kind"] == "Network":
                params = self.objects[f"params-{obj['metadata']['name']}"]
                self.objects[role] = k8s.apiextensions.CustomResource(
                    f"{name}-{role}", api_version=obj["apiVersion"], kind=obj["kind"],
                    metadata=obj["metadata"], spec=obj["spec"],
                    opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                        depends_on=[params])))
        self.contracts = {pool: workload_contract(p) for pool, p in spec.pools.items()}
        self.register_outputs({"contracts": self.contracts})
