"""The one size formatter: bytes in IEC units (KiB, MiB, GiB), as limits are given to hubci."""

from __future__ import annotations


def human_size(size: int | None) -> str:
    """``1536`` -> ``1.5 KiB``; ``999`` -> ``999 B``; None (unknown) -> ``-``."""
    if size is None:
        return "-"
    if size < 1024:
        return f"{size} B"
    value = size / 1024
    for unit in ("KiB", "MiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
