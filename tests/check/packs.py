"""Small throwaway policy packs for the driver's tests: their failures are the point."""

from __future__ import annotations

import textwrap
from pathlib import Path

PACK_YAML = "runtime: python\nversion: 0.0.1\n"
ALWAYS = textwrap.dedent('''
    import sys
    import grpc
    from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc
    from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

    def always(args, report_violation):
        if args.resource_type == "gcp:compute/firewall:Firewall":
            # Log through the engine address the driver serves (argv: engineAddress, pack dir).
            with grpc.insecure_channel(sys.argv[1]) as channel:
                engine_pb2_grpc.EngineStub(channel).Log(engine_pb2.LogRequest(
                    severity=engine_pb2.INFO, message="judging " + args.name, urn=args.urn))
                engine_pb2_grpc.EngineStub(channel).Log(engine_pb2.LogRequest(
                    severity=engine_pb2.WARNING, message="odd firewall", urn=args.urn))
            report_violation("always fails", None)
        if args.resource_type == "boom":
            raise RuntimeError("policy bug")

    PolicyPack(name="tiny", enforcement_level=EnforcementLevel.MANDATORY, policies=[
        ResourceValidationPolicy(name="always", description="Always fails.", validate=always)])
''')


def write_pack(tmp_path: Path, main: str, yaml: str = PACK_YAML) -> Path:
    (tmp_path / "PulumiPolicy.yaml").write_text(yaml)
    (tmp_path / "__main__.py").write_text(main)
    return tmp_path
