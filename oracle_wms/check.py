"""`tap-oracle-wms --check-connection`: settings valid, credentials accepted, entities readable.

What a user runs before the first extraction (`make check-connection`): it reads the entity index
(which needs valid credentials) and counts one small entity's records (which needs read access),
and reports in one line, with no secret in it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from oracle_wms.client import WmsClient
from oracle_wms.settings import WmsSettings


@dataclass(frozen=True)
class ConnectionReport:
    base_url: str
    identity: str
    entity_count: int
    probe_entity: str
    probe_records: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"Connected to {self.base_url} as {self.identity}: {self.entity_count} entities; "
            f"read access checked on '{self.probe_entity}' ({self.probe_records} records) "
            f"in {self.seconds:.2f} s"
        )


def check_connection(settings: WmsSettings) -> ConnectionReport:
    """Raises the `oracle_wms.errors` error that says what is wrong."""
    started = time.monotonic()
    client = WmsClient(settings)
    names = client.entity_names()
    probe = "company" if "company" in names else names[0]
    records = client.result_count(probe)
    identity = (
        f"OAuth 2.0 client '{settings.oauth2.client_id}'"
        if settings.oauth2
        else f"user '{settings.username}'"
    )
    return ConnectionReport(
        base_url=settings.base_url,
        identity=identity,
        entity_count=len(names),
        probe_entity=probe,
        probe_records=records,
        seconds=time.monotonic() - started,
    )
