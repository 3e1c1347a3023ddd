"""Which write a stream's records become: an entity, an action and, for operations, its name.

Defaults cover the usual reverse-ETL streams; `stream_actions` maps any other stream name, e.g.
`{"counts": {"entity": "location", "action": "operation", "operation": "update_active_inventory"}}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from oracle_wms.errors import WmsConfigError

Action = Literal["update", "create", "operation", "stage"]
SUPPORTED: dict[tuple[str, Action, str | None], str] = {
    ("location", "operation", "update_active_inventory"): "inventory_adjustment",
    ("order_hdr", "update", None): "update",
    ("order_dtl", "update", None): "update",
    ("ib_shipment", "update", None): "update",
    ("ib_shipment_dtl", "update", None): "update",
    ("oblpn", "update", None): "update",
    ("oblpn", "operation", "ship"): "oblpn_ship",
    ("inventory", "create", None): "inventory_create",
    ("order", "stage", None): "stage",
    ("ib_shipment", "stage", None): "stage",
    ("wave_template", "operation", "run_template"): "run_wave",
    ("pick_pack", "operation", "pick_confirm"): "pick_confirm",
    ("iblpn", "operation", "receive"): "receive",
}
"""(entity, action, operation) -> the sink that performs it."""


PATCHABLE = frozenset(
    (
        "active_location", "appointment", "company", "container", "facility", "ib_shipment",
        "ib_shipment_dtl", "iblpn", "item_characteristics", "load", "location", "oblpn",
        "order_dtl", "order_hdr", "purchase_order_dtl", "purchase_order_hdr", "reserve_location",
        "vendor", "work_order_hdr", "work_order_kit",
    )
)  # fmt: skip
"""The entities lgfapi takes PATCH on: REST 23C says "a limited number of entity resources"; these
are the 20 the practitioner's OpenAPI (`fribeiro1/oraclewmscloudutils`) lists (contract H1)."""


@dataclass(frozen=True)
class StreamAction:
    entity: str
    action: Action
    operation: str | None = None

    @property
    def sink_kind(self) -> str:
        kind = SUPPORTED.get((self.entity, self.action, self.operation))
        if self.action == "update" and self.entity not in PATCHABLE:
            raise WmsConfigError(
                "stream_actions",
                f"update on entity '{self.entity}': Oracle's lgfapi takes PATCH on a limited "
                f"number of entities (REST 23C), and '{self.entity}' is not one of them; "
                f"updatable here: {', '.join(e for e, a, _ in SUPPORTED if a == 'update')}",
            )
        if kind is None:
            raise WmsConfigError(
                "stream_actions",
                f"{self.action} {self.operation or ''} on entity '{self.entity}' is not supported; "
                f"supported: {', '.join(_describe(k) for k in SUPPORTED)}",
            )
        return kind


DEFAULT_ACTIONS: dict[str, StreamAction] = {
    "inventory_adjustment": StreamAction("location", "operation", "update_active_inventory"),
    "order_hdr": StreamAction("order_hdr", "update"),
    "order_dtl": StreamAction("order_dtl", "update"),
    "ib_shipment": StreamAction("ib_shipment", "update"),
    "ib_shipment_dtl": StreamAction("ib_shipment_dtl", "update"),
    "oblpn_shipment": StreamAction("oblpn", "operation", "ship"),
    "wave_run": StreamAction("wave_template", "operation", "run_template"),
    "pick_confirm": StreamAction("pick_pack", "operation", "pick_confirm"),
    "iblpn_receipt": StreamAction("iblpn", "operation", "receive"),
}


def action_for(stream_name: str, config: Mapping[str, Any]) -> StreamAction:
    """The configured action of a stream, else its default.

    Raises:
        WmsConfigError: the stream has no action, or `stream_actions` names an unsupported one.
    """
    configured = (config.get("stream_actions") or {}).get(stream_name)
    if configured is None:
        if stream_name in DEFAULT_ACTIONS:
            return DEFAULT_ACTIONS[stream_name]
        raise WmsConfigError(
            "stream_actions",
            f"stream '{stream_name}' has no write action: name it in stream_actions "
            f"(defaults exist for {', '.join(sorted(DEFAULT_ACTIONS))})",
        )
    if not isinstance(configured, Mapping) or not configured.get("entity"):
        raise WmsConfigError(
            "stream_actions", f"'{stream_name}' needs an object with 'entity' and 'action'"
        )
    action = configured.get("action", "update")
    if action not in {"update", "create", "operation", "stage"}:
        raise WmsConfigError("stream_actions", f"'{stream_name}': unknown action {action!r}")
    result = StreamAction(str(configured["entity"]), action, configured.get("operation"))
    _ = result.sink_kind  # fail now, naming the stream, not at the first record
    return result


def _describe(key: tuple[str, Action, str | None]) -> str:
    entity, action, operation = key
    return f"{entity} {action}{' ' + operation if operation else ''}"
