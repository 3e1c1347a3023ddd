"""Each cause of a failed connection ends the run with one error line whose hint is the fix for
that cause (and not another cause's): the tap's `--discover` against a server on loopback that
fails in exactly that way.

Causes covered: an http server at an https URL, a self-signed certificate, a certificate for
another host name, nothing listening at the port, a base_url naming no environment (the entity
index answers 404; in the tap and in the target), wrong credentials (401).
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from oracle_wms_sim import Simulator
from tests.conftest import run_tap, tap_config
from tests.test_target import messages, run_target, target_config

SET_VERIFY_OFF = "verify_ssl to false"
KEYS = ["facility_code", "order_nbr"]


def _errors(tmp_path: Path, config: dict[str, Any], **env: str) -> list[str]:
    run = run_tap(tmp_path, config, "--discover", timeout=120)
    assert run.returncode == 1, run.stderr[-3000:]
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    lines = [line for line in run.stderr.splitlines() if "| ERROR" in line]
    assert len(lines) == 1, run.stderr[-3000:]
    return lines


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def _server(context: ssl.SSLContext | None = None) -> Iterator[int]:
    """An HTTP server on a free loopback port (TLS with `context`), its port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def _certificate(tmp_path: Path, host: str) -> ssl.SSLContext:
    """A server context with a self-signed certificate for `host` (openssl's CLI)."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl command")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", f"/CN={host}", "-addext", f"subjectAltName=DNS:{host}",
            "-keyout", str(key), "-out", str(cert),
        ],
        capture_output=True,
        check=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def _config(base_url: str, **overrides: Any) -> dict[str, Any]:
    return {"base_url": base_url, "username": "demo", "password": "demo", **overrides}


def test_http_server_at_an_https_url(tmp_path: Path) -> None:
    with _server() as port:
        (line,) = _errors(tmp_path, _config(f"https://127.0.0.1:{port}/demo"))
    assert "speaks plain HTTP, not HTTPS" in line
    assert SET_VERIFY_OFF not in line


def test_self_signed_certificate(tmp_path: Path) -> None:
    with _server(_certificate(tmp_path, "127.0.0.1.nip.test")) as port:
        (line,) = _errors(tmp_path, _config(f"https://127.0.0.1:{port}/demo"))
    assert "REQUESTS_CA_BUNDLE" in line
    assert "plain HTTP" not in line


def test_certificate_for_another_host(tmp_path: Path) -> None:
    """Trusted (REQUESTS_CA_BUNDLE) but issued to `localhost`, reached as 127.0.0.1."""
    context = _certificate(tmp_path, "localhost")
    with _server(context) as port, pytest.MonkeyPatch.context() as patch:
        patch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "cert.pem"))
        (line,) = _errors(tmp_path, _config(f"https://127.0.0.1:{port}/demo"))
    assert "the certificate names another host" in line
    assert SET_VERIFY_OFF not in line


def test_nothing_listening(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: refused
        (line,) = _errors(tmp_path, _config(f"http://127.0.0.1:{port}/demo", max_retries=0))
    assert "nothing accepts connections at that host and port" in line


def test_wrong_environment_name(tmp_path: Path, sim: Simulator) -> None:
    config = tap_config(sim)
    config["base_url"] = config["base_url"].rsplit("/", 1)[0] + "/acme_prdo"
    (line,) = _errors(tmp_path, config)
    assert "must end with an existing environment name" in line
    assert "acme_prdo" in line


def test_wrong_password(tmp_path: Path, sim: Simulator) -> None:
    (line,) = _errors(tmp_path, tap_config(sim, password="not-the-password"))
    assert "check the username and password" in line
    assert "not-the-password" not in line


def test_wrong_environment_name_in_the_target(tmp_path: Path, sim: Simulator) -> None:
    """The target's first request is a `describe`: its 404 is worded by the cause too."""
    base_url = sim.base_url.rsplit("/", 1)[0] + "/acme_prdo"
    config = target_config(sim, tmp_path, base_url=base_url)
    schema = {"properties": {k: {"type": "string"} for k in [*KEYS, "cust_name"]}}
    record = dict.fromkeys(KEYS, "X1")
    run = run_target(tmp_path, config, messages("order_hdr", schema, KEYS, [record]), 120)
    assert run.returncode == 1, run.stderr[-3000:]
    errors = [line for line in run.stderr.splitlines() if "| ERROR" in line]
    assert len(errors) == 1, run.stderr[-3000:]
    assert "must end with an existing environment name" in errors[0]
