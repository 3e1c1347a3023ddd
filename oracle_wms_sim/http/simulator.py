"""`Simulator`, the one entry point shared by the CLI and the tests.

It assembles one simulated environment (the store, users and tokens, faults, the request log,
the `/_sim/` control surface, the stage worker), serves it over HTTP (`server`), and offers the
Python API tests use: WMS activity, schema drift, what the warehouse holds, users, faults.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from datetime import datetime
from decimal import Decimal
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any

from ..chaos.faults import Fault, Faults
from ..chaos.late import commit_late
from ..data.drift import AddedField
from ..data.purge import remove_zero_inventory
from ..data.store import Store, prepare
from ..data.users import User, Users
from ..read import queries
from ..read.filters import build_where
from ..read.options import ReadOptions
from ..stage.interface import Stage
from ..write.jobs import FlowSettings, Jobs
from ..write.variant import Undocumented
from .admin import Admin
from .api import Api
from .app import ADMIN_PREFIX, App
from .auth import Authenticator
from .oauth import TOKEN_PATH, TokenEndpoint, Tokens
from .requestlog import RequestLog
from .server import make_server

SHUTDOWN_POLL_S = 0.01
"""How often the idle server loop looks whether `stop` asked it to end."""

_GENERATED: dict[tuple[int, int], str] = {}
_GENERATED_LOCK = threading.Lock()


def _prepare_temporary(path: str, seed: int, scale: int) -> dict[str, str]:
    """`prepare` for a simulator without `db_path`: the first one of a seed and scale in this
    process generates into a template file (kept until the process exits), the next ones start
    from a copy of it. Generation is deterministic (same seed and scale, same bytes), so the copy
    is what generating again would give, in milliseconds instead of 0.2 s at scale 1."""
    with _GENERATED_LOCK:
        template = _GENERATED.get((seed, scale))
        if template is None:
            folder = tempfile.mkdtemp(prefix="oracle-wms-sim-template-")
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            template = os.path.join(folder, "wms.sqlite")
            prepare(template, seed, scale)
            _GENERATED[seed, scale] = template
    shutil.copyfile(template, path)
    return prepare(path, seed, scale)


class Simulator:
    """A running simulator: `with Simulator(seed=42) as sim: requests.get(sim.base_url + ...)`.

    `db_path=None` generates into a temporary file that is deleted on exit; an existing complete
    DB at `db_path` is reused as is. `stage_delay`: seconds between receiving an asynchronous
    stage message and processing it (docs/write-api.md, "Stage interface"). `index_layout`:
    how `GET entity/` lays out its list (`object`, `names`, `objects`: `read.reads.INDEX_LAYOUTS`).
    `lenient_required_filters` (not Oracle): lookups satisfy inventory_history's required filters.
    `whole_second_filters`: refuse date-time filter values finer than a second, as real tenants do
    (`read.options.ReadOptions`, docs/api-contract.md D18). `refused_orderings`: entity -> fields
    whose `ordering` it answers with 400 (D19).
    """

    def __init__(
        self,
        seed: int = 42,
        scale: int = 1,
        db_path: str | os.PathLike[str] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        environment: str = "demo",
        username: str = "demo",
        password: str = "demo",  # noqa: S107 - the documented demo user
        log_requests: bool = False,
        oauth_client_id: str = "demo-client",
        oauth_client_secret: str = "demo-secret",  # noqa: S107 - the documented demo client
        token_lifetime: float = 3600,
        faults: list[Fault] | None = None,
        stage_delay: float = 0.2,
        index_layout: str = "object",
        lenient_required_filters: bool = False,
        wave_seconds: float = 0.5,
        pick_delay: float = 0.2,
        undo_wave_even_after_picking: bool = False,
        whole_second_filters: bool = True,
        refused_orderings: dict[str, frozenset[str]] | None = None,
    ) -> None:
        self.seed = seed
        self.scale = scale
        self.host = host
        self.port = port
        self.environment = environment
        self.username = username
        self.password = password
        self.log_requests = log_requests
        self.oauth_client_id = oauth_client_id
        self.oauth_client_secret = oauth_client_secret
        self._tmpdir: str | None = None
        if db_path is None:
            self._tmpdir = tempfile.mkdtemp(prefix="oracle-wms-sim-")
            db_path = os.path.join(self._tmpdir, "wms.sqlite")
        self.db_path = os.fspath(db_path)
        self.meta: dict[str, str] = {}
        self.store = Store(self.db_path, seed)
        self.users = Users()
        self.users.add(User(username, password))
        self.tokens = Tokens(lifetime=token_lifetime)
        self.faults = Faults(seed)
        for fault in faults or ():
            self.faults.add(fault)
        self.log = RequestLog()
        self.admin = Admin(self.store, self.users, self.tokens, self.faults, self.log)
        self.stage = Stage(self.store, delay=stage_delay)
        self.undocumented = Undocumented()
        """Readings of what Oracle does not document (`write/variant.py`); tests switch them."""
        if wave_seconds < 0 or pick_delay < 0:
            raise ValueError("wave_seconds and pick_delay must be at least 0")
        self.flow = FlowSettings(wave_seconds, pick_delay, undo_wave_even_after_picking)
        """Waves and picks (docs/api-contract.md L5, L9, L12); settable while running."""
        self.jobs = Jobs()
        """The worker finishing waves and asynchronous picks; `jobs.failures` lists the
        asynchronous picks it refused (Oracle would not report them)."""
        self.index_layout = index_layout
        self.lenient_required_filters = lenient_required_filters
        self.read_options = ReadOptions(whole_second_filters, dict(refused_orderings or {}))
        """Read-side behaviours of real tenants (`read/options.py`); settable while running."""
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle ---------------------------------------------------------------------
    def start(self) -> Simulator:
        if self._tmpdir is None:
            self.meta = prepare(self.db_path, self.seed, self.scale)
        else:
            self.meta = _prepare_temporary(self.db_path, self.seed, self.scale)
        self.store.load_catalogue()
        api = Api(
            self.store,
            self.environment,
            self.stage,
            undocumented=self.undocumented,
            index_layout=self.index_layout,
            lenient_required_filters=self.lenient_required_filters,
            read_options=self.read_options,
            jobs=self.jobs,
            flow=self.flow,
        )
        app = App(
            api,
            self.admin,
            Authenticator(self.users, self.tokens),
            TokenEndpoint(
                self.users,
                self.tokens,
                self.oauth_client_id,
                self.oauth_client_secret,
                self.username,
            ),
        )
        server = make_server(
            self.host,
            self.port,
            app=app,
            faults=self.faults,
            log=self.log,
            stopping=self._stopping,
            log_requests=self.log_requests,
        )
        self._server = server
        self.port = server.server_address[1]
        self.stage.start()  # after the bind: a failed start leaves no worker behind
        self.jobs.start()
        api.writes.waves.start()  # waves an earlier run of the file left In Progress
        # `stop` waits for the loop's next look at its shutdown flag (0.2 s here made every
        # stop cost 0.2 s, and the test suite starts and stops hundreds of simulators).
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": SHUTDOWN_POLL_S}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.admin.stop_churn()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.stage.stop()
        self.jobs.stop()
        self.store.close()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """`http://HOST:PORT/{environment}`, what a client configures (no trailing slash)."""
        return f"http://{self.host}:{self.port}/{self.environment}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/wms/lgfapi/v10/"

    @property
    def token_url(self) -> str:
        """The IDCS-style token endpoint, outside the environment prefix."""
        return f"http://{self.host}:{self.port}{TOKEN_PATH}"

    @property
    def admin_url(self) -> str:
        return f"http://{self.host}:{self.port}{ADMIN_PREFIX}"

    # ---- WMS activity ------------------------------------------------------------------
    def update_records(self, entity: str, count: int, same_mod_ts: bool = True) -> list[int]:
        return self.store.update_records(entity, count, same_mod_ts)

    def insert_records(self, entity: str, count: int, same_mod_ts: bool = True) -> list[int]:
        return self.store.insert_records(entity, count, same_mod_ts)

    def commit_late(self, entity: str, count: int, behind_s: float) -> list[int]:
        """`count` new records whose `mod_ts` (and `create_ts`) lies `behind_s` seconds before
        the entity's newest: a long transaction committing late, or a backdated create
        (`chaos/late.py`, docs/api-contract.md D20)."""
        return commit_late(self.store, entity, count, behind_s)

    def delete_records(self, entity: str, count: int) -> list[int]:
        return self.store.delete_records(entity, count)

    def purge(
        self, as_of: datetime | None = None, retention_years: int | None = None
    ) -> dict[str, list[int]]:
        """The WMS's scheduled purge, run now or as at `as_of` (`data/purge.py`): the ids
        deleted per table."""
        return self.admin.purge(as_of, retention_years)

    def start_churn(
        self,
        entity: str,
        per_second: float,
        *,
        updates: bool = True,
        inserts: bool = True,
        deletes: bool = False,
        same_mod_ts: bool = True,
    ) -> None:
        self.admin.start_churn(
            entity,
            per_second,
            updates=updates,
            inserts=inserts,
            deletes=deletes,
            same_mod_ts=same_mod_ts,
        )

    def stop_churn(self) -> dict[str, list[int]]:
        """Stop the background churn; the ids it updated, inserted and deleted."""
        return self.admin.stop_churn()

    def result_count(self, entity: str, **filters: str) -> int:
        """Records matching the filters (same parsing as the API, as the default user)."""
        user = self.users.get(self.username)
        offset = user.naive_offset if user is not None else 0
        catalogue = self.store.catalogue.entities
        filters_text = {k: str(v) for k, v in filters.items()}
        where = build_where(self.store.entity(entity), filters_text, offset, catalogue)
        return self.store.count(entity, where.sql, where.params)

    def add_field(
        self,
        entity: str,
        name: str,
        kind: str = "string",
        max_length: int | None = 50,
        default: str | None = None,
    ) -> None:
        """Schema drift: from now on `describe` lists the field and every record carries it
        (`default`, else a value derived from the id). This simulator only; kept in its DB."""
        self.store.add_field(AddedField(entity, name, kind, max_length, default))

    # ---- what the warehouse holds (for tests of writers) -------------------------------
    def inventory_qty(
        self, facility_code: str, location_barcode: str, item_code: str
    ) -> Decimal | None:
        """Sum of `curr_qty` of the item's inventory in the location; None when there is none."""
        return queries.inventory_qty(
            self.store.reader(), facility_code, location_barcode, item_code
        )

    def history_with_ref(self, transaction_ref_nbr_prefix: str) -> list[dict[str, Any]]:
        """inventory_history rows whose `transaction_ref_nbr` starts with the prefix, by id:
        `adj_qty`/`orig_qty` as Decimal, `create_ts` as an aware UTC datetime, and
        `id`, `facility_code`, `history_activity` (code), `status_id`, `item_code`,
        `container_nbr`, `group_nbr`, `reason_code`, `transaction_ref_nbr`, `create_user`."""
        return queries.history_with_ref(self.store.reader(), transaction_ref_nbr_prefix)

    def active_location_with_inventory(
        self, facility_code: str, *, nth: int = 0
    ) -> tuple[str, str, Decimal]:
        """(location_barcode, item_code, qty): an active location holding exactly one loose,
        batch-less inventory row of the item (lowest inventory id; `nth` skips)."""
        return queries.active_location_with_inventory(self.store.reader(), facility_code, nth)

    def reserve_location(self, facility_code: str, *, nth: int = 0) -> str:
        """The barcode of a location that is not active (adjustments there are refused)."""
        return queries.reserve_location(self.store.reader(), facility_code, nth)

    def order_with_lines(
        self, facility_code: str, status: str = "open", *, nth: int = 0
    ) -> tuple[str, list[int]]:
        """(order_nbr, [seq_nbr, ...]) of an order with lines, `open` (neither Shipped nor
        Cancelled: PATCH allowed) or `shipped` (PATCH refused)."""
        return queries.order_with_lines(self.store.reader(), facility_code, status, nth)

    def oblpn_numbers(self, facility_code: str, shipped: bool, count: int) -> list[str]:
        """`count` LPN numbers (container_nbr) already Shipped, or still shippable."""
        return queries.oblpn_numbers(self.store.reader(), facility_code, shipped, count)

    # ---- users and OAuth ---------------------------------------------------------------
    def add_user(
        self,
        username: str,
        password: str,
        *,
        facilities: list[str] | None = None,
        companies: list[str] | None = None,
        readable_entities: list[str] | None = None,
        default_facility: str | None = None,
        writable: bool = True,
        rows_per_page: int = 125,
    ) -> None:
        """A WMS user scoped to facility/company codes (None: all), with read access to
        `readable_entities` only (None: all); `writable=False` gets 403 on POST and PATCH;
        `rows_per_page` is the user's "Rows per Page" (list page size, bulk operation cap)."""
        self.admin.add_user(
            User(
                username,
                password,
                tuple(facilities) if facilities is not None else None,
                tuple(companies) if companies is not None else None,
                frozenset(readable_entities) if readable_entities is not None else None,
                default_facility,
                writable,
                rows_per_page,
            )
        )

    def set_token_lifetime(self, seconds: float) -> None:
        """Lifetime of tokens issued from now on (already issued ones keep theirs)."""
        self.tokens.lifetime = float(seconds)

    def expire_tokens(self) -> None:
        """Every issued token becomes invalid now."""
        self.tokens.expire_all()

    def set_undocumented(
        self,
        *,
        patch_fields: bool | None = None,
        create_ref: bool | None = None,
        run_template_answer: str | None = None,
        receive_answer: str | None = None,
        item_code_as_barcode: bool | None = None,
        legacy_action_codes: bool | None = None,
        zero_inventory_removed: bool | None = None,
    ) -> None:
        """Behave otherwise where Oracle is silent: `patch_fields=False` ignores the undocumented
        PATCH fields (200, unchanged), `create_ref=False` keeps inventory creates'
        `transaction_ref_nbr` out of history, `run_template_answer` "run_nbr" | "wave_nbr" |
        "empty" shapes the waves' 202, `receive_answer` "record" | "empty" receive's answer,
        `item_code_as_barcode=False` matches `item_barcode` to barcodes only,
        `legacy_action_codes=False` refuses pick_confirm's Close, Complete and Short codes,
        `zero_inventory_removed=True` deletes inventory that reaches zero."""
        if run_template_answer not in (None, "run_nbr", "wave_nbr", "empty"):
            raise ValueError(f"unknown run_template_answer {run_template_answer!r}")
        if receive_answer not in (None, "record", "empty"):
            raise ValueError(f"unknown receive_answer {receive_answer!r}")
        if patch_fields is not None:
            self.undocumented.patch_fields = patch_fields
        if create_ref is not None:
            self.undocumented.create_ref = create_ref
        if run_template_answer is not None:
            self.undocumented.run_template_answer = run_template_answer
        if receive_answer is not None:
            self.undocumented.receive_answer = receive_answer
        if item_code_as_barcode is not None:
            self.undocumented.item_code_as_barcode = item_code_as_barcode
        if legacy_action_codes is not None:
            self.undocumented.legacy_action_codes = legacy_action_codes
        if zero_inventory_removed is not None:
            self.undocumented.zero_inventory_removed = zero_inventory_removed
            remove_zero_inventory(self.store, zero_inventory_removed)

    # ---- faults and the request log --------------------------------------------------
    def add_fault(
        self,
        kind: str,
        *,
        rate: float | None = None,
        next: int | None = None,
        path_contains: str | None = None,
        retry_after: float | None = None,
        latency_ms: float = 0,
        jitter_ms: float = 0,
        stall_s: float = 0,
    ) -> None:
        self.faults.add(
            Fault(kind, rate, next, path_contains, retry_after, latency_ms, jitter_ms, stall_s)
        )

    def clear_faults(self) -> None:
        self.faults.clear()

    def request_log(self) -> list[dict[str, Any]]:
        return self.log.entries()

    def clear_request_log(self) -> None:
        """Forget the request log and the peak of requests in flight."""
        self.log.clear()

    def peak_in_flight(self) -> int:
        """The most API requests in flight at once since the request log was cleared."""
        return self.log.concurrency()["peak"]
