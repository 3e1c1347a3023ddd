"""The Singer SDK's standard target tests, against a simulator started for this module.

The SDK's sample streams (countries, users, camelCase names...) are not WMS documents: each is
mapped to the inventory-adjustment action, so the target validates every sample record, rejects
it with reasons (it names no facility, location or item) and writes nothing, while the tests check
what they are about: message handling, schemas, key properties, state. `allow_failures` keeps
those expected rejects from failing the run.
"""

from __future__ import annotations

import atexit
import tempfile
from pathlib import Path

import pytest
from singer_sdk.testing import get_target_test_class

from oracle_wms_sim import Simulator
from target_oracle_wms.target import TargetOracleWMS

_SIM = Simulator(seed=13, scale=1)
_SIM.start()
atexit.register(_SIM.stop)
_WORK = Path(tempfile.mkdtemp(prefix="target-standard-"))
_HISTORY_BEFORE = _SIM.result_count("inventory_history")
_INVENTORY_BEFORE = _SIM.result_count("inventory")

SAMPLE_STREAMS = [
    "ForecastingTypeToCategory",
    "TestCamelcase",
    "example_stream",
    "record_missing_fields",
    "test:SpecialChars!in?attributes",
    "test_array_data",
    "test_duplicate_records",
    "test_invalid_schema",
    "test_locations",
    "test_multiple_state_messages_a",
    "test_multiple_state_messages_b",
    "test_no_pk",
    "test_object_schema_no_properties",
    "test_object_schema_with_properties",
    "test_optional_attributes",
    "test_record_before_schema",
    "test_record_missing_key_property",
    "test_record_missing_required_property",
    "test_schema_updates",
    "test_strings",
    "test_strings_in_arrays",
    "test_strings_in_objects",
    "test_user_in_location",
    "test_users",
]
ADJUSTMENT = {"entity": "location", "action": "operation", "operation": "update_active_inventory"}

_StandardTests = get_target_test_class(
    TargetOracleWMS,
    config={
        "base_url": _SIM.base_url,
        "username": _SIM.username,
        "password": _SIM.password,
        "stream_actions": {name: ADJUSTMENT for name in SAMPLE_STREAMS},
        "allow_failures": True,
        "ledger_path": str(_WORK / "ledger.sqlite"),
        "rejects_path": str(_WORK / "rejects.jsonl"),
    },
)


class TestTargetOracleWMS(_StandardTests):  # type: ignore[misc,valid-type]  # SDK-made class
    @pytest.mark.skip(
        reason="deliberate deviation: a record without its key property is one named reject, "
        "not the end of the run (tests/test_target_intake.py "
        "test_a_null_or_missing_key_is_a_named_reject)"
    )
    def test_target_record_missing_key_property(self) -> None:
        """The SDK expects MissingKeyPropertiesError (the run ends)."""


def test_standard_samples_were_rejected_not_written() -> None:
    """Runs after the class above (file order): every sample record was rejected, none applied."""
    rejects = (_WORK / "rejects.jsonl").read_text().splitlines()
    assert len(rejects) > 10, "the sample streams should have produced rejects"
    assert _SIM.result_count("inventory_history") == _HISTORY_BEFORE
    assert _SIM.result_count("inventory") == _INVENTORY_BEFORE
