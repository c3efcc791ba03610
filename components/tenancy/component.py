"""Tenancy: Kueue and JobSet on the cluster, a queue with allocated quotas per team, and each
team's namespace, identity, bucket access, RBAC and network isolation.

How each piece is installed, and why:

- **Kueue and JobSet** come from their official release manifests, pinned in
  `infra.catalog.crds.releases` (`manifests.yaml` of the release), applied by a pulumi-kubernetes
  `yaml/v2` ConfigFile from the release URL. That is what the projects' install pages do
  (`kubectl apply --server-side -f <url>`); the provider applies server-side too (the CRDs are
  too large for client-side apply), orders CRDs and namespaces first and waits for the
  controllers' Deployments to be ready. `yaml/v2` expands the file in the provider, not in this
  program, so the offline engine plans one ConfigFile per release and fetches nothing; the
  `yaml` (v1) ConfigFile would download the URL while the program runs, and transcribing the
  manifests would mean carrying thousands of lines of CRDs by hand.
- **Certificates**: both controllers manage their webhook certificates themselves (internal
  certificate management, on by default in the release manifests: they fill the certificate
  Secret and inject the CA into their webhook configurations), so no cert-manager. Server-side
  apply matters here: it owns only the fields the manifests set, so the injected `caBundle`
  and the certificate Secret's data are never reset by a later `pulumi up`.
- **Webhooks on a private cluster**: the GKE control plane reaches nodes only on 443 and 10250;
  both webhooks serve on 9443, so a firewall rule admits the control plane's range to the nodes
  (by their service account) on tcp:9443, before any queue object is created.
- **Identity: direct Workload Identity principal bindings**, no Google service account per
  team. The bucket grants name the team's Kubernetes service account itself
  (`principal://.../subject/ns/<namespace>/sa/workload`): there is no service account to
  impersonate, so no `roles/iam.workloadIdentityUser` grant and no token-creator path to
  escalate through; the identity exists only inside the team's namespace; audit logs show the
  namespace and service account; nothing to annotate. Cloud Storage (and the GCS FUSE CSI
  driver) accepts these principals; an API that does not would need a linked Google service
  account instead (https://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity
  lists the exceptions). The grants wait for the cluster, since the project's workload
  identity pool exists only once a cluster has Workload Identity enabled.
- **Bucket access** is bucket-level IAM only: `read` is `roles/storage.objectViewer`, `write`
  `roles/storage.objectUser` (read, create, overwrite and delete objects; no bucket or IAM
  administration), on exactly the buckets the team declares.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s
from pulumi_kubernetes import _utilities as k8s_utilities
from pydantic import Field

from components.tenancy.objects import TENANT_KSA, TenancySpec, tenancy_objects, workload_principal
from infra.catalog.crds.releases import JOBSET, KUEUE, WEBHOOK_PORT
from infra.config.base import Spec
from infra.config.tenants import BucketAccess
from infra.errors import AidcError
from infra.tenants.allocation import Allocation

BUCKET_ROLES: dict[BucketAccess, str] = {"read": "roles/storage.objectViewer",
                                         "write": "roles/storage.objectUser"}


class WebhookFirewallSpec(Spec):
    """The firewall rule that lets a private cluster's control plane call the webhooks."""

    name: str = Field(description="The rule's cloud name (infra.gcp.naming).")
    control_plane_cidr: str = Field(description="The cluster's master_ipv4_cidr.")


class CrdObject(pulumi.CustomResource):
    """One custom-resource object registered whole, as pulumi-kubernetes' CustomResource does
    (type `kubernetes:<apiVersion>:<kind>`), including kinds whose fields are not under `spec`
    (WorkloadPriorityClass's `value`)."""

    def __init__(self, name: str, obj: Mapping[str, Any],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(version=k8s_utilities.get_version()))
        super().__init__(f"kubernetes:{obj['apiVersion']}:{obj['kind']}", name, dict(obj), opts)


class Tenancy(pulumi.ComponentResource):
    """Kueue and JobSet, the cluster-wide queueing objects, and per team a namespace with its
    queue, identity, bucket grants, RBAC and isolation.

    Attributes: `allocation` (what the ClusterQueues say), `kueue` and `jobset` (the
    ConfigFiles), `objects` (Kubernetes resources by role: `flavor-<name>`, `cohort`,
    `priority-<class>`, `dws-check`, `dws-config`, `<team>-queue`, `<team>-<role>`),
    `bucket_grants` (by `<team>-<bucket>`), `namespaces` and `service_accounts` by team.
    """

    allocation: Allocation
    kueue: k8s.yaml.v2.ConfigFile
    jobset: k8s.yaml.v2.ConfigFile
    webhook_firewall: gcp.compute.Firewall
    objects: dict[str, pulumi.CustomResource]
    bucket_grants: dict[str, gcp.storage.BucketIAMMember]
    namespaces: dict[str, str]
    service_accounts: dict[str, str]

    def __init__(self, name: str, spec: TenancySpec, firewall: WebhookFirewallSpec, *,
                 project: str, k8s_provider: k8s.Provider, network: pulumi.Input[str],
                 node_service_account: pulumi.Input[str],
                 buckets: Mapping[str, pulumi.Input[str]] | None = None,
                 workload_pool: Sequence[pulumi.Resource] = (),
                 depends_on: Sequence[pulumi.Resource] = (),
                 opts: pulumi.ResourceOptions | None = None) -> None:
        allocation, cluster_objs, team_objs = tenancy_objects(spec)
        buckets = dict(buckets or {})
        missing = sorted({p for t in spec.tenants.values() for p in t.buckets} - set(buckets))
        if missing:
            raise AidcError(f"tenancy: no bucket wired for {', '.join(missing)}", field="buckets")
        super().__init__("aidc:tenancy:Tenancy", name, None, opts)
        self.allocation = allocation
        self.objects = {}

        def k8s_opts(*after: pulumi.Resource) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, provider=k8s_provider,
                                          depends_on=list(after))

        self.webhook_firewall = gcp.compute.Firewall(
            f"{name}-webhooks",
            name=firewall.name, project=project, network=network, direction="INGRESS",
            description="GKE control plane to the Kueue and JobSet admission webhooks",
            source_ranges=[firewall.control_plane_cidr],
            target_service_accounts=[node_service_account],
            allows=[gcp.compute.FirewallAllowArgs(protocol="tcp", ports=[str(WEBHOOK_PORT)])],
            log_config=gcp.compute.FirewallLogConfigArgs(metadata="INCLUDE_ALL_METADATA"),
            opts=pulumi.ResourceOptions(parent=self))
        install = [*depends_on, self.webhook_firewall]
        # JobSet first: Kueue's JobSet integration finds its CRD in place.
        self.jobset = k8s.yaml.v2.ConfigFile(
            f"{name}-jobset", file=JOBSET.manifests_url,
            opts=pulumi.ResourceOptions(parent=self, providers=[k8s_provider], depends_on=install))
        self.kueue = k8s.yaml.v2.ConfigFile(
            f"{name}-kueue", file=KUEUE.manifests_url,
            opts=pulumi.ResourceOptions(parent=self, providers=[k8s_provider],
                                        depends_on=[*install, self.jobset]))

        cluster_wide = {role: CrdObject(f"{name}-{role}", obj, k8s_opts(self.kueue))
                        for role, obj in cluster_objs.items() if not role.endswith("-queue")}
        self.objects.update(cluster_wide)
        self.namespaces, self.service_accounts = {}, {}
        number = gcp.organizations.get_project_output(project_id=project).number
        self.bucket_grants = {}
        for team, objs in team_objs.items():
            namespace = objs["namespace"]["metadata"]["name"]
            self.namespaces[team] = namespace
            self.service_accounts[team] = f"{namespace}/{TENANT_KSA}"
            queue = CrdObject(f"{name}-{team}-queue", cluster_objs[f"{team}-queue"],
                              k8s_opts(self.kueue, *cluster_wide.values()))
            self.objects[f"{team}-queue"] = queue
            self._team(name, team, objs, queue, k8s_opts)
            member = number.apply(lambda n, ns=namespace: workload_principal(project, n, ns))
            for purpose, access in sorted(spec.tenants[team].buckets.items()):
                self.bucket_grants[f"{team}-{purpose}"] = gcp.storage.BucketIAMMember(
                    f"{name}-{team}-{purpose}", bucket=buckets[purpose],
                    role=BUCKET_ROLES[access], member=member,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=list(workload_pool)))
        self.register_outputs({
            "allocation": allocation.as_dict(), "namespaces": self.namespaces,
            "service_accounts": self.service_accounts, "objects": self.objects,
            "bucket_grants": self.bucket_grants,
        })

    def _team(self, name: str, team: str, objs: Mapping[str, Mapping[str, Any]],
              queue: pulumi.CustomResource, k8s_opts: Any) -> None:
        """The team's namespace and what lives in it."""
        ns_obj = objs["namespace"]
        namespace = k8s.core.v1.Namespace(f"{name}-{team}-namespace", metadata=ns_obj["metadata"],
                                          opts=k8s_opts())
        ksa = objs["ksa"]
        found: dict[str, pulumi.CustomResource] = {
            "namespace": namespace,
            "ksa": k8s.core.v1.ServiceAccount(
                f"{name}-{team}-ksa", metadata=ksa["metadata"],
                automount_service_account_token=ksa["automountServiceAccountToken"],
                opts=k8s_opts(namespace)),
            "local-queue": CrdObject(f"{name}-{team}-local-queue", objs["local-queue"],
                                     k8s_opts(namespace, queue, self.kueue)),
            "isolation": k8s.networking.v1.NetworkPolicy(
                f"{name}-{team}-isolation", metadata=objs["isolation"]["metadata"],
                spec=objs["isolation"]["spec"], opts=k8s_opts(namespace)),
        }
        for role in ("edit", "batch-user"):
            rb = objs[role]
            found[role] = k8s.rbac.v1.RoleBinding(
                f"{name}-{team}-{role}", metadata=rb["metadata"], subjects=rb["subjects"],
                role_ref=rb["roleRef"], opts=k8s_opts(namespace, self.kueue))
        self.objects.update({f"{team}-{role}": res for role, res in found.items()})
