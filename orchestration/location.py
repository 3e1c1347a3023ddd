"""The code location of one WMS environment: `dagster dev -m orchestration.location`, or
`dagster api grpc -m orchestration.location` in a deployment. Its environment variables name the
environment and its credentials (orchestration.definitions)."""

import os

from orchestration.definitions import build_definitions

defs = build_definitions(os.environ)
