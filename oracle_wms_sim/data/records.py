"""The stored rows a write works on, read inside the write's transaction and the user's scope.

A record outside the user's eligible facilities and companies is treated as missing, exactly as
reads do (404), so a write can never reach what a read could not show.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import Any

from .model import Entity
from .users import User


def fetch(
    conn: sqlite3.Connection, entity: Entity, ident: int, user: User, columns: tuple[str, ...]
) -> dict[str, Any] | None:
    """The named (possibly hidden) columns of one record the user may see, or None."""
    scope = user.scope_sql(entity)
    limit = f" AND ({scope})" if scope else ""
    row = conn.execute(
        f"SELECT {', '.join('t.' + c for c in columns)} FROM {entity.name} t WHERE t.id = ?{limit}",
        (ident,),
    ).fetchone()
    return None if row is None else dict(zip(columns, row, strict=True))


def quantity(value: float | None) -> Decimal:
    """A stored REAL quantity as the exact 3-place decimal that reads render."""
    return Decimal(f"{value or 0:.3f}")


def qty_text(value: Decimal) -> str:
    return f"{value:.3f}"
