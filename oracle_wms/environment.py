"""The environment never changes what a setting means.

`requests` reads the environment whenever `Session.trust_env` is true (its default), and so
lets a variable silently override a setting:

- `REQUESTS_CA_BUNDLE` / `CURL_CA_BUNDLE` turn `verify_ssl: false` back into verification
  against that bundle (`Session.merge_environment_settings`, on every `Session.request`);
- `HTTP_PROXY` / `HTTPS_PROXY` / `ALL_PROXY` (and `NO_PROXY`) send every request, credentials
  included, through another host than `base_url` and `oauth2_token_url` name;
- `~/.netrc` (or `NETRC`) supplies credentials to a request that carries none.

So every session of ours has `trust_env` off and its TLS verification set from the settings
alone, with one reading of the environment that keeps a setting's meaning: with `verify_ssl`
on, a CA bundle named by `REQUESTS_CA_BUNDLE` or `CURL_CA_BUNDLE` is the one verified against
(verification stays on; containers with a corporate CA keep working). A proxy variable is not
followed (requests go to the configured origins only) and is named once in the log.
"""

from __future__ import annotations

import logging
import os

import requests

logger = logging.getLogger(__name__)

CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY")

_told: set[str] = set()


def tls_verify(verify_ssl: bool) -> bool | str:
    """What `requests` gets as `verify`: False when the setting is off, whatever the
    environment says; else the CA bundle the environment names, or True (certifi's)."""
    if not verify_ssl:
        return False
    for name in CA_BUNDLE_VARIABLES:
        if os.environ.get(name):
            return os.environ[name]
    return True


def pin(session: requests.Session, verify_ssl: bool) -> requests.Session:
    """The session with the environment shut out (`trust_env` off: no proxy variables, no
    netrc, no CA bundle over `verify_ssl`) and `verify` from the setting (`tls_verify`)."""
    session.trust_env = False
    session.verify = tls_verify(verify_ssl)
    for name in PROXY_VARIABLES:
        value = os.environ.get(name) or os.environ.get(name.lower())
        if value and name not in _told:
            _told.add(name)
            logger.warning(
                "%s is set in the environment and not followed: requests go straight to the "
                "configured base_url and token URL (credentials go to those origins only)",
                name,
            )
    return session
