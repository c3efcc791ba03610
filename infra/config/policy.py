"""The policy pack's settings in a stack file (`aidc:policy`), and the pack config they become.

A stack says how strict the pack is (`enforcement`, per-policy `overrides`), tunes thresholds and
allow lists, and waives single findings with a reason. `to_pack_config()` turns that into exactly
the JSON that `pulumi preview --policy-pack policies/ --policy-pack-config FILE` and the Configure
RPC take, so the offline check and the real CLI reach the same verdict from the same settings.

Policy names are checked against the pack's roster (`policies.metadata`): a typo is an error.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from infra.config.base import Classification
from policies.metadata import POLICIES, POLICY_NAMES

PackEnforcement = Literal["default", "advisory", "mandatory"]
PolicyEnforcement = Literal["advisory", "mandatory", "disabled"]

# Settings field → the pack config property it sets (on every policy that declares it).
PROPERTY_OF_FIELD: dict[str, str] = {
    "cmek_min_classification": "cmekMinClassification",
    "unlabelled_classification": "unlabelledClassification",
    "access_logging_min_classification": "accessLoggingMinClassification",
    "data_access_logs_min_classification": "dataAccessLogsMinClassification",
    "kms_max_rotation_days": "maxRotationDays",
    "kms_min_destroy_scheduled_days": "minDestroyScheduledDays",
    "kms_require_protect": "requireProtect",
    "kms_require_hsm_for_restricted": "requireHsmForRestricted",
    "restricted_min_retention_days": "minRetentionDays",
    "allowed_member_domains": "allowedMemberDomains",
    "allowed_projects": "allowedProjects",
    "allowed_members": "allowedMembers",
    "allow_service_agents": "allowServiceAgents",
    "allowed_public_buckets": "allowedPublicBuckets",
    "allowed_key_accounts": "allowedKeyAccounts",
    "allowed_impersonators": "allowedImpersonators",
    "allowed_nfs_ranges": "allowedNfsRanges",
    "allowed_load_balancer_ranges": "allowedLoadBalancerRanges",
    "host_access_namespaces": "hostAccessNamespaces",
    "allowed_host_paths": "allowedHostPaths",
    "forbidden_capabilities": "forbiddenCapabilities",
    "sensitive_ports": "sensitivePorts",
    "primitive_roles_include_viewer": "includeViewer",
    "require_notification_channels": "requireNotificationChannels",
    "require_image_digest": "requireImageDigest",
    "allowed_cluster_admin_subjects": "allowedClusterAdminSubjects",
}


def _check_policy_name(name: str, where: str) -> str:
    if name in POLICY_NAMES:
        return name
    close = difflib.get_close_matches(name, POLICY_NAMES, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ValueError(f"{where}: unknown policy {name!r}{hint}; the pack's policies are: "
                     f"{', '.join(POLICY_NAMES)}")


def _check_cidrs(values: list[str]) -> list[str]:
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ValueError(f"{value!r} is not a CIDR range such as 10.20.0.0/16") from None
    return values


class Waiver(BaseModel):
    """One accepted finding: a policy on one resource, and why it is acceptable."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    policy: str = Field(description="The policy's name, e.g. 'no-public-members'.")
    resource: str = Field(min_length=1, description=(
        "The resource's Pulumi logical name or its URN; 'stack' for a finding on the whole "
        "stack."))
    reason: str = Field(min_length=1, description=(
        "Why the finding is accepted, with an owner or ticket; shown in every report."))

    @field_validator("policy")
    @classmethod
    def _known_policy(cls, value: str) -> str:
        return _check_policy_name(value, "waiver")

    @field_validator("reason")
    @classmethod
    def _real_reason(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a waiver needs a reason: say why the finding is acceptable")
        return value.strip()


class PolicySettings(BaseModel):
    """How strict the policy pack is for one stack. Omitted fields keep the pack's defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enforcement: PackEnforcement = Field("default", description=(
        "'default': the pack's built-in levels (mandatory for critical and high severity, "
        "advisory for the rest); 'advisory' or 'mandatory': every policy at that level "
        "(e.g. advisory in dev, mandatory in prod)."))
    overrides: dict[str, PolicyEnforcement] = Field(default_factory=dict, description=(
        "Per-policy level by policy name; wins over `enforcement`."))

    cmek_min_classification: Classification = Field("confidential", description=(
        "Lowest data classification that must be encrypted with a customer-managed key."))
    unlabelled_classification: Classification = Field("confidential", description=(
        "Classification assumed for data holders without a data-classification label."))
    access_logging_min_classification: Classification = Field("confidential", description=(
        "Lowest classification whose buckets must write usage logs."))
    data_access_logs_min_classification: Classification = Field("confidential", description=(
        "Lowest classification whose buckets need Cloud Storage data access audit logs."))
    kms_max_rotation_days: int = Field(90, ge=1, le=36500, description=(
        "Longest KMS key rotation period, in days (CIS GCP 1.10: 90)."))
    kms_min_destroy_scheduled_days: int = Field(30, ge=1, le=120, description=(
        "Shortest scheduled-destroy delay for KMS keys, in days (provider default: 30)."))
    kms_require_protect: bool = Field(False, description=(
        "Require the Pulumi protect option on KMS keys (set in prod)."))
    kms_require_hsm_for_restricted: bool = Field(True, description=(
        "Keys labelled restricted must be HSM-backed."))
    restricted_min_retention_days: int = Field(30, ge=0, description=(
        "Restricted buckets without versioning need a retention or soft-delete period of at "
        "least this many days."))
    allowed_member_domains: list[str] = Field(default_factory=list, description=(
        "Domains whose users/groups may be granted restricted data."))
    allowed_projects: list[str] = Field(default_factory=list, description=(
        "Projects whose service accounts may be granted restricted data (the resource's own "
        "project always may)."))
    allowed_members: list[str] = Field(default_factory=list, description=(
        "Exact IAM members allowed on restricted data, e.g. a federated principal://."))
    allow_service_agents: bool = Field(True, description=(
        "Google service agents (service-NNN@...) may be granted restricted data."))
    allowed_public_buckets: list[str] = Field(default_factory=list, description=(
        "Buckets (name or logical name) that may be public: public-classified content only."))
    allowed_key_accounts: list[str] = Field(default_factory=list, description=(
        "Service accounts allowed to have user-managed keys."))
    allowed_impersonators: list[str] = Field(default_factory=list, description=(
        "Members allowed service-account impersonation roles."))
    allowed_nfs_ranges: list[str] = Field(default_factory=list, description=(
        "CIDRs Filestore shares may be exported to; empty: any range but the internet."))
    allowed_load_balancer_ranges: list[str] = Field(default_factory=list, description=(
        "CIDRs public Kubernetes load balancers may admit; empty: any range but the internet."))
    host_access_namespaces: list[str] = Field(default_factory=list, description=(
        "Kubernetes namespaces whose node agents may run privileged (GPU device plugin, DCGM)."))
    allowed_host_paths: list[str] = Field(default_factory=list, description=(
        "hostPath patterns any workload may mount, e.g. /dev/nvidia*."))
    forbidden_capabilities: list[str] = Field(
        default_factory=lambda: ["ALL", "NET_ADMIN", "SYS_ADMIN"], description=(
            "Linux capabilities no container may add."))
    sensitive_ports: list[int] = Field(
        default_factory=lambda: [20, 21, 80, 2049, 3306, 5432, 6379, 8888, 9200], description=(
            "Ports never open to the internet (besides SSH/RDP and 'all ports')."))
    primitive_roles_include_viewer: bool = Field(False, description=(
        "Also forbid roles/viewer for service accounts."))
    require_notification_channels: bool = Field(False, description=(
        "Alert policies need notification channels and the stack at least one channel "
        "(set in prod)."))
    require_image_digest: bool = Field(False, description=(
        "Kubernetes images must be pinned by @sha256: digest, not only by tag (set in prod)."))
    allowed_cluster_admin_subjects: list[str] = Field(default_factory=list, description=(
        "Subjects (Kind/name, fnmatch patterns) a ClusterRoleBinding may give cluster-admin."))
    waivers: list[Waiver] = Field(default_factory=list, description=(
        "Accepted findings, each with a reason; shown in reports, never blocking."))

    @field_validator("overrides")
    @classmethod
    def _known_overrides(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            _check_policy_name(name, "overrides")
        return value

    @field_validator("allowed_nfs_ranges", "allowed_load_balancer_ranges")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        return _check_cidrs(value)

    @field_validator("sensitive_ports")
    @classmethod
    def _ports(cls, value: list[int]) -> list[int]:
        bad = [p for p in value if not 0 <= p <= 65535]
        if bad:
            raise ValueError(f"ports must be 0-65535, got {bad}")
        return value

    def property_values(self) -> dict[str, Any]:
        """Every pack config property with its value from these settings (JSON types)."""
        out: dict[str, Any] = {}
        for field, prop in PROPERTY_OF_FIELD.items():
            value = getattr(self, field)
            out[prop] = list(value) if isinstance(value, (list, tuple)) else value
        return out

    def to_pack_config(self) -> dict[str, Any]:
        """The pack config (`--policy-pack-config` JSON / Configure request) for these settings.

        `{"all": <level>}` when `enforcement` is not 'default', then one entry per policy:
        its `enforcementLevel` override if any, the values of every property it declares, and
        its waivers. The engine applies "all" first, then per-policy entries.
        """
        props = self.property_values()
        out: dict[str, Any] = {}
        if self.enforcement != "default":
            out["all"] = self.enforcement
        for meta in POLICIES.values():
            entry: dict[str, Any] = {}
            if meta.name in self.overrides:
                entry["enforcementLevel"] = self.overrides[meta.name]
            for prop in meta.config:
                entry[prop] = props[prop]
            waivers = [{"resource": w.resource, "reason": w.reason}
                       for w in self.waivers if w.policy == meta.name]
            if waivers:
                entry["waivers"] = waivers
            if entry:
                out[meta.name] = entry
        return out

    def to_pack_config_json(self) -> str:
        """`to_pack_config()` as the file `pulumi preview --policy-pack-config` reads."""
        return json.dumps(self.to_pack_config(), indent=2, sort_keys=True) + "\n"
