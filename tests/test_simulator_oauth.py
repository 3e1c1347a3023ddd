"""OAuth 2.0 (the IDCS token endpoint and bearer tokens) over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from oracle_wms_sim import Simulator
from tests.test_simulator import api, assert_error

SCOPE = "urn:resource:fusion:scm:logistics:wms:lgfapi/"


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(seed=13, scale=1) as running:
        running.add_user("clerk", "s3cret", facilities=["F3"])
        yield running


def token(sim: Simulator, **form: str) -> requests.Response:
    data = {"grant_type": "client_credentials", "scope": SCOPE, **form}
    return requests.post(
        sim.token_url, data=data, auth=(sim.oauth_client_id, sim.oauth_client_secret)
    )


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def test_client_credentials_by_basic_and_by_form(sim: Simulator) -> None:
    assert sim.token_url.endswith("/oauth2/v1/token") and "/demo/" not in sim.token_url
    by_basic = token(sim)
    assert by_basic.status_code == 200
    body: dict[str, Any] = by_basic.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["scope"] == SCOPE
    assert by_basic.headers["Cache-Control"] == "no-store"
    by_form = requests.post(
        sim.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": "demo-client",
            "client_secret": "demo-secret",
        },
    )  # no scope: granted anyway
    assert by_form.status_code == 200 and by_form.json()["scope"] == SCOPE
    assert by_form.json()["access_token"] != body["access_token"]


def test_bearer_works_on_every_endpoint(sim: Simulator) -> None:
    headers = bearer(token(sim).json()["access_token"])
    for path in ("entity/", "entity/item/describe/", "entity/item/?page_size=2", "entity/item/1/"):
        assert requests.get(api(sim, path), headers=headers).status_code == 200, path
    assert requests.head(api(sim, "entity/item/1/"), headers=headers).status_code == 200
    changed = requests.post(
        sim.admin_url + "update", json={"entity": "item", "count": 2}, headers=headers
    )
    assert changed.status_code == 200 and len(changed.json()["ids"]) == 2
    log = sim.request_log()
    assert log[0]["path"] == "/oauth2/v1/token" and log[0]["query"] == {}  # no form fields
    assert {e["auth"] for e in log[1:]} == {"bearer"} and len(log) == 6  # /_sim/ is not logged


def test_password_grant_acts_as_that_user(sim: Simulator) -> None:
    granted = token(sim, grant_type="password", username="clerk", password="s3cret")
    assert granted.status_code == 200
    headers = bearer(granted.json()["access_token"])
    page = requests.get(api(sim, "entity/facility/"), headers=headers).json()
    assert [f["code"] for f in page["results"]] == ["F3"]
    wrong = token(sim, grant_type="password", username="clerk", password="nope")
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("form", "auth", "status", "error"),
    [
        ({"grant_type": "client_credentials"}, ("demo-client", "wrong"), 401, "invalid_client"),
        ({"grant_type": "client_credentials"}, None, 401, "invalid_client"),
        (
            {"grant_type": "authorization_code"},
            ("demo-client", "demo-secret"),
            400,
            "unsupported_grant_type",
        ),
        (
            {"grant_type": "client_credentials", "scope": "urn:other"},
            ("demo-client", "demo-secret"),
            400,
            "invalid_scope",
        ),
        ({}, ("demo-client", "demo-secret"), 400, "invalid_request"),
    ],
)
def test_token_endpoint_errors_are_rfc6749(
    sim: Simulator,
    form: dict[str, str],
    auth: tuple[str, str] | None,
    status: int,
    error: str,
) -> None:
    response = requests.post(sim.token_url, data=form, auth=auth)
    assert response.status_code == status
    assert response.json()["error"] == error
    assert "demo-secret" not in response.text and "wrong" not in response.text


def test_expired_and_unknown_tokens_are_401(sim: Simulator) -> None:
    sim.set_token_lifetime(0.6)
    short = token(sim).json()
    assert short["expires_in"] == 0
    headers = bearer(short["access_token"])
    assert requests.get(api(sim, "entity/facility/"), headers=headers).status_code == 200
    time.sleep(0.8)
    expired = requests.get(api(sim, "entity/facility/"), headers=headers)
    assert_error(expired, 401, "AUTHENTICATION_FAILED")
    assert expired.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert short["access_token"] not in expired.text
    unknown = requests.get(api(sim, "entity/facility/"), headers=bearer("made-up"))
    assert_error(unknown, 401, "AUTHENTICATION_FAILED")
    sim.set_token_lifetime(60)
    fresh = bearer(token(sim).json()["access_token"])
    assert requests.get(api(sim, "entity/facility/"), headers=fresh).status_code == 200
    sim.expire_tokens()
    assert requests.get(api(sim, "entity/facility/"), headers=fresh).status_code == 401
    # Basic keeps working alongside
    assert requests.get(api(sim, "entity/facility/"), auth=("demo", "demo")).status_code == 200


def test_token_lifetime_and_expiry_over_http(sim: Simulator) -> None:
    admin = requests.Session()
    admin.auth = ("demo", "demo")
    assert admin.post(sim.admin_url + "tokens", json={"lifetime": 120}).json() == {"lifetime": 120}
    issued = token(sim).json()
    assert issued["expires_in"] == 120
    admin.delete(sim.admin_url + "tokens")
    gone = requests.get(api(sim, "entity/"), headers=bearer(issued["access_token"]))
    assert gone.status_code == 401
