"""The standard lgfapi error body and the exception that carries it through the request path."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

CODES = {
    400: "VALIDATION_ERROR",
    401: "AUTHENTICATION_FAILED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "RECORD_CHANGED",
    429: "TOO_MANY_REQUESTS",
    500: "SERVER_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
}


@dataclass
class ApiError(Exception):
    """Raised anywhere below the HTTP layer; rendered as the standard error body."""

    status: int
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # e.g. WWW-Authenticate for a 401

    def __str__(self) -> str:
        return f"{self.status} {self.message}"

    def body(self) -> bytes:
        return error_body(self.status, self.message, self.details)


def error_body(status: int, message: str, details: dict[str, Any] | None = None) -> bytes:
    payload = {
        "reference": str(uuid.uuid4()),
        "code": CODES.get(status, "SERVER_ERROR"),
        "message": message,
        "details": details or {},
    }
    return json.dumps(payload).encode()


def bad_param(param: str, reason: str) -> ApiError:
    """A 400 whose details name the offending parameter, as the contract requires."""
    return ApiError(400, f"Invalid parameter '{param}': {reason}", {param: reason})
