"""Routing policies, keyed by the same names the planner and the configuration use
(:mod:`pdplan.schema.routing`). Each policy is a small callable that picks an instance for a
request from the pools' state. Pure (random routing uses a uniform drawn per request up
front, so that the same seed with one instance more moves few requests: a search over
instance counts sees a smooth, nearly monotone response).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

__all__ = ["decode_policy", "prefill_policy"]

#: ``pick(request) -> queue index`` for prefill; ``pick(request) -> instance`` for decode.
Pick = Callable[[int], int]


def prefill_policy(
    routing: str, queues: int, uniforms: Sequence[float], outstanding: list[int]
) -> Pick | None:
    """The prefill routing: None for ``pooled`` (one shared queue), else a picker.

    >>> pick = prefill_policy("round_robin", 3, [], [])
    >>> [pick(r) for r in range(4)]
    [0, 1, 2, 0]
    """
    if routing == "pooled":
        return None
    if routing == "random":
        return lambda rid: int(uniforms[rid] * queues)
    if routing == "round_robin":
        state = [0]

        def round_robin(rid: int) -> int:
            i = state[0]
            state[0] = (i + 1) % queues
            return i

        return round_robin
    if routing == "least_outstanding":
        return lambda rid: min(range(queues), key=outstanding.__getitem__)
    raise ValueError(f"unknown prefill routing {routing!r}")


def decode_policy(
    routing: str, instances: int, uniforms: Sequence[float], load: Callable[[int], int]
) -> Pick:
    """The decode placement: ``least_loaded`` (fewest active and waiting requests, ``load``),
    ``round_robin`` or ``random``.

    >>> pick = decode_policy("least_loaded", 3, [], [2, 0, 1].__getitem__)
    >>> pick(0)
    1
    """
    if routing == "least_loaded":
        return lambda rid: min(range(instances), key=load)
    if routing == "round_robin":
        state = [0]

        def round_robin(rid: int) -> int:
            j = state[0]
            state[0] = (j + 1) % instances
            return j

        return round_robin
    if routing == "random":
        return lambda rid: int(uniforms[rid] * instances)
    raise ValueError(f"unknown decode routing {routing!r}")
