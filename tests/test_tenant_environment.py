"""The environment never changes a setting's meaning (issue 23 item 5): CA bundle variables do
not turn `verify_ssl: false` back on, proxy variables do not send requests (and credentials)
to another host. A TLS server with a self-signed certificate and a recording "proxy", both on
127.0.0.1."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import certifi
import pytest

from oracle_wms.client import WmsClient
from oracle_wms.errors import WmsTlsError
from oracle_wms.settings import WmsSettings
from oracle_wms_sim import Simulator
from tests.conftest import oauth_config, tap_config
from tests.hostile import Hostile, Reply, Seen

ENV_NAMES = (
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "ALL_PROXY",
    "https_proxy",
    "http_proxy",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def tls_wms(certificate: tuple[Path, Path]) -> Iterator[Hostile]:
    """An lgfapi entity index over TLS with a self-signed certificate."""
    server = Hostile(lambda seen: Reply(200, {"item": "x"}))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*map(str, certificate))
    server.server.socket = context.wrap_socket(server.server.socket, server_side=True)
    server.base_url = server.base_url.replace("http://", "https://")
    with server:
        yield server


def _client(base_url: str, verify_ssl: bool) -> WmsClient:
    return WmsClient(
        WmsSettings.from_config(
            {"base_url": base_url, "username": "u", "password": "p", "verify_ssl": verify_ssl}
        )
    )


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_verify_ssl_false_stays_off_with_a_ca_bundle_in_the_environment(
    tls_wms: Hostile, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, certifi.where())  # a bundle without the server's certificate
    assert _client(tls_wms.base_url, verify_ssl=False).entity_names() == ["item"]


def test_verify_ssl_true_verifies_against_the_bundle_the_environment_names(
    tls_wms: Hostile, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(WmsTlsError):
        _client(tls_wms.base_url, verify_ssl=True).entity_names()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate[0]))
    assert _client(tls_wms.base_url, verify_ssl=True).entity_names() == ["item"]


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[Hostile]:
    """A "proxy" that records what reaches it and answers 502."""

    def refuse(seen: Seen) -> Reply:
        return Reply(502, {"message": "proxy"})

    with Hostile(refuse) as server:
        for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "http_proxy"):
            monkeypatch.setenv(name, server.origin)
        yield server


@pytest.mark.parametrize("auth", ["basic", "oauth2"])
def test_proxy_variables_do_not_take_requests_elsewhere(
    sim: Simulator, proxy: Hostile, auth: str
) -> None:
    config = tap_config(sim) if auth == "basic" else oauth_config(sim)
    client = WmsClient(WmsSettings.from_config(config))
    assert "order_hdr" in client.entity_names()
    assert client.result_count("item") > 0
    assert proxy.requests == []
