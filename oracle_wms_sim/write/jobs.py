"""Work the simulated WMS finishes after answering: waves running, asynchronous pick confirms.

Oracle answers Run Template with 202 and allocates in the background, and Pick Confirm with
`async_flg` true answers 202 before picking (docs/api-contract.md L3, L5, L12). `Jobs` is the
one worker thread of a simulator that does that later work, each job no earlier than its delay
after it was queued; the delay is read when the worker looks, so a test that lowers
`FlowSettings.wave_seconds` finishes a running wave at once. A job that fails (a refused
asynchronous pick) is recorded in `failures`, as Oracle would not report it to the caller.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import ApiError

TICK_S = 0.02


@dataclass
class FlowSettings:
    """The simulator's settings for the outbound and inbound flows (Simulator arguments)."""

    wave_seconds: float = 0.5
    """How long a wave runs: In Progress at the answer, Completed this many seconds later."""
    pick_delay: float = 0.2
    """Seconds between an asynchronous pick confirm's 202 and its processing."""
    undo_wave_even_after_picking: bool = False
    """Oracle's company parameter UNDO_WAVE_EVEN_AFTER_PICKING (No by default)."""


@dataclass
class _Job:
    queued: float
    delay: Callable[[], float]
    action: Callable[[], None]
    label: str


@dataclass
class Jobs:
    """The background worker: `submit` queues, `start`/`stop` run the thread."""

    failures: list[str] = field(default_factory=list)
    """One line per job that raised (an asynchronous pick the WMS refused), for tests."""
    _pending: list[_Job] = field(default_factory=list, repr=False)
    _lock: threading.Condition = field(default_factory=threading.Condition, repr=False)
    _stopping: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def submit(self, delay: Callable[[], float], action: Callable[[], None], label: str) -> None:
        """Run `action` on the worker once `delay()` seconds have passed since now."""
        with self._lock:
            self._pending.append(_Job(time.monotonic(), delay, action, label))
            self._lock.notify_all()

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="sim-jobs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after the job being run; what is pending is dropped (waves are requeued from
        the file on the next start)."""
        self._stopping.set()
        with self._lock:
            self._pending.clear()
            self._lock.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _next_ready(self) -> _Job | None:
        now = time.monotonic()
        for index, job in enumerate(self._pending):
            if now >= job.queued + max(0.0, job.delay()):
                return self._pending.pop(index)
        return None

    def _run(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                job = self._next_ready()
                if job is None:
                    self._lock.wait(TICK_S)
                    continue
            try:
                job.action()
            except ApiError as exc:
                self.failures.append(f"{job.label}: {exc.message} {exc.details or ''}".strip())
            except Exception as exc:
                self.failures.append(f"{job.label}: {type(exc).__name__}: {exc}")
