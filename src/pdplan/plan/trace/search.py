"""The smallest instance count whose replay meets an objective. Pure."""

from __future__ import annotations

import math
from collections.abc import Callable

from pdplan.capacity.pool import smallest

__all__ = ["smallest_checked"]


def smallest_checked(ok: Callable[[int], bool], start: int, limit: int) -> int | None:
    """:func:`smallest`, then the few counts just below it too: a replay's statistic is not
    exactly monotone in the instance count (requests land on other instances), and a count
    a little below the search's answer may still meet the objective.

    >>> smallest_checked(lambda k: k in (3, 9, 10), 9, 10)  # 3 passes; 4..8 do not
    9
    >>> smallest_checked(lambda k: k in (8, 10), 9, 10)  # the search finds 10; 8 is checked
    8
    """
    found = smallest(ok, start, limit)
    if found is None:
        return None
    below = [k for k in range(found - max(2, math.ceil(0.05 * found)), found) if k >= 1]
    return min([k for k in below if ok(k)], default=found)
