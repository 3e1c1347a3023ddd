"""The parse ceiling: GET each list's sequenced pages (following `next_page`), `json.loads` each
body, write nothing. Prints `{"records": N, "pages": P, "requests": R}` (requests: pages and
lgfapi's empty-list 404s). `-` reads the URLs from stdin, one a line.

    .venv/bin/python benchmarks/plain_loop.py URL [URL ...]
"""

from __future__ import annotations

import json
import sys

import requests

AUTH = ("demo", "demo")


def walk(session: requests.Session, url: str) -> tuple[int, int, int]:
    """(records, pages, requests) of one list; lgfapi's 404 is an empty list."""
    records = pages = sent = 0
    link: str | None = url
    while link:
        response = session.get(link, timeout=300)
        sent += 1
        if response.status_code == 404:
            break
        response.raise_for_status()
        page = json.loads(response.content)
        records += len(page["results"])
        pages += 1
        link = page.get("next_page")
    return records, pages, sent


def main(urls: list[str]) -> int:
    if urls == ["-"]:
        urls = [line.strip() for line in sys.stdin if line.strip()]
    records = pages = sent = 0
    with requests.Session() as session:
        session.auth = AUTH
        for url in urls:
            found, walked, asked = walk(session, url)
            records += found
            pages += walked
            sent += asked
    print(json.dumps({"records": records, "pages": pages, "requests": sent}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
