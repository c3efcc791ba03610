"""What `pulumi up` runs: the platform composed from this stack's config."""

from infra.config.load import load_from_pulumi
from infra.platform import Platform

Platform(load_from_pulumi())
