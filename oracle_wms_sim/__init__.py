"""A local simulator of the Oracle WMS Cloud REST API (lgfapi v10, read side).

`Simulator` (in `server`) runs it in-process; `oracle-wms-sim serve` runs it from the shell.
The behaviour follows docs/api-behaviour.md.
"""

from .http.server import Simulator

__all__ = ["Simulator"]
