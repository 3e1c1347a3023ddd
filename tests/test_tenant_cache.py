"""The discovery cache is per identity, and a damaged cache file is rebuilt with one warning
(issue 23 item 4)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from oracle_wms_sim import Simulator
from tests.conftest import oauth_config, run_tap, tap_config

ALL_READABLE = "every entity"


def _streams(run_stdout: str) -> set[str]:
    return {s["tap_stream_id"] for s in json.loads(run_stdout)["streams"]}


def test_the_cache_is_per_wms_user_with_the_password_grant(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    fresh_sim.add_user("narrow", "narrow-pass", readable_entities=["item", "company", "facility"])
    cache = tmp_path / "cache"

    def config(user: str, password: str) -> dict[str, object]:
        return oauth_config(
            fresh_sim,
            auth_method="oauth2_password",
            username=user,
            password=password,
            discovery_cache_ttl=3600,
            discovery_cache_path=str(cache),
        )

    narrow = run_tap(tmp_path, config("narrow", "narrow-pass"), "--discover")
    assert narrow.returncode == 0, narrow.stderr[-2000:]
    assert _streams(narrow.stdout) == {"item", "company", "facility"}
    full = run_tap(tmp_path, config(fresh_sim.username, fresh_sim.password), "--discover")
    assert full.returncode == 0, full.stderr[-2000:]
    assert {"order_hdr", "inventory", "item"} <= _streams(full.stdout)
    files = list(cache.glob("discovery-*.json"))
    assert len(files) == 2
    for name in (f.name for f in files):
        assert "narrow" not in name and "pass" not in name and "demo" not in name
    again = run_tap(tmp_path, config("narrow", "narrow-pass"), "--discover")
    assert _streams(again.stdout) == {"item", "company", "facility"}
    assert "Using the discovery cache" in again.stderr


DAMAGES = {
    "not JSON": lambda p: p.write_text("{not json"),
    "a list": lambda p: p.write_text("[1, 2]"),
    "wrong shape": lambda p: p.write_text(
        json.dumps({"format": 2, "saved_at": "yesterday", "index": 5, "describe": []})
    ),
    "describe of strings": lambda p: p.write_text(
        json.dumps({"format": 2, "saved_at": 1e12, "index": ["item"], "describe": {"item": "x"}})
    ),
    "a directory": lambda p: p.mkdir(),
    "unreadable": lambda p: (p.write_text("{}"), p.chmod(0)),
    "binary": lambda p: p.write_bytes(b"\xff\xfe\x00garbage"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_a_damaged_cache_file_is_ignored_with_one_warning(
    sim: Simulator, tmp_path: Path, damage: str
) -> None:
    if damage == "unreadable" and os.geteuid() == 0:
        pytest.skip("root reads a file without permissions")
    cache = tmp_path / "cache"
    config = tap_config(sim, discovery_cache_ttl=3600, discovery_cache_path=str(cache))
    good = run_tap(tmp_path, config, "--discover")
    assert good.returncode == 0, good.stderr[-2000:]
    (path,) = cache.glob("discovery-*.json")
    expected = _streams(good.stdout)
    path.unlink()
    DAMAGES[damage](path)
    run = run_tap(tmp_path, config, "--discover")
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    assert _streams(run.stdout) == expected
    assert run.stderr.count("discovery cache") == 1, run.stderr[-2000:]
    assert str(path) in run.stderr
    if damage not in ("a directory", "unreadable"):
        rebuilt = run_tap(tmp_path, config, "--discover")
        assert "Using the discovery cache" in rebuilt.stderr
        assert "Ignoring" not in rebuilt.stderr
