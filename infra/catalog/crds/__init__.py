"""The custom resources tenancy writes, Kueue's and JobSet's, at pinned releases: where each
release comes from (`releases`), the schemas of its kinds (`kueue`, `jobset`) and the offline
validator (`validate`). README.md in this folder records the sources and the install notes.

Import what you need from its module; this package imports nothing.
"""
