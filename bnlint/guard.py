"""Bounds on one file's analysis, shared by ``summarize`` and ``check``.

Kept free of heavy imports: ``summarize`` uses it without loading the rules engine.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: CPU-time budget of one file's analysis, in seconds (``BNLINT_FILE_TIME_BUDGET``): a far-off
#: safety net. The deterministic step budgets decide how far a file is read; CPU time (not wall
#: time) keeps the net from depending on how loaded the machine is (``check .`` with 8 jobs on
#: 2 cores reads a file exactly as ``check file.py`` alone does).
FILE_TIME_BUDGET = 60.0
#: Source text longer than this (characters) is not interpreted (a note says so): model code
#: is far smaller, and libcst needs ~3 s per MB before the interpreter even starts.
MAX_SOURCE_CHARS = 1_000_000


class Unreadable(ValueError):
    """The file cannot be read (BN999); the message is one line."""


class BoundHit(Exception):
    """A bound was hit before the analysis could start; the message is the note."""


class TimeBudgetExceeded(BaseException):
    """Raised by the SIGPROF handler; a BaseException so ``except Exception`` cannot eat it."""


def file_time_budget() -> float:
    try:
        return float(os.environ.get("BNLINT_FILE_TIME_BUDGET", FILE_TIME_BUDGET))
    except ValueError:
        return FILE_TIME_BUDGET


@contextmanager
def time_budget(seconds: float | None = None) -> Iterator[None]:
    """Raise :class:`TimeBudgetExceeded` in this block after ``seconds`` of CPU time.

    Uses ``SIGPROF`` (POSIX, main thread only); elsewhere the polled deadline and the step
    budgets still apply.
    """
    seconds = file_time_budget() if seconds is None else seconds
    if seconds <= 0:
        yield
        return
    # A deadline the interpreter polls works in any thread; SIGPROF (main thread only)
    # also interrupts code that does not poll (the parser, a long rule).
    previous_deadline = getattr(_state, "deadline", None)
    _state.deadline = (time.process_time() + seconds, seconds)
    usable = (hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        try:
            yield
        finally:
            _state.deadline = previous_deadline
        return

    def _alarm(signum: int, frame: Any) -> None:
        raise TimeBudgetExceeded(seconds)

    previous = signal.signal(signal.SIGPROF, _alarm)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
        _state.deadline = previous_deadline


_state = threading.local()


def check_deadline() -> None:
    """Raise :class:`TimeBudgetExceeded` when the current :func:`time_budget` has run out."""
    deadline = getattr(_state, "deadline", None)
    if deadline is not None and time.process_time() > deadline[0]:
        raise TimeBudgetExceeded(deadline[1])


def preflight_source(text: str) -> None:
    """Refuse source that would make the parser crash or take quadratic time.

    libcst's native parser overflows its stack on a few thousand nested brackets and is
    slow on very deep expressions; CPython's own parser (C, linear, bounded) is asked first.
    Raises :class:`BoundHit` with the note.  A plain syntax error is left to libcst.
    """
    import ast

    if len(text) > MAX_SOURCE_CHARS:
        raise BoundHit(f"source is {len(text)} characters long (bound {MAX_SOURCE_CHARS}); "
                       "not analysed")
    try:
        ast.parse(text)
    except SyntaxError as exc:
        msg = str(exc.msg or "")
        if "too many" in msg or "too deeply" in msg or "too complex" in msg:
            raise BoundHit(f"line {exc.lineno or 0}: {msg}; nesting bound hit, "
                           "not analysed") from None
    except (RecursionError, MemoryError):
        raise BoundHit("expressions nested too deeply (nesting bound hit); not analysed"
                       ) from None
    except ValueError:  # null bytes: libcst reports it
        pass


def decode_source(raw: bytes) -> str:
    """Python source as Python decodes it (PEP 263 coding cookie, UTF-8 by default)."""
    import io
    import tokenize

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError:
        encoding = "utf-8"
    try:
        text = raw.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        raise Unreadable(f"not {encoding.upper()} text" if encoding != "utf-8"
                         else "not UTF-8 text") from None
    return text.removeprefix("\ufeff")
