"""Who is calling: HTTP Basic credentials of a WMS user, or an OAuth 2.0 bearer token.

Both schemes work on every endpoint. Failures are 401 in the standard error body; an unknown or
expired bearer token also says `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750), so a
client knows to fetch a new token rather than give up.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from ..data.users import User, Users
from ..errors import ApiError
from .oauth import Tokens

_FAILED = "Authentication credentials were missing or incorrect."


def scheme(header: str | None) -> str | None:
    """`basic`, `bearer` or None: what the request log records (never the credentials)."""
    if not header:
        return None
    name = header.split(" ", 1)[0].lower()
    return name if name in ("basic", "bearer") else "other"


@dataclass
class Authenticator:
    users: Users
    tokens: Tokens

    def user(self, header: str | None) -> User:
        kind = scheme(header)
        if kind == "bearer" and header is not None:
            user = self.tokens.user(header[7:].strip())
            if user is None:
                raise ApiError(
                    401,
                    "The access token is invalid or has expired.",
                    headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
                )
            return user
        if kind == "basic" and header is not None:
            try:
                name, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                name, password = "", ""
            found = self.users.check(name, password)
            if found is not None:
                return found
        raise ApiError(401, _FAILED)
