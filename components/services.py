"""ProjectServices: the APIs a stack needs, enabled and never disabled on destroy."""

from __future__ import annotations

from collections.abc import Iterable

import pulumi
import pulumi_gcp as gcp

# What the foundation layers call; later layers add theirs through `extra`.
BASE_APIS = (
    "cloudkms.googleapis.com",
    "compute.googleapis.com",
    "file.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "servicenetworking.googleapis.com",
    "storage.googleapis.com",
)


class ProjectServices(pulumi.ComponentResource):
    """Enable each API once. `disable_on_destroy` is off: disabling an API on `pulumi destroy`
    would break every other workload in the project that uses it."""

    services: dict[str, gcp.projects.Service]

    def __init__(self, name: str, *, project: str, extra: Iterable[str] = (),
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aidc:services:ProjectServices", name, None, opts)
        wanted = sorted(set(BASE_APIS) | set(extra))
        self.services = {
            api: gcp.projects.Service(
                f"{name}-{api.split('.')[0]}",
                project=project,
                service=api,
                disable_on_destroy=False,
                disable_dependent_services=False,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for api in wanted
        }
        self.register_outputs({"services": sorted(self.services)})

    def enabled(self, *apis: str) -> list[pulumi.Resource]:
        """The Service resources for these APIs, to put in a child's `depends_on`."""
        return [self.services[a] for a in apis if a in self.services]
