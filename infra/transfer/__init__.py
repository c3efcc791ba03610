"""S3 -> GCS dataset transfer preflight: what is in the source, what moving it costs and takes.

Modules, one concern each:

- `s3url`     parse and validate ``s3://bucket[/prefix]`` (S3 bucket-naming rules)
- `inventory` stream a bucket listing into counters and a bounded top-N; read its security posture
- `estimate`  transfer duration, tiered AWS egress cost, GCS storage cost (pure functions)
- `cli`       the ``aidc transfer plan`` command
"""
