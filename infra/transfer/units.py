"""Sizes and durations as people read them, in the binary units S3 and GCS bill in."""

from __future__ import annotations


def human_bytes(n: float) -> str:
    """Binary units, as S3 and GCS bill: 1536 -> '1.5 KiB'."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def human_duration(seconds: float) -> str:
    """'45 s', '12 min', '3 h 20 min', '4.5 days'."""
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 1 else f"{seconds:.2f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        hours, rest = divmod(seconds, 3600)
        return f"{hours:.0f} h {rest / 60:.0f} min"
    return f"{seconds / 86400:.1f} days"
