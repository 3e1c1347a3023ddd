"""Dagster definitions for running tap-oracle-wms as many jobs: one per entity group, each its own
inherited Meltano extractor (its own selection, state id and run directory), within one request
budget per WMS environment, with the dbt marts downstream of the loads they read.

Optional (`pip install -e '.[dagster]'`); the connectors never import it. README "When one job
is not enough".
"""
