"""The request log tests read: method, path, query, status, fault and auth scheme per request.

It never holds credentials or tokens (only the scheme name), and it keeps the last 100,000
requests so a long-running server does not grow without bound. `/_sim/` requests are not logged:
the log describes what a client did to the API.

It also counts the API requests in flight (from the request's arrival until its answer is
written, latency faults included) and the peak of that count since the last clear, so a test or
benchmark can check that a client never had more than its budget of requests open at once; and
the same for writes alone (POST, PATCH, PUT, DELETE), the concurrency a write's floor is held
against (benchmarks/bench_writes.py) when reads go on beside the writes.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

MAX_ENTRIES = 100_000


@dataclass
class RequestLog:
    _entries: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=MAX_ENTRIES))
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _in_flight: int = 0
    _peak: int = 0
    _writes_in_flight: int = 0
    _writes_peak: int = 0

    def begin(self, write: bool = False) -> None:
        """An API request arrived (`write`: its method changes data)."""
        with self._lock:
            self._in_flight += 1
            self._peak = max(self._peak, self._in_flight)
            if write:
                self._writes_in_flight += 1
                self._writes_peak = max(self._writes_peak, self._writes_in_flight)

    def end(self, write: bool = False) -> None:
        """An API request was answered (or its client went away); `write` as at `begin`."""
        with self._lock:
            self._in_flight -= 1
            if write:
                self._writes_in_flight -= 1

    def concurrency(self) -> dict[str, int]:
        """`in_flight` now and `peak` since the last clear; `writes_in_flight` and
        `writes_peak` the same for writes alone."""
        with self._lock:
            return {
                "in_flight": self._in_flight,
                "peak": self._peak,
                "writes_in_flight": self._writes_in_flight,
                "writes_peak": self._writes_peak,
            }

    def add(
        self,
        method: str,
        *,
        path: str,
        query: dict[str, str],
        status: int,
        fault: str | None,
        auth: str | None,
        elapsed_ms: float | None = None,
    ) -> None:
        entry = {
            "method": method,
            "path": path,
            "query": query,
            "status": status,
            "fault": fault,
            "auth": auth,
            "elapsed_ms": elapsed_ms,
        }
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._entries]

    def clear(self) -> None:
        """Forget the entries and the peak (the peak restarts at what is in flight now)."""
        with self._lock:
            self._entries.clear()
            self._peak = self._in_flight
            self._writes_peak = self._writes_in_flight
