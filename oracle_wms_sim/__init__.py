"""A local simulator of the Oracle WMS Cloud REST API (lgfapi v10).

`Simulator` (in `http.simulator`) runs it in-process; `oracle-wms-sim serve` (`cli`) runs it from
the shell. The behaviour follows docs/api-behaviour.md and docs/write-api.md.

Layers, lowest first: `errors` < `responses` < `data` < `read` < `write` < `stage` < `chaos` <
`http` < `cli`. A module imports only from its own sub-package or from the layers beneath it.
"""

from .http.simulator import Simulator

__all__ = ["Simulator"]
