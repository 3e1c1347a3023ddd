"""`tap-oracle-wms --check-connection`: settings valid, credentials accepted, entities readable.

What a user runs before the first extraction (`make check-connection`): it reads the entity index
(which needs valid credentials), then checks read access on the entities the run will extract,
the catalog's selected streams or the `entities` patterns (else every entity), and reports in
one line, with no secret in it. A selected entity that is missing or unreadable fails the check,
naming it; without a selection, unreadable entities are only listed (discovery skips them).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from oracle_wms.client import WmsClient
from oracle_wms.discovery import select_entities, unreadable
from oracle_wms.errors import WmsPermissionError
from oracle_wms.settings import WmsSettings


@dataclass(frozen=True)
class ConnectionReport:
    base_url: str
    identity: str
    entity_count: int
    checked: tuple[str, ...]
    unreadable: tuple[str, ...]
    seconds: float

    def __str__(self) -> str:
        readable = len(self.checked) - len(self.unreadable)
        line = (
            f"Connected to {self.base_url} as {self.identity}: {self.entity_count} entities; "
            f"read access checked on {len(self.checked)} entities, {readable} readable"
        )
        if self.unreadable:
            line += f"; not readable (discovery skips them): {', '.join(self.unreadable)}"
        return f"{line} ({self.seconds:.2f} s)"


def check_connection(
    settings: WmsSettings,
    selected: Sequence[str] | None = None,
    patterns: Sequence[str] | None = None,
) -> ConnectionReport:
    """Check the connection and read access on `selected` entities (catalog streams), else on
    those `patterns` match, else on every entity.

    Raises:
        WmsPermissionError: a selected entity does not exist or may not be read, naming each.
        WmsError: whatever else is wrong (settings, network, credentials).
    """
    started = time.monotonic()
    client = WmsClient(settings)
    names = client.entity_names()
    identity = (
        f"OAuth 2.0 client '{settings.oauth2.client_id}'"
        if settings.oauth2
        else f"user '{settings.username}'"
    )
    explicit = bool(selected) or bool(patterns)
    chosen = sorted(set(selected)) if selected else select_entities(names, patterns)
    absent = [name for name in chosen if name not in set(names)]
    denied = unreadable(client, [name for name in chosen if name not in absent])
    if explicit and (absent or denied):
        problems = []
        if denied:
            problems.append(f"may not read {len(denied)}: {', '.join(denied)}")
        if absent:
            problems.append(f"{len(absent)} do not exist: {', '.join(absent)}")
        raise WmsPermissionError(
            f"Connected to {settings.base_url} as {identity}, but of the {len(chosen)} selected "
            f"entities it {'; '.join(problems)} (grant lgfapi_read_access on them, or deselect "
            "them)",
            status=403 if denied else 404,
            path="entity/",
        )
    return ConnectionReport(
        base_url=settings.base_url,
        identity=identity,
        entity_count=len(names),
        checked=tuple(chosen),
        unreadable=tuple(denied),
        seconds=time.monotonic() - started,
    )
