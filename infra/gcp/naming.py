"""Cloud-visible names and the rules GCP enforces on them.

The Pulumi logical name (`f"{name}-{role}"`) never changes; the name GCP sees is built here so
that its length and character set are checked when the config is read, not at apply time.
"""

from __future__ import annotations

import ipaddress
import re

from infra.errors import AidcError

# https://cloud.google.com/resource-manager/docs/creating-managing-projects#before_you_begin
_PROJECT_ID = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")
# RFC 1035 names: networks, subnetworks, routers, firewalls, Filestore instances, clusters.
_RFC1035 = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")
# https://cloud.google.com/storage/docs/buckets#naming
_BUCKET = re.compile(r"[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]")
# https://cloud.google.com/kms/docs/resource-hierarchy (key ring and key ids)
_KMS_ID = re.compile(r"[a-zA-Z0-9_-]{1,63}")
# https://cloud.google.com/iam/docs/service-accounts-create#creating (account id)
_SA_ID = re.compile(r"[a-z]([-a-z0-9]{4,28}[a-z0-9])")
# https://cloud.google.com/filestore/docs/reference/rest/v1/projects.locations.instances#FileShareConfig
_SHARE = re.compile(r"[a-z][a-z0-9_]{0,15}")
# GKE cluster and node pool names: 1-40 characters, lowercase letters, digits and hyphens,
# starting with a letter and ending with a letter or digit.
# Cluster: https://cloud.google.com/kubernetes-engine/docs/reference/rest/v1/projects.locations.clusters#Cluster.FIELDS.name
# Node pool: the API's own rule, quoted in its error "Invalid value for field node_pool.name
# ... Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,38}[a-z0-9])?)' (... must be no longer
# than 40 characters)": https://github.com/pulumi/pulumi-gcp/issues/1510
# Kubernetes names (RFC 1123 label and subdomain).
_K8S_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
GKE_NAME_MAX = 40
_GKE_NAME = re.compile(r"[a-z]([-a-z0-9]{0,38}[a-z0-9])?")


def check_project_id(project: str) -> str:
    if not _PROJECT_ID.fullmatch(project):
        raise AidcError(
            f"{project!r} is not a valid GCP project id: 6-30 characters of lowercase letters, "
            "digits and hyphens, starting with a letter and not ending with a hyphen")
    return project


def check_dns_label(name: str) -> str:
    """A Kubernetes name that is an RFC 1123 label, 1-63 characters: a namespace, and aidc's team
    names (they name a team's namespace and queues).
    https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#dns-label-names"""
    if not isinstance(name, str) or not _K8S_LABEL.fullmatch(name) or len(name) > 63:
        raise AidcError(f"{name!r} is not a Kubernetes name: 1-63 lowercase letters, digits and "
                        "'-', starting and ending with a letter or digit (RFC 1123)")
    return name


def _named(what: str, name: str) -> str:
    return f"{what} {name!r}" if what else repr(name)


def check_rfc1035(name: str, what: str = "") -> str:
    """`what` names a composed name ("firewall name"); a config field's own value needs none."""
    if not _RFC1035.fullmatch(name):
        size = f" ({len(name)} characters)" if len(name) > 63 else ""
        raise AidcError(
            f"{_named(what, name)}{size} is not accepted by GCP: 1-63 characters of lowercase letters, "
            "digits and hyphens, starting with a letter and ending with a letter or digit")
    return name


def check_bucket_name(name: str) -> str:
    problems = []
    if not _BUCKET.fullmatch(name):
        problems.append("3-63 characters of lowercase letters, digits, '-', '_' and '.', "
                        "starting and ending with a letter or digit")
    if name.startswith("goog") or "google" in name or "g00gle" in name:
        problems.append("no 'goog' prefix and no 'google' inside")
    if ".." in name or ".-" in name or "-." in name:
        problems.append("no consecutive dots, nor a dot next to a hyphen")
    try:
        ipaddress.ip_address(name)
        problems.append("not an IP address")
    except ValueError:
        pass
    if problems:
        raise AidcError(f"bucket name {name!r} is not accepted by Cloud Storage: "
                        + "; ".join(problems))
    return name


def check_kms_id(name: str, what: str = "") -> str:
    if not _KMS_ID.fullmatch(name):
        raise AidcError(f"{_named(what, name)}: Cloud KMS accepts 1-63 characters of letters, "
                        "digits, '_' and '-'")
    return name


def check_share_name(name: str) -> str:
    if not _SHARE.fullmatch(name):
        raise AidcError(f"{name!r}: Filestore accepts 1-16 characters of lowercase "
                        "letters, digits and '_', starting with a letter")
    return name


def bucket_name(project: str, environment: str, purpose: str) -> str:
    """Globally unique by construction: the project id is unique, purposes are unique per stack."""
    return check_bucket_name(f"{project}-{environment}-{purpose}".replace("_", "-"))


def service_account_id(prefix: str, role: str) -> str:
    """A service account id of at most 30 characters, built from a stack prefix and a role."""
    raw = f"{prefix}-{role}"[:30].rstrip("-")
    if not _SA_ID.fullmatch(raw):
        raise AidcError(f"service account id {raw!r}: IAM accepts 6-30 characters of lowercase "
                        "letters, digits and hyphens, starting with a letter")
    return raw


def key_ring_id(key_ring: str, environment: str) -> str:
    """`<key_ring>-<environment>`: one key ring per environment."""
    return check_kms_id(f"{key_ring}-{environment}", "key ring id")


def crypto_key_id(project: str, location: str, key_ring: str, purpose: str) -> str:
    """A key's resource name (its id), as CMEK settings and Cloud KMS audit logs spell it."""
    return f"projects/{project}/locations/{location}/keyRings/{key_ring}/cryptoKeys/{purpose}"


def filestore_instance_name(prefix: str, name: str) -> str:
    """`<network>-<environment>-<name>`: instance names are unique per project and location."""
    return check_rfc1035(f"{prefix}-{name}", "Filestore instance name")


def check_gke_name(name: str, what: str = "") -> str:
    """A GKE cluster or node pool name (see _GKE_NAME for the rule and its sources)."""
    if not _GKE_NAME.fullmatch(name):
        size = f" ({len(name)} characters)" if len(name) > GKE_NAME_MAX else ""
        raise AidcError(
            f"{_named(what, name)}{size} is not accepted by GKE: 1-{GKE_NAME_MAX} characters of "
            "lowercase letters, digits and hyphens, starting with a letter and ending with a "
            "letter or digit")
    return name


def cluster_name(prefix: str, name: str) -> str:
    """`<network>-<environment>-<name>`, the GKE cluster's name."""
    return check_gke_name(f"{prefix}-{name}", "cluster name")


def node_pool_name(pool: str, index: int = 0, slices: int = 1) -> str:
    """A node pool's GKE name: the pool's key; a TPU pool of several slices has one node pool
    per slice, `<key>-<index>`."""
    return check_gke_name(f"{pool}-{index}" if slices > 1 else pool, "node pool name")


def extra_network_name(network: str, suffix: str) -> str:
    """`<network>-<suffix>`: a GPUDirect NIC's VPC (`<pool>-gvnic0`, `<pool>-roce`)."""
    return check_rfc1035(f"{network}-{suffix}", "VPC name")


def extra_subnet_name(network: str, suffix: str) -> str:
    """`<network>-<suffix>`: a GPUDirect NIC's subnet (`<pool>-gpu3`)."""
    return check_rfc1035(f"{network}-{suffix}", "subnet name")


def extra_firewall_name(network: str, vpc: str) -> str:
    """`<network>-<vpc>-internal`: the firewall rule of a GPUDirect VPC (RoCE VPCs take none)."""
    return check_rfc1035(f"{network}-{vpc}-internal", "firewall name")


def nat_name(network: str) -> str:
    """`<network>-nat`, a VPC fabric's Cloud NAT gateway (its alerts watch it by this name)."""
    return f"{network}-nat"


def webhook_firewall_name(prefix: str) -> str:
    """`<network>-<environment>-allow-webhooks`: the rule that lets the GKE control plane call
    the queueing controllers' admission webhooks on the nodes."""
    return check_rfc1035(f"{prefix}-allow-webhooks", "firewall name")
