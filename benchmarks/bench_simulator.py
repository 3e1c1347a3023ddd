"""How fast the simulator serves inventory in 1,250-record pages, against a bytes-only baseline.

Starts `oracle-wms-sim serve` in its own process (so it has its own core and its RSS can be read),
pages through inventory with one `requests` session in both paging modes, and prints records/s
and the server's peak RSS (VmHWM). The baseline is a trivial keep-alive HTTP server, also in its
own process, answering the same page bytes for every request: the ceiling the client and HTTP
stack allow on this machine. The simulator must sustain at least 50,000 records/s.

    .venv/bin/python benchmarks/bench_simulator.py [--quick] [--scale N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
AUTH = ("demo", "demo")
PAGE = 1250
TARGET = 50_000


def start(cmd: list[str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("http"):
        proc.kill()
        raise SystemExit(f"server did not start: {line!r}")
    return proc, line


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def walk(session: requests.Session, url: str, *, parse: bool) -> tuple[int, int, float]:
    """(records, bytes, seconds) following next_page to the end."""
    records = size = 0
    started = time.perf_counter()
    next_url: str | None = url
    while next_url:
        response = session.get(next_url)
        if response.status_code == 404:
            break
        response.raise_for_status()
        body = response.content
        size += len(body)
        if parse:
            page = response.json()
            records += len(page["results"])
            next_url = page["next_page"]
        else:  # bytes only: count records by their ids, find next_page without a JSON parse
            records += _count(body)
            next_url = _next_page(body)
    return records, size, time.perf_counter() - started


def _count(body: bytes) -> int:
    """Records in a page without parsing it: each starts a results item (nested foreign-key
    objects follow a `:` instead)."""
    return body.count(b'[{"id":') + body.count(b'},{"id":')


def _next_page(body: bytes) -> str | None:
    start = body.find(b'"next_page": ')
    if start < 0 or body[start + 13 : start + 17] == b"null":
        return None
    end = body.index(b'"', start + 14)
    return body[start + 14 : end].decode()


class _Fixed(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    body = b""

    def do_GET(self) -> None:
        self.wfile.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(self.body)).encode()
            + b"\r\n\r\n"
            + self.body
        )

    def log_message(self, format: str, *args: object) -> None:
        pass


def baseline_server(path: str) -> None:
    """Serve the bytes of `path` (a page whose next_page is removed) forever."""
    _Fixed.body = Path(path).read_bytes()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Fixed)
    print(f"http://127.0.0.1:{server.server_address[1]}/", flush=True)
    server.serve_forever()


def baseline(page: bytes, pages: int) -> float:
    """Records/s of the client fetching `pages` identical pages from the trivial server."""
    last = page.replace(
        page[page.find(b'"next_page": ') : page.find(b', "previous_page"')], b'"next_page": null'
    )
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        handle.write(last)
    proc, url = start([sys.executable, __file__, "--baseline-server", handle.name])
    try:
        with requests.Session() as session:
            session.get(url).raise_for_status()
            started = time.perf_counter()
            records = 0
            for _ in range(pages):
                records += _count(session.get(url).content)
            return records / (time.perf_counter() - started)
    finally:
        proc.terminate()
        proc.wait()
        os.unlink(handle.name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="scale 4 (12,000 inventory rows)")
    parser.add_argument("--scale", type=int, default=None)
    parser.add_argument("--db", default=None, help="SQLite file to reuse (generated if absent)")
    parser.add_argument("--baseline-server", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline_server:
        baseline_server(args.baseline_server)
        return 0
    scale = args.scale or (4 if args.quick else 40)
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or os.path.join(tmp, "wms.sqlite")
        started = time.perf_counter()
        cmd = [
            sys.executable,
            "-m",
            "oracle_wms_sim",
            "serve",
            "--port",
            "0",
            "--quiet",
            "--scale",
            str(scale),
            "--db",
            db,
        ]
        proc, _ = start(cmd)  # generate, then serve from a fresh process: RSS is serving only
        print(f"scale {scale}: generated and started in {time.perf_counter() - started:.1f} s")
        print(f"peak RSS of the generating process {peak_rss_mb(proc.pid):.0f} MB")
        proc.terminate()
        proc.wait()
        proc, base = start(cmd)
        api = f"{base}/wms/lgfapi/v10/entity/inventory/"
        results: dict[str, float] = {}
        try:
            with requests.Session() as session:
                session.auth = AUTH
                first = session.get(f"{api}?page_size={PAGE}")
                total = first.json()["result_count"]
                runs = {
                    "paged, bytes only": (f"{api}?page_size={PAGE}&ordering=id", False),
                    "sequenced mod_ts, bytes only": (
                        f"{api}?page_size={PAGE}&page_mode=sequenced&ordering=mod_ts",
                        False,
                    ),
                    "sequenced mod_ts, client parses JSON": (
                        f"{api}?page_size={PAGE}&page_mode=sequenced&ordering=mod_ts",
                        True,
                    ),
                }
                for name, (url, parse) in runs.items():
                    records, size, seconds = walk(session, url, parse=parse)
                    assert records == total, (name, records, total)
                    results[name] = records / seconds
                    print(
                        f"{name:40s} {records:>9,} records {size / 1e6:8.1f} MB "
                        f"{seconds:6.2f} s {records / seconds:>10,.0f} records/s"
                    )
            rss = peak_rss_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait()
    ceiling = baseline(first.content, max(8, total // PAGE))
    print(f"{'baseline (fixed bytes, same client)':40s} {ceiling:>46,.0f} records/s")
    print(f"serving process peak RSS {rss:.0f} MB")
    worst = min(v for k, v in results.items() if "bytes only" in k)
    verdict = "OK" if worst >= TARGET else "BELOW TARGET"
    print(f"slowest bytes-only rate {worst:,.0f} records/s (target {TARGET:,}): {verdict}")
    return 0 if worst >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
