"""The HTTP server and `Simulator`, the one entry point shared by the CLI and the tests.

`ThreadingHTTPServer` with HTTP/1.1 keep-alive: one thread per client connection, and that thread
keeps one SQLite connection for its whole life. Every response carries Content-Length and goes
out in one write. Faults act here, at the transport: delays before handling, error answers
instead of handling, bodies cut short (`truncate`) or abandoned mid-way (`reset`), and writes
applied whose answer never leaves (`lost_response`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

from ..chaos.faults import ERROR_ANSWERS, Fault, Faults
from ..data.drift import AddedField
from ..data.store import Store, prepare
from ..data.users import User, Users
from ..errors import error_body
from ..read import queries
from ..read.filters import build_where
from ..read.reads import Api
from ..responses import JSON_TYPE, Response
from ..stage.interface import Stage
from .admin import Admin
from .app import ADMIN_PREFIX, App
from .auth import Authenticator, scheme
from .oauth import TOKEN_PATH, TokenEndpoint, Tokens
from .requestlog import RequestLog

_MAX_BODY = 1 << 20


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "oracle-wms-sim"
    sys_version = ""
    app: ClassVar[App]
    faults: ClassVar[Faults]
    log: ClassVar[RequestLog]
    stopping: ClassVar[threading.Event]
    log_requests: ClassVar[bool] = False

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionError, TimeoutError):
            pass  # the client went away (e.g. it timed out during a stall)
        finally:
            self.app.api.store.release_reader()

    def _serve(self) -> None:
        started = time.perf_counter()
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            self.close_connection = True  # the unread rest would corrupt the next request
        body = self.rfile.read(min(length, _MAX_BODY)) if length > 0 else b""
        headers = {k: v for k, v in self.headers.items()}
        target = self.path
        path = urlsplit(target).path
        is_admin = path.startswith(ADMIN_PREFIX)
        is_api = path.startswith(self.app.api.prefix)
        is_write = self.command in ("POST", "PATCH")
        decision = self.faults.decide(target, is_api, is_write)
        if decision.delay_s > 0 and not is_admin:
            self.stopping.wait(decision.delay_s)
        if decision.expire_tokens:
            self.app.auth.tokens.expire_all()
        answer = decision.answer.kind if decision.answer is not None else None
        if decision.answer is not None and answer in ERROR_ANSWERS:
            response = _fault_response(decision.answer)
        else:
            response = self._answer(target, headers, body)
        payload = response.body
        if answer == "truncate":
            payload = payload[: len(payload) // 2]
            response.headers["Content-Length"] = str(len(payload))
        if answer == "reset":
            self.close_connection = True
        head = self._head(response, len(payload))
        if answer == "reset":
            payload = payload[: len(payload) // 2]
        if not is_admin:
            self._log(target, path, headers, response.status, decision.label)
        if answer == "lost_response":  # applied and committed above; the answer never leaves
            self.close_connection = True
            payload = b""
        else:
            self.wfile.write(head + payload)  # one write: no Nagle/delayed-ACK stall
        if answer in ("reset", "lost_response"):
            self.wfile.flush()
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
        if self.log_requests:
            elapsed = (time.perf_counter() - started) * 1000
            sys.stderr.write(
                f"{self.command} {path} {response.status} {len(payload)}B {elapsed:.1f}ms"
                f"{' fault=' + decision.label if decision.label else ''}\n"
            )

    def _head(self, response: Response, length: int) -> bytes:
        """Status line and headers; Content-Length is `length` unless the response sets it."""
        lines = [f"{self.protocol_version} {response.status} {self.responses[response.status][0]}"]
        lines.append(f"Server: {self.server_version}")
        lines.append(f"Date: {self.date_time_string()}")
        lines.extend(f"{name}: {value}" for name, value in response.headers.items())
        if "Content-Length" not in response.headers:
            lines.append(f"Content-Length: {length}")
        if self.close_connection:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _log(
        self, target: str, path: str, headers: dict[str, str], status: int, fault: str | None
    ) -> None:
        """One request-log entry: never a body, a credential or a token."""
        query = dict(parse_qsl(urlsplit(target).query, keep_blank_values=True))
        if path.rstrip("/") == TOKEN_PATH:
            query = {}
        self.log.add(
            self.command,
            path=path,
            query=query,
            status=status,
            fault=fault,
            auth=scheme(headers.get("Authorization")),
        )

    def _answer(self, target: str, headers: dict[str, str], body: bytes) -> Response:
        try:
            return self.app.handle(self.command, target, headers, body)
        except Exception as exc:  # any bug must still answer the standard body
            sys.stderr.write(f"error: {type(exc).__name__}: {exc}\n")
            response = Response(500, error_body(500, "Unhandled server error."), {})
            response.headers["Content-Type"] = JSON_TYPE
            return response

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_OPTIONS(self) -> None:
        self._serve()

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default access log: `_serve` writes its own line, without headers."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def _fault_response(fault: Fault) -> Response:
    messages = {
        "429": "Too many requests: slow down.",
        "503": "The service is temporarily unavailable.",
        "500": "Unhandled server error.",
        "502": "Bad gateway: the upstream server did not answer.",
        "409": "The record was changed by another operation: re-read it and retry.",
    }
    status = int(fault.kind)
    response = Response(status, error_body(status, messages[fault.kind]), {})
    response.headers["Content-Type"] = JSON_TYPE
    if fault.retry_after is not None:
        response.headers["Retry-After"] = f"{fault.retry_after:g}"
    return response


class Simulator:
    """A running simulator: `with Simulator(seed=42) as sim: requests.get(sim.base_url + ...)`.

    `db_path=None` generates into a temporary file that is deleted on exit; an existing complete
    DB at `db_path` is reused as is. `stage_delay`: seconds between receiving an asynchronous
    stage message and processing it (docs/write-api.md, "Stage interface").
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
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle ---------------------------------------------------------------------
    def start(self) -> Simulator:
        self.meta = prepare(self.db_path, self.seed, self.scale)
        self.store.load_catalogue()
        app = App(
            Api(self.store, self.environment, self.stage),
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
        handler = type(
            "Handler",
            (_Handler,),
            {
                "app": app,
                "faults": self.faults,
                "log": self.log,
                "stopping": self._stopping,
                "log_requests": self.log_requests,
            },
        )
        server = ThreadingHTTPServer((self.host, self.port), handler)
        server.daemon_threads = True
        self._server = server
        self.port = server.server_address[1]
        self.stage.start()  # after the bind: a failed start leaves no worker behind
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
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

    def delete_records(self, entity: str, count: int) -> list[int]:
        return self.store.delete_records(entity, count)

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
    ) -> None:
        """A WMS user scoped to facility/company codes (None: all), with read access to
        `readable_entities` only (None: all); `writable=False` gets 403 on POST and PATCH."""
        self.admin.add_user(
            User(
                username,
                password,
                tuple(facilities) if facilities is not None else None,
                tuple(companies) if companies is not None else None,
                frozenset(readable_entities) if readable_entities is not None else None,
                default_facility,
                writable,
            )
        )

    def set_token_lifetime(self, seconds: float) -> None:
        """Lifetime of tokens issued from now on (already issued ones keep theirs)."""
        self.tokens.lifetime = float(seconds)

    def expire_tokens(self) -> None:
        """Every issued token becomes invalid now."""
        self.tokens.expire_all()

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
        self.log.clear()
