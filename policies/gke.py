"""GKE hardening: node identity, Workload Identity, authentication, shielded and updated nodes,
admission of attested images, node images, security posture.

Each rule is `rule(args, config) -> Iterator[message]`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ._util import as_list, default_sa_findings, get, is_false, is_true, node_configs
from .metadata import meta
from .protocol import CLUSTER, NODE_POOL

_BROAD_SCOPES = frozenset({"cloud-platform", "compute", "devstorage.full_control",
                           "devstorage.read_write", "iam"})
_SCOPE_PREFIX = "https://www.googleapis.com/auth/"
_EXPOSED_MODES = frozenset({"GCE_METADATA", "MODE_UNSPECIFIED", "UNSPECIFIED"})
# The provider offers DISABLED and PROJECT_SINGLETON_POLICY_ENFORCE; the API also has the
# policy-bindings modes (CIS GKE: "or policy bindings").
_ENFORCING_BINAUTHZ = frozenset({"PROJECT_SINGLETON_POLICY_ENFORCE", "POLICY_BINDINGS",
                                 "POLICY_BINDINGS_AND_PROJECT_SINGLETON_POLICY_ENFORCE"})


def node_sa_not_default(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """G1: the default compute SA is project Editor; every pod on the node inherits it."""
    yield from default_sa_findings(args.resource_type, args.props)


def _broad(scopes: Any) -> list[str]:
    return [s for s in map(str, as_list(scopes)) if s.removeprefix(_SCOPE_PREFIX) in _BROAD_SCOPES]


def workload_identity_and_scopes(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """G2: without Workload Identity and the GKE metadata server, pods borrow node credentials."""
    props = args.props
    autopilot = is_true(get(props, "enableAutopilot"))
    wi_on = autopilot or bool(get(props, "workloadIdentityConfig", "workloadPool"))
    if args.resource_type == CLUSTER and not wi_on:
        yield "workloadIdentityConfig.workloadPool is not set: Workload Identity is off"
    for where, block in node_configs(args.resource_type, props):
        mode = get(block, "workloadMetadataConfig", "mode")
        if mode in _EXPOSED_MODES:
            yield f"{where}.workloadMetadataConfig.mode is {mode}: pods can read node credentials"
            continue
        broad = _broad(get(block, "oauthScopes"))
        if not broad:
            continue
        # Auto-provisioned pools get the GKE metadata server whenever Workload Identity is on.
        protected = mode == "GKE_METADATA" or (where.startswith("clusterAutoscaling") and wi_on)
        if args.resource_type == CLUSTER and not wi_on:
            protected = False
        if not protected:
            yield (f"{where}.oauthScopes grants {', '.join(broad)} without the GKE metadata "
                   "server (workloadMetadataConfig.mode GKE_METADATA) and Workload Identity")


def gke_no_legacy_auth(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """G3: legacy ABAC bypasses RBAC; client certificates are static, unrevocable credentials."""
    m = meta("G3")
    if is_true(get(args.props, "enableLegacyAbac", default=m.default("enableLegacyAbac"))):
        yield "enableLegacyAbac is on: legacy ABAC bypasses RBAC"
    if is_true(get(args.props, "masterAuth", "clientCertificateConfig", "issueClientCertificate",
                   default=m.default("masterAuth.clientCertificateConfig.issueClientCertificate"))):
        yield "masterAuth issues a client certificate (static cluster-admin credential)"


def gke_shielded_nodes(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """G4: shielded nodes stop a compromised node from impersonating another (CIS GKE 5.5.5)."""
    if is_false(get(args.props, "enableShieldedNodes",
                    default=meta("G4").default("enableShieldedNodes"))):
        yield "enableShieldedNodes is false"


def gke_secure_boot_integrity(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """G5: secure boot and integrity monitoring catch boot-level rootkits on GPU nodes."""
    if args.resource_type == CLUSTER and is_true(get(args.props, "enableAutopilot")):
        args.not_applicable("Autopilot nodes always use Secure Boot")
    m = meta("G5")
    for where, block in node_configs(args.resource_type, args.props):
        shielded = get(block, "shieldedInstanceConfig", default={})
        if not is_true(get(shielded, "enableSecureBoot", default=m.default(
                "nodeConfig.shieldedInstanceConfig.enableSecureBoot"))):
            yield f"{where}.shieldedInstanceConfig.enableSecureBoot is off (the provider default)"
        if is_false(get(shielded, "enableIntegrityMonitoring", default=m.default(
                "nodeConfig.shieldedInstanceConfig.enableIntegrityMonitoring"))):
            yield f"{where}.shieldedInstanceConfig.enableIntegrityMonitoring is false"


def _management(where: str, management: Any) -> Iterator[str]:
    m = meta("G6")
    if is_false(get(management, "autoUpgrade", default=m.default("management.autoUpgrade"))):
        yield f"{where}management.autoUpgrade is false"
    if is_false(get(management, "autoRepair", default=m.default("management.autoRepair"))):
        yield f"{where}management.autoRepair is false"


def gke_release_channel_autoupgrade(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """G6: unpatched nodes and control planes are the slowest-closing hole (CIS GKE 5.5.2-5.5.4)."""
    props = args.props
    if args.resource_type == NODE_POOL:
        yield from _management("", get(props, "management", default={}))
        return
    channel = get(props, "releaseChannel", "channel")
    if channel == "UNSPECIFIED":
        yield "releaseChannel.channel is UNSPECIFIED: the cluster follows no release channel"
    elif channel is None and get(props, "minMasterVersion"):
        yield ("minMasterVersion pins a static version and no releaseChannel is set: the cluster "
               "follows no release channel")
    for pool in as_list(get(props, "nodePools")):
        name = get(pool, "name", default="?")
        yield from _management(f"nodePools[{name}].", get(pool, "management", default={}))


def gke_binary_authorization(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """G7: Binary Authorization admits only attested images (CIS GKE 5.10.5)."""
    block = get(args.props, "binaryAuthorization", default={})
    mode = get(block, "evaluationMode")
    if mode in _ENFORCING_BINAUTHZ or (mode is None and is_true(get(block, "enabled"))):
        return
    yield (f"binaryAuthorization.evaluationMode is {mode}" if mode else
           "binaryAuthorization is not set") + ": any image can run on the cluster"


def gke_no_alpha(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """G8: alpha clusters get no upgrades or SLA and are deleted after 30 days."""
    if is_true(get(args.props, "enableKubernetesAlpha")):
        yield "enableKubernetesAlpha is true: an alpha cluster (no SLA, auto-deleted in 30 days)"


def gke_cos_containerd(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """G9: Container-Optimized OS is the hardened, minimal node image (CIS GKE 5.5.1)."""
    for where, block in node_configs(args.resource_type, args.props):
        image = get(block, "imageType")
        if image is not None and str(image).upper() != "COS_CONTAINERD":
            yield f"{where}.imageType is {image}: nodes do not run Container-Optimized OS"


def gke_security_posture(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """G10: the security posture dashboard reports workload misconfigurations and CVEs."""
    block = get(args.props, "securityPostureConfig", default={})
    if get(block, "mode") == "DISABLED":
        yield "securityPostureConfig.mode is DISABLED: no workload configuration audit"
    if get(block, "vulnerabilityMode") == "VULNERABILITY_DISABLED":
        yield "securityPostureConfig.vulnerabilityMode is VULNERABILITY_DISABLED: no CVE scanning"


def gke_rbac_google_groups(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """I10: Google Groups for RBAC grant cluster roles to groups the identity team manages,
    instead of to individual accounts (CIS GKE 5.8.3)."""
    group = get(args.props, "authenticatorGroupsConfig", "securityGroup")
    if not group:
        yield "authenticatorGroupsConfig.securityGroup is not set: no Google Groups for RBAC"
    elif not str(group).startswith("gke-security-groups@"):
        yield (f"authenticatorGroupsConfig.securityGroup is {group}: GKE only reads a group "
               "named gke-security-groups@<domain>")


RULES = {
    "G1": node_sa_not_default,
    "G2": workload_identity_and_scopes,
    "G3": gke_no_legacy_auth,
    "G4": gke_shielded_nodes,
    "G5": gke_secure_boot_integrity,
    "G6": gke_release_channel_autoupgrade,
    "G7": gke_binary_authorization,
    "G8": gke_no_alpha,
    "G9": gke_cos_containerd,
    "G10": gke_security_posture,
    "I10": gke_rbac_google_groups,
}
