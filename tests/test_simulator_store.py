"""The simulator's store shuts down without pulling a connection from under a request.

CI once died of a segmentation fault inside `sqlite3` (faulthandler showed a request thread in
`reads._paged` while the test stopped the simulator): `Store.close` closed every thread's
connection, including one another thread was executing on.
"""

from __future__ import annotations

import sqlite3
import threading

import pytest

from oracle_wms_sim import Simulator


def test_close_leaves_a_connection_in_use_to_its_request_then_closes_it() -> None:
    sim = Simulator(seed=3, scale=1).start()
    store = sim.store
    inside, closed, done = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def request() -> None:
        with store.serving():
            conn = store.reader()
            seen["conn"] = conn
            inside.set()
            closed.wait(10)
            seen["during"] = conn.execute("SELECT count(*) FROM facility").fetchone()[0]
        done.set()

    idle = store.reader()  # this thread's: no request is using it
    worker = threading.Thread(target=request)
    worker.start()
    assert inside.wait(10)
    store.close()  # what `Simulator.stop` does, while the request is inside
    closed.set()
    worker.join(10)
    sim.stop()
    assert done.is_set()
    assert isinstance(seen["during"], int) and seen["during"] > 0
    conn = seen["conn"]
    assert isinstance(conn, sqlite3.Connection)
    with pytest.raises(sqlite3.ProgrammingError):  # closed by its own thread on leaving
        conn.execute("SELECT 1")
    with pytest.raises(sqlite3.ProgrammingError):  # closed at once: idle
        idle.execute("SELECT 1")
