"""A small HTTP server on 127.0.0.1 that misbehaves where the simulator cannot: redirects to
another origin, bodies that trickle in, list bodies, rows that break their describe, a 404 in
the middle of a list. Each test gives it a `handler(request) -> Reply` and reads `requests`
(what arrived, headers included) afterwards."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    """JSON-encoded unless bytes."""
    headers: dict[str, str] = field(default_factory=dict)
    trickle: float = 0.0
    """Seconds between bytes of the body (0: all at once)."""


Handler = Callable[[Seen], Reply]


class Hostile:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Seen] = []
        self.stop = threading.Event()
        hostile = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                seen = Seen(
                    self.command,
                    parts.path,
                    {k: v[-1] for k, v in parse_qs(parts.query).items()},
                    dict(self.headers.items()),
                    self.rfile.read(length) if length else b"",
                )
                hostile.requests.append(seen)
                reply = hostile.handler(seen)
                body = (
                    reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                )
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                try:
                    if reply.trickle:
                        for byte in body:
                            if hostile.stop.is_set():
                                return
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(reply.trickle)
                    else:
                        self.wfile.write(body)
                except OSError:
                    pass

            do_GET = do_POST = do_HEAD = do_PATCH = _serve  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.origin = f"http://127.0.0.1:{self.port}"
        # The simulator's environment name: a proxy in front of it is the same WMS to the
        # target's ledger (host and environment, ledger.wms_identity).
        self.base_url = f"{self.origin}/demo"
        self.api = f"{self.base_url}/wms/lgfapi/v10/"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Hostile:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


def serve(handler: Handler) -> Iterator[Hostile]:
    with Hostile(handler) as server:
        yield server


def not_found(message: str = "No records match the request.") -> Reply:
    return Reply(404, {"reference": "r", "code": "NOT_FOUND", "message": message, "details": {}})


def catalog_for(entity: str, properties: dict[str, Any], key: str | None = None) -> dict[str, Any]:
    """A one-stream Singer catalog, selected."""
    root: dict[str, Any] = {"selected": True, "table-key-properties": ["id"]}
    if key:
        root |= {"valid-replication-keys": [key], "forced-replication-method": "INCREMENTAL"}
    return {
        "streams": [
            {
                "tap_stream_id": entity,
                "stream": entity,
                "schema": {"type": "object", "properties": properties},
                "key_properties": ["id"],
                "replication_key": key,
                "replication_method": "INCREMENTAL" if key else "FULL_TABLE",
                "metadata": [{"breadcrumb": [], "metadata": root}],
            }
        ]
    }


def pass_through(base_url: str, auth: tuple[str, str]) -> Handler:
    """A handler that sends each request on to the WMS at `base_url` (the same path after the
    environment, `/demo` here; query, body and method as they came) and answers what it answered:
    the honest part of a proxy that misbehaves only where a test says."""
    prefix = base_url.split("/", 3)[3]
    origin = base_url[: -len(prefix) - 1]

    def forward(seen: Seen) -> Reply:
        answer = requests.request(
            seen.method,
            origin + "/" + prefix + seen.path[len("/demo") :],
            params=seen.query,
            data=seen.body or None,
            headers={"Content-Type": "application/json"},
            auth=auth,
            timeout=30,
        )
        return Reply(answer.status_code, answer.content)

    return forward
