"""ProjectServices: the APIs a stack calls and the service agents it grants to, each created
before anything that needs it, and never disabled on destroy.

Nothing here is listed by hand. `ordering` is a Pulumi transformation: given to a component (as
`pulumi.ResourceOptions(transformations=[services.ordering])`), it sees every resource that
component and its children register, looks its type and settings up in
`infra.catalog.apply_facts` (the one table of which API a type or a setting calls), enables that
API on first need and makes the resource wait for it. So the APIs a stack enables are exactly the
ones its resources call, and a resource added tomorrow waits for its API without anyone
remembering to say so. `aidc check` verifies the result on the plan
(`infra.check.apply_order`), for aidc's stacks and for any program.

Service agents come from the same table: `agent(api)` is the agent's IAM member and what a
grant to it must wait for: its `gcp.projects.ServiceIdentity` where Google creates the agent
only on request, else its API's enablement (and, for agents made by a lookup, the lookup).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp

from infra.catalog.apply_facts import INVOKE_APIS, agent_for_api, apis_of
from infra.errors import AidcError
from infra.gcp.apis import check_service_name, service_key

_GET_PROJECT = "gcp:organizations/getProject:getProject"


@dataclass(frozen=True)
class ServiceAgentRef:
    """A service agent as a grant needs it: its IAM member, and what the grant must wait for."""

    member: pulumi.Output[str]
    ready: tuple[pulumi.Resource, ...]


def _snake(key: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in key)


def read_arg(props: Any, path: tuple[str, ...]) -> Any:
    """A setting of a resource's constructor arguments (the transformation sees Python names
    and `...Args` objects) at the camelCase path the facts table uses; None when absent or not
    known yet (an Output)."""
    value = props
    for key in path:
        if value is None or isinstance(value, pulumi.Output):
            return None
        if isinstance(value, dict):
            value = value.get(_snake(key), value.get(key))
        else:
            value = getattr(value, _snake(key), None)
    return None if isinstance(value, pulumi.Output) else value


class ProjectServices(pulumi.ComponentResource):
    """Each API enabled once, on first need (`enabled`, `ordering`, `agent`), with
    `disable_on_destroy` off: disabling an API on `pulumi destroy` would break every other
    workload in the project that uses it. `extra` APIs are enabled up front (a stack's
    `aidc:apis`, for what its own programs call)."""

    services: dict[str, gcp.projects.Service]

    def __init__(self, name: str, *, project: str, extra: Iterable[str] = (),
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aidc:services:ProjectServices", name, None, opts)
        self._name = name
        self.project = project
        self.services = {}
        self._agents: dict[str, ServiceAgentRef] = {}
        self._number: pulumi.Output[str] | None = None
        self.enabled(*sorted(set(extra)))
        self.register_outputs({})

    def enabled(self, *apis: str) -> list[pulumi.Resource]:
        """The Service resources for these APIs (enabled now if they were not), to put in a
        dependent's `depends_on`."""
        for api in apis:
            check_service_name(api)
            if api not in self.services:
                self.services[api] = gcp.projects.Service(
                    f"{self._name}-{service_key(api)}", project=self.project, service=api,
                    disable_on_destroy=False, disable_dependent_services=False,
                    opts=pulumi.ResourceOptions(parent=self))
        return [self.services[a] for a in apis]

    def before_invoke(self, token: str) -> list[pulumi.Resource]:
        """What a provider lookup (`token`) must wait for: its API (the facts table's)."""
        return self.enabled(INVOKE_APIS[token].api)

    def ordering(self, args: pulumi.ResourceTransformationArgs,
                 ) -> pulumi.ResourceTransformationResult | None:
        """The transformation: a resource of this project waits for every API its type and
        settings call. Components, providers and other projects' resources pass unchanged."""
        project = read_arg(args.props, ("project",))
        if project not in (None, self.project):
            return None
        apis = apis_of(args.type_, args.props, read_arg)
        if not apis:
            return None
        after = pulumi.ResourceOptions(depends_on=self.enabled(*apis))
        return pulumi.ResourceTransformationResult(
            args.props, pulumi.ResourceOptions.merge(args.opts, after))

    @property
    def transformations(self) -> pulumi.ResourceOptions:
        """Options that put a component (and all its children) under `ordering`."""
        return pulumi.ResourceOptions(transformations=[self.ordering])

    def agent(self, api: str) -> ServiceAgentRef:
        """The service agent of `api` (infra.catalog.apply_facts.SERVICE_AGENTS) and what a
        grant to it waits for."""
        if api in self._agents:
            return self._agents[api]
        known = agent_for_api(api)
        if known is None:
            raise AidcError(f"aidc knows no service agent of {api}; add it to "
                            "infra.catalog.apply_facts.SERVICE_AGENTS with its source")
        child = pulumi.ResourceOptions(parent=self, depends_on=self.enabled(api))
        if known.origin == "service_identity":
            identity = gcp.projects.ServiceIdentity(
                f"{self._name}-{service_key(api)}-agent", project=self.project, service=api,
                opts=child)
            ref = ServiceAgentRef(identity.member, (identity,))
        else:
            ref = agent_ref(api, self.project, after=self.enabled(api),
                            number=self.project_number())
        self._agents[api] = ref
        return ref

    def project_number(self) -> pulumi.Output[str]:
        """The project number (from Resource Manager, once its API is enabled)."""
        if self._number is None:
            self._number = project_number(self.project, after=self.before_invoke(_GET_PROJECT),
                                          parent=self)
        return self._number


def project_number(project: str, *, after: Sequence[pulumi.Resource] = (),
                   parent: pulumi.Resource | None = None) -> pulumi.Output[str]:
    return gcp.organizations.get_project_output(
        project_id=project,
        opts=pulumi.InvokeOutputOptions(parent=parent, depends_on=list(after))).number


def agent_ref(api: str, project: str, *, after: Sequence[pulumi.Resource] = (),
              number: pulumi.Output[str] | None = None) -> ServiceAgentRef:
    """The agent of `api` from its API's lookup or the project number (no ServiceIdentity):
    for a composition without ProjectServices, or agents Google creates with their API."""
    known = agent_for_api(api)
    assert known is not None, api
    if known.origin == "lookup" and api == "storage.googleapis.com":
        email = gcp.storage.get_project_service_account_output(
            project=project, opts=pulumi.InvokeOutputOptions(depends_on=list(after))).email_address
    else:
        email = (number or project_number(project, after=after)).apply(known.email)
    return ServiceAgentRef(email.apply(lambda e: f"serviceAccount:{e}"), tuple(after))
