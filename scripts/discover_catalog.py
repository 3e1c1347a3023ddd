"""`make catalog`: write catalogs/tap-oracle-wms.catalog.json from the simulator's discovery."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from oracle_wms_sim import Simulator

ROOT = Path(__file__).resolve().parent.parent
TAP = str(Path(sys.executable).parent / "tap-oracle-wms")
CATALOG = ROOT / "catalogs" / "tap-oracle-wms.catalog.json"


def discover(base_url: str, username: str, password: str) -> dict[str, object]:
    """Run `tap-oracle-wms --discover` against a WMS and return the catalog."""
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.json"
        config.write_text(
            json.dumps({"base_url": base_url, "username": username, "password": password})
        )
        out = subprocess.run(
            [
                str(Path(sys.executable).parent / "tap-oracle-wms"),
                "--config",
                str(config),
                "--discover",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def main() -> None:
    with Simulator() as sim:
        catalog = discover(sim.base_url, sim.username, sim.password)
    CATALOG.parent.mkdir(exist_ok=True)
    CATALOG.write_text(json.dumps(catalog, indent=2, sort_keys=True) + "\n")
    print(f"Wrote {CATALOG.relative_to(ROOT)}: {len(catalog['streams'])} streams")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
