"""What every row factory shares: `Row`, the `Picker` that finds related records, the
`Builder` signature, word lists, and small random helpers that keep picks coherent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from random import Random
from typing import Any, Protocol

from .reference import CODE_ROWS
from .timefmt import BASE_INSTANT

Row = dict[str, Any]

CITIES = ("Springfield", "Riverside", "Fairview", "Madison", "Georgetown", "Salem", "Utrecht")
COUNTRIES = ("US", "US", "US", "CA", "MX", "NL", "DE")


class Picker(Protocol):
    """Finds related records; in memory while generating, in SQL for live inserts."""

    def pick(
        self, entity: str, rng: Random, *, fac: int | None = None, co: int | None = None
    ) -> int | None:
        """A random existing id of `entity`, restricted to a facility or company if given."""
        ...

    def attr(self, entity: str, ident: int, name: str) -> Any:
        """One stored (possibly hidden) value of a record."""
        ...

    def next_seq(self, entity: str, parent: int) -> int:
        """The next line number of a child record under `parent`."""
        ...


Builder = Callable[[Picker, Random, int, "int | None", str], Row]
"""(picker, rng, id, parent id or None, mod_ts) -> the row (see `builders`)."""


def date_between(rng: Random, lo: int, hi: int) -> str:
    """A date between `lo` and `hi` days after the fixed base instant (negative: before)."""
    return (BASE_INSTANT + timedelta(days=rng.randint(lo, hi))).date().isoformat()


def maybe(rng: Random, share: float, value: str) -> str | None:
    return value if rng.random() < share else None


def qty(rng: Random, lo: int, hi: int) -> float:
    return float(rng.randint(lo, hi))


def must(value: int | None, what: str) -> int:
    if value is None:
        raise LookupError(f"no {what} to refer to")
    return value


def pick_facility(p: Picker, rng: Random) -> tuple[int, int]:
    fac = must(p.pick("facility", rng), "facility")
    return fac, int(p.attr("facility", fac, "_co"))


def pick_code(name: str, rng: Random) -> int:
    return rng.choice(CODE_ROWS[name])[0]
