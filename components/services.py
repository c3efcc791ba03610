"""ProjectServices: the APIs a stack needs, enabled and never disabled on destroy."""

from __future__ import annotations

from collections.abc import Iterable

import pulumi
import pulumi_gcp as gcp

from infra.errors import AidcError
from infra.gcp.apis import BASE_APIS, service_key


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
                f"{name}-{service_key(api)}",
                project=project,
                service=api,
                disable_on_destroy=False,
                disable_dependent_services=False,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for api in wanted
        }
        self.register_outputs({"services": self.services})

    def enabled(self, *apis: str) -> list[pulumi.Resource]:
        """The Service resources for these APIs, to put in a child's `depends_on`.

        Asking for an API this component does not enable is an error, not an empty answer: the
        dependent would otherwise race the API's enablement on the first `pulumi up`.
        """
        missing = [a for a in apis if a not in self.services]
        if missing:
            raise AidcError(f"{', '.join(missing)} is not enabled by this ProjectServices, which "
                            f"manages {', '.join(self.services)}; add it to `extra`",
                            field="apis")
        return [self.services[a] for a in apis]
