"""Every way out applies the user's choices (issue 23 item 7, meltano/sdk#1117): with
`batch_config` and a stream map, the BATCH files hold the mapped records, as RECORD messages do."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

from oracle_wms_sim import Simulator
from tests.conftest import all_records, run_tap, select_streams, tap_config

MAPS = {"order_hdr": {"cust_name": "md5(cust_name)", "gift_msg": None}}


def _batch_rows(stdout: str) -> tuple[list[dict[str, object]], set[str]]:
    rows: list[dict[str, object]] = []
    streams: set[str] = set()
    for line in stdout.splitlines():
        message = json.loads(line)
        if message["type"] != "BATCH":
            continue
        streams.add(message["stream"])
        for uri in message["manifest"]:
            path = Path(uri.removeprefix("file://"))
            opener = gzip.open if path.suffix == ".gz" else open
            with opener(path, "rt") as lines:
                rows += [json.loads(row) for row in lines]
    return rows, streams


def test_batch_files_hold_mapped_records(
    sim: Simulator, sim_catalog: dict[str, object], tmp_path: Path
) -> None:
    catalog = select_streams(sim_catalog, {"order_hdr"})
    maps = {"stream_maps": MAPS}
    batch = {
        "batch_config": {
            "encoding": {"format": "jsonl", "compression": "gzip"},
            "storage": {"root": f"file://{tmp_path / 'batches'}", "prefix": "b-"},
        }
    }
    (tmp_path / "batches").mkdir()
    plain = run_tap(tmp_path, tap_config(sim, **maps), catalog=catalog)
    batched = run_tap(tmp_path, tap_config(sim, **maps, **batch), catalog=catalog)
    assert plain.returncode == 0, plain.stderr[-3000:]
    assert batched.returncode == 0, batched.stderr[-3000:]

    rows, streams = _batch_rows(batched.stdout)
    assert streams == {"order_hdr"}
    names = {int(str(r["id"])): r["cust_name"] for r in all_records(sim, "order_hdr")}
    assert len(rows) == len(names)
    for row in rows:
        clear = names[int(str(row["id"]))]
        expected = hashlib.md5(str(clear).encode()).hexdigest() if clear is not None else None
        assert row["cust_name"] == expected
        assert "gift_msg" not in row
    by_id = {r["id"]: r for r in plain.records["order_hdr"]}
    assert all(json.loads(json.dumps(by_id[r["id"]], default=str)) == r for r in rows[:50])


def test_batch_config_without_gzip_is_refused_before_any_request(
    sim: Simulator, sim_catalog: dict[str, object], tmp_path: Path
) -> None:
    """The SDK gzips JSON Lines BATCH files whatever `encoding.compression` says and repeats the
    setting to the loader, which then cannot read them: the tap refuses it at start, one line."""
    catalog = select_streams(sim_catalog, {"order_hdr"})
    for compression in ("none", None):
        encoding = {"format": "jsonl"} | ({"compression": compression} if compression else {})
        batch = {"encoding": encoding, "storage": {"root": f"file://{tmp_path}"}}
        sim.clear_request_log()
        run = run_tap(tmp_path, tap_config(sim, batch_config=batch), catalog=catalog)
        assert run.returncode != 0
        failure = [line for line in run.stderr.splitlines() if "batch_config" in line]
        assert len(failure) == 1, run.stderr[-2000:]
        assert "encoding.compression" in failure[0] and "'gzip'" in failure[0]
        assert "Traceback" not in run.stderr
        assert sim.request_log() == []
        assert run.stdout.strip() == ""
