"""`inventory_history`: lgfapi refuses its lists without scoping filters (`oracle_wms.scoping`)."""

from __future__ import annotations

import logging
import time
import typing as t
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from functools import cached_property

from oracle_wms.scoping import HistoryPlan, plan_history
from tap_oracle_wms.bookmarks import utc_instant
from tap_oracle_wms.streams import EntityStream, PageToken

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context

SCOPE_KEYS = ("company_code", "facility_code")
COMBINATION_KEYS = ("history_activity_id", "status_id")


class PartitionStartsAsDebug(logging.Filter):
    """The SDK logs "Starting incremental sync of ... with bookmark value" at INFO once per
    partition: 660 lines a run for inventory_history in the documented layout. On the stream's
    logger this filter makes them DEBUG (shown only when DEBUG is on); the stream's own line at
    its end sums the lists up (`ScopedHistoryStream._log_lists`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.INFO and str(record.msg).startswith(
            "Starting incremental sync of "
        ):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


class ScopedHistoryStream(EntityStream):
    """`inventory_history`, read with Oracle's required filters (see `oracle_wms.scoping`).

    Which partitions depends on the WMS (`HistoryPlan.lookups`, asked once a run):
    - it reads every activity and status as `__in` lookups (undocumented): one partition per
      company and facility, ordered by `create_ts,id` like any list, its own bookmark; rows of
      an activity or status outside the settings (a WMS that ignored a lookup) are dropped, so
      the records are those of the documented path;
    - it does not: Oracle's documented combination, one partition per company, facility,
      activity and status, each with its own bookmark.

    A partition with no bookmark of its own starts from the other layout's bookmarks of its
    company and facility when the state has them (`seed`), so a WMS that starts or stops taking
    lookups, or state from the other layout, costs no full re-read and loses no row.

    In the documented layout most combinations hold no rows (at scale 1, 30 of 660), and each
    costs a request (a 404) every run. A combination that has never had a row and that the WMS
    answered empty less than `history_empty_recheck` seconds ago is not asked again (its
    partition state keeps `empty_at`, when it was last answered empty); one that has ever had a
    row is asked every run. So rows of a combination new to the WMS are read at most
    `history_empty_recheck` seconds late (0: every combination is asked every run)."""

    recheck_after: float = 0.0
    """`history_empty_recheck`, set by the tap."""

    _started = 0.0
    """When the first list of the run was asked (`time.monotonic`)."""
    _rereads = 0
    """Records of this run's lists at or before their bookmark (`EntityStream.get_records`)."""

    @cached_property
    def _lists_read(self) -> list[int]:
        """Records of each list read this run, in order."""
        return []

    _planning: Future[HistoryPlan] | None = None

    def start_plan(self) -> None:
        """Start the requests the partitions need (company and facility codes, the ids when
        not set, whether lookups are taken) in a thread, off the path of the streams before."""
        if self._planning is None:
            pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="history-plan")
            self._planning = pool.submit(plan_history, self.wms, self.config)
            pool.shutdown(wait=False)

    @cached_property
    def plan(self) -> HistoryPlan:
        self.start_plan()
        assert self._planning is not None
        return self._planning.result()

    @property
    def partitions(self) -> list[dict[str, t.Any]] | None:
        if not any(isinstance(f, PartitionStartsAsDebug) for f in self.logger.filters):
            self.logger.addFilter(PartitionStartsAsDebug())
        return self._due

    @cached_property
    def _due(self) -> list[dict[str, t.Any]]:
        """The partitions to ask this run: every company and facility when the WMS takes
        lookups, else every combination but those recently answered empty."""
        plan = self.plan
        if plan.lookups:
            self.logger.info(
                "Entity '%s': reading %d company/facility lists, activity and status as "
                "__in lookups",
                self.name,
                len(plan.scopes),
            )
            return [
                {"company_code": s.company_code, "facility_code": s.facility_code}
                for s in plan.scopes
            ]
        combinations = [
            {
                "company_code": s.company_code,
                "facility_code": s.facility_code,
                "history_activity_id": str(a),
                "status_id": str(st),
            }
            for s in plan.scopes
            for a in plan.activities
            for st in plan.statuses
        ]
        self.logger.info(
            "Entity '%s': reading %d company/facility/activity/status combinations",
            self.name,
            len(combinations),
        )
        now = datetime.now(UTC)
        due = [c for c in combinations if not self._recently_empty(c, now)]
        if len(due) < len(combinations):
            self.logger.info(
                "Entity '%s': %d combinations answered empty within history_empty_recheck "
                "(%g s) are not asked this run",
                self.name,
                len(combinations) - len(due),
                self.recheck_after,
            )
        elif self.recheck_after > 0:
            self.logger.info(
                "Entity '%s': history_empty_recheck (%g s): every combination is asked this run "
                "(none answered empty within it before); the empty ones are recorded in the "
                "STATE, and later runs skip them",
                self.name,
                self.recheck_after,
            )
        return due

    def _recently_empty(self, context: dict[str, t.Any], now: datetime) -> bool:
        state = _partition_state(self.tap_state, self.name, context)
        empty_at = state.get(EMPTY_AT)
        if state.get("replication_key_value") or not isinstance(empty_at, str):
            return False
        try:
            then = datetime.fromisoformat(empty_at)
        except ValueError:
            return False
        return (now - then).total_seconds() < self.recheck_after

    def get_starting_replication_key_value(self, context: Context | None) -> t.Any | None:
        """The partition's bookmark; without one, the other layout's (`seed`), no earlier than
        `start_date`."""
        return self.seeded(context, super().get_starting_replication_key_value(context))

    def bookmark_before(self, context: Context | None) -> t.Any:
        """As `EntityStream.bookmark_before`, with a partition's `seed`."""
        return self.seeded(context, super().bookmark_before(context))

    def seeded(self, context: Context | None, value: t.Any) -> t.Any:
        """`value` (the SDK's start for the partition), or, when the partition has no bookmark
        of its own, the other layout's `seed`, no earlier than `start_date`."""
        if context is None or _partition_state(self.tap_state, self.name, dict(context)).get(
            "replication_key_value"
        ):
            return value
        found = seed(self.tap_state, self.name, dict(context), self.plan)
        if found is None:
            return value
        return self.compare_start_date(found, value) if value else found

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """The partition's records; with `history_empty_recheck` on, an empty answer to a
        combination that has never had a row is remembered in its state (`empty_at`). With it
        off (0, the default) nothing is written, so a run's STATE depends only on the data."""
        if not self._lists_read:
            self._started = time.monotonic()
        count = 0
        for count, row in enumerate(super().get_records(context), start=1):  # noqa: B007
            yield row
        self._lists_read.append(count)
        if len(self._lists_read) == len(self._due):
            self._log_lists()
        state = self.get_context_state(context)
        if count:
            state.pop(EMPTY_AT, None)
        elif (
            self.recheck_after > 0
            and context is not None
            and "status_id" in context
            and not state.get("replication_key_value")
        ):
            state[EMPTY_AT] = self._run_started
            self.state_manager.is_flushed = False

    def _log_lists(self) -> None:
        """One line for the whole stream: its lists are many (660 at scale 1 in the documented
        layout), so each list's own lines are DEBUG."""
        lists = self._lists_read
        self.run_totals = (sum(lists), self._rereads, self.requests_sent)
        self.logger.info(
            "Entity '%s' done: %d records%s from %d lists (%d with records, %d empty), "
            "%d requests in %.1f s",
            self.name,
            sum(lists),
            f" ({self._rereads} behind the bookmark)" if self._rereads else "",
            len(lists),
            sum(1 for n in lists if n),
            sum(1 for n in lists if not n),
            self.requests_sent,
            time.monotonic() - self._started,
        )

    def _log_progress(self, stage: str, count: int, elapsed: float, rereads: int = 0) -> None:
        if stage == "done":  # per list; the stream's line follows its last list (`_log_lists`)
            self._rereads += rereads
            self.logger.debug("Entity '%s' list done: %d records", self.name, count)
            return
        super()._log_progress(stage, count, elapsed)

    def validate_response(self, response: requests.Response) -> None:
        if response.status_code == 404:  # most lists are empty: counted in the stream's line
            self.logger.debug("Entity '%s': a list answered 404 (no records)", self.name)
            return
        super().validate_response(response)

    def parse_response(self, response: requests.Response) -> t.Iterable[dict[str, t.Any]]:
        """The page's rows; in the lookup layout only those of the plan's activities and
        statuses (what the documented layout reads)."""
        rows = super().parse_response(response)
        plan = self.plan
        if not plan.lookups:
            yield from rows
            return
        activities, statuses = set(plan.activities), set(plan.statuses)
        for row in rows:
            if _as_int(row.get("history_activity_id")) in activities and (
                _as_int(row.get("status_id")) in statuses
            ):
                yield row

    @cached_property
    def _run_started(self) -> str:
        return datetime.now(UTC).isoformat(timespec="seconds")

    def get_url_params(
        self, context: Context | None, next_page_token: PageToken
    ) -> dict[str, t.Any]:
        params = super().get_url_params(context, next_page_token)
        assert context is not None, "inventory_history is always read per partition"
        params["company_id__code"] = context["company_code"]
        params["facility_id__code"] = context["facility_code"]
        if "status_id" in context:
            params["history_activity_id"] = context["history_activity_id"]
            params["status_id"] = context["status_id"]
        else:
            params.update(self.plan.lookup_filters())
        return params


EMPTY_AT = "empty_at"
"""Partition state: when the WMS last answered the combination empty (UTC, ISO 8601)."""


def seed(
    state: t.Mapping[str, t.Any], stream: str, context: dict[str, t.Any], plan: HistoryPlan
) -> str | None:
    """Where a partition without a bookmark may start, from the other layout's partitions of
    its company and facility, or None (read from `start_date`).

    - A company/facility partition, from the combinations': the earliest of their bookmarks,
      if the state holds every combination of the plan for that pair and none was skipped as
      recently empty (`empty_at`): each was then read up to the last run, and a row created
      since has a later `create_ts` (the WMS's clock; `lookback` covers late commits). A
      combination the state lacks, or one skipped, may hold older rows never read: no seed.
    - A combination, from its company/facility partition's bookmark: every row of the pair up
      to it was read by the lookup lists.
    """
    partitions = state.get("bookmarks", {}).get(stream, {}).get("partitions", [])
    scope = {k: context.get(k) for k in SCOPE_KEYS}
    if "status_id" in context:
        whole = _partition_state(state, stream, scope)
        value = whole.get("replication_key_value")
        return str(value) if value else None
    found = {
        (str(p["context"].get("history_activity_id")), str(p["context"].get("status_id"))): p
        for p in partitions
        if isinstance(p.get("context"), dict)
        and all(p["context"].get(k) == scope[k] for k in SCOPE_KEYS)
        and "status_id" in p["context"]
    }
    wanted = [(str(a), str(s)) for a in plan.activities for s in plan.statuses]
    if not wanted or any(w not in found for w in wanted):
        return None
    if any(found[w].get(EMPTY_AT) and not found[w].get("replication_key_value") for w in wanted):
        return None  # skipped as recently empty: when its rows came, only the tap's clock says
    marks = [
        str(v) for w in wanted if isinstance(v := found[w].get("replication_key_value"), str) and v
    ]
    return min(marks, key=_instant) if marks else None


def _instant(value: str) -> str:
    """A bookmark as a sort key: its fixed-form UTC string (`bookmarks.utc_instant`; string
    order is time order), "" for one that does not parse (earliest, so never skips rows)."""
    try:
        return utc_instant(value)
    except ValueError:
        return ""


def _as_int(value: t.Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _partition_state(
    state: t.Mapping[str, t.Any], stream: str, context: dict[str, t.Any]
) -> dict[str, t.Any]:
    partitions = state.get("bookmarks", {}).get(stream, {}).get("partitions", [])
    return next((p for p in partitions if p.get("context") == context), {})
