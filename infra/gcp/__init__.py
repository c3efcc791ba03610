"""Pure Google Cloud rules, no Pulumi: names, labels, CIDR plans, GKE versions."""
