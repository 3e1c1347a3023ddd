"""Authentication for lgfapi requests.

Oracle WMS accepts HTTP Basic and OAuth 2.0 bearer tokens. Both the tap and the target get their
`requests` auth object from here, so a new method is added in one place.
"""

from __future__ import annotations

from requests.auth import AuthBase, HTTPBasicAuth

from oracle_wms.settings import WmsSettings


def build_auth(settings: WmsSettings) -> AuthBase:
    """The auth object to attach to every lgfapi request."""
    return HTTPBasicAuth(settings.username, settings.password)
