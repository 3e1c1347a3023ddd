"""Which 404s on a list are lgfapi's empty result, and which are errors.

lgfapi answers 404 for a list that matches nothing, but also for an entity that does not exist
(a stale catalog) and for a `base_url` whose environment does not exist. Only the first is an
empty result. On the first page the entity must be in the WMS's entity index (read once per run,
only when a 404 comes); an index that itself answers 404 means `base_url` names no environment.
A 404 after a page of records is the end only if no record follows that page's last one.
"""

from __future__ import annotations

import typing as t
from urllib.parse import urlsplit

import requests

from oracle_wms.client import WmsClient
from oracle_wms.errors import WmsNotFoundError
from oracle_wms.filter_values import is_whole_second, lower_bound, second_of, upper_bound
from oracle_wms.schema import utc_timestamp
from oracle_wms.session import page_results


def entity_index(wms: WmsClient) -> frozenset[str]:
    """The names in the WMS's entity index (`WmsClient.entity_names`: asked once per client).

    Raises:
        WmsNotFoundError: the index itself answers 404: `base_url` names no WMS environment
            (the error says so, `WmsClient.entity_names`).
    """
    return frozenset(wms.entity_names())


def check_empty_list(entity: str, wms: WmsClient, response: requests.Response) -> None:
    """Return when a 404 to the first page of a list of `entity` is an empty result, else raise.

    Raises:
        WmsNotFoundError: the entity is not in the index (or there is no index), naming the
            entity and the URL path.
    """
    path = urlsplit(response.url).path
    if entity not in entity_index(wms):
        raise WmsNotFoundError(
            f"entity '{entity}' does not exist in the WMS at {wms.settings.base_url} (404 for "
            f"{path}; it is not in GET entity/): rediscover the catalog",
            status=404,
            path=path,
        )


def check_list_end(
    entity: str,
    wms: WmsClient,
    response: requests.Response,
    previous: requests.Response | None,
    *,
    params: dict[str, t.Any],
    key: str | None,
) -> None:
    """Return when a 404 to a later page is the end of the list, else raise.

    lgfapi gives a full page a `next_page` even when it is the last, and the page after it is
    then an empty-list 404 (docs/api-contract.md D6); any other 404 after a page of records
    loses the rest of the list. So the WMS is asked (paged mode, one id) for a record after
    the previous page's last one, in the list's order (`key`, then `id`) under the same
    filters: if there is one, the list ended early.

    Without a previous page (the first page of one of the id ranges a full table is read in
    side by side), the range itself must be empty.

    Raises:
        WmsNotFoundError: records follow the last one read, naming the entity and URL path.
    """
    base = {k: v for k, v in params.items() if k not in _PAGING}
    results = page_results(previous, entity) if previous is not None else [{}]
    if not results:
        return
    last = results[-1]
    if previous is None:
        counts: t.Iterable[int] = [wms.result_count(entity, base)]
    elif key and last.get(key) is not None:
        counts = _after_key(wms, entity, base, key, last)
    else:
        counts = [wms.result_count(entity, {**base, "id__gt": last.get("id")})]
    for more in counts:
        if more:
            path = urlsplit(response.url).path
            after = (
                f"the last one read (id {last.get('id')})"
                if previous is not None
                else f"in id range {params.get('id__range')}"
            )
            raise WmsNotFoundError(
                f"entity '{entity}': a later page of the list answered 404 at {path}, but "
                f"{more} more records follow {after}: the list ended early and records would "
                "be lost",
                status=404,
                path=path,
            )


def _after_key(
    wms: WmsClient, entity: str, base: dict[str, t.Any], key: str, last: dict[str, t.Any]
) -> t.Iterator[int]:
    """How many records follow `last` in `{key},id` order, asked with whole-second filter values
    (docs/api-contract.md D18): exactly, when its `{key}` is a whole second; else the records
    from the next second on, and those of its own second read (ids and `{key}` only) and
    compared here, so a record later in that second with a lower id is counted too."""
    value = str(last[key])
    if is_whole_second(value):
        exact = lower_bound(value)
        yield wms.result_count(entity, {**base, f"{key}__gt": exact})
        yield wms.result_count(entity, {**base, key: exact, "id__gt": last.get("id")})
        return
    yield wms.result_count(entity, {**base, f"{key}__gte": upper_bound(value)})
    mark = (utc_timestamp(value), int(last.get("id") or 0))
    second = {**base, **second_of(key, value), "fields": f"id,{key}", "ordering": f"{key},id"}
    yield sum(
        1
        for row in wms.iter_records(entity, second)
        if (utc_timestamp(str(row[key])), int(row["id"])) > mark
    )


_PAGING = frozenset(("page_mode", "page_size", "ordering", "page", "fields"))
