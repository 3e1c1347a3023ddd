"""The read side of the entity module: relation paths, filters, ordering and the keyset cursor,
required filters, `values_list`, record JSON built inside SQLite and its XML form, the list and
single-record reads themselves (`Reads`), and the test helpers' straight reads (`queries`).
"""
