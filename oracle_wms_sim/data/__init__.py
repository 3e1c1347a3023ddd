"""The simulated warehouse's data: the entity catalogue (model, the modelled and the generic
entities, each store's own copy with fields added at run time by schema drift), the fixed
reference rows and code-table ids, the row builders and the deterministic generator, the SQLite
schema and `Store` (connections, write transactions, WMS-like changes), time formats, users and
their eligibility, and the scoped row reads writes start from. It knows nothing of requests.
"""
