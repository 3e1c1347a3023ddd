"""The write ceiling: POST each inventory adjustment of a JSON-lines file
(`{"location_id": 12, "options": {...}}`) to `location/{id}/update_active_inventory/`, one
request per record, nothing else (no lookups, no ledger). Prints `{"records": N}`.

    .venv/bin/python benchmarks/plain_writes.py API_URL FILE
"""

from __future__ import annotations

import json
import sys

import requests

AUTH = ("demo", "demo")


def main(api_url: str, path: str) -> int:
    records = 0
    with requests.Session() as session, open(path) as lines:
        session.auth = AUTH
        for line in lines:
            item = json.loads(line)
            url = f"{api_url}entity/location/{item['location_id']}/update_active_inventory/"
            session.post(url, json={"options": item["options"]}, timeout=300).raise_for_status()
            records += 1
    print(json.dumps({"records": records}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
