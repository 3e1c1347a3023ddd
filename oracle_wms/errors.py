"""The errors the WMS client raises.

One small hierarchy, so callers (the tap, the target, `make check-connection`) can tell a user
*what* went wrong: the network, the credentials, a missing permission, a missing entity or a
request the WMS refused. Messages name the setting, entity or URL path involved and never carry
credentials.
"""

from __future__ import annotations

from typing import Any


class WmsError(Exception):
    """Base class of every error raised by `oracle_wms`."""


class WmsConfigError(WmsError):
    """A setting is missing or invalid; `setting` names it."""

    def __init__(self, setting: str, message: str) -> None:
        self.setting = setting
        super().__init__(f"Invalid setting '{setting}': {message}")


class WmsStateError(WmsError):
    """The Singer state given to the tap cannot be used (its shape, or a bookmark's value)."""


class WmsConnectionError(WmsError):
    """The WMS could not be reached (DNS, refused connection, timeout, reset)."""


class WmsTlsError(WmsConnectionError):
    """The WMS's TLS certificate did not verify: a configuration problem, never retried."""


class WmsAssumptionError(WmsError):
    """The WMS did not behave as the client assumes where Oracle's documentation is silent; the
    message names the assumption (docs/api-behaviour.md) and what to do."""


class WmsResponseError(WmsError):
    """The WMS answered with an error status.

    `status` is the HTTP status, `code`/`details` come from Oracle's standard error body
    (`{"reference", "code", "message", "details"}`) when the WMS sent one, and `path` is the
    URL path of the request (never the query string, which may carry business data).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        path: str,
        code: str | None = None,
        details: Any = None,
        reference: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.retry_after = retry_after
        self.path = path
        self.code = code
        self.details = details
        self.reference = reference
        super().__init__(message)


class WmsAuthenticationError(WmsResponseError):
    """401: the credentials were refused."""


class WmsPermissionError(WmsResponseError):
    """403: the user lacks the permission (e.g. `lgfapi_read_access`) for the request."""


class WmsNotFoundError(WmsResponseError):
    """404: the entity or record does not exist (or a list matched nothing)."""


class WmsConflictError(WmsResponseError):
    """409 "record changed": a concurrent operation modified the record; re-read and retry."""


class WmsValidationError(WmsResponseError):
    """400 (or another 4xx): the WMS refused the request; `details` says which field."""


class WmsOriginError(WmsResponseError):
    """A request (a redirect, a `next_page` link) would leave the configured origin: refused,
    never retried, so credentials go nowhere but the WMS the user configured."""


class WmsServerError(WmsResponseError):
    """5xx, 429 or a body that is not the JSON the API promises: worth retrying."""
