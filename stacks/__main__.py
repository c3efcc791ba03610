"""What `pulumi up` runs: the platform composed from this stack's config.

Pulumi runs this directory with it first on sys.path, where `platform.py` would shadow the
standard library's `platform` module for any later import; drop it and import by package.
"""

import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]

from infra.config import load_from_pulumi  # noqa: E402
from stacks.platform import Platform  # noqa: E402

Platform(load_from_pulumi())
