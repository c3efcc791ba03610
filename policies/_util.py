"""Shared readers for the rules: property paths, classification, CIDRs, ports, pod specs, members.

Props arrive as pulumi-policy's unknown-checking proxies (`Mapping` / `Sequence`, not dict / list):
reading a value that is unknown at preview raises `UnknownValueError`, which the SDK reports as
"can't run policy during preview". Nothing here catches it: an unknown value must never pass.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .protocol import CLASSIFICATION_LABEL, CLASSIFICATIONS, DERIVED_INSTANCES
from .record import UNLABELLED

# Subnet purposes that hold no VMs (proxies, PSC, NAT): no VM traffic to log or route.
NO_VM_SUBNET_PURPOSES = frozenset({
    "REGIONAL_MANAGED_PROXY", "GLOBAL_MANAGED_PROXY", "INTERNAL_HTTPS_LOAD_BALANCER",
    "PRIVATE_SERVICE_CONNECT", "PRIVATE_NAT",
})
PUBLIC_MEMBERS = frozenset({"allusers", "allauthenticatedusers", "principalset://goog/public:all"})
TRUE_STRINGS = frozenset({"true", "1", "yes", "y", "on"})
FALSE_STRINGS = frozenset({"false", "0", "no", "n", "off"})
_SA_PROJECT = re.compile(r"^[^@]+@(?P<project>[a-z0-9-]+)\.iam\.gserviceaccount\.com$")
_SERVICE_AGENT = re.compile(
    r"^(service-\d+@[a-z0-9-]+\.iam\.gserviceaccount\.com"
    r"|\d+@cloudservices\.gserviceaccount\.com"
    r"|service-\d+@[a-z0-9-]+\.gserviceaccount\.com"
    # Storage Transfer Service's agent is named project-<number>@...
    # https://cloud.google.com/storage-transfer/docs/iam-cloud#google-managed
    r"|project-\d+@storage-transfer-service\.iam\.gserviceaccount\.com)$")
_WI_MEMBER = re.compile(r"^serviceAccount:[a-z0-9-.:]+\.svc\.id\.goog\[[^/\]]+/[^\]]+\]$")
# GKE Workload Identity members: the KSA form for IAM service accounts, and the principal forms
# granted directly (one KSA, or every KSA of a namespace).
# https://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity
_WI_KSA = re.compile(r"^serviceAccount:(?P<project>[a-z0-9-.:]+)\.svc\.id\.goog"
                     r"\[(?P<ns>[^/\]]+)/(?P<sa>[^\]]+)\]$")
_WI_PRINCIPAL = re.compile(
    r"^principal(?:Set)?://iam\.googleapis\.com/projects/[^/]+/locations/global/"
    r"workloadIdentityPools/(?P<project>[a-z0-9-.:]+)\.svc\.id\.goog/"
    r"(?:subject/ns/(?P<ns>[^/]+)/sa/(?P<sa>[^/]+)|namespace/(?P<nsset>[^/]+)|.*)$")


# --- property access ---------------------------------------------------------------------------

def get(props: Any, *path: str | int, default: Any = None) -> Any:
    """The value at `path`, or `default` when any step is absent or null (the provider default)."""
    node = props
    for key in path:
        if isinstance(key, int):
            if not is_list(node) or key >= len(node):
                return default
            node = node[key]
        else:
            if not isinstance(node, Mapping) or key not in node:
                return default
            node = node[key]
        if node is None:
            return default
    return node


def is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def as_list(value: Any) -> list[Any]:
    """A list for a list, [] for absent, [value] for a scalar."""
    if value is None:
        return []
    if is_list(value):
        return list(value)
    return [value]


def is_true(value: Any) -> bool:
    """A boolean, or a metadata-style string ("TRUE", "true", "1")."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    return isinstance(value, str) and value.strip().lower() in TRUE_STRINGS


def is_false(value: Any) -> bool:
    """Explicitly false: False, 0, "FALSE", "false" (absent is neither true nor false)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value == 0
    return isinstance(value, str) and value.strip().lower() in FALSE_STRINGS


def matches_any(value: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(value, p) for p in patterns)


# --- data classification -----------------------------------------------------------------------

def classification_label(props: Any, labels_key: str = "labels") -> str | None:
    """The raw `data-classification` label (Cluster: `resourceLabels`), or None."""
    value = get(props, labels_key, CLASSIFICATION_LABEL)
    return value if isinstance(value, str) else None


def classification(props: Any, config: Mapping[str, Any], labels_key: str = "labels") -> str:
    """The resource's classification; unlabelled or invalid → `unlabelledClassification`
    (its declared default for a policy that does not take the property: E6)."""
    value = classification_label(props, labels_key)
    if value in CLASSIFICATIONS:
        return value
    unlabelled = "unlabelledClassification"
    return str(config.get(unlabelled, UNLABELLED[unlabelled]["default"]))


def at_least(value: str, threshold: str) -> bool:
    """True when classification `value` is as strict as `threshold` or stricter."""
    return CLASSIFICATIONS.index(value) >= CLASSIFICATIONS.index(threshold)


def labels_key_for(resource_type: str) -> str:
    return "resourceLabels" if resource_type == "gcp:container/cluster:Cluster" else "labels"


# --- networks and ports ------------------------------------------------------------------------

def parse_network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError:
        return None


def is_world(cidr: Any) -> bool:
    """The whole internet, in every spelling the provider accepts: a zero-length prefix
    (`0.0.0.0/0`, `::/0`, `::0/0`) or the unspecified address alone (`0.0.0.0`, `::`, `::0`),
    which Compute Engine reads as "anywhere" too."""
    if not isinstance(cidr, str):
        return False
    text = cidr.strip()
    if "/" not in text:
        try:
            return ipaddress.ip_address(text).is_unspecified
        except ValueError:
            return False
    net = parse_network(text)
    return net is not None and net.prefixlen == 0


def within(cidr: str, allowed: Sequence[str]) -> bool:
    """True when `cidr` lies inside one of the `allowed` networks."""
    net = parse_network(cidr)
    if net is None:
        return False
    for item in allowed:
        outer = parse_network(item)
        if outer is not None and net.version == outer.version and net.subnet_of(outer):  # type: ignore[arg-type]
            return True
    return False


ALL_PORTS = (0, 65535)
_PROTOCOL_NAMES = {"6": "tcp", "17": "udp", "132": "sctp", "1": "icmp"}


def protocol_name(protocol: Any) -> str:
    text = str(protocol).strip().lower()
    return _PROTOCOL_NAMES.get(text, text)


def port_ranges(ports: Any) -> list[tuple[int, int]]:
    """["22", "8000-8100"] → [(22, 22), (8000, 8100)]; no ports → every port."""
    items = as_list(ports)
    if not items:
        return [ALL_PORTS]
    out = []
    for item in items:
        text = str(item).strip()
        lo, _, hi = text.partition("-")
        try:
            out.append((int(lo), int(hi or lo)))
        except ValueError:
            out.append(ALL_PORTS)  # unparseable: assume the worst
    return out


def covers(ranges: Sequence[tuple[int, int]], port: int) -> bool:
    return any(lo <= port <= hi for lo, hi in ranges)


def is_all_ports(ranges: Sequence[tuple[int, int]]) -> bool:
    """True when the ranges together cover every port 1-65535."""
    reach = 1
    for lo, hi in sorted(ranges):
        if lo > reach:
            return False
        reach = max(reach, hi + 1)
        if reach > 65535:
            return True
    return False


def world_open_allows(props: Any, defaults: Mapping[str, Any]) -> Iterator[tuple[str, list[tuple[int, int]]]]:
    """(protocol, port ranges) of each allow rule a firewall opens to the internet.

    Egress and disabled rules open nothing. An ingress rule with no source at all applies to
    0.0.0.0/0 (the provider default); source tags or service accounts alone are not the world.
    """
    direction = str(get(props, "direction", default=defaults["direction"])).upper()
    if direction != "INGRESS" or is_true(get(props, "disabled", default=defaults["disabled"])):
        return
    ranges = as_list(get(props, "sourceRanges"))
    if not ranges and not as_list(get(props, "sourceTags")) and not as_list(
            get(props, "sourceServiceAccounts")):
        ranges = list(defaults["sourceRanges"])
    if not any(is_world(r) for r in ranges):
        return
    for allow in as_list(get(props, "allows")):
        protocol = protocol_name(get(allow, "protocol", default="all"))
        if protocol == "all":
            yield protocol, [ALL_PORTS]
        elif protocol in ("tcp", "udp", "sctp"):
            yield protocol, port_ranges(get(allow, "ports"))


def firewall_scope_reason(props: Any, defaults: Mapping[str, Any]) -> str | None:
    """Why a firewall rule cannot open anything to the internet (for not_applicable), or None."""
    direction = str(get(props, "direction", default=defaults["direction"])).upper()
    if direction != "INGRESS":
        return f"{direction} rule"
    if is_true(get(props, "disabled", default=defaults["disabled"])):
        return "rule is disabled"
    if not as_list(get(props, "allows")):
        return "rule only denies"
    return None


# --- virtual machines -------------------------------------------------------------------------

def inherited_from_source(args: Any, *path: str) -> None:
    """For a VM created from a template or machine image (`DERIVED_INSTANCES`) that leaves
    `path` unset: not applicable, the value comes from its source, which the same policy
    judges where it is declared. Returns for any other VM, or when the value is set here."""
    if args.resource_type in DERIVED_INSTANCES and get(args.props, *path) is None:
        source = get(args.props, "sourceInstanceTemplate") or get(args.props, "sourceMachineImage")
        args.not_applicable(f"{'.'.join(path)} is inherited from {source or 'its source'}, "
                            "which is judged where it is declared")


# --- Kubernetes pod specs ----------------------------------------------------------------------

def pod_spec(resource_type: str, props: Any) -> Any:
    """The pod spec inside a workload: spec (Pod), spec.jobTemplate.spec.template.spec (CronJob),
    spec.template.spec (the rest)."""
    if resource_type == "kubernetes:core/v1:Pod":
        return get(props, "spec")
    if resource_type == "kubernetes:batch/v1:CronJob":
        return get(props, "spec", "jobTemplate", "spec", "template", "spec")
    return get(props, "spec", "template", "spec")


def containers(spec: Any, *, init: bool = True) -> Iterator[tuple[str, Any]]:
    """(label, container) for containers, and init/ephemeral containers unless `init=False`."""
    kinds = ("containers", "initContainers", "ephemeralContainers") if init else ("containers",)
    for kind in kinds:
        for i, container in enumerate(as_list(get(spec, kind))):
            name = get(container, "name", default=f"{kind}[{i}]")
            label = f"container {name!r}" if kind == "containers" else f"{kind[:-1]} {name!r}"
            yield label, container


def namespace(props: Any) -> str:
    return str(get(props, "metadata", "namespace", default="default"))


# --- IAM members -------------------------------------------------------------------------------

def iam_grants(props: Any) -> Iterator[tuple[str, str]]:
    """(role, member) for an *IAMMember, *IAMBinding or *IAMPolicy resource.

    IAMPolicy's `policyData` is a JSON string; if it does not parse, one ("", "<invalid
    policyData>") pair is yielded so that the caller fails closed.
    """
    role = get(props, "role", default="")
    member = get(props, "member")
    if member is not None:
        yield role, str(member)
    for m in as_list(get(props, "members")):
        yield role, str(m)
    data = get(props, "policyData")
    if data is not None:
        try:
            policy = json.loads(data) if isinstance(data, str) else data
            bindings = as_list(get(policy, "bindings"))
        except ValueError:
            yield "", "<invalid policyData>"
            return
        for binding in bindings:
            for m in as_list(get(binding, "members")):
                yield str(get(binding, "role", default="")), str(m)


def is_public_member(member: str) -> bool:
    return member.strip().lower() in PUBLIC_MEMBERS


def member_parts(member: str) -> tuple[str, str]:
    """'user:a@x.com' → ('user', 'a@x.com'); 'allUsers' → ('allUsers', '').

    A `user:` member whose e-mail is a service account's (`...gserviceaccount.com`; IAM accepts
    it) is what it names: ('serviceAccount', email), so no rule about service accounts can be
    sidestepped by spelling the member as a user."""
    kind, sep, value = member.partition(":")
    if not sep:
        return member, ""
    if kind in ("principal", "principalSet"):  # principal://..., keep the whole URI
        return kind, member
    if kind == "user" and is_service_account_email(value):
        return "serviceAccount", value
    return kind, value


def is_service_account_email(email: str) -> bool:
    """Any Google service account: user-managed, default compute, or a service agent."""
    return email.strip().lower().endswith(".gserviceaccount.com")


def member_domain(member: str) -> str | None:
    kind, value = member_parts(member)
    if kind == "domain":
        return value.lower()
    if "@" in value:
        return value.rsplit("@", 1)[1].lower()
    return None


def service_account_project(email: str) -> str | None:
    match = _SA_PROJECT.match(email.lower())
    return match.group("project") if match else None


def is_service_agent(email: str) -> bool:
    return bool(_SERVICE_AGENT.match(email.lower()))


def gke_workload_identity(member: str) -> tuple[str, str | None, str | None] | None:
    """(project, namespace, service account) of a GKE Workload Identity member: the pool's
    project, and the namespace and KSA it names (namespace only for a whole-namespace principal
    set; neither for other sets); None for any other member."""
    match = _WI_KSA.match(member) or _WI_PRINCIPAL.match(member)
    if match is None:
        return None
    groups = match.groupdict()
    return groups["project"], groups.get("ns") or groups.get("nsset"), groups.get("sa")


def is_workload_identity_member(member: str) -> bool:
    """serviceAccount:PROJECT.svc.id.goog[namespace/ksa], or a federated principal."""
    return bool(_WI_MEMBER.match(member)) or member.startswith(
        ("principal://iam.googleapis.com/", "principalSet://iam.googleapis.com/"))


def is_default_compute_sa(email: Any) -> bool:
    """'default' or <project-number>-compute@developer.gserviceaccount.com (also as an IAM
    member, `serviceAccount:` or `user:`)."""
    if not isinstance(email, str):
        return False
    text = email.strip().lower()
    if text.startswith(("serviceaccount:", "user:")):
        text = text.split(":", 1)[1]
    return text == "default" or text.endswith("-compute@developer.gserviceaccount.com")


# --- GKE nodes ---------------------------------------------------------------------------------

def node_configs(resource_type: str, props: Any) -> Iterator[tuple[str, Any]]:
    """(where, nodeConfig-like block) for every set of nodes a cluster or node pool creates.

    Cluster: the default node pool's `nodeConfig` unless it is removed or the cluster is
    Autopilot; each inline `nodePools[].nodeConfig`; `clusterAutoscaling.autoProvisioningDefaults`
    when node auto-provisioning or Autopilot creates pools. Node pool: its `nodeConfig`.
    An absent block is yielded as {} (every field at its provider default).
    """
    if resource_type == "gcp:container/nodePool:NodePool":
        yield "nodeConfig", get(props, "nodeConfig", default={})
        return
    autopilot = is_true(get(props, "enableAutopilot", default=False))
    if not autopilot and not is_true(get(props, "removeDefaultNodePool", default=False)):
        yield "default node pool nodeConfig", get(props, "nodeConfig", default={})
    for i, pool in enumerate(as_list(get(props, "nodePools"))):
        name = get(pool, "name", default=str(i))
        yield f"nodePools[{name}].nodeConfig", get(pool, "nodeConfig", default={})
    if autopilot or is_true(get(props, "clusterAutoscaling", "enabled", default=False)):
        yield ("clusterAutoscaling.autoProvisioningDefaults",
               get(props, "clusterAutoscaling", "autoProvisioningDefaults", default={}))


def default_sa_findings(resource_type: str, props: Any) -> Iterator[str]:
    """Messages for each node set that runs as the default compute service account."""
    for where, block in node_configs(resource_type, props):
        sa = get(block, "serviceAccount")
        if sa is None:
            yield f"{where}: serviceAccount is not set, so nodes run as the default compute SA"
        elif is_default_compute_sa(sa):
            yield f"{where}: serviceAccount {sa!r} is the default compute SA"


# --- durations ---------------------------------------------------------------------------------

_DURATION = re.compile(r"^(?P<seconds>\d{1,12}(\.\d{1,9})?)s?$")


def duration_seconds(value: Any) -> float | None:
    """A provider duration in seconds: '7776000s' / '7776000.5s' (protobuf Duration), '2592000'
    (a bucket's retentionPeriod) or a number; None when it does not parse as one, including
    negative, NaN and infinite values and other units ('90d'), so a rule can say so rather
    than let an unreadable value pass."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) and value >= 0 else None
    if isinstance(value, str):
        match = _DURATION.match(value.strip())
        return float(match["seconds"]) if match else None
    return None


def duration_problem(path: str, value: Any, example: str) -> str:
    """The message for a duration that does not parse."""
    return (f"{path} {value!r} is not a duration in seconds like {example!r}, so it cannot be "
            "verified")


DAY = 86400.0
