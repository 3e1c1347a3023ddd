"""Top-level routing, independent of the HTTP transport: the IDCS token endpoint, then
authentication (Basic or bearer), then `/_sim/` or the entity module."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..errors import ApiError
from ..responses import Response, error_response
from .admin import Admin
from .api import Api
from .auth import Authenticator
from .oauth import TOKEN_PATH, TokenEndpoint

ADMIN_PREFIX = "/_sim/"


@dataclass
class App:
    api: Api
    admin: Admin
    auth: Authenticator
    token_endpoint: TokenEndpoint

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Response:
        path = urlsplit(target).path
        if path.rstrip("/") == TOKEN_PATH:
            response = self.token_endpoint.handle(method, dict(headers), body)
        else:
            response = self._authenticated(method, target, path, headers, body)
        if method == "HEAD":
            response.headers["Content-Length"] = str(len(response.body))
            response.body = b""
        return response

    def _authenticated(
        self, method: str, target: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> Response:
        try:
            user = self.auth.user(headers.get("Authorization"))
        except ApiError as exc:  # credentials are checked before routing: any path is 401
            return self.api.error(exc, target)
        if path.startswith(ADMIN_PREFIX):
            try:
                return self.admin.handle(method, path, body)
            except ApiError as exc:
                return error_response(exc)
        return self.api.handle(method, target, headers, user, body)
