"""Provenance for catalog figures: every record says where its numbers come from and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Source:
    """A public document a catalog figure was read from, and the day it was checked."""

    url: str
    as_of: date
    note: str = ""
