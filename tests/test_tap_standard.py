"""The Singer SDK's standard tap tests, against a simulator started for this module.

The SDK builds its test class at import time from a config, so the simulator starts at import.
"""

from __future__ import annotations

import atexit

from singer_sdk.testing import get_tap_test_class

from oracle_wms_sim import Simulator
from tap_oracle_wms.tap import TapOracleWMS

_SIM = Simulator(seed=11, scale=1)
_SIM.start()
atexit.register(_SIM.stop)

TestTapOracleWMS = get_tap_test_class(
    TapOracleWMS,
    config={
        "base_url": _SIM.base_url,
        "username": _SIM.username,
        "password": _SIM.password,
        "discovery_cache_ttl": 0,
        "entities": ["company", "facility", "item", "order_hdr", "order_dtl", "order_status"],
    },
)
