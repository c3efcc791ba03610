"""The cluster layer: GKE, node pools, GPUDirect objects, tenancy and monitoring, built by the
same code as the one-stack platform (`infra.platform.ClusterLayer`) on the foundation layer's
published contract, publishing the cluster contract.

`aidc-cluster:foundation_stack` names the foundation stack (default: the foundation layer's
stack of the same name, `organization/aidc-foundation/<this stack>`).
"""

import pulumi

from components.services import ProjectServices
from infra.config.load import load_from_pulumi
from infra.layers.contracts import FoundationContract, read_contract
from infra.platform import ClusterLayer, FoundationWiring

cfg = load_from_pulumi(own_namespace=pulumi.get_project())
foundation_stack = (pulumi.Config().get("foundation_stack")
                    or f"organization/aidc-foundation/{pulumi.get_stack()}")
foundation = read_contract(pulumi.StackReference("foundation", stack_name=foundation_stack),
                           FoundationContract)
# This layer's own resources wait for the APIs they call, as in the one-stack platform.
services = ProjectServices("apis", project=cfg.project, extra=cfg.apis)
layer = ClusterLayer(cfg, FoundationWiring.from_contract(cfg, foundation), services)
layer.publish()
layer.note_config_sources()
