"""GitHub Actions as a Workload Identity Federation provider: the claims, the mapping, the
attribute condition and the principals, as pure functions (no Pulumi).

GitHub's OIDC token for a job carries `repository`, `repository_id`, `repository_owner_id`,
`environment`, `ref`, `event_name` and `sub`, whose form depends on the trigger:
`repo:OWNER/NAME:environment:ENV` for a job that names an environment,
`repo:OWNER/NAME:pull_request` for pull requests, `repo:OWNER/NAME:ref:refs/heads/BRANCH`
otherwise. Names can be recycled (a deleted repository or organisation name registered
again), ids cannot, so the condition pins the ids as well when they are given.
https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect
https://cloud.google.com/iam/docs/workload-identity-federation-with-deployment-pipelines
"""

from __future__ import annotations

import re
from types import MappingProxyType

ISSUER = "https://token.actions.githubusercontent.com"
# google.subject is the `sub` claim (at most 127 bytes, which GitHub's forms stay under for
# repository and environment names of ordinary length); the rest are named attributes a
# condition or a principalSet can use.
ATTRIBUTE_MAPPING = MappingProxyType({
    "google.subject": "assertion.sub",
    "attribute.repository": "assertion.repository",
    "attribute.repository_id": "assertion.repository_id",
    "attribute.repository_owner_id": "assertion.repository_owner_id",
    "attribute.environment": "assertion.environment",
    "attribute.ref": "assertion.ref",
    "attribute.event_name": "assertion.event_name",
})
MAX_CONDITION = 4096  # characters Google accepts in an attribute condition
_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
_ID = re.compile(r"^[1-9][0-9]{0,19}$")
_ENVIRONMENT = re.compile(r"^[a-z0-9][a-z0-9-]{0,22}$")


def check_repository(value: str) -> str:
    """OWNER/NAME as GitHub spells it; quotes and spaces cannot appear, so it is safe in CEL."""
    if not _REPOSITORY.fullmatch(value):
        raise ValueError(f"{value!r} is not a GitHub repository 'OWNER/NAME' (owner: letters, "
                         "digits, '-'; name: letters, digits, '.', '_', '-')")
    return value


def check_numeric_id(value: str) -> str:
    """GitHub's numeric ids, as the token carries them (strings of digits)."""
    if not _ID.fullmatch(value):
        raise ValueError(f"{value!r} is not a GitHub numeric id (digits, as `gh api "
                         "repos/OWNER/NAME --jq .id` prints it)")
    return value


def check_environment(value: str) -> str:
    """An environment name usable in a service account id (`deploy-<env>`, at most 30)."""
    if not _ENVIRONMENT.fullmatch(value):
        raise ValueError(f"{value!r}: lowercase letters, digits and '-', at most 23 characters "
                         "(it names the deployer service account deploy-<env>)")
    return value


def attribute_condition(repository: str, repository_id: str | None = None,
                        owner_id: str | None = None) -> str:
    """The provider's CEL condition: only tokens of this repository (and, when given, its
    immutable ids) are exchanged at all; which identity each may use is the bindings' job."""
    terms = [f"assertion.repository == '{check_repository(repository)}'"]
    if repository_id is not None:
        terms.append(f"assertion.repository_id == '{check_numeric_id(repository_id)}'")
    if owner_id is not None:
        terms.append(f"assertion.repository_owner_id == '{check_numeric_id(owner_id)}'")
    condition = " && ".join(terms)
    assert len(condition) <= MAX_CONDITION
    return condition


def environment_subject(repository: str, environment: str) -> str:
    """The `sub` of a job that runs in a GitHub environment."""
    return f"repo:{repository}:environment:{environment}"


def pull_request_subject(repository: str) -> str:
    """The `sub` of a pull_request job (no environment)."""
    return f"repo:{repository}:pull_request"


def branch_subject(repository: str, branch: str) -> str:
    """The `sub` of a job on a branch without an environment (a scheduled run: the default
    branch)."""
    return f"repo:{repository}:ref:refs/heads/{branch}"


def subject_principal(pool_name: str, subject: str) -> str:
    """The IAM member of every token with this `sub`; `pool_name` is the pool's resource name,
    projects/NUMBER/locations/global/workloadIdentityPools/POOL."""
    return f"principal://iam.googleapis.com/{pool_name}/subject/{subject}"
