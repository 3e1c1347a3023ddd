"""OAuth 2.0 as the tenant's identity domain (IDCS) offers it to WMS: a token endpoint and the
bearer tokens it issues.

`POST /oauth2/v1/token` (outside the environment prefix, as IDCS is another host) accepts the
client-credentials and resource-owner password grants (RFC 6749 sections 4.3 and 4.4), with the
client authenticated by HTTP Basic or by `client_id`/`client_secret` form fields. Tokens are
random, kept in memory, and expire after a lifetime that tests may set to a fraction of a
second; `expire_all` invalidates every token at once (the "token expiry" fault).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from ..data.users import User, Users
from ..responses import Response

WMS_SCOPE = "urn:resource:fusion:scm:logistics:wms:lgfapi/"
TOKEN_PATH = "/oauth2/v1/token"  # noqa: S105 - a URL path, not a secret


@dataclass
class Tokens:
    """Issued bearer tokens -> (user, expiry on the monotonic clock)."""

    lifetime: float = 3600.0
    _tokens: dict[str, tuple[User, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def issue(self, user: User) -> tuple[str, float]:
        token = secrets.token_urlsafe(32)
        lifetime = self.lifetime
        with self._lock:
            now = time.monotonic()
            self._tokens = {t: v for t, v in self._tokens.items() if v[1] > now}
            self._tokens[token] = (user, now + lifetime)
        return token, lifetime

    def user(self, token: str) -> User | None:
        """The token's user while it is valid; None for an unknown or expired token."""
        entry = self._tokens.get(token)
        if entry is None or entry[1] <= time.monotonic():
            return None
        return entry[0]

    def expire_all(self) -> None:
        with self._lock:
            self._tokens.clear()


@dataclass
class TokenEndpoint:
    """The IDCS token endpoint of one simulated tenant; `client_user` is the WMS user a
    client-credentials token acts as."""

    users: Users
    tokens: Tokens
    client_id: str
    client_secret: str
    client_user: str

    def handle(self, method: str, headers: dict[str, str], body: bytes) -> Response:
        if method != "POST":
            return _oauth_error(405, "invalid_request", "use POST", {"Allow": "POST"})
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        if not self._client_ok(headers.get("Authorization"), form):
            return _oauth_error(
                401,
                "invalid_client",
                "client authentication failed",
                {"WWW-Authenticate": 'Basic realm="oauth2"'},
            )
        grant = form.get("grant_type")
        if grant == "client_credentials":
            user = self.users.get(self.client_user)
            if user is None:
                return _oauth_error(400, "invalid_grant", "the client has no WMS user")
        elif grant == "password":
            found = self.users.check(form.get("username", ""), form.get("password", ""))
            if found is None:
                return _oauth_error(400, "invalid_grant", "bad resource owner credentials")
            user = found
        elif grant is None:
            return _oauth_error(400, "invalid_request", "grant_type is required")
        else:
            return _oauth_error(400, "unsupported_grant_type", f"{grant} is not supported")
        scope = form.get("scope")
        if scope is not None and set(scope.split()) != {WMS_SCOPE}:
            return _oauth_error(400, "invalid_scope", f"the only scope offered is {WMS_SCOPE}")
        token, lifetime = self.tokens.issue(user)
        payload = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": int(lifetime),
            "scope": WMS_SCOPE,
        }
        return Response(
            200,
            json.dumps(payload).encode(),
            {"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    def _client_ok(self, header: str | None, form: dict[str, str]) -> bool:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if header and header[:6].lower() == "basic ":
            try:
                decoded = base64.b64decode(header[6:].strip()).decode()
            except (binascii.Error, UnicodeDecodeError):
                return False
            client_id, _, secret = decoded.partition(":")
        if client_id is None or secret is None:
            return False
        same_id = hmac.compare_digest(client_id.encode(), self.client_id.encode())
        same_secret = hmac.compare_digest(secret.encode(), self.client_secret.encode())
        return same_id and same_secret


def _oauth_error(
    status: int, error: str, description: str, headers: dict[str, str] | None = None
) -> Response:
    """RFC 6749 section 5.2 error body."""
    body = json.dumps({"error": error, "error_description": description}).encode()
    return Response(
        status,
        body,
        {"Content-Type": "application/json", "Cache-Control": "no-store", **(headers or {})},
    )
