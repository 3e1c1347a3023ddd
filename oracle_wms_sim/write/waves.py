"""Run Template, Run Manual Wave and Undo Wave (docs/api-contract.md L1-L9).

`POST entity/wave_template/{id}/run_template/` (no parameters) or `entity/wave_template/
run_template/` with `parameters.template_name` and one of `facility_id`/`facility_id__code`
(`options.company_id`/`company_code` set the company context); `run_manual` likewise, with the
order lines in `options.order_dtl_id_list` or `options.order_seq_nbr_list`. Both answer 202
(Oracle's 24C "Run Template", "Response Body"): the `wave` row exists, In Progress, when the
answer leaves; the allocation runs on the `Jobs` worker `FlowSettings.wave_seconds` later and
sets the wave Completed. The body of the 202 is not documented: `{"run_nbr": n}` by default,
varied by `Undocumented.run_template_answer`. A template with a wave still In Progress is
refused (400), as with ONLY_ONE_WAVE_PER_FACCO. `POST entity/wave/{id}/undo` or
`entity/wave/undo/` (`parameters.run_nbr` + facility) cancels the wave's open allocations;
refused after a pick unless `FlowSettings.undo_wave_even_after_picking`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from ..data.records import fetch
from ..data.store import Store
from ..data.users import User
from ..errors import ApiError
from ..responses import Response, json_response
from . import allocation
from . import fulfilment as ff
from .jobs import FlowSettings, Jobs
from .validation import FieldError, Problems, integer_value, rejected, text_value
from .variant import Undocumented

_LINES_TABLE = (
    "CREATE TABLE IF NOT EXISTS _sim_wave_line (wave_id INTEGER NOT NULL, order_dtl_id INTEGER "
    "NOT NULL, PRIMARY KEY (wave_id, order_dtl_id))"
)
"""The lines a manual wave was run for (kept in the file, so a restart can finish the wave)."""
_TEMPLATE_COLUMNS = ("id", "facility_id", "company_id", "template_name", "order_type_id")
_WAVE_COLUMNS = ("id", "facility_id", "company_id", "run_nbr", "status_id", "wave_template_id")
_PARAMETERS = frozenset(("template_name", *ff.FACILITY_KEYS))
_COMPANY_OPTIONS = ("company_id", "company_code")
_COMPANY_PARAMETERS = ("company_id", "company_id__code")
"""Run Manual Wave's company in `parameters` (REST 21D: the body includes "company id/code")."""


def _only(body: dict[str, Any], keys: tuple[str, ...]) -> None:
    problems = {name: "unknown key" for name in body if name not in keys}
    if problems:
        raise rejected("The request body is not valid.", problems)


def _section(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name, {})
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise rejected("The request body is not valid.", {name: "must be a JSON object"})
    return value


@dataclass
class Waves:
    """The wave routes of one simulator and the completion of its running waves."""

    store: Store
    jobs: Jobs = field(default_factory=Jobs)
    settings: FlowSettings = field(default_factory=FlowSettings)
    undocumented: Undocumented = field(default_factory=Undocumented)
    """`run_template_answer`: the 202's body (Oracle documents none; L3)."""

    def start(self) -> None:
        """Create the manual-wave table when missing and finish the waves an earlier run of
        this file left In Progress."""
        with self.store.transaction() as conn:
            conn.execute(_LINES_TABLE)
            running = [
                int(r[0])
                for r in conn.execute(
                    "SELECT id FROM wave WHERE status_id = ? ORDER BY id", (ff.WAVE_IN_PROGRESS,)
                )
            ]
        for wave in running:
            self._queue(wave, None)

    # ---- routes ------------------------------------------------------------------------
    def run(self, segments: list[str], body: dict[str, Any], user: User) -> Response:
        """`segments`: `["wave_template", op]` or `["wave_template", id, op]`, op
        `run_template` or `run_manual`."""
        manual = segments[-1] == "run_manual"
        _only(body, ("parameters", "options") if len(segments) == 2 or manual else ("options",))
        parameters, options = _section(body, "parameters"), _section(body, "options")
        with self.store.transaction() as conn:
            conn.execute(_LINES_TABLE)
            company_parameters = {}
            if manual:  # REST 21D: the body names the facility, the company and the template
                company_parameters = {
                    k: parameters.pop(k) for k in _COMPANY_PARAMETERS if k in parameters
                }
            if len(segments) == 3:
                template = self._template_by_id(conn, segments[1], user)
            else:
                template = self._template_by_name(conn, parameters, user)
            self._check_company(conn, options, template, user, company_parameters)
            lines = self._manual_lines(conn, options, template) if manual else None
            if not manual:
                unknown = [name for name in options if name not in _COMPANY_OPTIONS]
                if unknown:
                    raise rejected(
                        "The options are not valid.",
                        {f"options.{n}": "unknown option" for n in unknown},
                    )
                self._refuse_running(conn, template)
            wave = self._new_wave(conn, template, user)
            if lines is not None:
                conn.executemany(
                    "INSERT INTO _sim_wave_line (wave_id, order_dtl_id) VALUES (?, ?)",
                    [(wave["id"], line) for line in lines],
                )
        self._queue(wave["id"], user)
        answer = self.undocumented.run_template_answer
        if answer == "empty":
            return Response(202)
        if answer == "wave_nbr":
            return json_response({"wave_nbr": str(wave["run_nbr"])}, status=202)
        return json_response({"run_nbr": wave["run_nbr"]}, status=202)

    def undo(self, segments: list[str], body: dict[str, Any], user: User) -> Response:
        """`segments`: `["wave", id, "undo"]` or `["wave", "undo"]`. Answers 200 with the wave's
        id, run number and status (undocumented: a client re-reads the wave)."""
        with self.store.transaction() as conn:
            if len(segments) == 3:
                _only(body, ())
                wave = self._wave_by_id(conn, segments[1], user)
            else:
                _only(body, ("parameters",))
                wave = self._wave_by_run(conn, _section(body, "parameters"), user)
            status = wave["status_id"]
            if status == ff.WAVE_IN_PROGRESS:
                raise rejected(
                    "The wave is still running.", {"run_nbr": "the wave is still In Progress"}
                )
            if status == ff.WAVE_CANCELLED:
                raise rejected("The wave is already cancelled.", {"run_nbr": "already Cancelled"})
            picked = conn.execute(
                "SELECT count(*) FROM allocation WHERE wave_id = ? AND packed_qty > 0",
                (wave["id"],),
            ).fetchone()[0]
            after = self.settings.undo_wave_even_after_picking
            if picked and not after:
                message = "Picking has started for this wave (UNDO_WAVE_EVEN_AFTER_PICKING is No)."
                raise rejected(message, {"run_nbr": message})
            allocation.release(self.store, conn, wave["id"], user, picked_too=after)
            ff.touch(self.store, conn, "wave", wave["id"], user, status_id=ff.WAVE_CANCELLED)
        return json_response(
            {"id": wave["id"], "run_nbr": wave["run_nbr"], "status_id": ff.WAVE_CANCELLED}
        )

    # ---- the background part -------------------------------------------------------------
    def _queue(self, wave_id: int, user: User | None) -> None:
        def finish() -> None:
            self.complete(wave_id, user)

        self.jobs.submit(lambda: self.settings.wave_seconds, finish, f"wave {wave_id}")

    def complete(self, wave_id: int, user: User | None) -> None:
        """Allocate a running wave's selection and set it Completed (one transaction)."""
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT id, facility_id, company_id, status_id, wave_template_id, mod_user "
                "FROM wave WHERE id = ?",
                (wave_id,),
            ).fetchone()
            if row is None or int(row[3]) != ff.WAVE_IN_PROGRESS:
                return
            wave = {"id": int(row[0]), "facility_id": int(row[1]), "company_id": int(row[2])}
            actor = user or User(str(row[5]), "")
            listed = [
                int(r[0])
                for r in conn.execute(
                    "SELECT order_dtl_id FROM _sim_wave_line WHERE wave_id = ?", (wave_id,)
                )
            ]
            if listed:
                lines = allocation.listed_lines(conn, listed)
            else:
                kind = None
                if row[4] is not None:
                    kind = conn.execute(
                        "SELECT order_type_id FROM wave_template WHERE id = ?", (row[4],)
                    ).fetchone()[0]
                lines = allocation.template_lines(conn, wave["facility_id"], kind)
            allocation.allocate(self.store, conn, wave, lines, actor)
            ff.touch(self.store, conn, "wave", wave_id, actor, status_id=ff.WAVE_COMPLETED)

    # ---- lookups -------------------------------------------------------------------------
    def _template_by_id(self, conn: sqlite3.Connection, text: str, user: User) -> dict[str, Any]:
        found = None
        if text.isdigit():
            entity = self.store.entity("wave_template")
            found = fetch(conn, entity, int(text), user, _TEMPLATE_COLUMNS)
        if found is None:
            raise ApiError(404, f"No wave_template record with id '{text}'.")
        return found

    def _template_by_name(
        self, conn: sqlite3.Connection, parameters: dict[str, Any], user: User
    ) -> dict[str, Any]:
        problems: Problems = {
            f"parameters.{n}": "unknown parameter" for n in parameters if n not in _PARAMETERS
        }
        name = None
        try:
            name = text_value(parameters.get("template_name"), 50, required=True)
        except FieldError as exc:
            problems["parameters.template_name"] = str(exc)
        facility = ff.named_facility(conn, user, parameters, problems, "parameters.")
        if problems:
            raise rejected("The wave template parameters are not valid.", problems)
        rows = conn.execute(
            f"SELECT {', '.join(_TEMPLATE_COLUMNS)} FROM wave_template "
            "WHERE template_name = ? AND facility_id = ?",
            (name, facility),
        ).fetchall()
        if len(rows) != 1:
            reason = (
                "matches more than one template" if rows else "no such template in the facility"
            )
            raise rejected(
                f"Wave template '{name}': {reason}.", {"parameters.template_name": reason}
            )
        return dict(zip(_TEMPLATE_COLUMNS, rows[0], strict=True))

    def _check_company(
        self,
        conn: sqlite3.Connection,
        options: dict[str, Any],
        template: dict[str, Any],
        user: User,
        parameters: dict[str, Any],
    ) -> None:
        """`options.company_id`/`company_code` (run_template's page), or for run_manual
        `parameters.company_id`/`company_id__code` (one place, one key)."""
        problems: Problems = {}
        where = "parameters." if parameters else "options."
        if parameters and any(n in options for n in _COMPANY_OPTIONS):
            problems["parameters.company_id"] = (
                "give the company in parameters or options, not both"
            )
        names = _COMPANY_PARAMETERS if parameters else _COMPANY_OPTIONS
        pair = ff.one_of(parameters or options, names, problems, where)
        company = ff.company_of(conn, user, pair, problems, where)
        if company is not None and company != template["company_id"]:
            problems[f"{where}{pair[0]}"] = "is not the company of the template's facility"
        if problems:
            raise rejected("The company context is not valid.", problems)

    def _refuse_running(self, conn: sqlite3.Connection, template: dict[str, Any]) -> None:
        running = conn.execute(
            "SELECT run_nbr FROM wave WHERE wave_template_id = ? AND status_id = ?",
            (template["id"], ff.WAVE_IN_PROGRESS),
        ).fetchone()
        if running is not None:
            message = (
                f"A wave of template '{template['template_name']}' is already running "
                f"(run number {running[0]})."
            )
            raise rejected(message, {"template_name": message})

    def _manual_lines(
        self, conn: sqlite3.Connection, options: dict[str, Any], template: dict[str, Any]
    ) -> list[int]:
        """The order line ids `options` names (exactly one of the two documented lists), each
        open and of the template's facility; 400 naming the option otherwise."""
        problems: Problems = {
            f"options.{n}": "unknown option"
            for n in options
            if n not in ("order_dtl_id_list", "order_seq_nbr_list", *_COMPANY_OPTIONS)
        }
        by_id, by_nbr = options.get("order_dtl_id_list"), options.get("order_seq_nbr_list")
        if (by_id is None) == (by_nbr is None):
            problems["options.order_dtl_id_list"] = (
                "give exactly one of order_dtl_id_list or order_seq_nbr_list"
            )
            raise rejected("The order details are not valid.", problems)
        ids: list[int] = []
        if by_id is not None:
            name = "options.order_dtl_id_list"
            if not isinstance(by_id, list) or not by_id:
                problems[name] = "must be a non-empty list of order detail ids"
            else:
                try:
                    ids = [integer_value(v) for v in by_id]
                except FieldError as exc:
                    problems[name] = str(exc)
        else:
            name = "options.order_seq_nbr_list"
            ids = self._ids_by_number(conn, by_nbr, template, problems)
        if not problems:
            self._check_lines(conn, ids, template, name, problems)
        if problems:
            raise rejected("The order details are not valid.", problems)
        return ids

    @staticmethod
    def _ids_by_number(
        conn: sqlite3.Connection, pairs: Any, template: dict[str, Any], problems: Problems
    ) -> list[int]:
        name = "options.order_seq_nbr_list"
        shape = "a non-empty list of {order_nbr, seq_nbr_list}"
        if not isinstance(pairs, list) or not pairs:
            problems[name] = f"must be {shape}"
            return []
        ids: list[int] = []
        for pair in pairs:
            if not isinstance(pair, dict) or set(pair) != {"order_nbr", "seq_nbr_list"}:
                problems[name] = f"must be {shape}"
                return []
            seqs = pair["seq_nbr_list"]
            if not isinstance(seqs, list) or not seqs:
                problems[name] = f"seq_nbr_list of {pair['order_nbr']!r} must be a non-empty list"
                return []
            for seq in seqs:
                row = conn.execute(
                    "SELECT d.id FROM order_dtl d JOIN order_hdr h ON h.id = d.order_id "
                    "WHERE h.order_nbr = ? AND h.facility_id = ? AND d.seq_nbr = ?",
                    (pair["order_nbr"], template["facility_id"], seq),
                ).fetchone()
                if row is None:
                    problems[name] = (
                        f"no line {seq} of order {pair['order_nbr']!r} in the template's facility"
                    )
                    return []
                ids.append(int(row[0]))
        return ids

    @staticmethod
    def _check_lines(
        conn: sqlite3.Connection,
        ids: list[int],
        template: dict[str, Any],
        name: str,
        problems: Problems,
    ) -> None:
        for ident in ids:
            row = conn.execute(
                "SELECT h.facility_id, h.status_id, d.ord_qty - d.alloc_qty FROM order_dtl d "
                "JOIN order_hdr h ON h.id = d.order_id WHERE d.id = ?",
                (ident,),
            ).fetchone()
            if row is None or int(row[0]) != template["facility_id"]:
                problems[name] = f"no order detail {ident} in the template's facility"
                return
            if int(row[1]) not in (ff.ORDER_CREATED, ff.ORDER_PARTLY_ALLOCATED) or row[2] <= 0:
                problems[name] = f"order detail {ident} has nothing left to allocate"
                return

    def _new_wave(
        self, conn: sqlite3.Connection, template: dict[str, Any], user: User
    ) -> dict[str, int]:
        facility = int(template["facility_id"])
        top = conn.execute(
            "SELECT max(run_nbr) FROM wave WHERE facility_id = ?", (facility,)
        ).fetchone()[0]
        run_nbr = int(top or 0) + 1
        company = int(template["company_id"])
        ident = ff.insert(
            self.store,
            conn,
            "wave",
            user,
            {
                "company_id": company,
                "facility_id": facility,
                "run_nbr": run_nbr,
                "wave_template_id": int(template["id"]),
                "status_id": ff.WAVE_IN_PROGRESS,
                "cust_field_1": None,
                "_fac": facility,
                "_co": company,
            },
        )
        return {"id": ident, "run_nbr": run_nbr, "facility_id": facility, "company_id": company}

    def _wave_by_id(self, conn: sqlite3.Connection, text: str, user: User) -> dict[str, Any]:
        found = None
        if text.isdigit():
            found = fetch(conn, self.store.entity("wave"), int(text), user, _WAVE_COLUMNS)
        if found is None:
            raise ApiError(404, f"No wave record with id '{text}'.")
        return found

    def _wave_by_run(
        self, conn: sqlite3.Connection, parameters: dict[str, Any], user: User
    ) -> dict[str, Any]:
        problems: Problems = {
            f"parameters.{n}": "unknown parameter"
            for n in parameters
            if n not in ("run_nbr", *ff.FACILITY_KEYS)
        }
        run_nbr = None
        try:
            run_nbr = integer_value(parameters.get("run_nbr"))
        except FieldError as exc:
            problems["parameters.run_nbr"] = (
                "is required" if parameters.get("run_nbr") is None else str(exc)
            )
        facility = ff.named_facility(conn, user, parameters, problems, "parameters.")
        if problems:
            raise rejected("The undo parameters are not valid.", problems)
        row = conn.execute(
            f"SELECT {', '.join(_WAVE_COLUMNS)} FROM wave WHERE run_nbr = ? AND facility_id = ?",
            (run_nbr, facility),
        ).fetchone()
        if row is None:
            message = f"No wave with run number {run_nbr} in the facility."
            raise rejected(message, {"parameters.run_nbr": message})
        return dict(zip(_WAVE_COLUMNS, row, strict=True))
