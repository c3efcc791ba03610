"""`aidc:network`: the VPC fabric and the sizes its ranges are carved to."""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import Literal

from pydantic import Field, field_validator

from infra.config.base import Spec
from infra.gcp import naming


class NetworkConfig(Spec):
    """The VPC fabric: one regional subnet with GKE's secondary ranges, NAT and PSA."""

    name: str = Field("aidc", description="VPC name prefix; the network is '<name>-<environment>'.")
    base_cidr: IPv4Network | None = Field(
        None, description="One range to carve every unspecified range from (largest first).")
    subnet_cidr: IPv4Network | None = Field(None, description="Node subnet primary range.")
    pods_cidr: IPv4Network | None = Field(None, description="GKE pods secondary range.")
    services_cidr: IPv4Network | None = Field(None, description="GKE services secondary range.")
    psa_cidr: IPv4Network | None = Field(
        None, description="Private services access range (Filestore draws its IPs from it).")
    services_prefix: int = Field(20, ge=16, le=27, description="Size of a carved services range.")
    psa_prefix: int = Field(22, ge=16, le=24, description="Size of a carved PSA range (>= /24).")
    max_nodes: int = Field(
        256, ge=1, le=15000,
        description="Most nodes the cluster may reach across all pools; sizes pods and subnet. "
                    "Node pools add their maxima to the check when declared.")
    max_pods_per_node: int = Field(
        110, ge=8, le=256, description="GKE's per-node pod limit (provider default 110).")
    allow_non_rfc1918: bool = Field(
        False, description="Accept ranges outside RFC 1918 (e.g. 100.64.0.0/10).")
    gpu_supernet: IPv4Network | None = Field(
        None, description="Range the GPUDirect NIC subnets are carved from (one VPC each).")
    flow_logs_sampling: float = Field(
        0.5, ge=0.0, le=1.0, description="VPC flow log sampling (CIS GCP 3.8 wants flow logs on).")
    nat_log_filter: Literal["ERRORS_ONLY", "TRANSLATIONS_ONLY", "ALL"] = Field(
        "ERRORS_ONLY", description="Which Cloud NAT events are logged; default errors only "
                                   "(dropped connections, port exhaustion).")
    iap_ssh: bool = Field(
        False, description="Allow SSH from Google's IAP range 35.235.240.0/20 only; off by default.")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return naming.check_rfc1035(v)
