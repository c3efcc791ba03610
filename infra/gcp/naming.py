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
_REGION = re.compile(r"[a-z]+-[a-z]+[0-9]+")
_ZONE = re.compile(r"([a-z]+-[a-z]+[0-9]+)-[a-z]")


def check_project_id(project: str) -> str:
    if not _PROJECT_ID.fullmatch(project):
        raise AidcError(
            f"{project!r} is not a valid GCP project id: 6-30 characters of lowercase letters, "
            "digits and hyphens, starting with a letter and not ending with a hyphen")
    return project


def check_region(region: str) -> str:
    if not _REGION.fullmatch(region):
        raise AidcError(f"{region!r} is not a GCP region name (e.g. 'us-central1', 'europe-west4')")
    return region


def zone_region(zone: str) -> str:
    """The region a zone belongs to ('us-central1-a' -> 'us-central1')."""
    match = _ZONE.fullmatch(zone)
    if not match:
        raise AidcError(f"{zone!r} is not a GCP zone name (e.g. 'us-central1-a')")
    return match.group(1)


def check_zone_in_region(zone: str, region: str) -> str:
    """A zone of this region, or an error saying which it is not."""
    if zone_region(zone) != region:
        raise AidcError(f"{zone!r} is not in region {region!r}")
    return zone


def _named(what: str, name: str) -> str:
    return f"{what} {name!r}" if what else repr(name)


def check_rfc1035(name: str, what: str = "") -> str:
    """`what` names a composed name ("firewall name"); a config field's own value needs none."""
    if not _RFC1035.fullmatch(name):
        raise AidcError(
            f"{_named(what, name)} is not accepted by GCP: 1-63 characters of lowercase letters, "
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


def cluster_name(prefix: str, name: str) -> str:
    """`<network>-<environment>-<name>`, the GKE cluster's name."""
    return f"{prefix}-{name}"


def nat_name(network: str) -> str:
    """`<network>-nat`, a VPC fabric's Cloud NAT gateway (its alerts watch it by this name)."""
    return f"{network}-nat"


def webhook_firewall_name(prefix: str) -> str:
    """`<network>-<environment>-allow-webhooks`: the rule that lets the GKE control plane call
    the queueing controllers' admission webhooks on the nodes."""
    return check_rfc1035(f"{prefix}-allow-webhooks", "firewall name")
