"""The foundation layer: APIs, KMS, the VPC fabric, buckets, Filestore and dataset transfers,
built by the same code as the one-stack platform (`infra.platform.Foundation`), publishing the
foundation contract (`infra.layers.contracts.FoundationContract`)."""

import pulumi

from infra.config.load import load_from_pulumi
from infra.platform import Foundation

foundation = Foundation(load_from_pulumi(own_namespace=pulumi.get_project()))
foundation.publish()
foundation.note_config_sources()
