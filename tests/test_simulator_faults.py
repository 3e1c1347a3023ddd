"""Fault injection and the request log, over real HTTP against the running simulator."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from oracle_wms_sim import Simulator
from tests.test_simulator import AUTH, ROOT, api, assert_error


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(seed=11, scale=1) as running:
        yield running


def statuses(sim: Simulator, http: requests.Session, n: int) -> list[int]:
    return [http.get(api(sim, "entity/facility/")).status_code for _ in range(n)]


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("429", "TOO_MANY_REQUESTS"),
        ("503", "SERVICE_UNAVAILABLE"),
        ("500", "SERVER_ERROR"),
        ("502", "BAD_GATEWAY"),
    ],
)
def test_error_faults_answer_the_standard_body_for_next_n(
    sim: Simulator, http: requests.Session, kind: str, code: str
) -> None:
    sim.add_fault(kind, next=2, retry_after=1 if kind in ("429", "503") else None)
    first = http.get(api(sim, "entity/item/?page_size=1"))
    assert_error(first, int(kind), code)
    if kind in ("429", "503"):
        assert first.headers["Retry-After"] == "1"
    else:
        assert "Retry-After" not in first.headers
    assert http.get(api(sim, "entity/item/")).status_code == int(kind)
    assert http.get(api(sim, "entity/item/")).status_code == 200  # only the next 2
    log = sim.request_log()
    assert [e["fault"] for e in log] == [kind, kind, None]
    assert [e["status"] for e in log] == [int(kind), int(kind), 200]


def test_rate_faults_are_deterministic_per_seed() -> None:
    runs = []
    for seed in (5, 5, 6):
        with Simulator(seed=seed) as sim, requests.Session() as http:
            http.auth = AUTH
            sim.add_fault("503", rate=0.3)
            runs.append(statuses(sim, http, 60))
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert 5 <= runs[0].count(503) <= 35 and set(runs[0]) == {200, 503}


def test_reset_breaks_the_body_mid_way(sim: Simulator, http: requests.Session) -> None:
    sim.add_fault("reset", next=1)
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        http.get(api(sim, "entity/inventory/?page_size=500")).content  # noqa: B018
    assert http.get(api(sim, "entity/inventory/?page_size=500")).status_code == 200
    assert sim.request_log()[0]["fault"] == "reset"


def test_truncate_sends_half_a_json_body_with_matching_length(
    sim: Simulator, http: requests.Session
) -> None:
    whole = http.get(api(sim, "entity/order_hdr/?page_size=50")).content
    sim.add_fault("truncate", next=1)
    cut = http.get(api(sim, "entity/order_hdr/?page_size=50"))
    assert cut.status_code == 200
    assert int(cut.headers["Content-Length"]) == len(cut.content) == len(whole) // 2
    with pytest.raises(ValueError):
        cut.json()


def test_latency_fixed_and_jitter(sim: Simulator, http: requests.Session) -> None:
    statuses(sim, http, 1)  # warm the connection
    sim.add_fault("latency", next=3, latency_ms=150, jitter_ms=100)
    for _ in range(3):
        started = time.perf_counter()
        assert http.get(api(sim, "entity/facility/")).status_code == 200
        assert 0.15 <= time.perf_counter() - started < 1.0
    started = time.perf_counter()
    http.get(api(sim, "entity/facility/"))
    assert time.perf_counter() - started < 0.15


def test_stall_outlasts_a_client_timeout(sim: Simulator, http: requests.Session) -> None:
    sim.add_fault("stall", next=1, stall_s=1.5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(api(sim, "entity/facility/"), auth=AUTH, timeout=0.4)
    assert http.get(api(sim, "entity/facility/"), timeout=5).status_code == 200


def test_token_expiry_fault_invalidates_bearer_tokens(sim: Simulator) -> None:
    token = requests.post(
        sim.token_url,
        data={"grant_type": "client_credentials"},
        auth=(sim.oauth_client_id, sim.oauth_client_secret),
    ).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert requests.get(api(sim, "entity/facility/"), headers=bearer).status_code == 200
    sim.add_fault("token_expiry", next=1)
    expired = requests.get(api(sim, "entity/facility/"), headers=bearer)
    assert_error(expired, 401, "AUTHENTICATION_FAILED")
    assert expired.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert sim.request_log()[-1]["fault"] == "token_expiry"


def test_path_contains_and_scope_of_faults(sim: Simulator, http: requests.Session) -> None:
    sim.add_fault("503", rate=1.0, path_contains="entity/order_hdr")
    assert http.get(api(sim, "entity/order_hdr/")).status_code == 503
    assert http.get(api(sim, "entity/item/")).status_code == 200
    sim.clear_faults()
    sim.add_fault("500", rate=1.0)  # API requests only: not /_sim/, not the token endpoint
    admin = http.get(sim.admin_url + "requests")
    assert admin.status_code == 200
    token = requests.post(
        sim.token_url,
        data={"grant_type": "client_credentials"},
        auth=(sim.oauth_client_id, sim.oauth_client_secret),
    )
    assert token.status_code == 200
    sim.clear_faults()
    sim.add_fault("503", next=1, path_contains="/oauth2/")
    again = requests.post(
        sim.token_url,
        data={"grant_type": "client_credentials"},
        auth=(sim.oauth_client_id, sim.oauth_client_secret),
    )
    assert again.status_code == 503


def test_faults_and_request_log_over_http(sim: Simulator, http: requests.Session) -> None:
    added = http.post(
        sim.admin_url + "faults",
        json=[{"kind": "429", "next": 1, "retry_after": 2}, {"kind": "latency", "rate": 0.5}],
    )
    assert added.status_code == 200 and len(added.json()["faults"]) == 2
    response = http.get(api(sim, "entity/item/?page_size=3&code__startswith=ITM"))
    assert response.status_code == 429 and response.headers["Retry-After"] == "2"
    assert http.delete(sim.admin_url + "faults").json() == {"faults": []}
    assert http.get(api(sim, "entity/item/?page_size=3")).status_code == 200
    bad = http.post(sim.admin_url + "faults", json=[{"kind": "explode", "next": 1}])
    assert_error(bad, 400, "VALIDATION_ERROR")
    log = http.get(sim.admin_url + "requests").json()
    assert [e["status"] for e in log] == [429, 200]
    first = log[0]
    assert set(first) == {"method", "path", "query", "status", "fault", "auth", "elapsed_ms"}
    assert first["method"] == "GET" and first["path"].endswith("/entity/item/")
    assert first["query"] == {"page_size": "3", "code__startswith": "ITM"}
    assert first["auth"] == "basic" and first["fault"] in ("429", "latency+429", "429+latency")
    assert "ZGVtbzpkZW1v" not in str(log) and "'demo'" not in str(log)  # never credentials
    assert all(isinstance(e["elapsed_ms"], float) and e["elapsed_ms"] >= 0 for e in log)
    sim.clear_request_log()
    assert sim.request_log() == []


def test_cli_faults_and_oauth_flags() -> None:
    command = [
        sys.executable,
        "-m",
        "oracle_wms_sim",
        "serve",
        "--port",
        "0",
        "--quiet",
        "--fault",
        "503:next=2:retry_after=1",
        "--fault",
        "latency:rate=1:latency_ms=1",
        "--oauth-client-id",
        "cli-client",
        "--oauth-client-secret",
        "cli-secret",
        "--token-lifetime",
        "7",
    ]
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/demo", base)
        url = f"{base}/wms/lgfapi/v10/entity/facility/"
        got = [requests.get(url, auth=AUTH, timeout=10) for _ in range(3)]
        assert [r.status_code for r in got] == [503, 503, 200]
        assert got[0].headers["Retry-After"] == "1"
        root = base.rsplit("/", 1)[0]
        token = requests.post(
            f"{root}/oauth2/v1/token",
            data={"grant_type": "client_credentials"},
            auth=("cli-client", "cli-secret"),
            timeout=10,
        ).json()
        assert token["expires_in"] == 7
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=15)
    assert proc.returncode == 0
    bad = subprocess.run(
        [sys.executable, "-m", "oracle_wms_sim", "serve", "--fault", "nope:next=1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=30,
    )
    assert bad.returncode == 2 and "unknown fault kind" in bad.stderr


def test_concurrency_counts_writes_in_flight_apart(sim: Simulator, http: requests.Session) -> None:
    """`/_sim/concurrency`: reads raise `peak` only; writes raise both (bench_writes holds a
    write's floor against `writes_peak`)."""
    sim.add_fault("latency", rate=1.0, latency_ms=300)
    sim.clear_request_log()

    def at_once(method: str, path: str, n: int) -> None:
        def send() -> None:
            with requests.Session() as own:
                own.auth = AUTH
                own.request(method, api(sim, path), json={}, timeout=30)

        threads = [threading.Thread(target=send) for _ in range(n)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    at_once("GET", "entity/facility/", 3)
    reads = http.get(sim.admin_url + "concurrency").json()
    at_once("POST", "entity/facility/", 2)
    both = http.get(sim.admin_url + "concurrency").json()
    sim.clear_faults()
    assert reads == {"in_flight": 0, "peak": 3, "writes_in_flight": 0, "writes_peak": 0}
    assert both == {"in_flight": 0, "peak": 3, "writes_in_flight": 0, "writes_peak": 2}


def test_the_request_log_holds_each_requests_own_time(
    sim: Simulator, http: requests.Session
) -> None:
    """`elapsed_ms`: what the server spent on the request, an injected latency included
    (benchmarks hold a write's floor against it)."""
    sim.clear_request_log()
    http.post(sim.admin_url + "faults", json=[{"kind": "latency", "rate": 1, "latency_ms": 120}])
    try:
        slow = http.get(api(sim, "entity/item/?page_size=1"))
    finally:
        http.delete(sim.admin_url + "faults")
    fast = http.get(api(sim, "entity/item/?page_size=1"))
    assert slow.status_code == fast.status_code == 200
    first, second = (e["elapsed_ms"] for e in http.get(sim.admin_url + "requests").json())
    assert first >= 120 > second
