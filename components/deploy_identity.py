"""GithubDeployIdentity: the identities GitHub Actions deploys the platform with, and nothing
that needs a key.

A Workload Identity pool with one OIDC provider for GitHub Actions, whose attribute condition
admits only the configured repository's tokens (`infra.gcp.github_oidc`). Then, per
environment, a deployer service account with the platform's roles on that environment's
project only (`infra.catalog.deploy_roles`), write access to that environment's state bucket
and use of its secrets key, and one `roles/iam.workloadIdentityUser` binding naming the
single `sub` a job in that GitHub environment carries. A read-only preview account holds
viewer roles on every environment, reads every state bucket (and may write lock files, only
under `.pulumi/locks/`), decrypts but never encrypts secrets, and is usable from
pull_request jobs and scheduled runs on the default branch.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_gcp as gcp
from pydantic import Field

from infra.catalog.deploy_roles import (
    DEPLOYER_ROLES,
    PREVIEW_ROLES,
    SECRETS_READER,
    SECRETS_USER,
    STATE_READER,
    STATE_WRITER,
    WORKLOAD_IDENTITY_USER,
)
from infra.config.base import Spec
from infra.config.bootstrap import GithubRepository
from infra.gcp import github_oidc

PREVIEW = "preview"
LOCKS_PREFIX = ".pulumi/locks/"  # where Pulumi's self-managed backend keeps stack locks


def role_key(role: str) -> str:
    """`roles/container.admin` -> `container-admin`: a stable logical-name suffix."""
    return role.removeprefix("roles/").replace(".", "-").replace("_", "-").lower()


def account_email(account_id: str, project: str) -> str:
    return f"{account_id}@{project}.iam.gserviceaccount.com"


class DeployIdentitySpec(Spec):
    """What the identities are for; every name is derived from it."""

    github: GithubRepository = Field(description="The repository whose workflows deploy.")
    environments: dict[str, str] = Field(
        description="Each GitHub environment's GCP project, in deployment order.")
    pool_id: str = Field("github", description="Workload Identity pool id.")
    provider_id: str = Field("github-actions", description="The pool's OIDC provider id.")
    deployer_roles: tuple[str, ...] = Field(
        tuple(r.role for r in DEPLOYER_ROLES),
        description="Roles of each deployer on its environment's project.")
    preview_roles: tuple[str, ...] = Field(
        tuple(r.role for r in PREVIEW_ROLES),
        description="Roles of the preview account on every environment's project.")


class GithubDeployIdentity(pulumi.ComponentResource):
    """The pool, its GitHub provider, a deployer per environment and the preview account.

    `state_buckets[env]` and `secrets_keys[env]` are the environment's state bucket name and
    secrets key id (wiring from the state backend). Outputs: `provider_name` (the
    `workload_identity_provider` input of google-github-actions/auth), `deployers[env]` and
    `preview` (service account e-mails).
    """

    pool: gcp.iam.WorkloadIdentityPool
    provider: gcp.iam.WorkloadIdentityPoolProvider
    provider_name: pulumi.Output[str]
    deployers: dict[str, str]
    preview: str

    def __init__(self, name: str, spec: DeployIdentitySpec, *, project: str,
                 state_buckets: Mapping[str, pulumi.Input[str]],
                 secrets_keys: Mapping[str, pulumi.Input[str]],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aidc:deploy_identity:GithubDeployIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        repo = spec.github
        self.pool = gcp.iam.WorkloadIdentityPool(
            f"{name}-pool", project=project, workload_identity_pool_id=spec.pool_id,
            display_name="GitHub Actions", description=f"Deployments from {repo.repository}",
            opts=child)
        self.provider = gcp.iam.WorkloadIdentityPoolProvider(
            f"{name}-github", project=project,
            workload_identity_pool_id=self.pool.workload_identity_pool_id,
            workload_identity_pool_provider_id=spec.provider_id,
            display_name="GitHub Actions OIDC",
            attribute_mapping=dict(github_oidc.ATTRIBUTE_MAPPING),
            attribute_condition=github_oidc.attribute_condition(
                repo.repository, repo.repository_id, repo.owner_id),
            oidc=gcp.iam.WorkloadIdentityPoolProviderOidcArgs(issuer_uri=github_oidc.ISSUER),
            opts=child)
        self.provider_name = self.provider.name
        self.deployers = {}
        for env, env_project in spec.environments.items():
            deployer = self._account(
                name, f"deploy-{env}", project, f"Deploys the {env} platform from GitHub",
                roles={env_project: spec.deployer_roles},
                subjects=[github_oidc.environment_subject(repo.repository, env)])
            self.deployers[env] = account_email(f"deploy-{env}", project)
            self._state_access(name, f"deploy-{env}", deployer, self.deployers[env],
                               state_buckets[env],
                               STATE_WRITER, secrets_keys[env], SECRETS_USER)
        preview = self._account(
            name, PREVIEW, project, "Read-only previews and drift checks from GitHub",
            roles={p: spec.preview_roles for p in dict.fromkeys(spec.environments.values())},
            subjects=[github_oidc.pull_request_subject(repo.repository),
                      github_oidc.branch_subject(repo.repository, repo.default_branch)])
        self.preview = account_email(PREVIEW, project)
        for env in spec.environments:
            self._state_access(name, f"{PREVIEW}-{env}", preview, self.preview,
                               state_buckets[env],
                               STATE_READER, secrets_keys[env], SECRETS_READER)
            gcp.storage.BucketIAMMember(
                f"{name}-{PREVIEW}-{env}-locks", bucket=state_buckets[env], role=STATE_WRITER,
                member=f"serviceAccount:{self.preview}",
                condition=gcp.storage.BucketIAMMemberConditionArgs(
                    title="pulumi-locks-only",
                    description="Stack lock files only; never state or history",
                    expression=pulumi.Output.from_input(state_buckets[env]).apply(
                        lambda b: f'resource.name.startsWith("projects/_/buckets/{b}/objects/'
                                  f'{LOCKS_PREFIX}")')),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[preview]))
        self.register_outputs({"provider_name": self.provider_name, "deployers": self.deployers,
                               "preview": self.preview})

    def _account(self, name: str, account_id: str, project: str, description: str, *,
                 roles: Mapping[str, tuple[str, ...]], subjects: list[str],
                 ) -> gcp.serviceaccount.Account:
        """A service account, its roles on each project, and one Workload Identity binding
        per token subject allowed to use it. Grants name its e-mail as a plain string (known
        at preview, so the policy pack can judge it) and wait for the account."""
        account = gcp.serviceaccount.Account(
            f"{name}-{account_id}", project=project, account_id=account_id,
            display_name=account_id, description=description,
            opts=pulumi.ResourceOptions(parent=self))
        email = account_email(account_id, project)
        after = pulumi.ResourceOptions(parent=self, depends_on=[account])
        for target, project_roles in roles.items():
            for role in project_roles:
                gcp.projects.IAMMember(
                    f"{name}-{account_id}-{target}-{role_key(role)}", project=target, role=role,
                    member=f"serviceAccount:{email}", opts=after)
        for index, subject in enumerate(subjects):
            gcp.serviceaccount.IAMMember(
                f"{name}-{account_id}-wif" + (f"-{index}" if index else ""),
                service_account_id=account.name, role=WORKLOAD_IDENTITY_USER,
                member=self.pool.name.apply(
                    lambda pool, s=subject: github_oidc.subject_principal(pool, s)),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.provider]))
        return account

    def _state_access(self, name: str, who: str, account: gcp.serviceaccount.Account,
                      email: str, bucket: pulumi.Input[str], bucket_role: str,
                      key: pulumi.Input[str], key_role: str) -> None:
        """One environment's state bucket and secrets key, for one account."""
        after = pulumi.ResourceOptions(parent=self, depends_on=[account])
        gcp.storage.BucketIAMMember(f"{name}-{who}-state", bucket=bucket, role=bucket_role,
                                    member=f"serviceAccount:{email}", opts=after)
        gcp.kms.CryptoKeyIAMMember(f"{name}-{who}-secrets", crypto_key_id=key, role=key_role,
                                   member=f"serviceAccount:{email}", opts=after)
