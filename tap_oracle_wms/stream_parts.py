"""What an entity stream is made of besides paging and parsing (`streams.EntityStream`): each
concern its own module, joined here in the order their methods must wrap one another."""

from __future__ import annotations

from tap_oracle_wms.isolation import IsolatedSync
from tap_oracle_wms.orderings import OrderingFallback
from tap_oracle_wms.rereads import Rereads
from tap_oracle_wms.sdk_overrides import RecordPathOverrides


class StreamParts(IsolatedSync, OrderingFallback, Rereads, RecordPathOverrides):
    """`IsolatedSync` (one entity's failure reported, the run goes on), `OrderingFallback` (an
    entity that refuses its ordering), `Rereads` (rows read again not emitted, the window
    before the bookmark kept in the state), then `RecordPathOverrides` (the per-record path,
    lazy bookmarks), which brings the SDK's stream classes: the parts must come before them
    to wrap their methods."""
