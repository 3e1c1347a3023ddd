"""The HTTP server and `Simulator`, the one entry point shared by the CLI and the tests.

`ThreadingHTTPServer` with HTTP/1.1 keep-alive: one thread per client connection, and that thread
keeps one SQLite connection for its whole life. Every response carries Content-Length.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar

from .api import Api, Response
from .entities import ENTITIES
from .errors import error_body
from .filters import build_where
from .store import Store, prepare

_MAX_BODY = 1 << 20


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "oracle-wms-sim"
    sys_version = ""
    api: ClassVar[Api]
    log_requests: ClassVar[bool] = False

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self) -> None:
        try:
            super().handle()
        finally:
            self.api.store.release_reader()

    def _serve(self) -> None:
        started = time.perf_counter()
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            self.close_connection = True  # the unread rest would corrupt the next request
        body = self.rfile.read(min(length, _MAX_BODY)) if length > 0 else b""
        headers = {k: v for k, v in self.headers.items()}
        try:
            response = self.api.handle(self.command, self.path, headers, body)
        except Exception as exc:  # any bug must still answer the standard body
            sys.stderr.write(f"error: {type(exc).__name__}: {exc}\n")
            response = Response(500, error_body(500, "Unhandled server error."), {})
            response.headers["Content-Type"] = "application/json"
        lines = [f"{self.protocol_version} {response.status} {self.responses[response.status][0]}"]
        lines.append(f"Server: {self.server_version}")
        lines.append(f"Date: {self.date_time_string()}")
        lines.extend(f"{name}: {value}" for name, value in response.headers.items())
        if "Content-Length" not in response.headers:
            lines.append(f"Content-Length: {len(response.body)}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + response.body)  # one write: no Nagle/delayed-ACK stall
        if self.log_requests:
            elapsed = (time.perf_counter() - started) * 1000
            sys.stderr.write(
                f"{self.command} {self.path} {response.status} "
                f"{len(response.body)}B {elapsed:.1f}ms\n"
            )

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


class Simulator:
    """A running simulator: `with Simulator(seed=42) as sim: requests.get(sim.base_url + ...)`.

    `db_path=None` generates into a temporary file that is deleted on exit; an existing complete
    DB at `db_path` is reused as is.
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
    ) -> None:
        self.seed = seed
        self.scale = scale
        self.host = host
        self.port = port
        self.environment = environment
        self.username = username
        self.password = password
        self.log_requests = log_requests
        self._tmpdir: str | None = None
        if db_path is None:
            self._tmpdir = tempfile.mkdtemp(prefix="oracle-wms-sim-")
            db_path = os.path.join(self._tmpdir, "wms.sqlite")
        self.db_path = os.fspath(db_path)
        self.meta: dict[str, str] = {}
        self.store = Store(self.db_path, seed)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle ---------------------------------------------------------------------
    def start(self) -> Simulator:
        self.meta = prepare(self.db_path, self.seed, self.scale)
        api = Api(self.store, self.environment, self.username, self.password)
        handler = type("Handler", (_Handler,), {"api": api, "log_requests": self.log_requests})
        server = ThreadingHTTPServer((self.host, self.port), handler)
        server.daemon_threads = True
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
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

    # ---- WMS activity ------------------------------------------------------------------
    def update_records(self, entity: str, count: int, same_mod_ts: bool = True) -> list[int]:
        return self.store.update_records(entity, count, same_mod_ts)

    def insert_records(self, entity: str, count: int, same_mod_ts: bool = True) -> list[int]:
        return self.store.insert_records(entity, count, same_mod_ts)

    def result_count(self, entity: str, **filters: str) -> int:
        """Records matching the filters (same parsing as the API); a convenience for tests."""
        where = build_where(ENTITIES[entity], {k: str(v) for k, v in filters.items()})
        return self.store.count(entity, where.sql, where.params)
