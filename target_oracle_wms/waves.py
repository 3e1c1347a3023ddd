"""Running picking waves: Oracle's "Run Template" (`POST entity/wave_template/run_template/`,
template by name and facility) and "Run Manual Wave" (`POST entity/wave_template/run_manual/`,
the same template filters and the order lines to wave); contract L1-L4, shapes in
docs/write-api.md.

One record is one wave run: `facility_code`, `template_name`, optional `company_code` (the
company context, default the facility's) and, for a manual wave, `orders`: an array of
`{"order_nbr", "seq_nbr"}` (or its JSON text). A stream whose SCHEMA declares `orders` runs manual
waves only: a record whose `orders` is empty, null or absent is a reject naming it, never a Run
Template of the whole template (every open order of the facility); a stream without `orders`
runs whole templates.

Oracle has no idempotency key for a run and documents nothing of the answer but "the returned
run number", so exactly-once rests on the wave entity: before the POST the sink commits a
pending marker to the ledger (the highest wave id of the facility, read just before); after the
answer it takes the run number from the body when the body has one, else the one wave of the
facility (and template) above the marker; of several, a manual wave's is the one that allocated
its orders, and any other case is a reject, never a guess (`waves_after`). A rerun, or a retry
after a lost answer, that finds a marker looks for that wave first and runs nothing when it is
there. Each wave is then polled
(`GET entity/wave/`) until its status is Completed, at most `wave_timeout` seconds, with
progress in the log; the run number is reported per record.
"""

from __future__ import annotations

import contextlib
import time
import typing as t
from functools import partial

from oracle_wms.errors import WmsConfigError, WmsNotFoundError
from target_oracle_wms.base import Call, Pending, RecordRejectedError, WmsSink
from target_oracle_wms.lookups import Facility, run_reads
from target_oracle_wms.validation import Reasons
from target_oracle_wms.values import list_value

WAVE_FIELDS = frozenset({"facility_code", "company_code", "template_name", "orders"})
"""What a wave record may carry besides its key properties."""
RUN_NUMBER_KEYS = ("run_nbr", "wave_nbr", "run_number")
"""Where a run_template answer may carry the run number (the body is not documented)."""
WAVE_FIELDS_READ = "id,run_nbr,status_id"
"""What the target reads of a wave: the fields Oracle names (`run_nbr`) and every entity has."""
COMPLETED, CANCELLED = "COMPLETED", "CANCELLED"
DEFAULT_TIMEOUT = 600


class RunWaveSink(WmsSink):
    """One wave run per record, found again through the wave entity, never run twice."""

    def known_fields(self) -> t.Collection[str] | None:
        return WAVE_FIELDS

    def adds(self, record: dict[str, t.Any]) -> bool:
        """Every run is a new wave."""
        return True

    def document_key(self, record: dict[str, t.Any]) -> str:
        return self.identity(record)

    def write_key(self, item: Pending) -> str:
        """Waves of one facility run one after the other (each is polled to its end)."""
        return str(item.record.get("facility_code"))

    @property
    def timeout(self) -> float:
        return float(self.config.get("wave_timeout") or DEFAULT_TIMEOUT)

    # Validation --------------------------------------------------------------------------

    def validate(self, record: dict[str, t.Any]) -> tuple[Reasons, Call | None]:
        reasons: Reasons = {}
        for name in ("facility_code", "template_name"):
            if record.get(name) in (None, ""):
                reasons[name] = "required"
        facility = self.services.lookups.record_facility(record, reasons)
        template = self._template(record, facility) if facility and not reasons else None
        if facility and not reasons and template is None:
            reasons["template_name"] = (
                f"no wave template '{record['template_name']}' in facility {facility.code}"
            )
        orders = self._orders(record, facility, reasons)
        if reasons or facility is None or template is None:
            return reasons, None
        company = str(record.get("company_code") or facility.company_code)
        parameters = {"facility_id__code": facility.code, "template_name": record["template_name"]}
        body: dict[str, t.Any] = {"parameters": parameters, "options": {"company_code": company}}
        if orders:
            body["options"]["order_seq_nbr_list"] = orders
            return {}, ("POST", "entity/wave_template/run_manual/", body)
        return {}, ("POST", "entity/wave_template/run_template/", body)

    def ahead(self) -> list[t.Callable[[], t.Any]]:
        """The facility list and the wave statuses."""
        return [*super().ahead(), partial(self.services.lookups.status_words, "wave_status")]

    def prefetch(self, records: list[dict[str, t.Any]]) -> None:
        """After the facility list, one round of parallel reads: the batch's templates and
        orders (one `__in` lookup each per facility), the wave statuses and each facility's
        highest wave id, the marker of its first run (`_marker`; the runs after it read theirs
        just before their request, after the run before them made its wave)."""
        lookups = self.services.lookups
        keys: dict[tuple[str, str, str], set[str]] = {}
        for record in records:
            facility = lookups.facility(str(record.get("facility_code") or ""))
            if facility is None:
                continue
            if record.get("template_name") not in (None, ""):
                keys.setdefault((facility.code, "wave_template", "template_name"), set()).add(
                    str(record["template_name"])
                )
            for line in list_value(record.get("orders")) or []:
                if isinstance(line, dict) and line.get("order_nbr") not in (None, ""):
                    keys.setdefault((facility.code, "order_hdr", "order_nbr"), set()).add(
                        str(line["order_nbr"])
                    )
        reads: list[t.Callable[[], t.Any]] = [
            partial(lookups.find, entity, field, sorted(values), {"facility_id__code": code})
            for (code, entity, field), values in keys.items()
        ]

        def statuses() -> None:
            with contextlib.suppress(WmsNotFoundError):  # `statuses` says it, in one line
                lookups.status_words("wave_status")

        markers: dict[int, int] = {}
        self.__dict__["_markers"] = markers
        facilities = {lookups.facility(code) for code, _, _ in keys}
        reads += [
            partial(self._marker_ahead, facility, markers)
            for facility in facilities
            if facility is not None
        ]
        run_reads([*reads, statuses], self.services.max_parallel_writes)

    def _marker_ahead(self, facility: Facility, markers: dict[int, int]) -> None:
        markers[facility.id] = self.highest_wave_id(facility)

    def _template(self, record: dict[str, t.Any], facility: Facility) -> dict[str, t.Any] | None:
        name = str(record["template_name"])
        scope = {"facility_id__code": facility.code}
        return self.services.lookups.find("wave_template", "template_name", [name], scope)[name]

    def _orders(
        self, record: dict[str, t.Any], facility: Facility | None, reasons: Reasons
    ) -> list[dict[str, t.Any]]:
        """A manual wave's order lines, each `{"order_nbr", "seq_nbr"}`, checked to exist, as
        Oracle's `order_seq_nbr_list`: `[{"order_nbr", "seq_nbr_list": [1, 2]}]` (input order)."""
        lines = list_value(record.get("orders"))
        if lines is None:
            reasons["orders"] = "must be an array of {order_nbr, seq_nbr} (or its JSON text)"
            return []
        if not lines and ("orders" in record or "orders" in self.schema.get("properties", {})):
            reasons["orders"] = (
                "empty: a manual wave names at least one order line; an empty list never runs "
                "the whole template (a stream whose SCHEMA has no `orders` runs templates)"
            )
            return []
        sent: dict[str, list[int]] = {}
        for index, line in enumerate(lines):
            where = f"orders[{index}]"
            if not isinstance(line, dict):
                reasons[where] = "must be an object"
                continue
            for name in sorted(set(line) - {"order_nbr", "seq_nbr"}):
                reasons[f"{where}.{name}"] = "unknown field (a line takes order_nbr, seq_nbr)"
            order_nbr, seq = line.get("order_nbr"), line.get("seq_nbr")
            if order_nbr in (None, ""):
                reasons[f"{where}.order_nbr"] = "required"
            if not isinstance(seq, int) or isinstance(seq, bool) or seq <= 0:
                reasons[f"{where}.seq_nbr"] = f"a whole number above zero, got {seq!r}"
                continue
            if facility is None or f"{where}.order_nbr" in reasons:
                continue
            scope = {"facility_id__code": facility.code}
            found = self.services.lookups.find("order_hdr", "order_nbr", [str(order_nbr)], scope)
            if found[str(order_nbr)] is None:
                reasons[f"{where}.order_nbr"] = (
                    f"no order '{order_nbr}' in facility {facility.code}"
                )
                continue
            seqs = sent.setdefault(str(order_nbr), [])
            if seq in seqs:
                reasons[f"{where}.seq_nbr"] = f"line {order_nbr}/{seq} appears twice"
            seqs.append(seq)
        return [{"order_nbr": nbr, "seq_nbr_list": seqs} for nbr, seqs in sent.items()]

    # The wave entity -------------------------------------------------------------------------

    def statuses(self) -> dict[int, str]:
        """wave_status id -> word (`IN_PROGRESS`, `COMPLETED`, ...), read once per run.

        Raises:
            WmsConfigError: the WMS's wave_status list has no Completed status, without which
                the sink cannot tell when a wave is done.
        """
        found = self.services.lookups.status_words("wave_status")
        if COMPLETED not in found.values():
            raise WmsConfigError(
                "stream_actions",
                "run_wave waits for each wave to complete, but the WMS's wave_status list "
                "has no Completed status (by code or description)",
            )
        return found

    def _facility_of(self, item: Pending) -> Facility:
        facility = self.services.lookups.facility(str(item.record["facility_code"]))
        assert facility is not None  # validated
        return facility

    def highest_wave_id(self, facility: Facility) -> int:
        """The highest wave id of the facility now (0 when it has none)."""
        params = {"facility_id": str(facility.id), "ordering": "-id", "fields": "id"}
        for page in self.services.wms.iter_pages("wave", {**params, "page_size": 1}):
            return max((int(row["id"]) for row in page), default=0)
        return 0

    def _template_id(self, item: Pending) -> int | None:
        template = self._template(item.record, self._facility_of(item))
        return int(template["id"]) if template else None

    def new_waves(self, marker: dict[str, t.Any]) -> tuple[list[dict[str, t.Any]], bool]:
        """Waves of the marker's facility (and template) created after it, oldest first, and
        whether they were told apart by template.

        `wave_template_id` is the simulator's name for a wave's template (contract L6: Oracle
        names no wave field but `run_nbr`), so it filters only where `describe` of `wave` lists
        it. Without it a new wave of the facility is taken as the record's only when it is the
        one new wave; several mean another run of the facility may be among them, and
        `waves_after` rejects the record naming the assumption rather than guessing.
        """
        fields = self.services.description("wave").by_name
        by_template = "wave_template_id" in fields and marker.get("template_id") is not None
        params = {
            "facility_id": str(marker["facility_id"]),
            "id__gt": str(marker["highest_wave_id"]),
            "ordering": "id",
            "fields": WAVE_FIELDS_READ,
        }
        if by_template:
            params["wave_template_id"] = str(marker["template_id"])
        return list(self.services.wms.iter_records("wave", params)), by_template

    def waves_after(self, marker: dict[str, t.Any], item: Pending) -> list[dict[str, t.Any]]:
        """The record's wave among `new_waves`: the only one, else (a manual wave) the only one
        that allocated the record's orders; never a guess between several.

        Raises:
            RecordRejectedError: several new waves the target cannot tell apart (the pending
                marker stays: nothing is run again).
        """
        found, by_template = self.new_waves(marker)
        if len(found) > 1:
            found = self.waving_our_orders(item, found) or found
        if len(found) > 1:
            where = (
                f"of template {item.record['template_name']}" if by_template else "in the facility"
            )
            why = (
                "none of them allocated only this record's orders"
                if item.call[1].endswith("run_manual/")
                else "the answer carried no run number"
            )
            if not by_template:
                why += (
                    ", and the WMS's wave entity has no wave_template_id to tell which is this "
                    "record's"
                )
            raise RecordRejectedError(
                {
                    "template_name": f"{len(found)} waves appeared {where} after wave id "
                    f"{marker['highest_wave_id']} and {why}: not run again; check them in the "
                    "WMS (docs/api-behaviour.md, fulfilment)"
                }
            )
        return found

    def waving_our_orders(
        self, item: Pending, found: list[dict[str, t.Any]]
    ) -> list[dict[str, t.Any]]:
        """The waves among `found` that allocated a line of the record's manual orders
        (`GET entity/allocation/?wave_id=&order_dtl_id__order_id=`): what only this record's
        run did. Empty for a template run (no orders of its own)."""
        lists = item.call[2].get("options", {}).get("order_seq_nbr_list") or []
        numbers = [str(entry["order_nbr"]) for entry in lists]
        if not numbers:
            return []
        scope = {"facility_id__code": str(item.record["facility_code"])}
        orders = self.services.lookups.find("order_hdr", "order_nbr", numbers, scope)
        ours = []
        for wave in found:
            for order in orders.values():
                if order is None:
                    continue
                params = {
                    "wave_id": str(wave["id"]),
                    "order_dtl_id__order_id": str(order["id"]),
                    "fields": "id",
                }
                if next(iter(self.services.wms.iter_records("allocation", params)), None):
                    ours.append(wave)
                    break
        return ours

    def wave_by_run(self, facility: Facility, run_nbr: str) -> dict[str, t.Any] | None:
        params = {"facility_id": str(facility.id), "run_nbr": run_nbr, "fields": WAVE_FIELDS_READ}
        return next(iter(self.services.wms.iter_records("wave", params)), None)

    def _marker(self, item: Pending) -> dict[str, t.Any]:
        """Where to look for the record's wave: after the facility's highest wave id, read in
        `prefetch` for the facility's first run of the batch, else now."""
        facility = self._facility_of(item)
        ahead: dict[int, int] = self.__dict__.get("_markers", {})
        highest = ahead.pop(facility.id, None)
        return {
            "facility_id": facility.id,
            "template_id": self._template_id(item),
            "highest_wave_id": self.highest_wave_id(facility) if highest is None else highest,
        }

    def was_applied(self, item: Pending) -> bool:
        """Before resending a lost run: any new wave means "do not run again" (`apply` then
        decides which is the record's, or rejects it keeping the marker)."""
        marker = self.services.ledger.pending(self.stream_name, item.identity)
        return bool(marker and self.new_waves(marker)[0])

    # Sending ---------------------------------------------------------------------------------

    def apply(self, item: Pending) -> tuple[str, t.Any]:
        """Find the wave a pending marker names, else run one (marker first); then wait for it."""
        marker = self.services.ledger.pending(self.stream_name, item.identity)
        if marker is not None:
            found = self.waves_after(marker, item)
            if found:
                self.logger.info(
                    "%s: record %s started wave run_nbr %s before (pending marker): not run again",
                    self.stream_name,
                    item.identity,
                    found[0].get("run_nbr"),
                )
                return "already_applied", self.wait(item, found[0])
        marker = self._marker(item)
        answer = self.send_marked(item, marker)
        wave = None
        run_nbr = _run_number(answer)
        if run_nbr is not None:
            wave = self.wave_by_run(self._facility_of(item), run_nbr)
        if wave is None:
            found = self.waves_after(marker, item)
            wave = found[0] if found else None
        if wave is None:
            raise RecordRejectedError(
                {
                    "template_name": "the WMS accepted the run, but no new wave of the template "
                    f"appeared in facility {item.record['facility_code']} (after wave id "
                    f"{marker['highest_wave_id']}); a rerun looks for it again before running"
                }
            )
        return "applied", self.wait(item, wave)

    def wait(self, item: Pending, wave: dict[str, t.Any]) -> dict[str, t.Any]:
        """Poll the wave until Completed, at most `wave_timeout` s; its run number and status.

        Raises:
            RecordRejectedError: the wave was cancelled, or still running at the timeout (its
                pending marker stays: a rerun finds it and waits again).
        """
        self.statuses()  # raises when the WMS lacks a status word this sink needs
        deadline = time.monotonic() + self.timeout
        started = time.monotonic()
        pause = 0.2
        while True:
            word = self.services.lookups.status_of("wave_status", wave.get("status_id"))
            run_nbr = wave.get("run_nbr")
            if word == COMPLETED:
                self.logger.info(
                    "%s: record %s -> wave run_nbr %s (id %s) Completed",
                    self.stream_name,
                    item.identity,
                    run_nbr,
                    wave["id"],
                )
                return {"run_nbr": run_nbr, "wave_id": wave["id"], "status": word}
            if word == CANCELLED:
                raise RecordRejectedError({"_wms": f"wave run_nbr {run_nbr} was cancelled"})
            left = deadline - time.monotonic()
            if left <= 0:
                raise RecordRejectedError(
                    {
                        "_wms": f"wave run_nbr {run_nbr} (id {wave['id']}) is still {word} after "
                        f"{self.timeout:g} s (wave_timeout); it is not run again: a rerun waits "
                        "for it"
                    }
                )
            self.logger.info(
                "%s: wave run_nbr %s is %s after %.1f s; next look in %.1f s (at most %.0f s more)",
                self.stream_name,
                run_nbr,
                word,
                time.monotonic() - started,
                min(pause, left),
                left,
            )
            time.sleep(min(pause, left))
            pause = min(pause * 2, 5.0)
            params = {"id": str(wave["id"]), "fields": WAVE_FIELDS_READ}
            wave = next(iter(self.services.wms.iter_records("wave", params)), wave)


def _run_number(answer: t.Any) -> str | None:
    """The run number a run_template answer carries, when it carries one (not documented)."""
    if isinstance(answer, dict):
        for key in RUN_NUMBER_KEYS:
            if answer.get(key) not in (None, ""):
                return str(answer[key])
    return None
