"""GKE's multi-networking kinds, GKENetworkParamSet and Network (networking.gke.io/v1), as aidc
writes them for GPUDirect pools (`components.gpudirect`).

GKE installs these CRDs itself in clusters with multi-networking; their published schema is
GoogleCloudPlatform/gke-networking-api, `config/crds/networking.gke.io_<plural>.yaml`, at the
commit in `GKE_NETWORKING` (the last change to both files when transcribed). Each schema here is
the structural part of that CRD, field by field, status left out (aidc never writes it). The
rules the types document but the schema cannot state (mutually exclusive fields, a Device network
needing its parameters, the length GKE allows a Device network's name) are `RULES`, each with
its source. tests/catalog/test_crds.py compares the schemas with the upstream files when a copy
is at hand (`$AIDC_UPSTREAM_CRDS/gke-networking-api-<commit>/`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from infra.catalog.crds.releases import GKE_NETWORKING, CrdFile
from infra.catalog.crds.schema import (
    Schema,
    array,
    boolean,
    enum,
    integer,
    obj,
    resource,
    string,
)

API_VERSION = GKE_NETWORKING.api_version
_BASES = "config/crds/networking.gke.io_"
CRD_FILES = {
    "GKENetworkParamSet": CrdFile(
        f"{_BASES}gkenetworkparamsets.yaml",
        "62e2823ae4b5deaed9276548cafce226153d59dfa86e81d6b27195fd86b34c5f"),
    "Network": CrdFile(
        f"{_BASES}networks.yaml",
        "ff9cba09cb62eeb2d7f53cb9416f60f7e05052e58c17b9501558a9764f458212"),
}
DEVICE_MODES = ("DPDK-VFIO", "NetDevice", "RDMA")
NETWORK_TYPES = ("L2", "L3", "Device")
# "The name of a Device typed Network object must be 41 characters or less": GKE builds each
# UNIX domain socket path from it, and Linux caps such paths (limitations of
# https://cloud.google.com/kubernetes-engine/docs/how-to/setup-multinetwork-support-for-pods).
DEVICE_NETWORK_NAME_MAX = 41

GKE_NETWORK_PARAM_SET = resource(API_VERSION, "GKENetworkParamSet", False, {"spec": obj({
    "deviceMode": enum(*DEVICE_MODES),
    "networkAttachment": string(),
    "podIPv4Ranges": obj({"rangeNames": array(string(), minItems=1)}, "rangeNames"),
    "vpc": string(),
    "vpcSubnet": string(),
})})

_IPAM_MODE = enum("Internal", "External")
NETWORK = resource(API_VERSION, "Network", False, {"spec": obj({
    "IPAMMode": _IPAM_MODE,
    "IPAMMode6": _IPAM_MODE,
    "dnsConfig": obj({"nameservers": array(string(), minItems=1), "searches": array(string())},
                     "nameservers"),
    "externalDHCP4": boolean(),
    "gateway4": string(),
    "l2NetworkConfig": obj({"prefixLength4": integer(minimum=1, maximum=32),
                            "vlanID": integer(minimum=1, maximum=4094)}),
    "networkLifecycle": enum("AnthosManaged", "UserManaged"),
    "nodeInterfaceMatcher": obj({"interfaceName": string(minLength=1)}),
    "parametersRef": obj({"group": string(), "kind": string(), "name": string(),
                          "namespace": string()}, "group", "kind", "name"),
    "provider": enum("GKE"),
    "routes": array(obj({"to": string()}, "to")),
    "type": enum(*NETWORK_TYPES),
}, "type")})

SCHEMAS: dict[str, Schema] = {"GKENetworkParamSet": GKE_NETWORK_PARAM_SET, "Network": NETWORK}


def _param_set(obj_: Mapping[str, Any]) -> Iterator[str]:
    """The field rules of `apis/network/v1/gkenetworkparamset_types.go` (and the controller's
    conditions SecondaryRangeAndDeviceModeUnspecified, DeviceModeCantBeUsedWithSecondaryRange)."""
    spec = obj_.get("spec") or {}
    if spec.get("networkAttachment"):
        clash = [f for f in ("vpc", "vpcSubnet", "deviceMode", "podIPv4Ranges") if f in spec]
        if clash:
            yield f"spec: networkAttachment excludes {', '.join(clash)}"
        return
    if not spec.get("vpc") or not spec.get("vpcSubnet"):
        yield "spec: vpc and vpcSubnet are required unless networkAttachment is set"
    if "deviceMode" in spec and "podIPv4Ranges" in spec:
        yield "spec: deviceMode (Device networks) and podIPv4Ranges (L3 networks) exclude each other"
    if "deviceMode" not in spec and "podIPv4Ranges" not in spec:
        yield "spec: give deviceMode (a Device network) or podIPv4Ranges (an L3 network)"


def _network(obj_: Mapping[str, Any]) -> Iterator[str]:
    """A GKE Device network names its GKENetworkParamSet (GKE's multi-network setup guide) and
    keeps its name within GKE's limit."""
    spec = obj_.get("spec") or {}
    if spec.get("type") != "Device":
        return
    ref = spec.get("parametersRef") or {}
    if (ref.get("group"), ref.get("kind")) != ("networking.gke.io", "GKENetworkParamSet"):
        yield ("spec.parametersRef: a Device network references its GKENetworkParamSet "
               "(group networking.gke.io, kind GKENetworkParamSet)")
    name = str((obj_.get("metadata") or {}).get("name", ""))
    if len(name) > DEVICE_NETWORK_NAME_MAX:
        yield (f"metadata.name: {name!r} is {len(name)} characters; GKE allows a Device network "
               f"at most {DEVICE_NETWORK_NAME_MAX}")


RULES = {"GKENetworkParamSet": _param_set, "Network": _network}
CEL_RULES: dict[str, tuple[str, ...]] = {}  # the pinned CRDs carry no x-kubernetes-validations
