"""Deterministic fault injection: what a flaky network or an overloaded WMS does to a client.

A `Fault` fires on a matching request either with probability `rate` (drawn from one
`random.Random` seeded from the simulator seed, so a given sequence of requests meets the same
faults every run) or for the next `next` matching requests. Delays (`latency`, `stall`) and
`token_expiry` act before the request is handled and combine with each other; the first firing
fault that shapes the answer (`400`, `429`, `503`, `500`, `502`, `409`, `reset`, `truncate`,
`lost_response`) decides it and the later ones are not consulted (no draw, no countdown).

`409` and `lost_response` concern writes only: reads never meet them (no draw, no countdown), so
`next=1` hits the next write even when the client reads in between. `409` answers
RECORD_CHANGED without applying; `lost_response` applies and commits the write, then closes the
connection without a byte of answer, so the client cannot know whether it took effect. The stage
interface has no record-level concurrency check, so `409` never fires on `stage/` requests.
`400` is a WMS that refuses a request shape it takes elsewhere (a tenant's quirk on one entity:
docs/api-contract.md D19): with `path_contains`, one entity's lists.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from random import Random
from typing import Any
from urllib.parse import urlsplit

WRITE_ONLY = frozenset(("409", "lost_response"))
ANSWERS = frozenset(("400", "429", "503", "500", "502", "reset", "truncate", *WRITE_ONLY))
KINDS = frozenset((*ANSWERS, "latency", "stall", "token_expiry"))
ERROR_ANSWERS = frozenset(("400", "429", "503", "500", "502", "409"))
"""Answer faults that replace the handling with an error body (nothing is applied)."""
_NUMBERS = ("rate", "retry_after", "latency_ms", "jitter_ms", "stall_s")
_STAGE = "/wms/lgfapi/v10/stage/"


@dataclass
class Fault:
    kind: str
    rate: float | None = None
    next: int | None = None
    path_contains: str | None = None
    retry_after: float | None = None
    latency_ms: float = 0
    jitter_ms: float = 0
    stall_s: float = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {sorted(KINDS)}")
        if (self.rate is None) == (self.next is None):
            raise ValueError("a fault needs exactly one of rate= or next=")
        if self.rate is not None and not 0 <= self.rate <= 1:
            raise ValueError("rate must be between 0 and 1")
        if self.next is not None and self.next < 0:
            raise ValueError("next must be >= 0")

    @classmethod
    def from_dict(cls, spec: dict[str, Any]) -> Fault:
        known = {"kind", "next", "path_contains", *_NUMBERS}
        unknown = set(spec) - known
        if unknown:
            raise ValueError(f"unknown fault option(s): {', '.join(sorted(unknown))}")
        if "kind" not in spec:
            raise ValueError("a fault needs a kind")
        values: dict[str, Any] = {"kind": str(spec["kind"])}
        for name in _NUMBERS:
            if spec.get(name) is not None:
                values[name] = float(spec[name])
        if spec.get("next") is not None:
            values["next"] = int(spec["next"])
        if spec.get("path_contains") is not None:
            values["path_contains"] = str(spec["path_contains"])
        return cls(**values)

    @classmethod
    def parse(cls, text: str) -> Fault:
        """The CLI form: `KIND:key=value:key=value`, e.g. `503:next=3:retry_after=1`."""
        kind, *options = text.split(":")
        spec: dict[str, Any] = {"kind": kind}
        for option in options:
            key, sep, value = option.partition("=")
            if not sep:
                raise ValueError(f"fault option {option!r} is not key=value")
            spec[key] = value
        return cls.from_dict(spec)

    def matches(self, target: str, is_api: bool, is_write: bool = False) -> bool:
        """API requests by default; any request (but `/_sim/`) whose path and query contain
        `path_contains` when it is set. Write-only kinds: API writes (POST, PATCH) only."""
        if self.kind in WRITE_ONLY and not (is_api and is_write):
            return False
        if self.kind == "409" and _STAGE in urlsplit(target).path.rstrip("/") + "/":
            return False  # docs/write-api.md: 409 does not occur on the stage interface
        if self.path_contains is None:
            return is_api
        return self.path_contains in target and not target.startswith("/_sim/")


@dataclass
class Decision:
    """What the faults do to one request."""

    delay_s: float = 0.0
    expire_tokens: bool = False
    answer: Fault | None = None
    fired: list[str] = field(default_factory=list)

    @property
    def label(self) -> str | None:
        return "+".join(self.fired) if self.fired else None


@dataclass
class Faults:
    """The active faults, in the order they were added."""

    seed: int
    _faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _rng: Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = Random(f"{self.seed}:faults")  # noqa: S311 - reproducible, not secret

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self._rng = Random(f"{self.seed}:faults")  # noqa: S311

    def active(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(vars(f)) for f in self._faults]

    def decide(self, target: str, is_api: bool, is_write: bool = False) -> Decision:
        decision = Decision()
        if not self._faults:
            return decision
        with self._lock:
            for fault in list(self._faults):
                if fault.kind in ANSWERS and decision.answer is not None:
                    continue
                if not fault.matches(target, is_api, is_write) or not self._fires(fault):
                    continue
                decision.fired.append(fault.kind)
                if fault.kind == "latency":
                    decision.delay_s += (
                        fault.latency_ms + self._rng.uniform(0, fault.jitter_ms)
                    ) / 1000
                elif fault.kind == "stall":
                    decision.delay_s += fault.stall_s
                elif fault.kind == "token_expiry":
                    decision.expire_tokens = True
                else:
                    decision.answer = fault
        return decision

    def _fires(self, fault: Fault) -> bool:
        if fault.next is not None:
            if fault.next <= 0:
                return False
            fault.next -= 1
            if fault.next == 0:
                self._faults.remove(fault)
            return True
        return self._rng.random() < (fault.rate or 0.0)
