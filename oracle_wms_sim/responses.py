"""The transport-neutral response every layer returns, and the JSON/error constructors."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError

JSON_TYPE = "application/json"


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(payload).encode(), {"Content-Type": JSON_TYPE})


def error_response(exc: ApiError) -> Response:
    headers = {"Content-Type": JSON_TYPE}
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="lgfapi"'
    if exc.status == 405:
        headers["Allow"] = "GET, HEAD"  # a write route names its own methods in exc.headers
    headers.update(exc.headers)
    return Response(exc.status, exc.body(), headers)
