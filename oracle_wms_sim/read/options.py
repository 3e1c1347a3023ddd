"""Read-side behaviours of real tenants that Oracle's pages do not describe, as switches.

Each one is what practitioners running against real Oracle WMS tenants had to cope with
(Fivetran's community connector `wms_oracle`, docs/api-contract.md D18-D20): the simulator can
behave that way so the clients are tested against it. Settable while the simulator runs
(`Simulator.read_options`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import ApiError, bad_param

_FRACTION = re.compile(r"T\d{2}:\d{2}:\d{2}[.,]\d")


@dataclass
class ReadOptions:
    whole_second_filters: bool = True
    """True: a date-time filter value with a fractional second (`...T06:00:12.5+00:00`) is
    refused with 400 naming the parameter (D18: the connector normalises every filter value to
    second precision "as the API rejects sub-second values"). False: accepted (our reading of
    Oracle's pages, which name no precision)."""
    refused_orderings: dict[str, frozenset[str]] = field(default_factory=dict)
    """entity -> fields whose `ordering` the entity answers with 400 (D19: the connector falls
    back to an unordered scan on such a 400). Empty by default: which entities do so is not
    known; tests name them."""

    def check_filter_value(self, param: str, value: str, is_datetime: bool) -> None:
        """Raise ApiError(400) for a date-time filter value finer than a second, when refused."""
        if self.whole_second_filters and is_datetime and _FRACTION.search(value):
            raise bad_param(param, f"'{value}' has a fractional second; use whole seconds")

    def check_ordering(self, entity: str, ordering: str | None) -> None:
        """Raise ApiError(400) when the entity refuses ordering by one of the named fields."""
        refused = self.refused_orderings.get(entity)
        if not refused or not ordering:
            return
        for name in ordering.split(","):
            if name.strip().lstrip("-") in refused:
                raise ApiError(400, f"Invalid ordering '{ordering}' for entity '{entity}'.")
