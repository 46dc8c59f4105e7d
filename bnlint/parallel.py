"""Run per-file work in a process pool when it pays for itself; results in input order."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: fewer files than this are analysed in the main process (a pool costs ~0.1 s to start)
MIN_FILES_PER_WORKER = 4


def machine_workers() -> int:
    try:
        n = len(os.sched_getaffinity(0))  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    return max(1, n)


def workers_for(n_tasks: int, jobs: int | None) -> int:
    """How many processes: ``jobs`` if given, else sized to the machine and the work."""
    if jobs is not None and jobs > 0:
        return max(1, min(jobs, n_tasks))
    return max(1, min(machine_workers(), n_tasks // MIN_FILES_PER_WORKER))


def map_tasks(fn: Callable[[T], R], tasks: Sequence[T], jobs: int | None = None,
              on_crash: Callable[[T], R] | None = None) -> list[R]:
    """``[fn(t) for t in tasks]``, in a process pool when there is enough work.

    ``fn`` must not raise (bnlint's :func:`analyse_file` never does).  Order is the input
    order whatever order the workers finish in.  If a worker dies (a crash in native code),
    the tasks are re-run one process each, and ``on_crash(task)`` stands for the one that
    kills its process.
    """
    n = workers_for(len(tasks), jobs)
    if n <= 1:
        return [fn(t) for t in tasks]
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    chunk = max(1, min(16, len(tasks) // (n * 4)))
    try:
        with ProcessPoolExecutor(max_workers=n, mp_context=_context()) as pool:
            return list(pool.map(fn, tasks, chunksize=chunk))
    except BrokenProcessPool:
        return [_isolated(fn, t, on_crash) for t in tasks]
    except (OSError, ImportError):  # no processes here (sandbox): serial
        return [fn(t) for t in tasks]


def _context() -> Any:
    import multiprocessing as mp

    return mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")


def _isolated(fn: Callable[[T], R], task: T, on_crash: Callable[[T], R] | None) -> R:
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    try:
        with ProcessPoolExecutor(max_workers=1, mp_context=_context()) as pool:
            return pool.submit(fn, task).result()
    except BrokenProcessPool:
        if on_crash is None:
            raise
        return on_crash(task)
