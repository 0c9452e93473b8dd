"""Worker processes for the searches that repeat a simulation many times (capacity over
seeds, verification over allocations). The core takes a ``map``-like function and stays pure;
the CLI hands it :func:`process_map`, which spreads the calls over the machine's cores."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

__all__ = ["process_map"]

T = TypeVar("T")
R = TypeVar("R")


def process_map(
    jobs: int | None = None,
) -> Callable[[Callable[[Any], Any], Iterable[Any]], Iterator[Any]]:
    """A ``map`` that runs each call in its own worker process (``jobs`` of them, default one
    per core), in order; the builtin ``map`` on one core. Workers are spawned, not forked (the
    caller may hold threads, such as a progress spinner).

    >>> list(process_map(1)(abs, [-1, 2]))
    [1, 2]
    """
    workers = jobs or os.cpu_count() or 1

    def run(fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        todo = list(items)
        if workers <= 1 or len(todo) <= 1:
            return iter([fn(item) for item in todo])
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(min(workers, len(todo)), mp_context=context) as pool:
            return iter(list(pool.map(fn, todo)))

    return run


def ray_map(address: str) -> Callable[[Callable[[Any], Any], Iterable[Any]], Iterator[Any]]:
    """A ``map`` that runs each call as a task on a Ray cluster (``address``: ``auto``, or
    ``ray://head:10001``), in order. Ray is an optional extra (``pip install 'pdplan[ray]'``,
    on every node); each call is deterministic, so the results do not depend on where it ran.
    """
    try:
        import ray
    except ImportError:
        from pdplan.errors import ConfigError

        raise ConfigError(
            "--ray needs Ray: pip install 'pdplan[ray]' (on every node of the cluster too)"
        ) from None

    def run(fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        if not ray.is_initialized():
            ray.init(address=address, log_to_driver=False, include_dashboard=False)
        task = ray.remote(fn)
        return iter(ray.get([task.remote(item) for item in items]))

    return run
