"""Entities whose lists Oracle refuses without certain filters: today `inventory_history`.

Oracle requires `company_id__code` and `facility_id__code` plus one of `group_nbr`,
`history_activity_id` + `status_id`, `history_activity_id` + `item_code`, or
`history_activity_id` + `container_nbr`. Where Oracle is silent, the simulator counts a filter as
given when its parameter is that path, optionally with a lookup (`group_nbr__in`) or, for a
foreign key, a field of the related record (`history_activity_id__code`); a negated filter
(`!=`) does not count.
"""

from __future__ import annotations

from ..errors import ApiError
from .paths import LOOKUPS

_ALTERNATIVES = (
    ("group_nbr",),
    ("history_activity_id", "status_id"),
    ("history_activity_id", "item_code"),
    ("history_activity_id", "container_nbr"),
)
REQUIRED: dict[str, tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]] = {
    "inventory_history": (("company_id__code", "facility_id__code"), _ALTERNATIVES),
}
_RELATED_OK = frozenset(("history_activity_id",))


def _given(name: str, params: list[str]) -> bool:
    for param in params:
        if param.endswith("!"):
            continue
        if param == name:
            return True
        if param.startswith(name + "__"):
            rest = param[len(name) + 2 :].split("__")
            if (len(rest) == 1 and rest[0] in LOOKUPS) or name in _RELATED_OK:
                return True
    return False


def check_required(entity: str, params: list[str]) -> None:
    """400 naming every missing filter when a list of `entity` lacks the required ones."""
    rule = REQUIRED.get(entity)
    if rule is None:
        return
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
