"""Retrying what a cloud API and a network get wrong: 429, 5xx, resets, timeouts, broken bodies.

Exponential backoff with jitter, `Retry-After` honoured (up to `retry_max_wait`), a cap on
attempts, and a final error that names what was being fetched (entity and URL path, never
credentials). The client and the tap's streams both retry through `with_retries`.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

import requests

from oracle_wms.errors import WmsConnectionError, WmsError, WmsServerError, WmsTlsError
from oracle_wms.settings import RetryPolicy

T = TypeVar("T")

_TRANSPORT_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    ConnectionResetError,
)


class WmsRetryError(WmsError):
    """A request still failed after every allowed retry; `last_error` is the final failure."""

    def __init__(self, message: str, last_error: BaseException) -> None:
        self.last_error = last_error
        super().__init__(message)


def is_retriable(exc: BaseException) -> bool:
    """Transient by nature: worth another try after a wait. A failed TLS check is not."""
    if isinstance(exc, WmsTlsError | requests.exceptions.SSLError):
        return False
    return isinstance(exc, (WmsServerError, WmsConnectionError, *_TRANSPORT_ERRORS))


def wait_before_retry(policy: RetryPolicy, retry_number: int, exc: BaseException) -> float:
    """Seconds to wait before retry `retry_number` (1-based)."""
    retry_after: object = getattr(exc, "retry_after", None)
    if isinstance(retry_after, int | float):
        return min(float(retry_after), policy.max_wait)
    backoff = min(policy.max_wait, policy.initial_wait * 2.0 ** (retry_number - 1))
    return backoff * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not cryptography


def describe_error(exc: BaseException) -> str:
    """A short, credential-free description of a failure."""
    if isinstance(exc, WmsError):
        return str(exc)
    if isinstance(exc, requests.exceptions.Timeout):
        detail = str(exc).split(" with url: ")[0][:200]
        return f"timed out ({type(exc).__name__}: {detail})" if detail else "timed out"
    return f"{type(exc).__name__}: {str(exc).split(' with url: ')[0][:200]}"


def with_retries(
    call: Callable[[], T],
    policy: RetryPolicy,
    what: str,
    logger: logging.Logger | logging.LoggerAdapter[logging.Logger],
    retriable: Callable[[BaseException], bool] = is_retriable,
) -> T:
    """`call()`, retried while it fails transiently, at most `policy.max_retries` times.

    Raises:
        WmsRetryError: still failing after the last retry, naming `what`.
    """
    retry_number = 0
    while True:
        try:
            return call()
        except Exception as exc:
            if not retriable(exc):
                raise
            retry_number += 1
            if retry_number > policy.max_retries:
                raise WmsRetryError(
                    f"Gave up on {what} after {retry_number} attempts: {describe_error(exc)}", exc
                ) from exc
            wait = wait_before_retry(policy, retry_number, exc)
            logger.warning(
                "%s failed (%s); retry %d of %d in %.2f s",
                what,
                describe_error(exc),
                retry_number,
                policy.max_retries,
                wait,
            )
            time.sleep(wait)
