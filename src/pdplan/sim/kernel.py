"""The event kernel: a clock and a heap of timed events, nothing about LLMs.

As in SimPy's ``core.py``, an event is ``(time_s, seq, kind, a, b)``: ``seq`` is a counter
that breaks ties deterministically (events at one instant run in the order they were
scheduled), ``kind`` says which handler runs, ``a`` and ``b`` are its two integer arguments
(a request or an instance, a version). Models schedule with :meth:`EventQueue.at` and the loop
in :mod:`pdplan.sim.cluster` pops with :meth:`EventQueue.pop`. ``pop`` is the C ``heappop``
bound to the heap, and the pools' hot paths push ``(time_s, next(q.seq), kind, a, b)`` onto
``q.heap`` themselves: a Python call per event costs ~15 % of the simulator's time. Pure.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from functools import partial
from itertools import count

__all__ = ["Event", "EventQueue"]

Event = tuple[float, int, int, int, int]


class EventQueue:
    """Timed events, popped in time order (then in scheduling order).

    >>> q = EventQueue()
    >>> q.at(2.0, 7, 1); q.at(1.0, 8, 2); q.at(1.0, 9, 3)
    >>> [q.pop()[2] for _ in range(3)]
    [8, 9, 7]
    """

    __slots__ = ("heap", "pop", "seq")

    def __init__(self) -> None:
        self.heap: list[Event] = []
        self.seq = count()
        #: The next event (removed from the heap).
        self.pop: Callable[[], Event] = partial(heapq.heappop, self.heap)

    def at(self, time_s: float, kind: int, a: int = 0, b: int = 0) -> None:
        """Schedule event ``kind(a, b)`` at ``time_s``."""
        heapq.heappush(self.heap, (time_s, next(self.seq), kind, a, b))

    def __bool__(self) -> bool:
        return bool(self.heap)
