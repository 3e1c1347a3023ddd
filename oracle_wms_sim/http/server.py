"""The HTTP transport: a threaded HTTP/1.1 server whose handler answers with an `App`.

`ThreadingHTTPServer` with HTTP/1.1 keep-alive: one thread per client connection, and that thread
keeps one SQLite connection for its whole life. Every response carries Content-Length and goes
out in one write. Faults act here, at the transport: delays before handling, error answers
instead of handling, bodies cut short (`truncate`) or abandoned mid-way (`reset`), and writes
applied whose answer never leaves (`lost_response`).
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

from ..chaos.faults import ERROR_ANSWERS, Fault, Faults
from ..errors import error_body
from ..responses import JSON_TYPE, Response
from .app import ADMIN_PREFIX, App
from .auth import scheme
from .oauth import TOKEN_PATH
from .requestlog import RequestLog

_MAX_BODY = 1 << 20
_WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "oracle-wms-sim"
    sys_version = ""
    app: ClassVar[App]
    faults: ClassVar[Faults]
    log: ClassVar[RequestLog]
    stopping: ClassVar[threading.Event]
    log_requests: ClassVar[bool] = False
    _in_flight = False
    """Whether the request being served is counted in flight (`RequestLog`)."""

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

    def _serve_one(self) -> None:
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
        if is_admin:
            self._respond(target, path, headers, body, is_api, is_write, started)
            return
        self.log.begin(write=self.command in _WRITE_METHODS)
        self._in_flight = True
        try:
            self._respond(target, path, headers, body, is_api, is_write, started)
        finally:
            self._answered()

    def _serve(self) -> None:
        with self.app.api.store.serving():
            self._serve_one()

    def _answered(self) -> None:
        """The request leaves the in-flight count, just before its answer is written: counted
        after the write, a client that had read the answer and sent its next request at once
        could be seen with one request more in flight than it ever had."""
        if self._in_flight:
            self._in_flight = False
            self.log.end(write=self.command in _WRITE_METHODS)

    def _respond(  # noqa: PLR0917 - the request's parts, read once in `_serve`
        self,
        target: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
        is_api: bool,
        is_write: bool,
        started: float,
    ) -> None:
        is_admin = path.startswith(ADMIN_PREFIX)
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
            elapsed_ms = (time.perf_counter() - started) * 1000
            self._log(target, path, headers, response.status, decision.label, elapsed_ms)
        if answer == "lost_response":  # applied and committed above; the answer never leaves
            self.close_connection = True
            payload = b""
        else:
            self._answered()
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

    def _log(  # noqa: PLR0917 - the request's parts, as `_respond` has them
        self,
        target: str,
        path: str,
        headers: dict[str, str],
        status: int,
        fault: str | None,
        elapsed_ms: float,
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
            elapsed_ms=round(elapsed_ms, 1),
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
        "400": "The request is not valid for this resource.",
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


def make_server(
    host: str,
    port: int,
    *,
    app: App,
    faults: Faults,
    log: RequestLog,
    stopping: threading.Event,
    log_requests: bool,
) -> ThreadingHTTPServer:
    """A bound server (port 0 picks a free one) answering with `app`. Each server gets its own
    handler class: the handler's state lives on the class, so two simulators never share it."""
    handler = type(
        "Handler",
        (_Handler,),
        {
            "app": app,
            "faults": faults,
            "log": log,
            "stopping": stopping,
            "log_requests": log_requests,
        },
    )
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server
