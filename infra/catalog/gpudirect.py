"""What a GPUDirect node pool needs inside the cluster, per profile, with pinned versions.

The extra NICs of an A3 High (TCPX), A3 Mega (TCPXO) or A3 Ultra / A4 (RDMA) node reach pods
only through GKE multi-networking objects, one GKENetworkParamSet and one Network per extra node
network, and the NCCL plugin a workload loads is put on each node by an installer DaemonSet
(TCPX and TCPXO also need Google's NRI device injector, which hands the GPU devices to the
per-pod receive-datapath sidecar). This module holds, per profile (`infra.catalog.gpu`
`GPUDIRECT_PROFILES`): the installer image, the sidecar image, whether the NRI injector is
needed, the GKENetworkParamSet device mode of each NIC kind, and the workload contract (the
pods' interfaces and NCCL environment). Every pin names the manifest it was read from, at the
commit read; `components.gpudirect` builds the objects, `infra.check.apply_order` checks that a
plan with GPUDirect pools has them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from infra.catalog.source import Source
from infra.errors import CatalogLookupError

AS_OF = date(2026, 12, 5)
_CEA = ("https://github.com/GoogleCloudPlatform/container-engine-accelerators/blob/"
        "992db81257553607f1477945f1b3219632991829/")
_TOOLKIT = ("https://github.com/GoogleCloudPlatform/cluster-toolkit/blob/"
            "1047080375afbb44da4b596be314634e7486af4a/")
GKE_GPUDIRECT_URL = ("https://cloud.google.com/kubernetes-engine/docs/how-to/"
                     "gpu-bandwidth-gpudirect-tcpx")


def _cea(path: str, note: str) -> Source:
    return Source(_CEA + path, AS_OF, note)


# The device mode of each kind of extra NIC (infra.config.compute.NicKind) in its
# GKENetworkParamSet: the GPU NICs of TCPX/TCPXO and the extra gVNIC are kernel net devices,
# the RoCE NICs RDMA devices.
DEVICE_MODES: Mapping[str, str] = MappingProxyType({"gpu": "NetDevice", "gvnic": "NetDevice",
                                                    "rdma": "RDMA"})
DEVICE_MODES_SOURCE = Source(
    _TOOLKIT + "modules/scheduler/gke-cluster/main.tf", AS_OF,
    "one GKENetworkParamSet (deviceMode RDMA for RDMA NICs, NetDevice otherwise) and one "
    "Network of type Device naming it, per additional network")

NRI_DEVICE_INJECTOR_IMAGE = ("gcr.io/gke-release/nri-device-injector@sha256:"
                             "6e79483d52abdc28454bf186320b10a56b0f117a10e8d65d5c74dbb821a76970")
NRI_DEVICE_INJECTOR_SOURCE = _cea("nri_device_injector/nri-device-injector.yaml",
                                  "the device-injector DaemonSet, image pinned by digest")
PAUSE_IMAGE = ("gke.gcr.io/pause:3.8@sha256:"
               "880e63f94b145e46f1b1082bb71b85e21f16b99b180b9996407d61240ceb9830")
# The TCPXO installer's first step joins the host's namespaces (nsenter) to prepare the
# aperture devices; upstream runs it from `ubuntu` unpinned, aidc pins the release.
HOST_SETUP_IMAGE = "ubuntu:24.04"
GPU_DEVICES = tuple(f"/dev/nvidia{i}" for i in range(8)) + ("/dev/nvidiactl", "/dev/nvidia-uvm")
NVIDIA_LIB = "/usr/local/nvidia/lib64"


@dataclass(frozen=True)
class GpuDirectSoftware:
    """The in-cluster half of one GPUDirect profile.

    `installer` / `installer_image`: the DaemonSet that puts the NCCL plugin (and NCCL) under
    /home/kubernetes/bin on every node of the profile's accelerator. `sidecar` /
    `sidecar_image`: the receive-datapath manager each workload pod runs next to its trainer
    (TCPX, TCPXO), with `sidecar_devices` handed to it by the NRI device injector
    (`nri_injector`). `first_gpu_interface`: the pod interface (ethN) of the first GPU NIC: the
    extra NICs follow eth0 in attachment order, and RDMA pods leave eth1 (the extra gVNIC)
    out; `ifname_env` is the variable that lists the GPU interfaces. `nccl_env`: what a workload
    container sets, `nccl_env_script` what it sources first for the rest of the plugin's
    tuning, `host_mounts` the node paths (value) it mounts (key).
    """

    profile: str
    installer: str
    installer_image: str
    installer_source: Source
    sidecar: str | None
    sidecar_image: str | None
    sidecar_source: Source | None
    sidecar_devices: tuple[str, ...]
    nri_injector: bool
    first_gpu_interface: int
    ifname_env: str | None
    nccl_env: Mapping[str, str]
    nccl_env_script: str | None
    host_mounts: Mapping[str, str]
    workload_source: Source


SOFTWARE: Mapping[str, GpuDirectSoftware] = MappingProxyType({s.profile: s for s in (
    GpuDirectSoftware(
        profile="tcpx",
        installer="nccl-tcpx-installer",
        installer_image="us-docker.pkg.dev/gce-ai-infra/gpudirect-tcpx/nccl-plugin-gpudirecttcpx-dev:v3.1.9",
        installer_source=_cea("gpudirect-tcpx/nccl-tcpx-installer.yaml",
                              "nccl-tcpx-installer DaemonSet, plugin v3.1.9, on nvidia-h100-80gb"),
        sidecar="tcpx-daemon",
        sidecar_image="us-docker.pkg.dev/gce-ai-infra/gpudirect-tcpx/tcpgpudmarxd-dev:v2.0.12",
        sidecar_source=_cea("gpudirect-tcpx/nccl-test-latest.yaml",
                            "tcpx-daemon sidecar v2.0.12, the RxDM matching plugin v3.1.9"),
        sidecar_devices=GPU_DEVICES,
        nri_injector=True,
        first_gpu_interface=1,
        ifname_env="NCCL_GPUDIRECTTCPX_SOCKET_IFNAME",
        nccl_env=MappingProxyType({
            "LD_LIBRARY_PATH": NVIDIA_LIB,
            "NCCL_SOCKET_IFNAME": "eth0",
            "NCCL_GPUDIRECTTCPX_CTRL_DEV": "eth0",
            "NCCL_GPUDIRECTTCPX_UNIX_CLIENT_PREFIX": "/run/tcpx",
        }),
        nccl_env_script=None,
        host_mounts=MappingProxyType({NVIDIA_LIB: "/home/kubernetes/bin/nvidia/lib64",
                                      "/run/tcpx": "/run/tcpx"}),
        workload_source=_cea("gpudirect-tcpx/nccl-config.yaml",
                             "run-nccl.sh: NCCL_SOCKET_IFNAME=eth0, NCCL_GPUDIRECTTCPX_CTRL_DEV=eth0, "
                             "NCCL_GPUDIRECTTCPX_SOCKET_IFNAME=eth1..eth4; the sidecar's "
                             "--uds_path /run/tcpx"),
    ),
    GpuDirectSoftware(
        profile="tcpxo",
        installer="nccl-tcpxo-installer",
        installer_image="us-docker.pkg.dev/gce-ai-infra/gpudirect-tcpxo/nccl-plugin-gpudirecttcpx-dev:v1.0.15",
        installer_source=_cea("gpudirect-tcpxo/nccl-tcpxo-installer.yaml",
                              "nccl-tcpxo-installer DaemonSet, plugin v1.0.15, on "
                              "nvidia-h100-mega-80gb (release notes of 2026-01-09)"),
        sidecar="tcpxo-daemon",
        sidecar_image="us-docker.pkg.dev/gce-ai-infra/gpudirect-tcpxo/tcpgpudmarxd-dev:v1.0.21",
        sidecar_source=_cea("gpudirect-tcpxo/README.md",
                            "release of 2026-01-09: TCPXO-daemon v1.0.21 with installer v1.0.15"),
        sidecar_devices=GPU_DEVICES + ("/dev/dmabuf_import_helper",),
        nri_injector=True,
        first_gpu_interface=1,
        ifname_env="NCCL_FASTRAK_IFNAME",
        nccl_env=MappingProxyType({
            "LD_LIBRARY_PATH": NVIDIA_LIB,
            "NCCL_LIB_DIR": NVIDIA_LIB,
            "NCCL_FASTRAK_CTRL_DEV": "eth0",
            "NCCL_SOCKET_IFNAME": "eth0",
            "NCCL_FASTRAK_LLCM_DEVICE_DIRECTORY": "/dev/aperture_devices",
        }),
        nccl_env_script=f"{NVIDIA_LIB}/nccl-env-profile.sh",
        host_mounts=MappingProxyType({NVIDIA_LIB: "/home/kubernetes/bin/nvidia/lib64",
                                      "/dev/aperture_devices": "/dev/aperture_devices"}),
        workload_source=_cea("gpudirect-tcpxo/README.md",
                             "NCCL configs of the 2026-01-09 release (NCCL_FASTRAK_CTRL_DEV=eth0, "
                             "NCCL_FASTRAK_IFNAME=eth1..eth8, NCCL_SOCKET_IFNAME=eth0, ...); "
                             "or NCCL_LIB_DIR and `source ${NCCL_LIB_DIR}/nccl-env-profile.sh`"),
    ),
    GpuDirectSoftware(
        profile="rdma",
        installer="nccl-rdma-installer",
        installer_image="us-docker.pkg.dev/gce-ai-infra/gpudirect-gib/nccl-plugin-gib:v1.1.1",
        installer_source=_cea("gpudirect-rdma/nccl-rdma-installer.yaml",
                              "nccl-rdma-installer DaemonSet, NCCL gIB plugin v1.1.1, on "
                              "nvidia-h200-141gb and nvidia-b200"),
        sidecar=None, sidecar_image=None, sidecar_source=None, sidecar_devices=(),
        nri_injector=False,
        first_gpu_interface=2,
        ifname_env=None,
        nccl_env=MappingProxyType({"LD_LIBRARY_PATH": NVIDIA_LIB}),
        nccl_env_script="/usr/local/gib/scripts/set_nccl_env.sh",
        host_mounts=MappingProxyType({"/usr/local/nvidia": "/home/kubernetes/bin/nvidia",
                                      "/usr/local/gib": "/home/kubernetes/bin/gib"}),
        workload_source=_cea("gpudirect-rdma/nccl-test.yaml",
                             "pods list eth0 (default) and eth2..eth9 (rdma-0..7), mount "
                             "/home/kubernetes/bin/gib at /usr/local/gib and source "
                             "/usr/local/gib/scripts/set_nccl_env.sh"),
    ),
)})


def gpudirect_software(profile: str) -> GpuDirectSoftware:
    """The in-cluster software of a GPUDirect profile; a miss lists the profiles."""
    try:
        return SOFTWARE[profile]
    except KeyError:
        raise CatalogLookupError(f"no in-cluster GPUDirect software for {profile!r}; profiles "
                                 f"are {', '.join(SOFTWARE)}") from None
