"""Background churn: a WMS that keeps working while a client pages.

A thread spends a budget of `per_second` changes, ticking every 50 ms and cycling through the
enabled actions (update, insert, delete), each a committed transaction through `Store`, so a
reader sees each batch atomically. It records every id it touched for the test to compare with
what the client received.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from ..data.store import Store
from ..errors import ApiError

TICK_S = 0.05


@dataclass
class Churn:
    store: Store
    entity: str
    per_second: float
    updates: bool = True
    inserts: bool = True
    deletes: bool = False
    same_mod_ts: bool = True
    touched: dict[str, list[int]] = field(
        default_factory=lambda: {"updated": [], "inserted": [], "deleted": []}
    )
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.per_second <= 0:
            raise ValueError("per_second must be positive")
        if not (self.updates or self.inserts or self.deletes):
            raise ValueError("churn needs at least one of updates, inserts, deletes")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sim-churn", daemon=True)
        self._thread.start()

    def stop(self) -> dict[str, list[int]]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        return {k: list(v) for k, v in self.touched.items()}

    def _run(self) -> None:
        actions = [
            name
            for name, on in (
                ("updated", self.updates),
                ("inserted", self.inserts),
                ("deleted", self.deletes),
            )
            if on
        ]
        budget, turn = 0.0, 0
        last = time.monotonic()
        while not self._stop.wait(TICK_S):
            now = time.monotonic()
            budget += (now - last) * self.per_second
            last = now
            while budget >= 1 and not self._stop.is_set():
                count = int(budget) if len(actions) == 1 else max(1, int(budget) // len(actions))
                action = actions[turn % len(actions)]
                turn += 1
                budget -= count
                try:
                    self.touched[action].extend(self._apply(action, count))
                except ApiError as exc:  # e.g. nothing left to delete: stop quietly
                    self.errors.append(str(exc))
                    return

    def _apply(self, action: str, count: int) -> list[int]:
        if action == "updated":
            return self.store.update_records(self.entity, count, self.same_mod_ts)
        if action == "inserted":
            return self.store.insert_records(self.entity, count, self.same_mod_ts)
        return self.store.delete_records(self.entity, count)
