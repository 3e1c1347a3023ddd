"""`values_list=f1,rel_id__code:alias` (Oracle: experimental) and `distinct=true`.

Results are objects keyed by field name or alias, as Oracle's examples show; foreign keys are
bare integer ids; other values render as in records (decimal strings, offset date-times).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..data.entities import ENTITIES
from ..data.model import FOREIGN_KEY, Entity, Field
from ..errors import ApiError, bad_param
from .paths import resolve, value_sql
from .render import value_sql as render_value


def _plain(entity: Entity, f: Field, alias: str) -> str:
    if f.type == FOREIGN_KEY:
        return f"{alias}.{f.name}"
    return render_value(entity, f, alias)


def values_sql(entity: Entity, spec: str, catalogue: Mapping[str, Entity] = ENTITIES) -> str:
    """`json_object(...)` of the requested columns on row `t`; 400 naming `values_list`."""
    parts: list[str] = []
    seen: set[str] = set()
    for raw in spec.split(","):
        item = raw.strip()
        if not item:
            continue
        name, _, alias = item.partition(":")
        alias = alias or name
        if alias in seen:
            raise bad_param("values_list", f"'{alias}' appears twice")
        seen.add(alias)
        try:
            path = resolve(entity, name, allow_lookup=False, catalogue=catalogue)
        except ApiError:
            raise bad_param("values_list", f"unknown field '{name}' on {entity.name}") from None
        if path.field is None or not path.forward_only:
            raise bad_param("values_list", f"'{name}' crosses a reverse relation")
        if "'" in alias:
            raise bad_param("values_list", f"bad alias {alias!r}")
        parts.append(f"'{alias}', {value_sql(entity, path, _plain)}")
    if not parts:
        raise bad_param("values_list", "no field named")
    return f"json_object({', '.join(parts)})"
