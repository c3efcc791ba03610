"""FilestoreShare: an NFS share on the fabric's private services access range."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_gcp as gcp
from pydantic import Field

from infra.config.base import Spec
from infra.config.storage import FilestoreConfig
from infra.errors import AidcError
from policies.protocol import CLASSIFICATION_LABEL

# Squashed root maps to nobody, so a compromised pod running as root cannot own the share.
NOBODY = 65534


class FilestoreSpec(Spec):
    """`config` is the stack's `aidc:storage.filestore` (tier, capacity, share, CMEK,
    classification, labels; validated against the tier); `instance_name` the cloud name
    (`infra.gcp.naming.filestore_instance_name`), `location` its zone or region
    (`FilestoreConfig.location`), `export_ranges` the ranges that mount it."""

    config: FilestoreConfig = Field(description="The stack's `aidc:storage.filestore`.")
    instance_name: str = Field(description="The instance's cloud name.")
    location: str = Field(description="Its zone (zonal tiers) or region.")
    export_ranges: tuple[str, ...] = Field(description="CIDR ranges allowed to mount the share "
                                                       "(the nodes' and pods' ranges).")
    labels: dict[str, str] = Field(default_factory=dict, description="GCP labels on the instance.")


class FilestoreShare(pulumi.ComponentResource):
    """The share exports only to the given ranges (the cluster's nodes and pods), read-write
    with root squash; it connects through private services access, so it needs the fabric's
    PSA connection first, and with CMEK the Filestore agent's key grant first.
    Protected, with Filestore's own deletion protection on: it holds training data."""

    instance: gcp.filestore.Instance
    ip_addresses: pulumi.Output[list[str]]

    def __init__(self, name: str, spec: FilestoreSpec, *, project: str,
                 network: pulumi.Input[str], reserved_ip_range: pulumi.Input[str],
                 kms_key_id: pulumi.Input[str] | None = None,
                 depends_on: Sequence[pulumi.Resource] = (),
                 opts: pulumi.ResourceOptions | None = None) -> None:
        cfg = spec.config
        if cfg.cmek and kms_key_id is None:
            raise AidcError("cmek is on, so FilestoreShare needs the filestore key "
                            "(KmsKeys.key_ids['filestore']) and its grant in depends_on", field="kms_key_id")
        super().__init__("aidc:filestore:FilestoreShare", name, None, opts)
        self.instance = gcp.filestore.Instance(
            f"{name}-instance",
            name=spec.instance_name,
            project=project,
            location=spec.location,
            tier=cfg.tier,
            file_shares=gcp.filestore.InstanceFileSharesArgs(
                name=cfg.share_name,
                capacity_gb=cfg.capacity_gib,
                nfs_export_options=[gcp.filestore.InstanceFileSharesNfsExportOptionArgs(
                    ip_ranges=list(spec.export_ranges),
                    access_mode="READ_WRITE",
                    squash_mode="ROOT_SQUASH",
                    anon_uid=NOBODY,
                    anon_gid=NOBODY,
                )],
            ),
            networks=[gcp.filestore.InstanceNetworkArgs(
                network=network,
                modes=["MODE_IPV4"],
                connect_mode="PRIVATE_SERVICE_ACCESS",
                reserved_ip_range=reserved_ip_range,
            )],
            kms_key_name=kms_key_id if cfg.cmek else None,
            deletion_protection_enabled=True,
            deletion_protection_reason="Holds training data; managed by aidc",
            labels={**spec.labels, **cfg.labels, CLASSIFICATION_LABEL: cfg.classification},
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(depends_on), protect=True),
        )
        self.ip_addresses = self.instance.networks.apply(
            lambda nets: [ip for n in nets or [] for ip in (n.ip_addresses or [])])
        self.register_outputs({"instance": self.instance, "ip_addresses": self.ip_addresses})
