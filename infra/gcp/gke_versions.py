"""GKE versions as Google writes them, and the per-minor minimums its docs publish."""

from __future__ import annotations

import re
from collections.abc import Sequence

from infra.errors import AidcError

_GKE_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)-gke\.(\d+)")


def parse_gke_version(version: str) -> tuple[int, int, int, int]:
    """``"1.30.4-gke.1129000"`` as ``(1, 30, 4, 1129000)``, so versions compare as tuples.

    Only full GKE patch versions are accepted: a minimum version is a patch version, and a bare
    minor such as ``"1.30"`` cannot be said to meet it.
    """
    match = _GKE_VERSION.fullmatch(version)
    if match is None:
        raise AidcError(
            f"GKE version {version!r} is not a GKE patch version like '1.30.4-gke.1129000'"
        )
    major, minor, patch, build = (int(part) for part in match.groups())
    return major, minor, patch, build


def meets_min_gke_version(minimums: Sequence[str], version: str) -> bool:
    """Whether ``version`` meets per-minor minimums written the way Google's docs write them.

    Google lists one minimum patch per minor ("for 1.29 use 1.29.4-gke.1542000 or later, for
    1.30 use 1.30.4-gke.1129000 or later"). The rule, applied to ``version``:

    * its minor has a listed minimum: the version must be that patch or later;
    * its minor is older than every listed minor: not supported;
    * its minor is newer than a listed one but has no entry of its own: supported, because the
      feature, once shipped in a minor, is carried into every later minor.

    No minimums at all means no constraint.
    """
    parsed = parse_gke_version(version)
    floors = sorted(parse_gke_version(minimum) for minimum in minimums)
    if not floors:
        return True
    same_or_older_minor = [floor for floor in floors if floor[:2] <= parsed[:2]]
    if not same_or_older_minor:
        return False
    nearest = same_or_older_minor[-1]
    return nearest[:2] < parsed[:2] or parsed >= nearest
