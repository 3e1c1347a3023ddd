"""OAuth 2.0 as IDCS does it (issue 13, item 7): the scope goes in every token request, a busy
token endpoint (429/5xx) is retried and not reported as bad credentials, and the password grant
Oracle documents for lgfapi works (`auth_method: oauth2_password`)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

import pytest

from oracle_wms.auth import OAuth2ClientCredentials
from oracle_wms.errors import WmsAuthenticationError
from oracle_wms.settings import WMS_SCOPE, OAuth2Settings, RetryPolicy
from oracle_wms_sim import Simulator
from tests.conftest import discover_catalog, oauth_config, run_tap, select_streams
from tests.hostile import Hostile, Reply, Seen

FAST = RetryPolicy(max_retries=3, initial_wait=0.01, max_wait=0.05)
TOKEN = {"access_token": "tok-1", "token_type": "Bearer", "expires_in": 3600}


def _auth(server: Hostile, **oauth: str) -> OAuth2ClientCredentials:
    settings = OAuth2Settings(
        token_url=server.origin + "/oauth2/v1/token", client_id="cid", client_secret="cs", **oauth
    )
    return OAuth2ClientCredentials(settings, verify=True, timeout=5, retry=FAST)


def _form(seen: Seen) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(seen.body.decode()).items()}


def test_the_scope_goes_in_the_token_request() -> None:
    with Hostile(lambda seen: Reply(200, TOKEN)) as server:
        assert _auth(server).access_token() == "tok-1"

    (request,) = server.requests
    assert _form(request)["scope"] == WMS_SCOPE
    assert _form(request)["grant_type"] == "client_credentials"


@pytest.mark.parametrize("busy", [503, 429, 500])
def test_a_busy_token_endpoint_is_retried(busy: int) -> None:
    answers = [
        Reply(busy, {"error": "temporarily_unavailable"}),
        Reply(busy, b"<html>"),
        Reply(200, TOKEN),
    ]
    with Hostile(lambda seen: answers.pop(0)) as server:
        assert _auth(server).access_token() == "tok-1"

    assert len(server.requests) == 3


def test_refused_credentials_are_not_retried() -> None:
    refusal = Reply(401, {"error": "invalid_client", "error_description": "bad secret"})
    with Hostile(lambda seen: refusal) as server, pytest.raises(WmsAuthenticationError) as caught:
        _auth(server).access_token()

    assert len(server.requests) == 1
    assert "invalid_client" in str(caught.value) and "oauth2_client_secret" in str(caught.value)


def test_the_password_grant_sends_the_user_and_the_scope() -> None:
    with Hostile(lambda seen: Reply(200, TOKEN)) as server:
        auth = _auth(server, grant="password", username="etl", password="pw")
        assert auth.access_token() == "tok-1"

    form = _form(server.requests[0])
    assert (form["grant_type"], form["username"], form["scope"]) == ("password", "etl", WMS_SCOPE)


def test_a_scope_the_identity_domain_does_not_offer_is_refused_naming_it(
    sim: Simulator, tmp_path: Path
) -> None:
    config = oauth_config(sim, oauth2_scope="urn:opc:some:other/", max_retries=0)

    run = run_tap(tmp_path, config, "--discover", timeout=60)

    assert run.returncode != 0
    assert "invalid_scope" in run.stderr and "oauth2_scope" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_sync_with_the_password_grant(sim: Simulator, tmp_path: Path) -> None:
    config = oauth_config(
        sim, auth_method="oauth2_password", username=sim.username, password=sim.password
    )
    catalog = select_streams(discover_catalog(tmp_path, config), {"company"})
    sim.clear_request_log()

    run = run_tap(tmp_path, config, catalog=catalog)

    assert run.returncode == 0, run.stderr[-3000:]
    assert run.records["company"]
    api = [r for r in sim.request_log() if "/wms/lgfapi/" in r["path"]]
    assert api and all(r["auth"] == "bearer" for r in api)
