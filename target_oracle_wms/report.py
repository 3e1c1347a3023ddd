"""What happened to every record: applied, already applied (skipped) or rejected, per stream;
rejected records with a reason per field in a JSON-lines file the user can fix and replay.

The rejects file (`rejects_path`) is appended to across runs. It is checked when the report is
made, at the start of a run (an empty append), so a path that is a directory or cannot be
written ends the run in one line before anything is sent to the WMS, not after writes whose
rejects would be lost. Each reject is one `write` of one whole line under an exclusive `flock`,
so runs that share the file (two jobs with their own ledgers) never interleave their lines.
"""

from __future__ import annotations

import fcntl
import json
import logging
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from target_oracle_wms.ledger import LocalFileError, prepare_directory

REJECTS_SETTING = "rejects_path"
LOGGED_REJECTS = 20
"""Rejects whose reasons also go to the log, one line each; the rest only to the file."""


class RunReport:
    def __init__(self, rejects_path: Path, logger: logging.Logger | None = None) -> None:
        """A report whose rejects go to `rejects_path` (absolute, checked here) and whose first
        `LOGGED_REJECTS` reasons go to `logger` too.

        Raises:
            LocalFileError: the rejects file cannot be appended to.
        """
        self.rejects_path = rejects_path
        self.logger = logger or logging.getLogger("target-oracle-wms")
        self.counts: dict[str, Counter[str]] = {}
        self._lock = threading.Lock()
        prepare_directory(REJECTS_SETTING, rejects_path)
        self._append(b"")

    def _append(self, data: bytes) -> None:
        """Append `data` (whole lines) in one write under the file's exclusive lock.

        Raises:
            LocalFileError: the file cannot be opened or written.
        """
        try:
            with self.rejects_path.open("ab") as out:
                fcntl.flock(out, fcntl.LOCK_EX)
                out.write(data)
        except OSError as exc:
            raise LocalFileError(
                REJECTS_SETTING,
                self.rejects_path,
                f"cannot be appended to ({exc.strerror})",
                "make the file and its directory writable by the user that runs the target, "
                f"or point {REJECTS_SETTING} elsewhere",
            ) from exc

    def count(self, stream: str, outcome: str, n: int = 1) -> None:
        with self._lock:
            self.counts.setdefault(stream, Counter())[outcome] += n

    def reject(self, stream: str, record: dict[str, Any], reasons: dict[str, str]) -> None:
        line = {"stream": stream, "record": record, "reasons": reasons}
        with self._lock:
            self._append((json.dumps(line, default=str) + "\n").encode())
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
