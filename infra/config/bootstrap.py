"""The bootstrap's stack file (stacks/bootstrap, project `aidc-bootstrap`): what an
organisation decides once, before any platform stack exists.

Keys live under the project's namespace (`aidc-bootstrap:github`, `aidc-bootstrap:environments`,
...) plus `gcp:project` (where the state buckets, the keys and the identity pool live: an
administration project, not a platform environment's) and `gcp:region`; `aidc:policy` judges
the result as it judges any stack.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator

from infra.config.base import Labels, Spec
from infra.config.storage import ACCESS_LOGS_PURPOSE
from infra.config.problems import PROVIDER_KEYS, format_problems, validation_problems
from infra.errors import AidcError, Problem
from infra.gcp import naming
from infra.gcp.github_oidc import check_environment, check_numeric_id, check_repository

NAMESPACE = "aidc-bootstrap"


class GithubRepository(Spec):
    """The one repository whose workflows may deploy."""

    repository: str = Field(description="OWNER/NAME, e.g. acme/ai-platform.")
    repository_id: str | None = Field(
        None, description="Its numeric id (`gh api repos/OWNER/NAME --jq .id`): pins the "
                          "repository itself, not a name someone could register again. "
                          "Strongly recommended.")
    owner_id: str | None = Field(
        None, description="The owner's numeric id (`gh api repos/OWNER/NAME --jq .owner.id`). "
                          "Strongly recommended.")
    default_branch: str = Field(
        "main", description="The branch scheduled drift checks run on; they preview with the "
                            "read-only identity.")

    _repository = field_validator("repository")(lambda cls, v: check_repository(v))
    _ids = field_validator("repository_id", "owner_id")(
        lambda cls, v: v if v is None else check_numeric_id(v))


class DeployEnvironment(Spec):
    """One platform environment: a GitHub environment, a GCP project, a deployer."""

    project: str = Field(description="The environment's GCP project (its stack's gcp:project).")

    _project = field_validator("project")(lambda cls, v: naming.check_project_id(v))


class StateConfig(Spec):
    """The Pulumi state buckets, one per environment (each deployer writes only its own)."""

    bucket_prefix: str | None = Field(
        None, description="Bucket names are '<prefix>-pulumi-state-<env>'; default gcp:project.")
    noncurrent_versions: int = Field(
        20, ge=1, le=1000, description="Noncurrent versions of each state object kept (older "
                                       "ones are deleted), besides the 30-day bound on each.")
    location: str | None = Field(None, description="Bucket location; default gcp:region.")


class BootstrapConfig(Spec):
    """Everything `stacks/bootstrap` creates is derived from this."""

    project: str = Field(description="gcp:project: the administration project.")
    region: str = Field(description="gcp:region: where the keys and buckets live.")
    github: GithubRepository = Field(description="The repository whose workflows deploy.")
    environments: dict[str, DeployEnvironment] = Field(
        min_length=1, description="Environments in deployment order (dev, staging, prod), by "
                                  "GitHub environment name.")
    state: StateConfig = Field(default_factory=StateConfig, description="The state buckets.")
    key_ring: str = Field("pulumi", description="Key ring id of the state and secrets keys.")
    protection_level: Literal["SOFTWARE", "HSM"] = Field(
        "HSM", description="Where the keys' material lives; HSM by default, since the keys "
                           "guard every stack's secrets and state.")
    rotation_days: int = Field(90, ge=1, le=365, description="Key rotation period (CIS GCP 1.10).")
    pool_id: str = Field("github", description="Workload Identity pool id.")
    provider_id: str = Field("github-actions", description="The pool's OIDC provider id.")
    labels: Labels = Field(default_factory=dict, description="Labels on every resource.")

    _project = field_validator("project")(lambda cls, v: naming.check_project_id(v))
    _key_ring = field_validator("key_ring")(lambda cls, v: naming.check_kms_id(v, "key ring id"))

    @field_validator("environments")
    @classmethod
    def _names(cls, value: dict[str, DeployEnvironment]) -> dict[str, DeployEnvironment]:
        for name in value:
            check_environment(name)
            if name == ACCESS_LOGS_PURPOSE:
                raise ValueError(f"{name!r} names the state buckets' usage-log bucket; choose "
                                 "another environment name")
        return value

    @field_validator("pool_id", "provider_id")
    @classmethod
    def _wif_id(cls, value: str) -> str:
        # https://cloud.google.com/iam/docs/reference/rest/v1/projects.locations.workloadIdentityPools/create
        if not (4 <= len(value) <= 32) or not value[0].isalpha() or not all(
                c.islower() or c.isdigit() or c == "-" for c in value) or value.endswith("-") \
                or value.startswith("gcp-"):
            raise ValueError(f"{value!r}: 4-32 lowercase letters, digits and '-', starting with "
                             "a letter, not with 'gcp-'")
        return value

    def state_bucket(self, environment: str) -> str:
        """The state bucket of one environment (`pulumi login gs://<this>`); with
        `access-logs`, the bucket its usage logs go to."""
        return naming.check_bucket_name(
            f"{self.state.bucket_prefix or self.project}-pulumi-state-{environment}")

    def secrets_key(self, environment: str) -> str:
        """The key id of one environment's secrets provider key."""
        return f"secrets-{environment}"

    def secrets_provider(self, environment: str) -> str:
        """`gcpkms://...`, as a platform stack file's `secretsprovider:` names it."""
        return "gcpkms://" + naming.crypto_key_id(self.project, self.region, self.key_ring,
                                                   self.secrets_key(environment))


def bootstrap_config(flat: Mapping[str, Any], *, source: str = "config") -> BootstrapConfig:
    """The model from a flat `namespace:key` map; every problem named at once, exit 2."""
    # Imported here: components.deploy_identity imports this module, and a component must not
    # load the platform's config (tests/components/test_imports.py).
    from infra.config.load import PASSTHROUGH_NAMESPACES, decode_config_value

    data: dict[str, Any] = {}
    problems: list[Problem] = []
    fields = BootstrapConfig.model_fields
    prefix = f"{NAMESPACE}:"
    for key, value in flat.items():
        if key in PROVIDER_KEYS:
            data[PROVIDER_KEYS[key]] = value
        elif key.startswith(prefix) and key[len(prefix):] in fields \
                and key[len(prefix):] not in PROVIDER_KEYS.values():
            data[key[len(prefix):]] = decode_config_value(value)
        elif key == "aidc:policy" or key.startswith(PASSTHROUGH_NAMESPACES):
            continue
        else:
            accepted = sorted(f"{prefix}{f}" for f in fields if f not in PROVIDER_KEYS.values())
            hint = difflib.get_close_matches(key, accepted, n=1)
            problems.append(Problem((key,), "unknown key" + (f" (did you mean {hint[0]}?)" if hint
                                                             else "")
                                    + f". Accepted: {', '.join(accepted)}, gcp:project, "
                                      "gcp:region, aidc:policy"))
    try:
        cfg = BootstrapConfig.model_validate(data)
    except ValidationError as exc:
        problems += [Problem((_key(p.loc[0]), *p.loc[1:]) if p.loc else p.loc, p.message)
                     for p in validation_problems(exc, BootstrapConfig)]
        raise AidcError(format_problems(source, problems)) from None
    if problems:
        raise AidcError(format_problems(source, problems))
    return cfg


def _key(field: Any) -> str:
    keys = {f: k for k, f in PROVIDER_KEYS.items()}
    return keys.get(field, f"{NAMESPACE}:{field}")
