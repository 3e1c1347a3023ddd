"""What happened to every record: applied, already applied (skipped) or rejected, per stream;
rejected records with a reason per field in a JSON-lines file the user can fix and replay."""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from pathlib import Path
from typing import Any

LOGGED_REJECTS = 20
"""Rejects whose reasons also go to the log, one line each; the rest only to the file."""


class RunReport:
    def __init__(self, rejects_path: Path, logger: logging.Logger | None = None) -> None:
        self.rejects_path = rejects_path
        self.logger = logger or logging.getLogger("target-oracle-wms")
        self.counts: dict[str, Counter[str]] = {}
        self._lock = threading.Lock()

    def count(self, stream: str, outcome: str, n: int = 1) -> None:
        with self._lock:
            self.counts.setdefault(stream, Counter())[outcome] += n

    def reject(self, stream: str, record: dict[str, Any], reasons: dict[str, str]) -> None:
        with self._lock:
            self.rejects_path.parent.mkdir(parents=True, exist_ok=True)
            with self.rejects_path.open("a", encoding="utf-8") as out:
                line = {"stream": stream, "record": record, "reasons": reasons}
                out.write(json.dumps(line, default=str) + "\n")
            self.counts.setdefault(stream, Counter())["rejected"] += 1
            if self.rejected <= LOGGED_REJECTS:
                self.logger.warning(
                    "Stream '%s': record rejected: %s",
                    stream,
                    "; ".join(f"{field}: {reason}" for field, reason in reasons.items()),
                )

    def snapshot(self, stream: str) -> Counter[str]:
        """The stream's counts now (a copy), to word one batch's outcome (`batch_line`)."""
        with self._lock:
            return Counter(self.counts.get(stream, Counter()))

    def batch_line(self, stream: str, before: Counter[str]) -> str:
        """`Stream 'x' batch: 3 record(s): 2 applied, 1 already applied, 0 rejected`: what
        changed since `before` (a `snapshot`)."""
        now = self.snapshot(stream)
        done = {
            name: now[name] - before[name] for name in ("applied", "already_applied", "rejected")
        }
        return (
            f"Stream '{stream}' batch: {sum(done.values())} record(s): {done['applied']} applied, "
            f"{done['already_applied']} already applied, {done['rejected']} rejected"
        )

    @property
    def rejected(self) -> int:
        return sum(c["rejected"] for c in self.counts.values())

    def log_summary(self, logger: logging.Logger) -> None:
        for stream, counts in sorted(self.counts.items()):
            logger.info(
                "Stream '%s': %d applied, %d already applied (skipped), %d rejected%s",
                stream,
                counts["applied"],
                counts["already_applied"],
                counts["rejected"],
                f", {counts['planned']} planned (dry run)" if counts["planned"] else "",
            )
        if self.rejected:
            more = self.rejected - LOGGED_REJECTS
            logger.error(
                "%d record(s) rejected: see %s%s",
                self.rejected,
                self.rejects_path,
                f" (the reasons of the first {LOGGED_REJECTS} are above, {more} more there)"
                if more > 0
                else " (each reason is above)",
            )
