"""Routing policies, keyed by the same names the planner and the configuration use
(:mod:`pdplan.schema.routing`). Each policy is a small callable that picks an instance for a
request from the pools' state, among the instances that take new requests (``active``: all of
them in a static allocation; a scaling allocation adds and drains instances, and the list
follows). Pure (random routing uses a uniform drawn per request up front, so that the same
seed with one instance more moves few requests: a search over instance counts sees a smooth,
nearly monotone response).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

__all__ = ["decode_policy", "prefill_policy"]

#: ``pick(request) -> queue index`` for prefill; ``pick(request) -> instance`` for decode.
Pick = Callable[[int], int]


def _round_robin(active: list[int]) -> Pick:
    state = [0]

    def round_robin(rid: int) -> int:
        i = state[0] % len(active)
        state[0] = i + 1
        return active[i]

    return round_robin


def prefill_policy(
    routing: str, active: list[int], uniforms: Sequence[float], outstanding: list[int]
) -> Pick | None:
    """The prefill routing among the ``active`` queues: None for ``pooled`` (one shared
    queue), else a picker.

    >>> pick = prefill_policy("round_robin", [0, 1, 2], [], [])
    >>> [pick(r) for r in range(4)]
    [0, 1, 2, 0]
    """
    if routing == "pooled":
        return None
    if routing == "random":
        return lambda rid: active[int(uniforms[rid] * len(active))]
    if routing == "round_robin":
        return _round_robin(active)
    if routing == "least_outstanding":
        return lambda rid: min(active, key=outstanding.__getitem__)
    raise ValueError(f"unknown prefill routing {routing!r}")


def decode_policy(
    routing: str, active: list[int], uniforms: Sequence[float], load: list[float]
) -> Pick:
    """The decode placement among the ``active`` instances: ``least_loaded`` (fewest active
    and waiting requests: ``load``, inf for an instance not in ``active``; the first of the
    least loaded), ``round_robin`` or ``random``.

    >>> pick = decode_policy("least_loaded", [0, 1, 2], [], [2, 0, 1])
    >>> pick(0)
    1
    """
    if routing == "least_loaded":
        return lambda rid: load.index(min(load))
    if routing == "round_robin":
        return _round_robin(active)
    if routing == "random":
        return lambda rid: active[int(uniforms[rid] * len(active))]
    raise ValueError(f"unknown decode routing {routing!r}")
