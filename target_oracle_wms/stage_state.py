"""What the WMS holds of staged documents, read through the entity module.

Oracle documents no read-back of stage results and no answer body for the JSON stage interface
(docs/api-contract.md, section K), so the stage sink learns what each document did from the
documents themselves: `GET entity/{header}/?facility_id__code=...&{key}__in=...`, asking for the
header's `id` and `mod_ts`. Each request carries as many keys as fit in `MAX_IN_CHARS` of URL
(about 200 order numbers of 18 characters; fewer when they are longer), so the query stays well
under the 8 KiB request lines servers commonly accept.

A document is in its target state when:
- CREATE: its key exists in the facility;
- DELETE: its key no longer exists in the facility;
- UPDATE: it exists, its `mod_ts` differs from the one read before the message was sent (the
  WMS stamps every change), and it holds every header value the document sent: a change by
  someone else moves `mod_ts` too, and alone never counts as this document's.
"""

from __future__ import annotations

import typing as t
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import quote

from oracle_wms.client import WmsClient
from target_oracle_wms.updates import same_value

MAX_IN_CHARS = 4000
"""URL-encoded characters of one `__in` list (a comma travels as `%2C`)."""

Where = tuple[str, str]
"""(facility code, business key) of a document."""
Row = dict[str, t.Any] | None
"""The header as the WMS holds it (`id`, key, `mod_ts`), None when it does not exist."""


@dataclass(frozen=True)
class Document:
    """One staged document: where it lives and what it asks."""

    facility: str
    key: str
    action: str

    @property
    def where(self) -> Where:
        return (self.facility, self.key)


def record_documents(
    records: t.Iterable[t.Mapping[str, t.Any]], key_field: str, header_fields: t.Collection[str]
) -> tuple[list[Document], set[str]]:
    """The documents records name (their facility, key and `action_code`, CREATE when absent),
    and the header fields their UPDATEs send; records without a facility or key are left out."""
    docs, fields = [], set()
    for record in records:
        action = str(record.get("action_code") or "CREATE").upper()
        if record.get("facility_code") in (None, "") or record.get(key_field) is None:
            continue
        docs.append(Document(str(record["facility_code"]), str(record[key_field]), action))
        if action == "UPDATE":
            fields |= {n for n in header_fields if record.get(n) is not None}
    return docs, fields


def read_states(  # noqa: PLR0917  # the budget is one more than a caller names
    client: WmsClient,
    header_entity: str,
    key_field: str,
    documents: t.Iterable[Document],
    fields: t.Iterable[str] = (),
    budget: int = 1,
) -> dict[Where, Row]:
    """The current header of every document (`id`, key, `mod_ts` and `fields`), None where its
    key does not exist; `budget` requests at once (a message of 1,000 documents is about 7)."""
    by_facility: dict[str, set[str]] = {}
    for doc in documents:
        by_facility.setdefault(doc.facility, set()).add(doc.key)
    states: dict[Where, Row] = {}
    read = ",".join(["id", key_field, "mod_ts", *sorted(set(fields) - {"id", key_field, "mod_ts"})])
    asks: list[tuple[str, set[str], dict[str, str]]] = []
    for facility, keys in sorted(by_facility.items()):
        scope = {"facility_id__code": facility, "fields": read}
        states.update({(facility, key): None for key in keys})
        listed = sorted(key for key in keys if "," not in key)
        for chunk in _chunks(listed):
            asks.append((facility, set(chunk), {**scope, f"{key_field}__in": ",".join(chunk)}))
        for key in sorted(keys - set(listed)):  # a comma cannot travel in an `__in` list
            asks.append((facility, {key}, {**scope, key_field: key}))

    def ask(facility: str, keys: set[str], params: dict[str, str]) -> dict[Where, Row]:
        rows = client.iter_records(header_entity, params)
        # exact matches only: never another document's header
        return {(facility, str(r[key_field])): r for r in rows if str(r[key_field]) in keys}

    if budget > 1 and len(asks) > 1:
        with ThreadPoolExecutor(min(budget, len(asks)), thread_name_prefix="stage-reads") as pool:
            for found in pool.map(lambda a: ask(*a), asks):
                states.update(found)
    else:
        for facility, keys, params in asks:
            states.update(ask(facility, keys, params))
    return states


def _chunks(keys: list[str]) -> t.Iterator[list[str]]:
    chunk: list[str] = []
    used = 0
    for key in keys:
        size = len(quote(key, safe="")) + 3
        if chunk and used + size > MAX_IN_CHARS:
            yield chunk
            chunk, used = [], 0
        chunk.append(key)
        used += size
    if chunk:
        yield chunk


def already_there(doc: Document, row: Row) -> bool:
    """Before sending: the document's effect is already in the WMS (a CREATE whose key exists,
    a DELETE whose key is gone), so sending it again could only repeat or fail it."""
    return (doc.action == "CREATE" and row is not None) or (doc.action == "DELETE" and row is None)


def reached(
    doc: Document, row: Row, before: Row, sent: t.Mapping[str, t.Any] | None = None
) -> bool:
    """After sending: the document is in its target state (see the module's docstring); `sent`:
    the header values an UPDATE sent."""
    if doc.action == "CREATE":
        return row is not None
    if doc.action == "DELETE":
        return row is None
    if row is None or (before is not None and row.get("mod_ts") == before.get("mod_ts")):
        return False
    return all(same_value(value, row.get(name)) for name, value in (sent or {}).items())


def outcome(doc: Document, row: Row) -> dict[str, t.Any]:
    """What the ledger keeps of an applied document."""
    found = {"found_in_wms": True, "key": doc.key}
    if row is not None:
        found["id"] = row.get("id")
    return found


def not_done(doc: Document, noun: str, file_group: str, within: float | None = None) -> str:
    """The reject reason of a document the WMS did not take (`within`: the seconds waited,
    when the answer was lost)."""
    verb = {"CREATE": "created", "DELETE": "deleted"}.get(doc.action, "updated")
    waited = f" within {within:g} s" if within is not None else ""
    return (
        f"{noun} {doc.key} was not {verb} by the WMS{waited}; see the WMS input interface "
        f"errors for file group {file_group}"
    )
