"""9. Peer: Fivetran's community `wms_oracle` connector beside ours, same simulator, into DuckDB.

The peer (public repository fivetran/community_connectors, folder `wms_oracle/`) runs locally
with `fivetran debug` from the `fivetran-connector-sdk` package, which writes DuckDB; ours is
`meltano run tap-oracle-wms target-duckdb` (the shipped configuration). Nothing is fetched
here: give the peer's folder as PEER_WMS_ORACLE and a virtual environment holding
`fivetran-connector-sdk` (not the project's) as FIVETRAN_SDK_VENV, or the rows say skipped. The
peer accepts only an https:// base URL, so both connectors read the simulator through the same
TLS proxy on 127.0.0.1 (a certificate made for the run, trusted through REQUESTS_CA_BUNDLE).
The peer's CLI would send usage statistics and ask PyPI for newer versions: DO_NOT_TRACK=1 and
a HOME of its own whose last-check stamps are now keep it on loopback. Its settings are its
defaults (page_size 1000) except `test_entities` (inventory, as ours) and `max_pages` (raised
so that one sync reads every row, where its default of 100 pages stops a first sync at
100,000). At 0 and 300 ms a request: a first sync of inventory (records/s = rows loaded / wall),
then churn (rows updated and inserted sharing one mod_ts), a second sync, and the loaded rows
compared with the WMS (ids, mod_ts as an instant, curr_qty as a decimal).

    PEER_WMS_ORACLE=... FIVETRAN_SDK_VENV=... .venv/bin/python benchmarks/bench_peer.py [--quick]
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import shutil
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import requests
from common import (
    AUTH,
    BIN,
    ROOT,
    Measurement,
    Row,
    Sim,
    given_sims,
    header,
    measure,
    parser,
    print_row,
    save_rows,
    simulators,
    workdir,
    write_json,
)

NAME = "peer"
ENTITY = "inventory"
CHURN = {"update": 400, "insert": 150}
"""Rows changed between the two syncs, every batch sharing one mod_ts (the hard case)."""


def scales(quick: bool) -> list[int]:
    """Scale 67: 201,000 inventory rows (quick: 7, 21,000)."""
    return [7 if quick else 67]


def main() -> int:
    args = parser(__doc__).parse_args()
    (scale,) = scales(args.quick)
    header("9. peer: Fivetran's community wms_oracle connector beside ours")
    peer, venv = os.environ.get("PEER_WMS_ORACLE", ""), os.environ.get("FIVETRAN_SDK_VENV", "")
    missing = _missing(peer, venv)
    if missing:
        row = Row(NAME, "fivetran debug (wms_oracle) beside meltano run", met="skipped")
        row.notes = missing
        print_row(row)
        save_rows(args.json, [row])
        return 0
    rows = []
    with workdir(args) as work, simulators(given_sims(args), [scale], work) as sims:
        tmp = work / NAME
        tmp.mkdir(exist_ok=True)
        sim = sims[scale]
        with _tls_proxy(sim, tmp) as (url, cert):
            for latency in (0, 300):
                try:
                    found = list(_compare(sim, url, cert, tmp, Path(peer), Path(venv), latency))
                except Exception as exc:  # one latency's failure hides not the other's
                    print(f"[{NAME}] {latency} ms failed:\n{exc}", file=sys.stderr, flush=True)
                    summary = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                    found = [Row(NAME, f"{latency} ms a request", met="ERROR", notes=summary[:200])]
                for row in found:
                    rows.append(row)
                    print_row(row)
        save_rows(args.json, rows)
    return 0


def _missing(peer: str, venv: str) -> str:
    if not peer or not (Path(peer) / "connector.py").exists():
        return (
            "skipped: PEER_WMS_ORACLE is not a folder holding the peer's connector.py "
            "(fivetran/community_connectors, wms_oracle/; not fetched at run time)"
        )
    if not venv or not (Path(venv) / "bin" / "fivetran").exists():
        return (
            "skipped: FIVETRAN_SDK_VENV is not a virtual environment with `fivetran` "
            "(python -m venv DIR && DIR/bin/pip install fivetran-connector-sdk)"
        )
    return ""


# Both connectors, one latency ---------------------------------------------------------------


def _compare(
    sim: Sim, url: str, cert: Path, tmp: Path, peer: Path, venv: Path, latency: int
) -> Iterator[Row]:
    run = tmp / f"{latency}ms-{uuid.uuid4().hex[:6]}"
    run.mkdir()
    ours = _Ours(url, cert, run)
    theirs = _Peer(url, cert, run, peer, venv)
    total = sim.result_count(ENTITY)
    firsts = {}
    for connector in (theirs, ours):
        _set_latency(sim, latency)
        firsts[connector.name] = connector.sync()
    sim.clear_faults()
    for change, count in CHURN.items():
        sim.admin("POST", change, {"entity": ENTITY, "count": count, "same_mod_ts": True})
    seconds = {}
    for connector in (theirs, ours):
        _set_latency(sim, latency)
        seconds[connector.name] = connector.sync()
    sim.clear_faults()
    wms = _wms_rows(sim)
    for connector in (theirs, ours):
        first, second = firsts[connector.name], seconds[connector.name]
        loaded = connector.rows()
        row = Row(NAME, f"{connector.label}, {latency} ms a request", total, first.wall_s)
        row.peak_rss_mb = first.peak_rss_mb
        row.met = _verdict(loaded, wms)
        row.notes = (
            f"records/s: a first sync of {total:,} rows ({first.wall_s:.1f} s); after churn "
            f"({CHURN['update']} updated, {CHURN['insert']} inserted, one mod_ts) a second "
            f"sync {second.wall_s:.1f} s"
        )
        yield row


def _set_latency(sim: Sim, latency: int) -> None:
    sim.clear_faults()
    if latency:
        sim.set_latency(latency)


def _wms_rows(sim: Sim) -> dict[int, tuple[datetime, Decimal]]:
    return {
        int(r["id"]): (_instant(r["mod_ts"]), Decimal(str(r["curr_qty"])))
        for r in sim.all_records(ENTITY, fields="id,mod_ts,curr_qty", ordering="id")
    }


def _instant(value: Any) -> datetime:
    """A date-time as an aware UTC instant (text with an offset; naive values are UTC)."""
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _verdict(loaded: dict[int, tuple[datetime, Decimal]], wms: dict[int, Any]) -> str:
    missing, extra = wms.keys() - loaded.keys(), loaded.keys() - wms.keys()
    stale = [i for i in wms.keys() & loaded.keys() if loaded[i] != wms[i]]
    if not (missing or extra or stale):
        return f"rows right after churn ({len(wms):,} rows, mod_ts and curr_qty)"
    return (
        f"WRONG after churn: {len(missing):,} missing, {len(extra):,} extra, "
        f"{len(stale):,} stale (of {len(wms):,})"
    )


class _Ours:
    name = "ours"
    label = "meltano run tap-oracle-wms target-duckdb"

    def __init__(self, url: str, cert: Path, run: Path) -> None:
        self.path = run / "ours.duckdb"
        self.env = {
            "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
            "MELTANO_DATABASE_URI": f"sqlite:///{run / 'meltano.db'}",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            # The tap's own requests (discovery) take REQUESTS_CA_BUNDLE over verify_ssl; its
            # record requests (the Singer SDK's prepared-request path) read only verify_ssl:
            # both are needed for this proxy (ours, on loopback).
            "REQUESTS_CA_BUNDLE": str(cert),
            "TAP_ORACLE_WMS_VERIFY_SSL": "false",
            "TAP_ORACLE_WMS_BASE_URL": url,
            "TAP_ORACLE_WMS_USERNAME": AUTH[0],
            "TAP_ORACLE_WMS_PASSWORD": AUTH[1],
            "TAP_ORACLE_WMS__SELECT": json.dumps([f"{ENTITY}.*"]),
            "TAP_ORACLE_WMS_DISCOVERY_CACHE_TTL": "0",
            "TARGET_DUCKDB_FILEPATH": str(self.path),
        }

    def sync(self) -> Measurement:
        cmd = [str(BIN / "meltano"), "--environment", "dev", "run", "tap-oracle-wms"]
        measured = measure([*cmd, "target-duckdb"], env=self.env, cwd=ROOT)
        measured.check("meltano run tap-oracle-wms target-duckdb")
        return measured

    def rows(self) -> dict[int, tuple[datetime, Decimal]]:
        with duckdb.connect(str(self.path), read_only=True) as db:
            found = db.execute(f"select id, mod_ts, curr_qty from oracle_wms.{ENTITY}").fetchall()
        return {int(i): (_instant(m), Decimal(str(q))) for i, m, q in found}


class _Peer:
    name = "peer"
    label = "fivetran debug (community wms_oracle)"

    def __init__(self, url: str, cert: Path, run: Path, peer: Path, venv: Path) -> None:
        self.project = run / "wms_oracle"
        shutil.copytree(peer, self.project, ignore=shutil.ignore_patterns("files", "__pycache__"))
        self.venv = venv
        home = run / "home"
        now = str(int(time.time()))
        (home / ".fivetran" / "connector_sdk").mkdir(parents=True)
        (home / ".fivetran" / "connector_sdk" / "_last_version_check").write_text(now)
        (home / ".fivetran" / "connector_sdk_core").mkdir(parents=True)
        core = home / ".fivetran" / "connector_sdk_core" / "_config.json"
        core.write_text(json.dumps({"lastVersionCheck": int(now)}))
        self.config = write_json(
            run / "peer-configuration.json",
            {
                "base_url": url,
                "username": AUTH[0],
                "password": AUTH[1],
                "page_size": "1000",
                "max_pages": "1000000",
                "lookback_check_hours": "24",
                "test_entities": ENTITY,
            },
        )
        self.env = {
            "HOME": str(home),
            "DO_NOT_TRACK": "1",
            "REQUESTS_CA_BUNDLE": str(cert),
            "PATH": f"{venv / 'bin'}:{os.environ.get('PATH', '')}",
            "VIRTUAL_ENV": str(venv),
        }

    def sync(self) -> Measurement:
        cmd = [str(self.venv / "bin" / "fivetran"), "debug", str(self.project)]
        state = self.project / "files" / "state.json"
        cmd += ["--configuration", str(self.config)]
        if state.exists():
            cmd += ["--state", str(state)]
        measured = measure(cmd, env=self.env, cwd=self.project)
        measured.check("fivetran debug")
        return measured

    def rows(self) -> dict[int, tuple[datetime, Decimal]]:
        path = self.project / "files" / "warehouse.db"
        with duckdb.connect(str(path), read_only=True) as db:
            (schema,) = db.execute(
                "select table_schema from information_schema.tables where table_name = ?",
                [ENTITY],
            ).fetchone() or ("",)
            columns = {
                c
                for (c,) in db.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = ? and table_name = ?",
                    [schema, ENTITY],
                ).fetchall()
            }
            live = " where not coalesce(_fivetran_deleted, false)"
            where = live if "_fivetran_deleted" in columns else ""
            found = db.execute(
                f'select id, mod_ts, curr_qty from "{schema}".{ENTITY}{where}'
            ).fetchall()
        return {int(i): (_instant(m), Decimal(str(q))) for i, m, q in found}


# The TLS proxy -------------------------------------------------------------------------------


_OPENSSL = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
_OPENSSL += ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]


@contextlib.contextmanager
def _tls_proxy(sim: Sim, tmp: Path) -> Iterator[tuple[str, Path]]:
    """An https:// front of the simulator on 127.0.0.1: (its base URL, its certificate)."""
    cert, key = tmp / "proxy-cert.pem", tmp / "proxy-key.pem"
    subprocess.run(
        [*_OPENSSL, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    upstream = sim.base_url.rsplit("/", 1)[0]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Forward)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    front = f"https://127.0.0.1:{server.server_address[1]}"
    _Forward.upstream, _Forward.front = upstream, front
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{front}/{sim.base_url.rsplit('/', 1)[1]}", cert
    finally:
        server.shutdown()
        server.server_close()


class _Forward(http.server.BaseHTTPRequestHandler):
    """GET and POST passed to the simulator; its own URLs in answers rewritten to the front."""

    protocol_version = "HTTP/1.1"
    upstream = ""
    front = ""
    local = threading.local()

    def do_GET(self) -> None:
        self._forward()

    def do_POST(self) -> None:
        self._forward()

    def _forward(self) -> None:
        session = getattr(self.local, "session", None)
        if session is None:
            session = self.local.session = requests.Session()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() in _PASSED}
        answer = session.request(
            self.command, self.upstream + self.path, data=body, headers=headers, timeout=300
        )
        content = answer.content.replace(self.upstream.encode(), self.front.encode())
        self.send_response(answer.status_code)
        self.send_header("Content-Type", answer.headers.get("Content-Type", "application/json"))
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, format: str, *args: Any) -> None:
        return


_PASSED = {"authorization", "content-type", "accept"}


if __name__ == "__main__":
    sys.exit(main())
