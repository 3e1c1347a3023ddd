"""The rest of the 177 entity names of Oracle's route table (entities.tsv), served generically.

Names that read as lookup lists (`*_status`, `*_type`, `*_mode`...) become code tables of five
rows; the others become facility-owned configuration entities of twelve audited rows (four per
facility). This keeps `describe`, lists and single records working for every published name
without pretending to model each one.
"""

from __future__ import annotations

from .entities import Entity, code_table, config_entity

ROUTE_TABLE_NAMES = """
action_code active_location allocation allocation_distribution_mode allocation_status
answer_input_type appointment appointment_status asset_status audit_mode audit_status audit_type
barcode_type barcode_type_dtl batch_number break_by_modifier bridge_status capacity_check_method
carrier_integration_type carrier_lpn carrier_status carrier_type carrier_webservice_label_type
cc_adjustment_status cc_creation_type cc_trigger cc_warning check_digit_method column_order_type
company company_parm company_type condition_type contact container container_status
container_vas_status cubing_mode date_format destination_location_type dock dock_status
dock_type entity_change_action facility facility_parm facility_type form_type
hazmat_regulation_type hire_type ib_shipment ib_shipment_dtl ib_shipment_serial_nbr
ib_shipment_status iblpn interface_format_type interface_protocol interface_type inventory
inventory_attribute inventory_lock inventory_status invoice_status item item_assignment_type
item_characteristics item_metrics label_type language lgfapi_archive_level load load_status
location location_size_type location_type mhe_destination_code mhe_msg_type
mhe_route_config_function mhe_trigger mhe_type multi_field_barcode_delimiter ob_stop ob_stop_dtl
oblpn oblpn_printing_validation order_dtl order_hdr order_instruction order_instruction_level
order_instruction_type order_lock order_status order_type order_validation_mode pallet
pallet_activity pallet_status parcel_manifest parcel_manifest_status parcel_shipment
parcel_shipment_dtl parcel_transaction_status parm_type payment_method printer printer_protocol
printer_type process_monitor_status property_prompt_mode purchase_order_dtl purchase_order_hdr
purchase_order_status putaway_method putaway_priority putaway_search_mode putaway_type
putaway_type_calc_rule qc_status reason_code_type receipt_validation_type record_status
replenishment_trigger_mode replenishment_zone report_sub_type report_type reserve_location
rf_key_code route_hdr_status routing_mode screen_type selection_type seq_counter serial_nbr
serial_nbr_action_code serial_nbr_inventory shift shipment_verif_orderdtl_cancel_mode
shipping_blocked_selection_criteria sql_operator sql_selection stage_status
standard_check_digit_method stop_status task task_activity task_status template_type time_format
time_zone trailer uom ups_routing_code user user_company user_facility value_type
vas_execution_status vas_requirement_type vendor verification_entity verification_type wave
wave_mhe_status wave_stage wave_status wave_template wave_template_status wave_type
wms_activity_code wms_activity_status work_area_activity_type work_order_activity_type
work_order_component work_order_hdr work_order_kit work_order_status work_order_type
""".split()
"""The 177 names of entities.tsv (a public route table of the API, 2020), in its order."""

_LOOKUP_SUFFIXES = (
    "_status",
    "_type",
    "_mode",
    "_method",
    "_level",
    "_code",
    "_operator",
    "_format",
    "_function",
    "_delimiter",
    "_criteria",
    "_rule",
    "_priority",
    "_protocol",
    "_modifier",
    "_trigger",
    "_action",
    "_validation",
    "_entity",
    "_warning",
)
_LOOKUP_NAMES = frozenset(("language", "time_zone", "uom", "cc_trigger", "mhe_trigger"))


def is_lookup_name(name: str) -> bool:
    return name in _LOOKUP_NAMES or name.endswith(_LOOKUP_SUFFIXES)


def generic_entities(defined: set[str]) -> tuple[Entity, ...]:
    """Entities for every route-table name not modelled in `entities.py`, in name order."""
    return tuple(
        code_table(name) if is_lookup_name(name) else config_entity(name)
        for name in ROUTE_TABLE_NAMES
        if name not in defined
    )
