"""The custom resources aidc writes: Kueue's and JobSet's (tenancy) at pinned releases, and GKE's
multi-networking kinds (GPUDirect): where each release comes from (`releases`), the schemas of
its kinds (`kueue`, `jobset`, `gke_networking`) and the offline validator (`validate`). README.md in this folder records the sources and the install notes.

Import what you need from its module; this package imports nothing.
"""
