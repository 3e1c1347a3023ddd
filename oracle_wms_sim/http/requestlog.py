"""The request log tests read: method, path, query, status, fault and auth scheme per request.

It never holds credentials or tokens (only the scheme name), and it keeps the last 100,000
requests so a long-running server does not grow without bound. `/_sim/` requests are not logged:
the log describes what a client did to the API.
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

    def add(
        self,
        method: str,
        *,
        path: str,
        query: dict[str, str],
        status: int,
        fault: str | None,
        auth: str | None,
    ) -> None:
        entry = {
            "method": method,
            "path": path,
            "query": query,
            "status": status,
            "fault": fault,
            "auth": auth,
        }
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._entries]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
