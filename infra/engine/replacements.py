"""Input paths that force a resource to be replaced (destroyed and created again).

For stateful resources a replacement loses data or capacity, so `aidc diff` calls them out.
Taken from the provider schema (ForceNew fields) of pulumi-gcp 10 / the Terraform google
provider: https://registry.terraform.io/providers/hashicorp/google/latest/docs
"""

from __future__ import annotations

FORCES_REPLACEMENT: dict[str, tuple[str, ...]] = {
    "gcp:filestore/instance:Instance": (
        "name", "location", "tier", "networks", "kmsKeyName", "fileShares.name",
        "fileShares.sourceBackup", "project", "protocol",
    ),
    "gcp:storage/bucket:Bucket": ("name", "location", "project"),
    "gcp:kms/keyRing:KeyRing": ("name", "location", "project"),
    "gcp:kms/cryptoKey:CryptoKey": ("name", "keyRing", "purpose", "versionTemplate.protectionLevel",
                                    "importOnly", "skipInitialVersionCreation"),
    "gcp:compute/network:Network": ("name", "autoCreateSubnetworks", "project", "mtu"),
    "gcp:compute/subnetwork:Subnetwork": ("name", "network", "region", "project"),
    "gcp:container/cluster:Cluster": (
        "name", "location", "network", "subnetwork", "ipAllocationPolicy",
        "privateClusterConfig.enablePrivateNodes", "privateClusterConfig.masterIpv4CidrBlock",
        "project", "enableAutopilot",
    ),
    "gcp:container/nodePool:NodePool": (
        "name", "cluster", "location", "project", "nodeLocations", "placementPolicy",
        "networkConfig", "queuedProvisioning",
        "nodeConfig.machineType", "nodeConfig.guestAccelerators", "nodeConfig.diskSizeGb",
        "nodeConfig.diskType", "nodeConfig.imageType", "nodeConfig.localSsdCount",
        "nodeConfig.ephemeralStorageLocalSsdConfig", "nodeConfig.localNvmeSsdBlockConfig",
        "nodeConfig.spot", "nodeConfig.preemptible", "nodeConfig.reservationAffinity",
        "nodeConfig.bootDiskKmsKey", "nodeConfig.serviceAccount", "nodeConfig.oauthScopes",
        "nodeConfig.shieldedInstanceConfig", "nodeConfig.gvnic", "nodeConfig.flexStart",
        "nodeConfig.metadata", "nodeConfig.minCpuPlatform",
    ),
}


def replacing_paths(resource_type: str, changed: list[str]) -> list[str]:
    """The changed paths that replace a resource of this type."""
    forcing = FORCES_REPLACEMENT.get(resource_type, ())
    return [p for p in changed
            if any(p == f or p.startswith(f + ".") or p.startswith(f + "[") for f in forcing)]
