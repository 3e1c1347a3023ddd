"""The discovery cache's file: named by everything that can change its answers, read only
when whole.

What `GET entity/` and `describe` answer depends on the WMS (`base_url`) and on who asks: the
user's read permissions decide which entities are listed and described (403). So the file name
is a hash of the base URL, the auth method and every part of the identity (Basic user; OAuth
token URL, client, scope, grant and, with the password grant, the WMS user): a full-access user
never gets a least-privilege user's catalog. No secret takes part (a changed password is the
same identity), and the name shows none (a hash).

A file that cannot be used (unreadable, a directory, not JSON, not the cache's shape) is
ignored with one warning naming it and the reason, and rewritten by the discovery that follows.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from oracle_wms.settings import WmsSettings

logger = logging.getLogger("oracle_wms.discovery")


def identity_key(settings: WmsSettings, cache_format: int) -> str:
    """16 hex digits of a hash over the cache format, the WMS and the identity."""
    oauth = settings.oauth2
    parts: list[object] = [cache_format, settings.base_url.rstrip("/"), settings.auth_method]
    if oauth is None:
        parts.append(settings.username)
    else:
        parts += [oauth.token_url, oauth.client_id, oauth.scope, oauth.grant, oauth.username]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def read_cache(path: Path, cache_format: int) -> dict[str, Any] | None:
    """The cache's content, or None when there is none or it cannot be used (warned once)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        _damaged(path, "it is a directory")
        return None
    except (OSError, UnicodeDecodeError) as exc:
        _damaged(path, f"cannot be read: {exc.__class__.__name__}")
        return None
    try:
        content = json.loads(text)
    except ValueError:
        _damaged(path, "not JSON")
        return None
    problem = _shape_problem(content, cache_format)
    if problem:
        _damaged(path, problem)
        return None
    assert isinstance(content, dict)
    return content


def _shape_problem(content: object, cache_format: int) -> str | None:
    if not isinstance(content, dict):
        return f"a JSON {type(content).__name__}, not an object"
    if content.get("format") != cache_format:
        return None if isinstance(content.get("format"), int) else "no format number"
    if not isinstance(content.get("saved_at"), int | float):
        return "'saved_at' is not a number"
    index, describe, denied = content.get("index"), content.get("describe"), content.get("denied")
    if not isinstance(index, list) or not all(isinstance(n, str) for n in index):
        return "'index' is not a list of names"
    if not isinstance(describe, dict) or not all(isinstance(b, dict) for b in describe.values()):
        return "'describe' is not an object of answers"
    if not isinstance(denied, list) or not all(isinstance(n, str) for n in denied):
        return "'denied' is not a list of names"
    return None


_warned: set[Path] = set()


def _damaged(path: Path, reason: str) -> None:
    _warned.add(path)
    logger.warning("Ignoring the discovery cache %s (%s); discovering again", path, reason)


def write_cache(path: Path, content: dict[str, Any]) -> None:
    """Write the cache through a temporary file; a failure is a warning (unless the file was
    already named as unusable this run), never the end of the run."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(content))
        tmp.replace(path)
    except OSError as exc:
        if tmp.is_file():
            tmp.unlink(missing_ok=True)
        if path not in _warned:
            logger.warning("Could not write the discovery cache %s: %s", path, exc)
