"""How numbers are written for people: in the tour, the figures, the run summary and the reports."""

from __future__ import annotations

import math


def number(v: float | int) -> str:
    """A whole value without decimals (2.0 -> "2"), any other in its shortest form ("0.5", "1e-06")."""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return f"{v:g}" if isinstance(v, float) else str(v)


def with_interval(centre: float | None, half: float | None) -> str:
    """``centre ± half``: the half-width to two significant digits, the centre to the same decimals."""
    if centre is None or not math.isfinite(centre):
        return "-"
    if half is None or not math.isfinite(half):
        return f"{centre:.4g}"
    decimals = max(0, 1 - math.floor(math.log10(half))) if half > 0 else 4
    return f"{centre:.{decimals}f} ± {half:.{decimals}f}"


def with_range(centre: float | None, lo: float | None, hi: float | None) -> str:
    """``centre [lo, hi]``, all to the decimals that show the range's width to two significant digits."""
    if centre is None or not math.isfinite(centre):
        return "-"
    if lo is None or hi is None:
        return f"{centre:.3g}"
    width = hi - lo
    decimals = min(4, max(0, 1 - math.floor(math.log10(width)))) if width > 0 else 2
    return f"{centre:.{decimals}f} [{lo:.{decimals}f}, {hi:.{decimals}f}]"
