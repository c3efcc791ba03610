"""Everything a stack file can say: one module per section, PlatformConfig across them,
loading (`load`), the problems validators report (`problems`) and the JSON Schema (`schema`).

Import what you need from its module (`from infra.config.storage import BucketSpec`); this
package imports nothing, so reading one section never loads the others.
"""
