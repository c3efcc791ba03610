"""Tenancy: the `Tenancy` component (`component`) and the Kubernetes objects it applies
(`objects`: Kueue's flavours, cohort, queues and priority classes, and each team's namespace,
service account, RBAC and network isolation), built as plain manifests from the allocation and
validated offline before anything is registered."""
