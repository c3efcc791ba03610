"""stacks/bootstrap (issue 14, item 5): the state buckets, the secrets keys and the GitHub
Actions identities, planned offline from the shipped stack file: what each resource says,
who may use which identity (the provider's CEL condition evaluated on sample tokens), which
roles each identity holds, what waits for what, and that aidc's own pack passes it."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.catalog.deploy_roles import DEPLOYER_ROLES, PREVIEW_ROLES
from infra.config.bootstrap import BootstrapConfig, bootstrap_config
from infra.config.load import read_stack_file
from infra.engine.plan import Plan, PlanResource
from infra.gcp import github_oidc
from infra.plan import plan_stack, project_config
from tests.helpers import REPO, STACKS, STACKS_DIR, by_name, of_type, run_aidc, write_stack

PROGRAM = REPO / "stacks" / "bootstrap"
STACK_FILE = PROGRAM / "Pulumi.bootstrap.yaml"
OPS = "acme-ai-ops"
REPOSITORY = "acme/ai-platform"
BASIC_ROLES = {"roles/owner", "roles/editor", "roles/viewer"}


@functools.cache
def config() -> BootstrapConfig:
    flat, _ = read_stack_file(STACK_FILE)
    return bootstrap_config(project_config(flat, "aidc-bootstrap"))


@functools.cache
def plan() -> Plan:
    return plan_stack("bootstrap", STACK_FILE, program_dir=PROGRAM)


def grants(type_token: str) -> list[PlanResource]:
    return of_type(plan(), type_token)


def members_roles(type_token: str, member: str) -> list[dict[str, Any]]:
    return [r.inputs for r in grants(type_token) if r.inputs.get("member") == member]


def sa(account: str) -> str:
    return f"serviceAccount:{account}@{OPS}.iam.gserviceaccount.com"


# ---------------------------------------------------------------------------------------------
# state buckets and keys


def test_state_bucket_per_environment_is_locked_down() -> None:
    """CMEK with the state key, versioning, uniform access, public access prevention, a bound
    on noncurrent versions (count and days), usage logs, protected, waits for the key grant."""
    key = by_name(plan(), "kms-storage")
    grant = by_name(plan(), "kms-storage-agent")
    for env in config().environments:
        bucket = by_name(plan(), f"state-{env}")
        inputs = bucket.inputs
        assert inputs["name"] == f"{OPS}-pulumi-state-{env}"
        assert inputs["encryption"]["defaultKmsKeyName"] == \
            f"projects/{OPS}/locations/us-central1/keyRings/pulumi/cryptoKeys/storage"
        assert inputs["versioning"] == {"enabled": True}
        assert inputs["uniformBucketLevelAccess"] is True
        assert inputs["publicAccessPrevention"] == "enforced"
        assert inputs["forceDestroy"] is False
        assert inputs["labels"]["data-classification"] == "restricted"
        assert inputs["logging"]["logBucket"] == f"{OPS}-pulumi-state-access-logs"
        conditions = [r["condition"] for r in inputs["lifecycleRules"]
                      if r["action"]["type"] == "Delete"]
        assert {"age": 0, "withState": "ARCHIVED", "numNewerVersions": 20} in [
            {k: c.get(k) for k in ("age", "withState", "numNewerVersions")} for c in conditions]
        assert any(c.get("daysSinceNoncurrentTime") == 30 for c in conditions)
        assert bucket.protect
        assert grant.urn in bucket.dependencies
    assert key.inputs["versionTemplate"]["protectionLevel"] == "HSM"


def test_secrets_key_per_environment() -> None:
    """One key per environment for `gcpkms://`, rotated, HSM, protected; the platform stack
    file of each environment names exactly it as its secrets provider."""
    cfg = config()
    for env in cfg.environments:
        key = by_name(plan(), f"kms-secrets-{env}")
        assert key.inputs["name"] == f"secrets-{env}"
        assert key.inputs["purpose"] == "ENCRYPT_DECRYPT"
        assert key.inputs["rotationPeriod"] == f"{90 * 86400}s"
        assert key.protect
    for env in STACKS:
        doc = yaml.safe_load((STACKS_DIR / f"Pulumi.{env}.yaml").read_text())
        assert doc["secretsprovider"] == cfg.secrets_provider(env)
        assert doc["config"]["gcp:project"] == cfg.environments[env].project


# ---------------------------------------------------------------------------------------------
# the provider and its condition


def claims(**changes: Any) -> dict[str, Any]:
    """A GitHub Actions token of the configured repository, in its prod environment."""
    cfg = config().github
    base = {"iss": github_oidc.ISSUER, "repository": REPOSITORY,
            "repository_id": cfg.repository_id, "repository_owner_id": cfg.owner_id,
            "environment": "prod", "ref": "refs/heads/main", "event_name": "push",
            "sub": f"repo:{REPOSITORY}:environment:prod"}
    return {**base, **changes}


def admits(condition: str, token: dict[str, Any]) -> bool:
    import celpy

    env = celpy.Environment()
    program = env.program(env.compile(condition))
    return bool(program.evaluate({"assertion": celpy.json_to_cel(token)}))


def test_provider_trusts_github_and_pins_the_repository() -> None:
    provider = of_type(plan(), "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider")
    [inputs] = [p.inputs for p in provider]
    assert inputs["oidc"] == {"issuerUri": "https://token.actions.githubusercontent.com"}
    assert inputs["attributeMapping"]["google.subject"] == "assertion.sub"
    condition = inputs["attributeCondition"]
    assert REPOSITORY in condition and len(condition) <= 4096
    assert admits(condition, claims())
    assert admits(condition, claims(environment="dev", sub=f"repo:{REPOSITORY}:pull_request"))
    assert not admits(condition, claims(repository="evil/ai-platform"))
    # The same name registered again by someone else: a new id, refused.
    assert not admits(condition, claims(repository_id="999"))
    assert not admits(condition, claims(repository_owner_id="999"))


def test_rejects_a_condition_that_does_not_parse() -> None:
    """The CEL check above can fail: a broken expression does not compile."""
    import celpy

    with pytest.raises(celpy.CELParseError):
        celpy.Environment().compile("assertion.repository == ")


@pytest.mark.parametrize("repository", ["acme/x' || true || '", "acme", "a b/c", "acme/x\"y"])
def test_rejects_a_repository_that_could_break_the_condition(repository: str) -> None:
    with pytest.raises(ValueError, match="not a GitHub repository"):
        github_oidc.attribute_condition(repository)


# ---------------------------------------------------------------------------------------------
# identities, bindings and roles


def wif_members(account: str) -> set[str]:
    email = f"{account}@{OPS}.iam.gserviceaccount.com"
    return {r.inputs["member"] for r in grants("gcp:serviceaccount/iAMMember:IAMMember")
            if r.inputs["role"] == "roles/iam.workloadIdentityUser"
            and r.inputs["serviceAccountId"] == f"projects/{OPS}/serviceAccounts/{email}"}


def test_each_deployer_is_usable_only_from_its_environment() -> None:
    """One workloadIdentityUser binding per deployer, naming the single subject of a job in
    that GitHub environment; no principalSet (which would admit every token of the pool)."""
    pool = next(iter(of_type(plan(), "gcp:iam/workloadIdentityPool:WorkloadIdentityPool")))
    assert pool.inputs["workloadIdentityPoolId"] == "github"
    for env in config().environments:
        [member] = wif_members(f"deploy-{env}")
        assert member.startswith("principal://iam.googleapis.com/projects/")
        assert member.endswith(f"/workloadIdentityPools/github/subject/repo:{REPOSITORY}:"
                               f"environment:{env}")
    assert sorted(m.rsplit("/subject/", 1)[1] for m in wif_members("preview")) == [
        f"repo:{REPOSITORY}:pull_request", f"repo:{REPOSITORY}:ref:refs/heads/main"]
    assert not any("principalSet" in r.inputs["member"]
                   for r in grants("gcp:serviceaccount/iAMMember:IAMMember"))


def test_deployer_roles_are_the_platforms_on_its_own_project_only() -> None:
    cfg = config()
    expected = {r.role for r in DEPLOYER_ROLES}
    for env, spec in cfg.environments.items():
        held = members_roles("gcp:projects/iAMMember:IAMMember", sa(f"deploy-{env}"))
        assert {g["project"] for g in held} == {spec.project}
        assert {g["role"] for g in held} == expected
    assert not BASIC_ROLES & expected


def test_deployers_write_only_their_own_state_and_secrets() -> None:
    for env in config().environments:
        buckets = members_roles("gcp:storage/bucketIAMMember:BucketIAMMember", sa(f"deploy-{env}"))
        assert [(b["bucket"], b["role"]) for b in buckets] == \
            [(f"{OPS}-pulumi-state-{env}", "roles/storage.objectUser")]
        keys = members_roles("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", sa(f"deploy-{env}"))
        assert [(k["cryptoKeyId"].rsplit("/", 1)[-1], k["role"]) for k in keys] == \
            [(f"secrets-{env}", "roles/cloudkms.cryptoKeyEncrypterDecrypter")]


def test_preview_identity_reads_and_never_writes() -> None:
    """Viewer-level roles on every environment's project (no basic role, nothing that
    creates or changes); state read; lock files only under .pulumi/locks/; decrypt only."""
    cfg = config()
    held = members_roles("gcp:projects/iAMMember:IAMMember", sa("preview"))
    assert {g["project"] for g in held} == {s.project for s in cfg.environments.values()}
    roles = {g["role"] for g in held}
    assert roles == {r.role for r in PREVIEW_ROLES}
    assert not roles & BASIC_ROLES
    assert all(r.endswith(("viewer", "Viewer", "securityReviewer")) for r in roles)
    buckets = members_roles("gcp:storage/bucketIAMMember:BucketIAMMember", sa("preview"))
    for env in cfg.environments:
        bucket = f"{OPS}-pulumi-state-{env}"
        mine = [b for b in buckets if b["bucket"] == bucket]
        assert {b["role"] for b in mine if "condition" not in b} == {"roles/storage.objectViewer"}
        [locks] = [b for b in mine if "condition" in b]
        assert locks["condition"]["expression"] == \
            f'resource.name.startsWith("projects/_/buckets/{bucket}/objects/.pulumi/locks/")'
    keys = members_roles("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", sa("preview"))
    assert {k["role"] for k in keys} == {"roles/cloudkms.cryptoKeyDecrypter"}
    assert len(keys) == len(cfg.environments)


def test_ordering_apis_first_agents_and_bindings_after_what_they_name() -> None:
    """The runtime APIs are enabled; every grant to an account waits for it; the WIF
    bindings wait for the provider; the CMEK grant waits for the storage agent's lookup."""
    services = {r.inputs["service"] for r in of_type(plan(), "gcp:projects/service:Service")}
    assert {"iam.googleapis.com", "iamcredentials.googleapis.com", "sts.googleapis.com",
            "cloudkms.googleapis.com", "storage.googleapis.com"} <= services
    provider = next(iter(of_type(
        plan(), "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider")))
    iam_api = by_name(plan(), "apis-iam")
    assert iam_api.urn in provider.dependencies
    for binding in grants("gcp:serviceaccount/iAMMember:IAMMember"):
        assert provider.urn in binding.dependencies
    accounts = {r.inputs["accountId"]: r.urn
                for r in of_type(plan(), "gcp:serviceaccount/account:Account")}
    for token in ("gcp:projects/iAMMember:IAMMember", "gcp:storage/bucketIAMMember:BucketIAMMember",
                  "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"):
        for grant in grants(token):
            account = grant.inputs["member"].removeprefix("serviceAccount:").split("@")[0]
            if account in accounts:
                assert accounts[account] in grant.dependencies, grant.name


def test_bootstrap_passes_aidcs_own_policy_pack() -> None:
    result = run_aidc("check", "--program", PROGRAM, "bootstrap")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "PASS: 0 mandatory, 0 advisory" in result.stdout


# ---------------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize(("change", "message"), [
    ({"aidc-bootstrap:enviroments": {}}, "aidc-bootstrap:enviroments: unknown key (did you mean "
                                         "aidc-bootstrap:environments?)"),
    ({"aidc-bootstrap:github": {"repository": "acme"}}, "aidc-bootstrap:github.repository"),
    ({"aidc-bootstrap:github": {"repository": "acme/x", "repository_id": "12ab"}},
     "is not a GitHub numeric id"),
    ({"aidc-bootstrap:environments": {"Prod": {"project": "acme-ai-prod"}}},
     "lowercase letters"),
])
def test_rejects_bad_bootstrap_config(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    flat, _ = read_stack_file(STACK_FILE)
    path = write_stack(tmp_path, {**flat, **change}, name="bootstrap")
    result = run_aidc("plan", "--program", PROGRAM, "--stack-file", path)
    assert result.returncode == 2
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_readme_lists_the_deployer_roles() -> None:
    """The README's table of what a first `pulumi up` needs is the roles the bootstrap grants."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("### What a first `pulumi up` needs", 1)[1].split("\n### ", 1)[0]
    listed = set(re.findall(r"`(roles/[A-Za-z.]+)`", section))
    assert listed == {r.role for r in DEPLOYER_ROLES}


def test_deploy_identity_children_contract() -> None:
    """GithubDeployIdentity's children for one environment on one project, by (type, logical
    name, parent): renaming any of them replaces an identity or a grant (STYLE 13)."""
    from components.deploy_identity import DeployIdentitySpec, GithubDeployIdentity
    from infra.config.bootstrap import GithubRepository
    from tests.helpers import contract, plan_of

    spec = DeployIdentitySpec(github=GithubRepository(repository=REPOSITORY),
                              environments={"dev": "acme-ai-dev"},
                              deployer_roles=("roles/container.admin",),
                              preview_roles=("roles/container.viewer",))
    planned = plan_of(lambda: GithubDeployIdentity(
        "gh", spec, project=OPS, state_buckets={"dev": "state-dev"},
        secrets_keys={"dev": f"projects/{OPS}/locations/us-central1/keyRings/pulumi/"
                             "cryptoKeys/secrets-dev"}))
    member = "gcp:serviceaccount/iAMMember:IAMMember"
    assert contract(planned, "gh") == {
        ("gcp:iam/workloadIdentityPool:WorkloadIdentityPool", "gh-pool", "gh"),
        ("gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider", "gh-github", "gh"),
        ("gcp:serviceaccount/account:Account", "gh-deploy-dev", "gh"),
        ("gcp:projects/iAMMember:IAMMember", "gh-deploy-dev-acme-ai-dev-container-admin", "gh"),
        (member, "gh-deploy-dev-wif", "gh"),
        ("gcp:storage/bucketIAMMember:BucketIAMMember", "gh-deploy-dev-state", "gh"),
        ("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "gh-deploy-dev-secrets", "gh"),
        ("gcp:serviceaccount/account:Account", "gh-preview", "gh"),
        ("gcp:projects/iAMMember:IAMMember", "gh-preview-acme-ai-dev-container-viewer", "gh"),
        (member, "gh-preview-wif", "gh"),
        (member, "gh-preview-wif-1", "gh"),
        ("gcp:storage/bucketIAMMember:BucketIAMMember", "gh-preview-dev-state", "gh"),
        ("gcp:storage/bucketIAMMember:BucketIAMMember", "gh-preview-dev-locks", "gh"),
        ("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "gh-preview-dev-secrets", "gh"),
    }
