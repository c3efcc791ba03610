"""The bootstrap composition: what an organisation creates once, first, with a human's
credentials, so that every later `pulumi up` runs from CI without keys.

In the administration project (`gcp:project` of the bootstrap stack): the APIs (enabled first,
from the facts table, plus the STS and IAM Credentials APIs that token exchange calls), one
key ring with the state buckets' CMEK key (granted to the Cloud Storage agent, after its
lookup) and one secrets key per environment (Pulumi's `gcpkms://` provider), one versioned
state bucket per environment, and the GitHub identities (`components.deploy_identity`).
"""

from __future__ import annotations

from components.deploy_identity import DeployIdentitySpec, GithubDeployIdentity
from components.kms import PURPOSE_APIS, KmsKeys, KmsSpec
from components.services import ProjectServices
from components.storage import BucketsSpec, DataBuckets
from infra.config.bootstrap import BootstrapConfig
from infra.config.encryption import EncryptionConfig
from infra.config.storage import ACCESS_LOGS_PURPOSE, BucketSpec, LifecycleRule, StorageConfig

# Token exchange (STS) and short-lived credentials for the service accounts (IAM Credentials)
# are called by google-github-actions/auth at run time, not by any resource here.
# https://github.com/google-github-actions/auth#preferred-direct-workload-identity-federation
RUNTIME_APIS = ("iamcredentials.googleapis.com", "sts.googleapis.com")
STATE_KEY = "storage"
# The state holds every resource's inputs (secrets encrypted): the most sensitive data here.
STATE_CLASSIFICATION = "restricted"


class Bootstrap:
    """The bootstrap's components, as attributes (the program exports what CI needs)."""

    def __init__(self, cfg: BootstrapConfig) -> None:
        self.cfg = cfg
        self.services = ProjectServices("apis", project=cfg.project, extra=RUNTIME_APIS)
        ordered = self.services.transformations
        envs = list(cfg.environments)
        self.kms = KmsKeys(
            "kms",
            KmsSpec(key_ring=cfg.key_ring, location=cfg.region,
                    config=EncryptionConfig(protection_level=cfg.protection_level,
                                            rotation_days=cfg.rotation_days),
                    purposes=(STATE_KEY,),
                    extra_keys=tuple(cfg.secrets_key(e) for e in envs),
                    classification=STATE_CLASSIFICATION, labels=cfg.labels),
            project=cfg.project,
            agents={STATE_KEY: self.services.agent(PURPOSE_APIS[STATE_KEY])},
            opts=ordered)
        keep = LifecycleRule(action="Delete", age_days=0, noncurrent_only=True,
                             num_newer_versions=cfg.state.noncurrent_versions)
        self.state = DataBuckets(
            "state",
            BucketsSpec(
                config=StorageConfig(
                    location=cfg.state.location, data_access_logs=True,
                    buckets={e: BucketSpec(classification=STATE_CLASSIFICATION, versioning=True,
                                           lifecycle=[keep]) for e in envs}),
                region=cfg.region, bucket_names={e: cfg.state_bucket(e) for e in envs},
                access_log_bucket=cfg.state_bucket(ACCESS_LOGS_PURPOSE),
                protect=True, labels=cfg.labels),
            project=cfg.project, kms_key_id=self.kms.key_ids[STATE_KEY],
            key_grants=self.kms.grants[STATE_KEY], opts=ordered)
        self.identity = GithubDeployIdentity(
            "github",
            DeployIdentitySpec(github=cfg.github, pool_id=cfg.pool_id,
                               provider_id=cfg.provider_id,
                               environments={e: s.project for e, s in cfg.environments.items()}),
            project=cfg.project,
            state_buckets=self.state.names,
            secrets_keys={e: self.kms.key_ids[cfg.secrets_key(e)] for e in envs},
            opts=ordered)
