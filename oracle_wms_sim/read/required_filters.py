"""Entities whose lists Oracle refuses without certain filters: today `inventory_history`.

Oracle's guide ("Get Inventory History") requires `company_id__code` and `facility_id__code` plus
the fields of one of `group_nbr`, `history_activity_id` + `status_id`, `history_activity_id` +
`item_code`, `history_activity_id` + `item_alternate_code`, or `history_activity_id` +
`container_nbr`, in addition to any other filter. The guide names plain fields, so only a plain
equality counts (`history_activity_id=3`, or the same with `__exact`); a lookup such as
`history_activity_id__in=1,2`, a related field (`history_activity_id__code=...`) or a negated
filter (`!=`) does not: a client must not depend on what Oracle does not document.
"""

from __future__ import annotations

from ..errors import ApiError
from .paths import LOOKUPS

_ALTERNATIVES = (
    ("group_nbr",),
    ("history_activity_id", "status_id"),
    ("history_activity_id", "item_code"),
    ("history_activity_id", "item_alternate_code"),
    ("history_activity_id", "container_nbr"),
)
REQUIRED: dict[str, tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]] = {
    "inventory_history": (("company_id__code", "facility_id__code"), _ALTERNATIVES),
}


def _exact(name: str, params: list[str]) -> bool:
    return name in params or f"{name}__exact" in params


def _any_lookup(name: str, params: list[str]) -> bool:
    """Not Oracle (`lenient`): the filter with any lookup, or a field of its related record."""
    for param in params:
        if param == name:
            return True
        if not param.endswith("!") and param.startswith(name + "__"):
            rest = param[len(name) + 2 :].split("__")
            if (len(rest) == 1 and rest[0] in LOOKUPS) or name == "history_activity_id":
                return True
    return False


def check_required(entity: str, params: list[str], *, lenient: bool = False) -> None:
    """400 naming every missing filter when a list of `entity` lacks the required ones.

    `lenient` is the simulator's old, undocumented rule (any lookup counts), kept only so the
    benchmark can measure the old client's path against the documented one.
    """
    rule = REQUIRED.get(entity)
    if rule is None:
        return
    _given = _any_lookup if lenient else _exact
    always, alternatives = rule
    missing = {name: "required" for name in always if not _given(name, params)}
    if not any(all(_given(n, params) for n in combo) for combo in alternatives):
        choices = " or ".join(" + ".join(combo) for combo in alternatives)
        partial = [c for c in alternatives if any(_given(n, params) for n in c)]
        for combo in partial or alternatives[:1]:
            for name in combo:
                if not _given(name, params):
                    missing[name] = f"required: one of {choices}"
    if missing:
        names = ", ".join(missing)
        raise ApiError(400, f"{entity} lists require the filters: {names}.", missing)
