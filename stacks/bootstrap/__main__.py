"""The bootstrap program (stacks/bootstrap): run once, first, with a human's credentials."""

import pulumi

from infra.bootstrap import Bootstrap
from infra.config.bootstrap import bootstrap_config
from infra.config.load import pulumi_flat_config

boot = Bootstrap(bootstrap_config(pulumi_flat_config(), source="pulumi config"))
cfg = boot.cfg
pulumi.export("workload_identity_provider", boot.identity.provider_name)
pulumi.export("preview_service_account", boot.identity.preview)
pulumi.export("environments", {
    env: {"project": spec.project,
          "service_account": boot.identity.deployers[env],
          "backend": f"gs://{cfg.state_bucket(env)}",
          "secrets_provider": cfg.secrets_provider(env)}
    for env, spec in cfg.environments.items()})
