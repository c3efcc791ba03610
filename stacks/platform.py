"""The platform composition: every layer built from one PlatformConfig, wired in order.

Users compose their own stacks the same way: construct the components they want with specs
derived from their config, and pass the outputs of one as the wiring of the next.
"""

from __future__ import annotations

import pulumi

from components.filestore import FilestoreShare, FilestoreSpec
from components.kms import KmsKeys, KmsSpec
from components.network import VpcFabric, VpcSpec
from components.services import ProjectServices
from components.storage import ACCESS_LOGS_PURPOSE, BucketsSpec, DataBuckets, needs_access_logs
from infra import naming
from infra.catalog.filestore import filestore_tier
from infra.config import PlatformConfig


class Platform:
    """The components of one stack, as attributes, for stacks that build on top of them."""

    def __init__(self, cfg: PlatformConfig) -> None:
        self.cfg = cfg
        plan = cfg.network_plan()
        labels = cfg.resource_labels()
        prefix = cfg.name_prefix

        self.services = ProjectServices("apis", project=cfg.project, extra=cfg.apis)
        self.kms = KmsKeys(
            "kms",
            KmsSpec(key_ring=f"{cfg.encryption.key_ring}-{cfg.environment}", location=cfg.region,
                    protection_level=cfg.encryption.protection_level,
                    rotation_days=cfg.encryption.rotation_days,
                    destroy_scheduled_days=cfg.encryption.destroy_scheduled_days, labels=labels),
            project=cfg.project,
            depends_on=self.services.enabled("cloudkms.googleapis.com"),
        )
        self.network = VpcFabric(
            "net",
            VpcSpec(network_name=prefix, region=cfg.region,
                    flow_logs_sampling=cfg.network.flow_logs_sampling,
                    nat_log_filter=cfg.network.nat_log_filter, iap_ssh=cfg.network.iap_ssh,
                    labels=labels),
            plan,
            project=cfg.project,
            depends_on=self.services.enabled("compute.googleapis.com",
                                             "servicenetworking.googleapis.com"),
        )
        self.buckets = self._buckets(cfg, labels)
        self.filestore = self._filestore(cfg, plan, labels)
        self._export()

    def _buckets(self, cfg: PlatformConfig, labels: dict[str, str]) -> DataBuckets | None:
        buckets = cfg.storage.buckets
        if not buckets:
            return None
        logged = any(needs_access_logs(b) for b in buckets.values())
        return DataBuckets(
            "data",
            BucketsSpec(
                location=cfg.storage.location or cfg.region,
                environment=cfg.environment,
                bucket_names={p: naming.bucket_name(cfg.project, cfg.environment, p) for p in buckets},
                buckets=buckets,
                access_log_bucket=(naming.bucket_name(cfg.project, cfg.environment, ACCESS_LOGS_PURPOSE)
                                   if logged else None),
                protect=cfg.is_production,
                labels=labels,
            ),
            project=cfg.project,
            kms_key_id=self.kms.key_ids["storage"],
            key_grants=self.kms.grants["storage"],
            opts=pulumi.ResourceOptions(depends_on=self.services.enabled("storage.googleapis.com")),
        )

    def _filestore(self, cfg: PlatformConfig, plan, labels: dict[str, str]) -> FilestoreShare | None:
        fs = cfg.storage.filestore
        if fs is None:
            return None
        tier = filestore_tier(fs.tier)
        location = cfg.region if tier.location_kind == "region" else (fs.zone or cfg.zones[0])
        return FilestoreShare(
            "share",
            FilestoreSpec(instance_name=f"{cfg.name_prefix}-{fs.name}", tier=fs.tier,
                          capacity_gib=fs.capacity_gib, share_name=fs.share_name,
                          location=location, export_ranges=(str(plan.subnet), str(plan.pods)),
                          classification=fs.classification, cmek=fs.cmek,
                          labels={**labels, **fs.labels}),
            project=cfg.project,
            network=self.network.network_id,
            reserved_ip_range=self.network.psa_range.name,
            kms_key_id=self.kms.key_ids["filestore"] if fs.cmek else None,
            depends_on=[self.network.psa_connection, *self.services.enabled("file.googleapis.com"),
                        *(self.kms.grants["filestore"] if fs.cmek else [])],
        )

    def _export(self) -> None:
        pulumi.export("network", self.network.network_self_link)
        pulumi.export("subnet", self.network.subnet_self_link)
        pulumi.export("kms_keys", self.kms.key_ids)
        if self.buckets is not None:
            pulumi.export("buckets", self.buckets.names)
        if self.filestore is not None:
            pulumi.export("filestore_ips", self.filestore.ip_addresses)
